"""Upload abuse (issue #7 item 3): hostile trip logs and segment files are refused quickly,
with a clear reason and bounded memory, and uploads are rate-limited per token."""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import World, client_for
from tests.routes.test_import import KML, shapefile_zip
from tests.trips.csvtrace import straight_east
from trips import parsers
from trips import services as trip_services
from trips.models import Trip

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
GPX_HEAD = b'<?xml version="1.0"?>\n'
BILLION_LAUGHS = (
    b'<!DOCTYPE gpx [<!ENTITY a0 "lollollollollollollollollollol">'
    + b"".join(b'<!ENTITY a%d "%s">' % (i, (b"&a%d;" % (i - 1)) * 10) for i in range(1, 10))
    + b"]>\n"
)
EXTERNAL_ENTITY = b'<!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
GPX_BODY = (
    b'<gpx version="1.1"><trk><trkseg><trkpt lat="37.86" lon="113.55">'
    b"<time>2026-03-02T09:00:00Z</time><name>&%s;</name></trkpt></trkseg></trk></gpx>\n"
)


def refused(data: bytes, **options: Any) -> tuple[parsers.TraceError, float]:
    """The parser's refusal and how long it took to refuse."""
    started = time.perf_counter()
    with pytest.raises(parsers.TraceError) as caught:
        parsers.parse(data, **options)
    return caught.value, time.perf_counter() - started


def upload(client: APIClient, vin: str, data: bytes, name: str = "trip.csv", **fields: str) -> Any:
    handle = io.BytesIO(data)
    handle.name = name
    return client.post("/api/v1/trips/", {"vin": vin, "file": handle, **fields}, format="multipart")


def uploaded_and_processed(
    world: World, data: bytes, name: str = "trip.csv", **fields: str
) -> Trip:
    response = upload(client_for(world.staff_a), world.vehicle_a.vin, data, name, **fields)
    assert response.status_code == 202, response.content
    return trip_services.trip_process(trip_id=response.json()["id"])


# --- trip logs: XML -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doctype", "entity"),
    [(BILLION_LAUGHS, b"a9"), (EXTERNAL_ENTITY, b"x")],
    ids=["billion-laughs", "external-entity"],
)
def test_gpx_with_entities_is_rejected_through_the_upload(
    world: World, doctype: bytes, entity: bytes
) -> None:
    trip = uploaded_and_processed(
        world, GPX_HEAD + doctype + GPX_BODY % entity, "bomb.gpx", mode="auto"
    )
    assert trip.status == Trip.Status.REJECTED
    assert [r["code"] for r in trip.reasons] == ["xml_forbidden"]
    assert trip.total_m == 0


def test_gpx_with_a_60_mb_attribute_is_refused_in_well_under_a_second() -> None:
    # expat rescans a token that spans its input chunks: this file took 45 s to refuse.
    data = (
        b'<gpx><trk><trkseg><trkpt lat="'
        + b"1" * 60_000_000
        + b'" lon="2"><time>2026-03-02T09:00:00Z</time></trkpt></trkseg></trk></gpx>'
    )
    error, seconds = refused(data, fmt="gpx")
    assert (error.code, error.line) == ("xml_token_too_long", 1)
    assert seconds < 2


def test_gpx_with_far_more_points_than_the_limit_is_refused_before_it_is_parsed() -> None:
    point = b'<trkpt lat="37.86" lon="113.55"><time>2026-03-02T09:00:00Z</time></trkpt>'
    data = b"<gpx><trk><trkseg>" + point * 2001 + b"</trkseg></trk></gpx>"
    assert refused(data, max_points=1000)[0].code == "too_many_points"


# --- trip logs: CSV, GeoJSON, Parquet ----------------------------------------------------------


