"""Importing GeoJSON, KML and zipped Shapefiles: CRS rules, GCJ-02, dry run vs commit."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Polygon

from core.geo import wgs84_to_gcj02
from core.models import AuditRecord
from routes.models import RoadSegment
from tests.conftest import World, client_for
from tests.routes.helpers import LAT0, LON0

pytestmark = pytest.mark.django_db

ROAD_COORDS = [[LON0, LAT0], [LON0 + 0.01, LAT0]]  # ≈ 880 m east
AREA_RING = [
    [LON0, LAT0 + 0.01],
    [LON0 + 0.01, LAT0 + 0.01],
    [LON0 + 0.01, LAT0 + 0.02],
    [LON0, LAT0 + 0.02],
    [LON0, LAT0 + 0.01],
]


def geojson_file(*, crs: bool = True, features: list[dict[str, Any]] | None = None) -> bytes:
    document: dict[str, object] = {
        "type": "FeatureCollection",
        "features": features
        if features is not None
        else [
            {
                "type": "Feature",
                "properties": {"name": "桃北西街", "two_way": "是", "road_code": "X101"},
                "geometry": {"type": "LineString", "coordinates": ROAD_COORDS},
            },
            {
                "type": "Feature",
                "properties": {"name": "高新区示范街区"},
                "geometry": {"type": "Polygon", "coordinates": [AREA_RING]},
            },
        ],
    }
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    return json.dumps(document, ensure_ascii=False).encode()


def upload(world: World, data: bytes, filename: str, **fields: object) -> Any:
    client = client_for(world.bureau)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client.post(
        "/api/v1/segments/import/",
        {"file": _named(data, filename), **fields},
        format="multipart",
    )


def _named(data: bytes, filename: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = filename
    return handle


def shapefile_zip(
    tmp_path: Path, *, crs: str | None, extra: dict[str, bytes] | None = None
) -> bytes:
    frame = gpd.GeoDataFrame(
        {"name": ["义白路"], "two_way": [1]},
        geometry=[LineString(ROAD_COORDS)],
        crs=crs,
    )
    if crs == "EPSG:4547":
        frame = gpd.GeoDataFrame(
            {"name": ["义白路"], "two_way": [1]},
            geometry=[LineString(ROAD_COORDS)],
            crs="EPSG:4326",
        ).to_crs("EPSG:4547")
    frame.to_file(tmp_path / "roads.shp", engine="pyogrio")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(tmp_path.glob("roads.*")):
            archive.write(path, f"export/{path.name}")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- dry run and commit ------------------------------------------------------------------


def test_a_dry_run_reports_each_feature_and_creates_nothing(world: World) -> None:
    response = upload(world, geojson_file(), "segments.geojson")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["committed"], body["feature_count"], body["problem_count"]) == (False, 2, 0)
    road, area = body["items"]
    assert (road["kind"], road["name"], road["two_way"]) == ("road", "桃北西街", True)
    assert road["length_m"] == pytest.approx(880.3, abs=1)
    assert area["kind"] == "area"
    assert area["area_m2"] == pytest.approx(977_000, rel=0.01)  # 880 m × 1,110 m
    assert not RoadSegment.objects.exists()


def test_commit_creates_every_feature_as_a_draft_in_one_go(world: World) -> None:
    response = upload(world, geojson_file(), "segments.geojson", commit="true")
    assert response.status_code == 201
    body = response.json()
    created = RoadSegment.objects.order_by("pk")
    assert [item["segment_id"] for item in body["items"]] == [s.pk for s in created]
    assert {s.status for s in created} == {"draft"}
    assert created[0].road_code == "X101"
    reason = (
        AuditRecord.objects.filter(content_type__model="roadsegment", object_id=str(created[0].pk))
        .get()
        .reason
    )
    assert "segments.geojson" in reason


def test_a_file_with_one_bad_feature_commits_nothing(world: World) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"name": "好路"},
            "geometry": {"type": "LineString", "coordinates": ROAD_COORDS},
        },
        {
            "type": "Feature",
            "properties": {"name": "北京的路"},
            "geometry": {"type": "LineString", "coordinates": [[116.40, 39.90], [116.41, 39.90]]},
        },
    ]
    dry = upload(world, geojson_file(features=features), "x.geojson").json()
    assert dry["problem_count"] == 1
    assert "outside the service area" in dry["items"][1]["problems"][0]
    response = upload(world, geojson_file(features=features), "x.geojson", commit="true")
    assert response.status_code == 400
    assert not RoadSegment.objects.exists()


def test_a_feature_without_a_name_is_a_problem(world: World) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "LineString", "coordinates": ROAD_COORDS},
        }
    ]
    body = upload(world, geojson_file(features=features), "x.geojson").json()
    assert "no name" in body["items"][0]["problems"][0]


# --- coordinate systems ------------------------------------------------------------------


def test_a_geojson_without_a_crs_is_refused_unless_one_is_declared(world: World) -> None:
    refused = upload(world, geojson_file(crs=False), "x.geojson")
    assert refused.status_code == 400
    assert "crs" in refused.json()
    accepted = upload(world, geojson_file(crs=False), "x.geojson", crs="EPSG:4326")
    assert accepted.status_code == 200


def test_gcj02_input_is_converted_to_wgs84_before_it_is_measured(world: World) -> None:
    lon, lat = wgs84_to_gcj02(
        np.array([c[0] for c in ROAD_COORDS]), np.array([c[1] for c in ROAD_COORDS])
    )
    features = [
        {
            "type": "Feature",
            "properties": {"name": "高德导出"},
            "geometry": {"type": "LineString", "coordinates": [[lon[0], lat[0]], [lon[1], lat[1]]]},
        }
    ]
    upload(
        world, geojson_file(crs=False, features=features), "x.geojson", crs="gcj02", commit="true"
    )
    road = RoadSegment.objects.get()
    (lon0, lat0), (lon1, lat1) = road.geometry["coordinates"]
    # back on the WGS-84 points to 1e-8° (≈ 1 mm), not ~500 m away where GCJ-02 put them
    assert [lon0, lat0, lon1, lat1] == pytest.approx(
        [ROAD_COORDS[0][0], ROAD_COORDS[0][1], ROAD_COORDS[1][0], ROAD_COORDS[1][1]], abs=1e-8
    )


def test_an_unknown_declared_crs_is_refused(world: World) -> None:
    response = upload(world, geojson_file(), "x.geojson", crs="EPSG:999999")
    assert response.status_code == 400
    assert "crs" in response.json()


def test_a_zipped_shapefile_with_a_prj_is_reprojected_to_wgs84(
    world: World, tmp_path: Path
) -> None:
    data = shapefile_zip(tmp_path, crs="EPSG:4547")
    body = upload(world, data, "roads.zip").json()
    assert body["format"] == "shapefile"
    assert "4547" in body["source_crs"]
    assert body["items"][0]["length_m"] == pytest.approx(880.3, abs=1)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_zipped_shapefile_without_a_prj_is_refused_unless_declared(
    world: World, tmp_path: Path
) -> None:
    data = shapefile_zip(tmp_path, crs=None)
    assert upload(world, data, "roads.zip").status_code == 400
    body = upload(world, data, "roads.zip", crs="EPSG:4326").json()
    assert body["items"][0]["name"] == "义白路"


def test_zip_members_with_parent_paths_are_never_written_outside(
    world: World, tmp_path: Path
) -> None:
    data = shapefile_zip(tmp_path, crs="EPSG:4326", extra={"../../evil.txt": b"x"})
    response = upload(world, data, "roads.zip")
    assert response.status_code == 200
    assert not (tmp_path.parent.parent / "evil.txt").exists()


def test_a_zip_with_too_many_files_is_refused(world: World) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(60):
            archive.writestr(f"f{i}.txt", b"x")
    response = upload(world, buffer.getvalue(), "many.zip", crs="EPSG:4326")
    assert response.status_code == 400
    assert "file" in response.json()


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>南大街</name>
<LineString><coordinates>113.58,37.86,0 113.59,37.86,0</coordinates></LineString></Placemark>
<Placemark><name>示范街区</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
113.58,37.87 113.59,37.87 113.59,37.88 113.58,37.88 113.58,37.87
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>"""


