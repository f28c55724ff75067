"""The JT/T 808 gateway over real sockets: register, authenticate, stream and silence."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from telemetry import services
from telemetry.jt808 import (
    MSG_AUTHENTICATE,
    MSG_LOCATION,
    Authenticate,
    BatchType,
    Deregister,
    Heartbeat,
    LocationBatch,
    PlatformResponse,
    RegisterResponse,
    ResponseResult,
    UnknownMessage,
    encode_body,
    encode_packages,
)
from telemetry.models import Fix, RawArchive, Terminal
from tests.conftest import World, make_world
from tests.telemetry.frames import BAD_CHECKSUM, HEARTBEAT, frame
from tests.telemetry.live import RunningGateway, drive, start_gateway
from tests.telemetry.live import Terminal as Device
from trips.live import close_live_trips
from trips.models import Trip

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_2013 = "013800138000"
PHONE_2019 = "01380013800012345678"


@pytest.fixture(autouse=True)
def fast_batches(settings: Any) -> None:
    settings.TELEMETRY_BATCH_S = 0.02
    # Archives are written when the gateway stops (SQLite's shared in-memory test database
    # locks whole tables: no archive write while a test sweeps).
    settings.TELEMETRY_ARCHIVE_S = 3600.0
    settings.LIVE_TRIP_IDLE_S = 300


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


@pytest.fixture
def gateway(live_world: World) -> Iterator[RunningGateway]:
    running = start_gateway()
    yield running
    running.close()


def bound(world: World, phone: str = PHONE_2013) -> tuple[Terminal, str]:
    return services.terminal_register(
        actor=world.staff_a,
        vehicle_id=world.vehicle_a.pk,
        protocol=Terminal.Protocol.JT808,
        terminal_id=phone,
    )


def wait_for_fixes(count: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = Fix.objects.count()
        if stored >= count:
            return stored
        time.sleep(0.05)
    return Fix.objects.count()


def test_a_registered_terminal_streams_and_its_silence_makes_a_verified_trip(
    live_world: World, gateway: RunningGateway
) -> None:
    bound(live_world)
    device = Device(gateway.port, PHONE_2013)
    registered = device.register(plate=live_world.vehicle_a.plate)
    assert isinstance(registered, RegisterResponse)
    assert registered.result == 0
    assert registered.auth_code
    assert device.authenticate(registered.auth_code) == PlatformResponse(2, MSG_AUTHENTICATE, 0)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=20)
    serials = [device.send(fix) for fix in drive(start, 120)]  # 121 fixes, 1,200 m
    answers = device.answers(len(serials))
    assert [(a.reply_serial, a.reply_id, a.result) for _, a in answers] == [  # type: ignore[union-attr]
        (serial, MSG_LOCATION, 0) for serial in serials
    ]
    assert Fix.objects.count() == 121  # acknowledged only once stored
    assert close_live_trips() == []  # still streaming: received just now
    made = close_live_trips(now=timezone.now() + dt.timedelta(seconds=301))
    (trip,) = Trip.objects.filter(pk__in=made)
    assert trip.source == Trip.Source.JT808
    assert trip.status == Trip.Status.ACCEPTED
    assert trip.points_total == 121
    # 120 steps of 10 m due east: 1,200 m, to the centimetre as far as rounding of 1e-6° allows
    assert abs(float(trip.total_m) - 1200.0) < 1.0
    assert trip.autonomous_m == trip.total_m
    device.close()


def test_a_wrong_auth_code_is_refused_and_its_locations_dropped(
    live_world: World, gateway: RunningGateway
) -> None:
    bound(live_world)
    device = Device(gateway.port, PHONE_2013)
    refused = device.authenticate("not-the-code")
    assert isinstance(refused, PlatformResponse)
    assert refused.result == ResponseResult.FAILURE
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    device.send(next(drive(start, 0)))
    answer = device.answer()
    assert isinstance(answer, PlatformResponse)
    assert (answer.reply_id, answer.result) == (MSG_LOCATION, ResponseResult.FAILURE)
    assert Fix.objects.count() == 0


def test_refusals_are_logged_with_the_phone_and_the_peer(
    live_world: World, gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    bound(live_world)
    caplog.set_level("INFO", logger="telemetry.gateway")
    device = Device(gateway.port, PHONE_2013)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    for fix in drive(start, 2):  # three locations before authenticating: logged once
        device.send(fix)
    device.answers(3)
    device.authenticate("not-the-code")
    Device(gateway.port, "013999999999").register()
    device.send_bytes(frame(BAD_CHECKSUM))
    device.send(Heartbeat())  # answered after the bad frame: its log line is written
    device.answer()
    lines = [r.getMessage() for r in caplog.records if r.name == "telemetry.gateway"]
    peer = "127.0.0.1:"
    refused = [line for line in lines if "not authenticated" in line]
    assert len(refused) == 1
    assert PHONE_2013 in refused[0]
    assert peer in refused[0]
    (auth,) = [line for line in lines if line.startswith("Authentication")]
    assert PHONE_2013 in auth
    assert peer in auth
    (register,) = [line for line in lines if line.startswith("Registration")]
    assert "013999999999" in register
    assert "(4)" in register
    assert any("checksum" in line and peer in line for line in lines)


def test_an_unknown_terminal_is_told_so_at_register(gateway: RunningGateway) -> None:
    device = Device(gateway.port, "013999999999")
    answer = device.register()
    assert isinstance(answer, RegisterResponse)
    assert (answer.result, answer.auth_code) == (4, None)


def test_a_terminal_registered_again_or_naming_another_vehicle_gets_3(
    live_world: World, gateway: RunningGateway
) -> None:
    bound(live_world)
    device = Device(gateway.port, PHONE_2013)
    other = device.register(plate=live_world.vehicle_b.plate)
    assert isinstance(other, RegisterResponse)
    assert other.result == 3
    first = device.register(plate=live_world.vehicle_a.plate)
    assert isinstance(first, RegisterResponse)
    assert first.result == 0
    again = device.register(plate=live_world.vehicle_a.plate)
    assert isinstance(again, RegisterResponse)
    assert again.result == 3


def test_a_deactivated_terminal_is_refused(live_world: World, gateway: RunningGateway) -> None:
    terminal, code = bound(live_world)
    services.terminal_deactivate(actor=live_world.bureau, terminal=terminal, reason="lost")
    device = Device(gateway.port, PHONE_2013)
    answer = device.authenticate(code)
    assert isinstance(answer, PlatformResponse)
    assert answer.result == ResponseResult.FAILURE


def test_a_bad_checksum_is_discarded_unanswered_and_the_connection_goes_on(
    gateway: RunningGateway,
) -> None:
    device = Device(gateway.port, "043048325465")
    device.send_bytes(frame(BAD_CHECKSUM) + frame(HEARTBEAT))
    # One answer only, the heartbeat's (serial 0x00b7, id 0x0002, success).
    answer = device.answer()
    assert answer == PlatformResponse(0x00B7, 0x0002, 0)
    assert gateway.gateway.stats.bad_frames["checksum"] == 1


def test_an_unsupported_message_gets_result_3(gateway: RunningGateway) -> None:
    device = Device(gateway.port, PHONE_2013)
    serial = device.send(UnknownMessage(0x0900, b"\x01\x02"))
    assert device.answer() == PlatformResponse(serial, 0x0900, ResponseResult.UNSUPPORTED)


def test_a_2019_header_terminal_registers_authenticates_and_streams(
    live_world: World, gateway: RunningGateway
) -> None:
    bound(live_world, PHONE_2019)
    device = Device(gateway.port, PHONE_2019, version=1)
    registered = device.register(plate=live_world.vehicle_a.vin, colour=0)  # colour 0: a VIN
    assert isinstance(registered, RegisterResponse)
    assert registered.result == 0
    assert registered.auth_code
    ok = device.authenticate(registered.auth_code)
    assert isinstance(ok, PlatformResponse)
    assert ok.result == 0
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    for fix in drive(start, 4):
        device.send(fix)
    device.answers(5)
    assert Fix.objects.filter(terminal__terminal_id=PHONE_2019).count() == 5


def test_the_same_fixes_delivered_twice_are_stored_once_and_paid_once(
    live_world: World, gateway: RunningGateway
) -> None:
    _terminal, code = bound(live_world)
    device = Device(gateway.port, PHONE_2013)
    device.authenticate(code)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=20)
    fixes = list(drive(start, 60))
    for fix in fixes:
        device.send(fix)
    device.answers(61)
    # The same 61 again as a blind-area backfill batch (a lost ack, sent again).
    for at in range(0, 61, 20):  # 20 fixes a batch: a body under 1,023 bytes
        device.send(LocationBatch(BatchType.BLIND_AREA, tuple(fixes[at : at + 20])))
    assert [a.result for _, a in device.answers(4)] == [0, 0, 0, 0]  # type: ignore[union-attr]
    assert Fix.objects.count() == 61
    later = timezone.now() + dt.timedelta(seconds=301)
    made = close_live_trips(now=later)
    assert len(made) == 1
    assert close_live_trips(now=later) == []  # nothing left to close: one trip, paid once


def test_a_sub_packaged_batch_is_reassembled(live_world: World, gateway: RunningGateway) -> None:
    _terminal, code = bound(live_world)
    device = Device(gateway.port, PHONE_2013)
    device.authenticate(code)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    batch = LocationBatch(BatchType.NORMAL, tuple(drive(start, 39)))  # 40 fixes, > 1,023 bytes
    msg_id, body = encode_body(batch)
    frames = encode_packages(msg_id, body, phone=PHONE_2013, first_serial=10, package_bytes=600)
    assert len(frames) > 1
    device.send_bytes(b"".join(frames))
    answers = device.answers(len(frames))
    assert all(a.result == 0 for _, a in answers)  # type: ignore[union-attr]
    # One answer per package, each naming its own serial (the last one's once stored).
    replied = sorted(a.reply_serial for _, a in answers)  # type: ignore[union-attr]
    assert replied == list(range(10, 10 + len(frames)))
    assert Fix.objects.count() == 40


def test_raw_frames_are_archived_with_their_hash(
    live_world: World, gateway: RunningGateway
) -> None:
    _terminal, code = bound(live_world)
    device = Device(gateway.port, PHONE_2013)
    device.authenticate(code)
    device.send(Heartbeat())
    device.answer()
    device.send(Deregister())
    device.answer()
    gateway.close()  # what is open is written on stop
    import gzip  # noqa: PLC0415
    import hashlib  # noqa: PLC0415

    archive = RawArchive.objects.first()
    assert archive is not None
    with archive.file.open("rb") as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == archive.sha256
    assert b"0002 " in gzip.decompress(data)  # the heartbeat, as received


def test_a_location_sent_with_its_authentication_is_handled_after_it(
    live_world: World, gateway: RunningGateway
) -> None:
    """Authentication waits for the database; what follows it in the same write waits too."""
    _terminal, code = bound(live_world)
    device = Device(gateway.port, PHONE_2013)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    fixes = list(drive(start, 2))
    device.send_bytes(
        device.frame(Authenticate(code)) + b"".join(device.frame(fix) for fix in fixes)
    )
    answers = [answer for _, answer in device.answers(4)]
    assert [a.result for a in answers] == [0, 0, 0, 0]  # type: ignore[union-attr]
    assert [a.reply_serial for a in answers] == [1, 2, 3, 4]  # type: ignore[union-attr]
    assert wait_for_fixes(3) == 3


def test_a_silent_connection_is_closed_after_the_idle_timeout(
    live_world: World, settings: Any
) -> None:
    settings.JT808_IDLE_TIMEOUT_S = 0.4
    running = start_gateway()
    try:
        _terminal, code = bound(live_world)
        device = Device(running.port, PHONE_2013)
        assert device.authenticate(code).result == 0  # type: ignore[union-attr]
        started = time.monotonic()
        assert device.sock.recv(1) == b""  # closed by the gateway, not by us
        assert 0.3 < time.monotonic() - started < 5
        assert running.gateway.stats.refused["idle_timeout"] == 1
    finally:
        running.close()
