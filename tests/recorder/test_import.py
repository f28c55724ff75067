"""Importing recorder event files: good files, refused rows, idempotency, scoping."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from core.errors import ApplicationError
from recorder import services
from recorder.models import AdsEvent, EventFile, Incident
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

HEADER = "time,vin,event,initiator,lat,lon,note\n"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def csv_file(vin: str, *rows: str) -> bytes:
    return (HEADER + "".join(f"{row.format(vin=vin)}\n" for row in rows)).encode()


GOOD = (
    "2026-03-02T09:00:00+08:00,{vin},activation,driver,37.86,113.55,",
    "2026-03-02T09:10:00+08:00,{vin},takeover_request,system,37.86,113.56,construction",
    "2026-03-02T09:10:04+08:00,{vin},deactivation,driver,37.86,113.56,",
)


def post(client: Any, data: bytes, name: str = "events.csv") -> Any:
    return client.post("/api/v1/ads-events/import/", {"file": io.BytesIO(data)}, format="multipart")


def test_a_good_csv_file_is_imported_with_its_source(world: World) -> None:
    response = post(client_for(world.staff_a), csv_file(world.vehicle_a.vin, *GOOD))
    assert response.status_code == 201, response.json()
    assert response.json()["rows"] == 3
    assert response.json()["created"] == 3
    events = list(AdsEvent.objects.order_by("at"))
    assert [e.type for e in events] == ["activation", "takeover_request", "deactivation"]
    # 09:00 in Shanghai is 01:00 UTC.
    assert events[0].at == dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    assert events[1].note == "construction"
    assert events[0].source_file == EventFile.objects.get()
    assert events[0].source == "file"


def test_json_lines_are_read_like_csv(world: World) -> None:
    data = (
        b'{"time": "2026-03-02T01:00:00Z", "vin": "%s", "event": "activation", '
        b'"initiator": "driver"}\n\n'
        b'{"time": "2026-03-02T01:05:00Z", "vin": "%s", "event": "mrm_start", '
        b'"initiator": "system", "lat": 37.86, "lon": 113.55}\n'
    ) % (world.vehicle_a.vin.encode(), world.vehicle_a.vin.encode())
    result = services.ads_events_import(actor=world.staff_a, data=data, original_name="e.jsonl")
    assert (result.rows, result.created) == (2, 2)
    assert AdsEvent.objects.get(type="mrm_start").lat == 37.86


def test_a_json_line_with_an_unknown_or_missing_key_is_refused_with_its_own_line(
    world: World,
) -> None:
    vin = world.vehicle_a.vin
    lines = [
        {"time": "2026-03-02T01:00:00Z", "vin": vin, "event": "activation", "initiator": ""},
        {"time": "2026-03-02T01:01:00Z", "vin": vin, "event": "mrm_start", "initiator": ""},
        # line 3: a key the format does not have; line 4: no initiator (it may be empty,
        # as in line 1, but the key is there, as the CSV's column is)
        {"time": "2026-03-02T01:02:00Z", "vin": vin, "event": "mrm_end", "initiator": "", "x": 1},
        {"time": "2026-03-02T01:03:00Z", "vin": vin, "event": "deactivation"},
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    response = post(client_for(world.staff_a), data, "events.jsonl")
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert "第 3 行：未知列（x）" in message
    assert "第 4 行：缺少列（initiator）" in message
    assert "第 1 行" not in message
    assert AdsEvent.objects.count() == 0


def test_importing_the_same_events_again_adds_nothing(world: World) -> None:
    data = csv_file(world.vehicle_a.vin, *GOOD)
    services.ads_events_import(actor=world.staff_a, data=data)
    # The same rows in another file (one more row): only the new row is added.
    again = services.ads_events_import(
        actor=world.bureau,
        data=csv_file(world.vehicle_a.vin, *GOOD, "2026-03-02T10:00:00+08:00,{vin},activation,,,,"),
    )
    assert (again.rows, again.created) == (4, 1)
    assert AdsEvent.objects.count() == 4


def test_a_bad_row_refuses_the_whole_file_naming_its_line(world: World) -> None:
    data = csv_file(
        world.vehicle_a.vin,
        GOOD[0],
        "2026-03-02T09:10:00,{vin},deactivation,driver,,,",  # line 3: no offset
        "2026-03-02T09:11:00+08:00,{vin},engine_start,driver,,,",  # line 4: unknown event
    )
    response = post(client_for(world.staff_a), data)
    assert response.status_code == 400
    message = response.json()["file"][0]  # in Chinese, the API's default language
    assert "第 3 行：时间不是带时区偏移的 ISO 8601 格式（time）" in message
    assert "第 4 行：未知事件类型（event）" in message
    assert AdsEvent.objects.count() == 0
    assert EventFile.objects.count() == 0


def test_another_companys_vin_is_answered_like_an_unknown_one(world: World) -> None:
    client = client_for(world.staff_a)
    theirs = post(client, csv_file(world.vehicle_b.vin, GOOD[0])).json()
    unknown = post(client, csv_file("LFV2A2BS0N9999999", GOOD[0])).json()
    assert theirs == unknown
    assert AdsEvent.objects.count() == 0


def test_the_bureau_imports_any_companys_events(world: World) -> None:
    data = csv_file(world.vehicle_b.vin, *GOOD)
    assert post(client_for(world.bureau), data).status_code == 201


def test_finance_may_not_import(world: World) -> None:
    assert post(client_for(world.finance), csv_file(world.vehicle_a.vin, *GOOD)).status_code == 403


def test_an_impossible_place_and_unknown_initiator_are_refused(world: World) -> None:
    data = csv_file(
        world.vehicle_a.vin,
        "2026-03-02T09:00:00+08:00,{vin},activation,driver,137.86,113.55,",
        "2026-03-02T09:01:00+08:00,{vin},activation,robot,,,",
    )
    response = post(client_for(world.staff_a), data)
    assert response.status_code == 400
    assert "第 2 行" in response.json()["file"][0]
    assert "第 3 行" in response.json()["file"][0]


def test_a_file_with_a_missing_column_is_refused(world: World) -> None:
    response = post(client_for(world.staff_a), b"time,vin,event\n2026-03-02T01:00:00Z,X,y\n")
    assert response.status_code == 400
    assert "initiator" in response.json()["file"][0]


@override_settings(INCIDENT_REPORT_DUE_H=24)
def test_a_collision_opens_an_incident_due_in_24_hours(world: World) -> None:
    services.ads_events_import(
        actor=world.staff_a,
        data=csv_file(world.vehicle_a.vin, "2026-03-02T09:00:00+08:00,{vin},collision,,,,"),
    )
    incident = Incident.objects.get()
    # 09:00 Shanghai = 01:00 UTC; due 24 h later, 01:00 UTC on 3 March.
    assert incident.report_due_at == dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC)
    assert incident.operator == world.company_a
    assert incident.status == "open"


def test_importing_a_collision_again_opens_no_second_incident(world: World) -> None:
    data = csv_file(world.vehicle_a.vin, "2026-03-02T09:00:00+08:00,{vin},collision,,,,")
    services.ads_events_import(actor=world.staff_a, data=data)
    services.ads_events_import(actor=world.staff_a, data=data)
    assert Incident.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and triggers: PostgreSQL")
def test_a_large_file_goes_by_copy_and_stays_idempotent(world: World) -> None:
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    rows = [
        f"{(start + dt.timedelta(seconds=i)).isoformat()},{{vin}},"
        f"{'activation' if i % 2 == 0 else 'deactivation'},driver,,,"
        for i in range(services.COPY_FROM_ROWS + 10)
    ]
    data = csv_file(world.vehicle_a.vin, *rows)
    first = services.ads_events_import(actor=world.staff_a, data=data)
    second = services.ads_events_import(actor=world.staff_a, data=data)
    assert first.created == services.COPY_FROM_ROWS + 10
    assert second.created == 0
    assert AdsEvent.objects.filter(note="").count() == services.COPY_FROM_ROWS + 10
    # Times go through COPY as integer microseconds: exact.
    assert AdsEvent.objects.order_by("at").first().at == start  # type: ignore[union-attr]
    assert AdsEvent.objects.filter(at=start + dt.timedelta(seconds=5001)).get().type == (
        "deactivation"
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_change_or_delete_an_event(world: World) -> None:
    from django.db import DatabaseError, transaction  # noqa: PLC0415

    services.ads_events_import(actor=world.staff_a, data=csv_file(world.vehicle_a.vin, GOOD[0]))
    for sql in ("UPDATE recorder_adsevent SET type = 'collision'", "DELETE FROM recorder_adsevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AdsEvent.objects.count() == 1


def test_a_large_file_repeating_an_event_and_overlapping_an_import_adds_the_new_ones(
    world: World,
) -> None:
    start = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    rows = [
        f"{(start + dt.timedelta(seconds=i)).isoformat()},{{vin}},mrm_start,,,,"
        for i in range(services.COPY_FROM_ROWS + 10)
    ]
    services.ads_events_import(actor=world.staff_a, data=csv_file(world.vehicle_a.vin, *rows[:7]))
    # The first seven are known, and the last row repeats the one before it: on PostgreSQL
    # the plain INSERT meets the repeated key and the ON CONFLICT one settles it.
    data = csv_file(world.vehicle_a.vin, *rows, rows[-1])
    result = services.ads_events_import(actor=world.staff_a, data=data)
    assert (result.rows, result.created) == (len(rows) + 1, len(rows) - 7)
    assert AdsEvent.objects.count() == len(rows)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_the_database_refuses_an_event_of_no_vehicle_and_deleting_what_events_name(
    world: World,
) -> None:
    from django.db import IntegrityError, transaction  # noqa: PLC0415

    services.ads_events_import(actor=world.staff_a, data=csv_file(world.vehicle_a.vin, GOOD[0]))
    event_file = EventFile.objects.get()
    insert = (
        "INSERT INTO recorder_adsevent (vehicle_id, at, type, initiator, note, source, "
        "source_file_id) VALUES (%s, now(), 'collision', '', '', %s, %s)"
    )
    refused: list[tuple[str, list[Any]]] = [
        (insert, [world.vehicle_a.pk + 10_000, "stream", None]),
        (insert, [world.vehicle_a.pk, "file", event_file.pk + 10_000]),
        ("DELETE FROM operators_vehicle WHERE id = %s", [world.vehicle_a.pk]),
        ("UPDATE operators_vehicle SET id = id + 10000 WHERE id = %s", [world.vehicle_a.pk]),
        ("DELETE FROM recorder_eventfile WHERE id = %s", [event_file.pk]),
    ]
    for sql, params in refused:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    with connection.cursor() as cursor:  # an event of a real vehicle, from the stream
        cursor.execute(insert, [world.vehicle_b.pk, "stream", None])
    assert AdsEvent.objects.count() == 2


def test_a_csv_with_a_byte_order_mark_and_blank_lines_names_the_right_line(world: World) -> None:
    vin = world.vehicle_a.vin
    rows = [GOOD[0].format(vin=vin), "", "  ", GOOD[1].format(vin=vin), "yesterday,{vin},x,,,,"]
    data = ("\ufeff" + HEADER + "\n".join(rows).format(vin=vin) + "\n").encode()
    with pytest.raises(ApplicationError) as refused:
        services.ads_events_import(actor=world.staff_a, data=data)
    assert "第 6 行" in refused.value.message  # header 1, rows 2 and 5, blanks 3 and 4
    good = ("\ufeff" + HEADER + "\n".join(rows[:4]).format(vin=vin) + "\n").encode()
    assert services.ads_events_import(actor=world.staff_a, data=good).created == 2


def test_a_row_with_more_or_fewer_fields_than_the_header_is_refused_with_its_line(
    world: World,
) -> None:
    vin = world.vehicle_a.vin
    rows = [GOOD[0], "2026-03-02T09:10:00+08:00,{vin},activation", GOOD[2] + ",extra"]
    with pytest.raises(ApplicationError) as refused:
        services.ads_events_import(actor=world.staff_a, data=csv_file(vin, *rows))
    assert refused.value.field == "file"
    assert "第 3 行" in refused.value.message
    assert "第 4 行" in refused.value.message
    assert not AdsEvent.objects.exists()
    garbage = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
    with pytest.raises(ApplicationError) as refused:
        services.ads_events_import(actor=world.staff_a, data=garbage, original_name="x.csv")
    assert "第 1 行" in refused.value.message


def test_a_known_file_adds_nothing_yet_is_still_refused_to_another_company(
    world: World,
) -> None:
    data = csv_file(world.vehicle_a.vin, *GOOD)
    services.ads_events_import(actor=world.staff_a, data=data)
    again = services.ads_events_import(actor=world.bureau, data=data)
    assert (again.rows, again.created, again.incidents) == (3, 0, 0)
    assert EventFile.objects.get().created_events == 3
    with pytest.raises(ApplicationError) as refused:
        services.ads_events_import(actor=world.staff_b, data=data)
    assert refused.value.field == "file"


def test_large_files_repeating_or_overlapping_add_exactly_the_new_events(world: World) -> None:
    start = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    n = services.COPY_FROM_ROWS + 10
    rows = [
        f"{(start + dt.timedelta(seconds=i, microseconds=i)).astimezone(SHANGHAI).isoformat()}"
        ",{vin},mrm_start,,,,"
        for i in range(2 * n)
    ]
    vin = world.vehicle_a.vin
    # Nothing recorded yet, but the file repeats its first event: the straight copy meets
    # the repeated key and is undone; the staged insert adds each event once.
    first = services.ads_events_import(actor=world.staff_a, data=csv_file(vin, *rows[:n], rows[0]))
    assert (first.rows, first.created) == (n + 1, n)
    # Half of this one is recorded already: staged, the known half left out.
    second = services.ads_events_import(actor=world.staff_a, data=csv_file(vin, *rows[n // 2 :]))
    assert second.created == n
    assert AdsEvent.objects.count() == 2 * n
    # Times given at +08:00 to the microsecond survive the CSV that goes to COPY.
    assert AdsEvent.objects.filter(at=start + dt.timedelta(seconds=7, microseconds=7)).exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_new_file_imported_at_the_same_moment_is_recorded_once(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    data = csv_file(world.vehicle_a.vin, *GOOD)
    barrier = threading.Barrier(3)
    files: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        barrier.wait()
        try:
            files.append(services.ads_events_import(actor=world.staff_a, data=data).file.pk)
        except BaseException as error:  # whatever escaped, reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(files) == {EventFile.objects.get().pk}
    assert AdsEvent.objects.count() == len(GOOD)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the streamed COPY: PostgreSQL")
def test_a_bad_last_row_of_a_large_file_refuses_it_after_rows_went_to_the_database(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.files.storage import default_storage  # noqa: PLC0415

    from recorder import importer, pgcopy  # noqa: PLC0415

    # Batches of 16 KiB (about 300 rows of ~55 bytes): many go to COPY before the last.
    monkeypatch.setattr(importer, "BATCH_BYTES", 1 << 14)
    sent: list[int] = []  # the rows of each batch written for COPY
    copy_rows = pgcopy.file_event_rows

    def counted(frame: Any, *, source_file_id: int) -> bytes:
        sent.append(len(frame))
        return copy_rows(frame, source_file_id=source_file_id)

    monkeypatch.setattr(pgcopy, "file_event_rows", counted)
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    n = services.COPY_FROM_ROWS + 10
    rows = [
        f"{(start + dt.timedelta(seconds=i)).isoformat()},{{vin}},mrm_start,,,," for i in range(n)
    ]
    rows[-1] = "2026-03-02T09:00:00,{vin},mrm_start,,,,"  # no offset
    data = csv_file(world.vehicle_a.vin, *rows)
    with pytest.raises(ApplicationError) as refused:
        services.ads_events_import(actor=world.staff_a, data=data)
    assert refused.value.field == "file"
    assert f"第 {n + 1} 行" in refused.value.message  # the header is line 1
    # Streamed: batches went to the database before the last row was read.
    assert len(sent) > 1
    assert sum(sent) < n
    assert not AdsEvent.objects.exists()
    assert not EventFile.objects.exists()
    sha256 = hashlib.sha256(data).hexdigest()
    assert not default_storage.exists(services._stored_path(sha256))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY: PostgreSQL")
def test_a_large_file_keeps_every_field_exactly_through_copy(world: World) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    n = services.COPY_FROM_ROWS + 10
    kinds = (("activation", "system"), ("takeover_request", ""), ("deactivation", "driver"))
    rows = [
        f"{(start + dt.timedelta(seconds=i, microseconds=i)).isoformat()},{{vin}},"
        f"{kinds[i % 3][0]},{kinds[i % 3][1]},"
        + ("37.861234,113.551234,施工路段" if i % 2 else ",,")
        for i in range(n)
    ]
    data = csv_file(world.vehicle_b.vin, *rows)
    assert services.ads_events_import(actor=world.bureau, data=data).created == n
    event_file = EventFile.objects.get()
    assert (event_file.rows, event_file.created_events) == (n, n)
    by_time = {e.at: e for e in AdsEvent.objects.all()}
    odd = by_time[start + dt.timedelta(seconds=7, microseconds=7)]  # 7 % 3 == 1, odd: a place
    assert (odd.vehicle_id, odd.type, odd.initiator) == (world.vehicle_b.pk, "takeover_request", "")
    assert (odd.lat, odd.lon, odd.note) == (37.861234, 113.551234, "施工路段")
    assert (odd.source, odd.source_file_id) == ("file", event_file.pk)
    even = by_time[start + dt.timedelta(seconds=8, microseconds=8)]  # 8 % 3 == 2, even: none
    assert (even.type, even.initiator, even.lat, even.lon, even.note) == (
        "deactivation",
        "driver",
        None,
        None,
        "",
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY: PostgreSQL")
def test_a_large_json_lines_file_goes_by_copy_like_csv(world: World) -> None:
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    n = services.COPY_FROM_ROWS + 10
    record = {"vin": world.vehicle_a.vin, "event": "mrm_start", "initiator": "system"}
    lines = [
        json.dumps({"time": (start + dt.timedelta(seconds=i)).isoformat(), **record})
        for i in range(n)
    ]
    data = ("\n".join(lines) + "\n").encode()
    result = services.ads_events_import(actor=world.staff_a, data=data, original_name="e.jsonl")
    assert (result.rows, result.created) == (n, n)
    last = AdsEvent.objects.get(at=start + dt.timedelta(seconds=n - 1))
    assert (last.type, last.initiator, last.lat, last.note) == ("mrm_start", "system", None, "")