def test_csv_with_millions_of_columns_is_refused_at_once_with_bounded_memory() -> None:
    data = b"timestamp,lat,lon" + b",c" * 3_000_000 + b"\n" + b"1,2,3" + b",4" * 3_000_000
    tracemalloc.start()
    try:
        error, seconds = refused(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before the check: 3.5 s and 330 MB above the file to refuse it.
    assert (error.code, error.line) == ("line_too_long", 1)
    assert seconds < 1
    assert peak < 1_000_000


def test_csv_with_a_few_hundred_columns_is_refused_naming_the_limit() -> None:
    data = b"timestamp,lat,lon" + b",c" * 200 + b"\n2026-03-02T09:00:00Z,37.86,113.55\n"
    error, _ = refused(data)
    assert (error.code, error.line) == ("too_many_columns", 1)
    assert "203" in error.message


def test_csv_with_a_60_mb_single_line_is_refused_at_once() -> None:
    data = b"timestamp,lat,lon\n" + b"1" * 60_000_000
    error, seconds = refused(data)
    # Before the check: 1.3 s, spent matching the 60 MB "first row" against a pattern.
    assert (error.code, error.line) == ("line_too_long", 2)
    assert seconds < 0.5


def test_csv_with_a_nul_byte_is_refused_at_upload_naming_its_line(world: World) -> None:
    lines = straight_east(start=T0, metres=100).split(b"\n")
    lines[3] = lines[3][:5] + b"\x00" + lines[3][5:]
    response = upload(client_for(world.staff_a), world.vehicle_a.vin, b"\n".join(lines))
    assert response.status_code == 400
    assert "第 4 行" in response.json()["file"][0]
    assert not Trip.objects.exists()


def test_geojson_nested_thousands_deep_is_refused_not_a_crash() -> None:
    error, _ = refused(b'{"type":"FeatureCollection","features":' + b"[" * 100_000 + b"}")
    assert error.code == "too_deep"


def test_parquet_that_expands_past_the_limit_is_refused_from_its_footer() -> None:
    # A million identical rows run-length encode to a few kilobytes.
    rows = 1_000_000
    table = pa.table(
        {
            "timestamp": pa.array(np.full(rows, T0.timestamp() * 1e9, dtype=np.int64)).cast(
                pa.timestamp("ns", tz="UTC")
            ),
            "lat": np.full(rows, 37.86),
            "lon": np.full(rows, 113.55),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    assert len(data) < 100_000
    error, seconds = refused(data, max_points=100_000)
    assert error.code == "too_many_points"
    assert "1000000" in error.message
    assert seconds < 0.5


# --- trip logs: the request -----------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    world: World, settings: Any
) -> None:
    settings.TRIP_MAX_BYTES = 1024 * 1024
    response = client_for(world.staff_a).generic(
        "POST",
        "/api/v1/trips/",
        "--x--\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert not Trip.objects.exists()


def test_a_body_that_is_not_a_form_is_415_and_a_png_is_refused_as_binary(
    world: World,
) -> None:
    client = client_for(world.staff_a)
    xml = client.post("/api/v1/trips/", b"<trip/>", content_type="application/xml")
    assert xml.status_code == 415
    # The part's content type is not trusted either way: the content decides.
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    response = upload(client, world.vehicle_a.vin, png, "photo.png")
    assert response.status_code == 400
    assert "不是行程日志" in response.json()["file"][0]
    assert not Trip.objects.exists()


@pytest.mark.parametrize(
    "name", ["../../../etc/cron.d/evil.csv", "/etc/passwd", "..\\..\\boot.ini", "a\x00b.csv"]
)
def test_a_path_trick_in_the_file_name_is_never_a_storage_path(world: World, name: str) -> None:
    data = straight_east(start=T0, metres=100) + name.encode("unicode_escape")
    response = upload(client_for(world.staff_a), world.vehicle_a.vin, data, name)
    assert response.status_code == 202
    trip = Trip.objects.get(pk=response.json()["id"])
    # Content-addressed: stored under its SHA-256 below the media root, whatever the name.
    assert trip.raw_file.name == f"raw/{trip.raw_sha256[:2]}/{trip.raw_sha256}"
    stored = Path(trip.raw_file.path).resolve()
    assert stored.is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())
    assert "/" not in trip.original_name
    assert "\\" not in trip.original_name
    assert "\x00" not in trip.original_name


# --- the upload rate ------------------------------------------------------------------------------


def test_uploads_beyond_the_rate_are_429_with_retry_after_per_token(
    world: World, settings: Any
) -> None:
    settings.TRIP_UPLOAD_RATE = "2/min"
    first = client_for(world.staff_a)
    for i in range(2):
        data = straight_east(start=T0 + dt.timedelta(hours=i), metres=100)
        assert upload(first, world.vehicle_a.vin, data).status_code == 202
    throttled = upload(first, world.vehicle_a.vin, straight_east(start=T0, metres=50))
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    # Another token (another integration of the same company) has its own budget.
    second = client_for(world.staff_a)
    data = straight_east(start=T0 + dt.timedelta(hours=5), metres=100)
    assert upload(second, world.vehicle_a.vin, data).status_code == 202


def test_reading_is_not_throttled_with_the_uploads(world: World, settings: Any) -> None:
    settings.TRIP_UPLOAD_RATE = "1/min"
    client = client_for(world.staff_a)
    upload(client, world.vehicle_a.vin, straight_east(start=T0, metres=100))
    assert upload(client, world.vehicle_a.vin, b"x").status_code == 429
    assert all(client.get("/api/v1/trips/").status_code == 200 for _ in range(3))


def test_throttle_counts_are_shared_through_redis_when_it_is_configured(tmp_path: Path) -> None:
    script = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "VAR_DIR": str(tmp_path),
            "REDIS_URL": "redis://127.0.0.1:6379/14",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    backend = result.stdout.strip().splitlines()[-1]
    assert backend == "django_redis.cache.RedisCache", result.stderr


# --- segment files --------------------------------------------------------------------------------


def import_file(world: World, data: bytes, filename: str, **fields: str) -> Any:
    client = client_for(world.bureau)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    handle = io.BytesIO(data)
    handle.name = filename
    return client.post("/api/v1/segments/import/", {"file": handle, **fields}, format="multipart")


def patched_sizes(data: bytes, *, file_size: int) -> bytes:
    """The archive with every member's declared (uncompressed) size replaced."""
    patched = bytearray(data)
    at = patched.find(b"PK\x01\x02")
    while at >= 0:
        struct.pack_into("<I", patched, at + 24, file_size)
        at = patched.find(b"PK\x01\x02", at + 4)
    at = patched.find(b"PK\x03\x04")
    while at >= 0:
        struct.pack_into("<I", patched, at + 22, file_size)
        at = patched.find(b"PK\x03\x04", at + 4)
    return bytes(patched)


def test_a_zip_declaring_gigabytes_is_refused_before_extraction(
    world: World, tmp_path: Path
) -> None:
    bomb = patched_sizes(shapefile_zip(tmp_path, crs="EPSG:4326"), file_size=2**32 - 1)
    response = import_file(world, bomb, "roads.zip", crs="EPSG:4326")
    assert response.status_code == 400
    assert "unpacks to more than 200 MB" in response.json()["file"][0]


def test_a_zip_whose_sizes_lie_is_refused_not_a_crash(world: World, tmp_path: Path) -> None:
    liar = patched_sizes(shapefile_zip(tmp_path, crs="EPSG:4326"), file_size=10)
    response = import_file(world, liar, "roads.zip", crs="EPSG:4326")
    assert response.status_code == 400
    assert "not a readable zip archive" in response.json()["file"][0]


def test_a_member_compressed_like_a_bomb_is_refused(world: World, tmp_path: Path) -> None:
    # 50 MB of zeros deflate to about 50 KB: a ratio only crafted data has.
    bomb = shapefile_zip(tmp_path, crs="EPSG:4326")
    buffer = io.BytesIO(bomb)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/padding.bin", bytes(50 * 1024 * 1024))
    response = import_file(world, buffer.getvalue(), "roads.zip", crs="EPSG:4326")
    assert response.status_code == 400
    assert "compressed more than 200 to 1" in response.json()["file"][0]


def test_a_zip_inside_the_zip_is_refused(world: World, tmp_path: Path) -> None:
    inner = shapefile_zip(tmp_path, crs="EPSG:4326")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("roads.zip", inner)
    response = import_file(world, buffer.getvalue(), "outer.zip", crs="EPSG:4326")
    assert response.status_code == 400
    assert "holds another archive" in response.json()["file"][0]


def test_an_encrypted_member_is_refused(world: World, tmp_path: Path) -> None:
    patched = bytearray(shapefile_zip(tmp_path, crs="EPSG:4326"))
    at = patched.find(b"PK\x01\x02")
    struct.pack_into("<H", patched, at + 8, 0x1)  # general purpose flag: encrypted
    response = import_file(world, bytes(patched), "roads.zip", crs="EPSG:4326")
    assert response.status_code == 400
    assert "encrypted" in response.json()["file"][0]


def test_shapefile_members_named_with_parent_or_absolute_paths_are_read_in_place(
    world: World, tmp_path: Path
) -> None:
    mark = f"yq-escape-{secrets.token_hex(4)}"
    clean = shapefile_zip(tmp_path, crs="EPSG:4326")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(clean)) as source, zipfile.ZipFile(buffer, "w") as archive:
        for member in source.infolist():
            suffix = Path(member.filename).suffix
            archive.writestr(f"../../{mark}{suffix}", source.read(member))
        archive.writestr(f"{tempfile.gettempdir()}/{mark}.txt", b"x")
    response = import_file(world, buffer.getvalue(), "roads.zip", crs="EPSG:4326")
    assert response.status_code == 200
    assert response.json()["items"][0]["name"] == "义白路"
    temp = Path(tempfile.gettempdir())
    assert not list(temp.glob(f"{mark}*"))
    assert not list(temp.parent.glob(f"{mark}*"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_kml_with_a_billion_laughs_is_refused_in_any_encoding(world: World, encoding: str) -> None:
    doctype = BILLION_LAUGHS.decode().replace("gpx", "kml")
    evil = KML.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n{doctype}',
    ).replace("南大街", "&a9;")
    response = import_file(world, evil.encode(encoding), "bomb.kml", crs="EPSG:4326")
    assert response.status_code == 400
    assert "DOCTYPE" in response.json()["file"][0]


def test_kml_with_an_external_entity_is_refused(world: World) -> None:
    evil = KML.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?>\n<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace("南大街", "&x;")
    response = import_file(world, evil.encode(), "xxe.kml", crs="EPSG:4326")
    assert response.status_code == 400
    assert "DOCTYPE" in response.json()["file"][0]


def test_geojson_segments_nested_thousands_deep_are_refused_not_a_crash(world: World) -> None:
    response = import_file(world, b"[" * 100_000 + b"]" * 100_000, "deep.geojson")
    assert response.status_code == 400


def test_the_web_forms_uploads_count_against_the_same_rate(world: World, settings: Any) -> None:
    settings.TRIP_UPLOAD_RATE = "2/min"
    # Ids come round again in a test database, and the cache outlives a test: the user's
    # budget starts empty here whatever an earlier test's user of the same id spent.
    cache.delete(f"throttle_uploads_user-{world.staff_a.pk}")
    browser = Client()
    browser.force_login(world.staff_a)
    files = []
    for i in range(3):
        handle = io.BytesIO(straight_east(start=T0 + dt.timedelta(hours=i), metres=100))
        handle.name = f"trip-{i}.csv"
        files.append(handle)
    page = browser.post(
        "/trips/upload/", {"vehicle": world.vehicle_a.vin, "logs": files, "crs": "wgs84"}
    )
    assert Trip.objects.count() == 2
    assert "上传过于频繁" in page.content.decode()  # "Too many uploads"
    # The session's budget is spent for the API too (the page's script uploads there).
    session_api = APIClient()
    session_api.force_authenticate(world.staff_a)
    third = upload(session_api, world.vehicle_a.vin, straight_east(start=T0, metres=50))
    assert third.status_code == 429
