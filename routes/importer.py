"""Read segment files (GeoJSON, KML, zipped Shapefile) into WGS-84 features. No Django.

The files are read by GDAL through pyogrio (its GeoJSON, KML and ESRI Shapefile drivers).
What this module adds is the refusing: a file that does not state its coordinate system is
refused unless the uploader declares one; GCJ-02 (the offset coordinates of Chinese web
maps) is converted to WGS-84 before anything is measured; zip archives are checked for
size, member count and path tricks before anything is extracted; KML with a DOCTYPE or
entity declarations is refused (no entity expansion, no external references).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from yangquan_av.geo import gcj02_to_wgs84

from .geometry import GeometryProblem

GCJ02 = "gcj02"
FORMATS = {".geojson": "geojson", ".json": "geojson", ".kml": "kml", ".zip": "shapefile"}
MAX_ZIP_MEMBERS = 50
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_FEATURES = 5000
NAME_KEYS = ("name", "Name", "NAME", "名称")
_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)


@dataclass(frozen=True)
class ReadFeature:
    """One feature of an uploaded file, its geometry already in WGS-84 lon/lat."""

    index: int
    geometry: BaseGeometry | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class ReadResult:
    format: str
    source_crs: str  # what the coordinates were read as: "gcj02" or a CRS's name/EPSG code
    crs_declared: bool
    features: list[ReadFeature]
    notes: list[str] = field(default_factory=list)


def detect_format(filename: str) -> str:
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix not in FORMATS:
        raise GeometryProblem("unsupported_format", suffix=suffix or "?")
    return FORMATS[suffix]


def parse_declared_crs(declared: str) -> str | CRS:
    """'gcj02' or anything pyproj understands ('EPSG:4326', 'EPSG:4547', WKT...)."""
    text = declared.strip()
    if text.lower().replace("-", "").replace("_", "") == GCJ02:
        return GCJ02
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise GeometryProblem("bad_crs", crs=text) from exc


def _safe_extract(data: bytes, target: Path) -> Path:
    """Extract a zipped Shapefile after checking it; return the .shp path."""
    try:
        archive = zipfile.ZipFile(_bytes_file(data, target / "upload.zip"))
    except zipfile.BadZipFile as exc:
        raise GeometryProblem("bad_zip") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            raise GeometryProblem("zip_too_many", limit=MAX_ZIP_MEMBERS)
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise GeometryProblem("zip_too_large", limit_mb=MAX_UNZIPPED_BYTES // 2**20)
        shapes = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shapes) != 1:
            raise GeometryProblem("zip_one_shapefile", found=len(shapes))
        stem = PurePosixPath(shapes[0].filename).stem
        out_dir = target / "shp"
        out_dir.mkdir()
        for member in members:
            name = PurePosixPath(member.filename)
            if name.stem != stem:
                continue  # other files (readme, other layers) are not read
            # Written under a fixed directory by base name only: no path from the archive
            # is ever used, so "../" or absolute names cannot escape.
            with archive.open(member) as source:
                content = source.read(MAX_UNZIPPED_BYTES + 1)
            if len(content) > MAX_UNZIPPED_BYTES:
                raise GeometryProblem("zip_too_large", limit_mb=MAX_UNZIPPED_BYTES // 2**20)
            (out_dir / ("layer" + name.suffix.lower())).write_bytes(content)
    shp = out_dir / "layer.shp"
    if not (out_dir / "layer.shx").exists() or not (out_dir / "layer.dbf").exists():
        raise GeometryProblem("zip_incomplete")
    return shp


def _bytes_file(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def _embedded_crs_geojson(data: bytes) -> bool:
    """Whether a GeoJSON file names its CRS (the pre-RFC 7946 `crs` member)."""
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise GeometryProblem("bad_json", error=str(exc)) from exc
    if not isinstance(document, dict):
        raise GeometryProblem("not_object")
    return isinstance(document.get("crs"), dict)


def _check_kml(data: bytes) -> None:
    head = data.lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise GeometryProblem("kml_entities")


def _gcj_to_wgs(geom: BaseGeometry) -> BaseGeometry:
    def convert(coords: np.ndarray[Any, np.dtype[np.float64]]) -> Any:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, convert)


def _read_layers(path: Path) -> tuple[list[tuple[BaseGeometry | None, dict[str, Any]]], CRS | None]:
    rows: list[tuple[BaseGeometry | None, dict[str, Any]]] = []
    crs: CRS | None = None
    try:
        layers = [str(name) for name, _geom_type in pyogrio.list_layers(path)]
        for layer in layers:
            frame = pyogrio.read_dataframe(path, layer=layer)
            if frame.crs is not None and crs is None:
                crs = CRS.from_user_input(frame.crs)
            for row in frame.to_dict("records"):
                geom = row.pop("geometry", None)
                rows.append((geom, {k: v for k, v in row.items() if _present(v)}))
                if len(rows) > MAX_FEATURES:
                    raise GeometryProblem("too_many_features", limit=MAX_FEATURES)
    except _GDAL_ERRORS as exc:
        # The temporary path means nothing to the uploader.
        message = str(exc).splitlines()[0].replace(str(path), "file").replace(str(path.parent), "")
        raise GeometryProblem("unreadable", error=message[:200]) from exc
    return rows, crs


def _present(value: Any) -> bool:
    if value is None:
        return False
    return not (isinstance(value, float) and np.isnan(value))


def read_segment_file(*, data: bytes, filename: str, declared_crs: str = "") -> ReadResult:
    """Read every feature of an uploaded file and bring its geometry to WGS-84.

    The CRS: a declared one wins (GCJ-02 is never labelled as such inside a file: web-map
    exports call it WGS-84); otherwise the file must state one itself — a Shapefile's .prj,
    a GeoJSON `crs` member. KML and plain RFC 7946 GeoJSON are WGS-84 by their standards,
    but exports from Chinese web maps in those formats are GCJ-02 without saying so, and a
    wrong guess moves a road by hundreds of metres: so they too need the CRS declared.
    """
    file_format = detect_format(filename)
    declared = parse_declared_crs(declared_crs) if declared_crs.strip() else None
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="segments-") as tmp:
        target = Path(tmp)
        if file_format == "shapefile":
            path = _safe_extract(data, target)
            embedded = (path.with_suffix(".prj")).exists()
        elif file_format == "geojson":
            embedded = _embedded_crs_geojson(data)
            path = _bytes_file(data, target / "upload.geojson")
        else:
            _check_kml(data)
            embedded = False
            path = _bytes_file(data, target / "upload.kml")
        if declared is None and not embedded:
            raise GeometryProblem("no_crs", format=file_format)
        rows, file_crs = _read_layers(path)

    if declared == GCJ02:
        source = GCJ02
        convert: Any = _gcj_to_wgs
        notes.append("GCJ-02 converted to WGS-84")
    else:
        crs = declared if isinstance(declared, CRS) else file_crs
        if crs is None:
            raise GeometryProblem("no_crs", format=file_format)
        source = crs.to_string()
        if not crs.is_geographic and not crs.is_projected:
            raise GeometryProblem("bad_crs", crs=source)
        convert = _reprojector(crs)
    features = [
        ReadFeature(index, None if geom is None else convert(geom), props)
        for index, (geom, props) in enumerate(rows)
    ]
    return ReadResult(file_format, source, declared is not None, features, notes)


def _reprojector(crs: CRS) -> Any:
    if crs.equals(CRS.from_epsg(4326)):
        return lambda geom: geom
    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def convert(geom: BaseGeometry) -> BaseGeometry:
        def project(coords: np.ndarray[Any, np.dtype[np.float64]]) -> Any:
            lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geom, project)

    return convert


def feature_name(properties: dict[str, Any]) -> str:
    for key in NAME_KEYS:
        value = properties.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()[:200]
    return ""


def parse_bool(value: Any, default: bool) -> bool | None:
    """A two-way flag from a property: booleans, 1/0, yes/no, true/false, 是/否; None if unclear."""
    if value is None:
        return default
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "是", "双向"}:
        return True
    if text in {"0", "false", "no", "n", "否", "单向"}:
        return False
    return None
