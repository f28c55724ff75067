"""Read segment files (GeoJSON, KML, zipped Shapefile) into WGS-84 features. No Django.

The files are read by GDAL through pyogrio (its GeoJSON, KML and ESRI Shapefile drivers).
What this module adds is the refusing: a file that does not state its coordinate system is
refused unless the uploader declares one; GCJ-02 (the offset coordinates of Chinese web
maps) is converted to WGS-84 before anything is measured; zip archives are checked for
size, member count, compression ratio, encryption, nested archives and path tricks before
anything is extracted, and extraction streams with the declared sizes enforced; KML with a
DOCTYPE (entity declarations, external references) is refused in any encoding.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

import numpy as np
import pyogrio
import shapely
from defusedxml import DefusedXmlException
from defusedxml import sax as defused_sax
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from core.geo import gcj02_to_wgs84

from .geometry import GeometryProblem, json_problem

GCJ02 = "gcj02"
FORMATS = {".geojson": "geojson", ".json": "geojson", ".kml": "kml", ".zip": "shapefile"}
MAX_ZIP_MEMBERS = 50
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# Deflate tops out near 1,000:1, which only crafted data reaches; a Shapefile's padded .dbf
# can reach a few hundred. Members under the floor are too small to matter.
MAX_ZIP_RATIO = 200
_RATIO_FLOOR_BYTES = 1024 * 1024
ARCHIVE_SUFFIXES = frozenset({".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar"})
_EOCD_SEARCH = 22 + 65535  # the end record and the longest archive comment
_COPY_CHUNK = 1024 * 1024
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


def _declared_entries(data: bytes) -> int:
    """The member count in the end-of-central-directory record, read before zipfile builds
    an object per member (a 20 MB archive can list 400,000 of them)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - _EOCD_SEARCH))
    if at < 0 or at + 22 > len(data):
        raise GeometryProblem("bad_zip")
    (entries,) = struct.unpack_from("<H", data, at + 10)
    return int(entries)


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    """Refuse on what the archive declares, before a byte is decompressed. zipfile never
    yields more than a member's declared size (past it the CRC check fails), so the
    declared sizes bound what extraction can write."""
    if len(members) > MAX_ZIP_MEMBERS:
        raise GeometryProblem("zip_too_many", limit=MAX_ZIP_MEMBERS)
    if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        raise GeometryProblem("zip_too_large", limit_mb=MAX_UNZIPPED_BYTES // 2**20)
    for member in members:
        if member.flag_bits & 0x1:
            raise GeometryProblem("zip_encrypted")
        if PurePosixPath(member.filename.lower()).suffix in ARCHIVE_SUFFIXES:
            raise GeometryProblem("zip_nested")
        if member.file_size > _RATIO_FLOOR_BYTES and member.file_size > MAX_ZIP_RATIO * max(
            member.compress_size, 1
        ):
            raise GeometryProblem("zip_ratio", limit=MAX_ZIP_RATIO)


def _safe_extract(data: bytes, target: Path) -> Path:
    """Extract a zipped Shapefile after checking it; return the .shp path."""
    if _declared_entries(data) > MAX_ZIP_MEMBERS:
        raise GeometryProblem("zip_too_many", limit=MAX_ZIP_MEMBERS)
    try:
        archive = zipfile.ZipFile(_bytes_file(data, target / "upload.zip"))
    except zipfile.BadZipFile as exc:
        raise GeometryProblem("bad_zip") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_members(members)
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
            try:
                with (
                    archive.open(member) as source,
                    (out_dir / ("layer" + name.suffix.lower())).open("wb") as sink,
                ):
                    shutil.copyfileobj(source, sink, _COPY_CHUNK)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                # A CRC or size that does not match what is declared, a truncated stream,
                # a compression method zipfile lacks: the archive lies or is broken.
                raise GeometryProblem("bad_zip") from exc
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
        raise json_problem(exc) from exc
    except RecursionError as exc:  # nested thousands deep: no GeoJSON is
        raise GeometryProblem("too_deep") from exc
    if not isinstance(document, dict):
        raise GeometryProblem("not_object")
    return isinstance(document.get("crs"), dict)


class _RootReached(Exception):  # noqa: N818 - a signal, not an error
    pass


class _StopAtRoot(ContentHandler):
    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - SAX API
        raise _RootReached


def _check_kml(data: bytes) -> None:
    """Refuse a DOCTYPE (entity declarations, external references) in any encoding.

    defusedxml's SAX parser reads up to the root element only: a DOCTYPE can stand nowhere
    later, so the rest of the file costs nothing here. (GDAL's KML drivers abort on a
    DOCTYPE too; this check names the reason and does not depend on which driver reads.)
    """
    try:
        defused_sax.parseString(data, _StopAtRoot(), forbid_dtd=True)
    except _RootReached:
        return
    except DefusedXmlException as exc:
        raise GeometryProblem("kml_entities") from exc
    except SAXException as exc:
        raise GeometryProblem("unreadable", error=str(exc)[:200]) from exc


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