def test_kml_placemarks_are_read_when_the_crs_is_declared(world: World) -> None:
    assert upload(world, KML.encode(), "x.kml").status_code == 400
    body = upload(world, KML.encode(), "x.kml", crs="EPSG:4326").json()
    assert [(i["name"], i["kind"]) for i in body["items"]] == [
        ("南大街", "road"),
        ("示范街区", "area"),
    ]
    assert body["items"][0]["length_m"] == pytest.approx(880.3, abs=1)


def test_kml_with_entity_declarations_is_refused(world: World) -> None:
    evil = KML.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">]>',
    )
    response = upload(world, evil.encode(), "x.kml", crs="EPSG:4326")
    assert response.status_code == 400


def test_an_unsupported_file_type_is_refused(world: World) -> None:
    response = upload(world, b"a,b\n", "roads.csv", crs="EPSG:4326")
    assert response.status_code == 400
    assert ".csv" in response.json()["file"][0]


def test_companies_cannot_import(world: World) -> None:
    client = client_for(world.staff_a)
    response = client.post(
        "/api/v1/segments/import/",
        {"file": _named(geojson_file(), "x.geojson")},
        format="multipart",
    )
    assert response.status_code == 403


def test_polygon_area_is_measured_after_import(world: World) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"name": "街区", "kind": "area"},
            "geometry": Polygon(AREA_RING).__geo_interface__,
        }
    ]
    body = upload(world, geojson_file(features=features), "x.json").json()
    assert body["area_m2"] == pytest.approx(977_000, rel=0.01)


def test_a_file_gdal_cannot_read_is_a_400_with_the_reason(world: World) -> None:
    response = upload(world, b"this is not xml", "x.kml", crs="EPSG:4326")
    assert response.status_code == 400
    (reason,) = response.json()["file"]
    assert "could not be read" in reason
    assert "segments-" not in reason  # the temporary directory is not shown


def test_a_feature_without_geometry_is_a_problem_not_a_crash(world: World) -> None:
    features = [{"type": "Feature", "properties": {"name": "空"}, "geometry": None}]
    body = upload(world, geojson_file(features=features), "x.geojson").json()
    assert body["problem_count"] == 1
    assert "no geometry" in body["items"][0]["problems"][0]
