"""Message bodies: decode what terminals send, encode what the platform answers (and, for
tests, simulators and the bench, what terminals send). Text fields are GBK; fixed-width
ones are padded with 0x00, which decoding strips.

Terminal -> platform: 0x0001 general response, 0x0002 heartbeat, 0x0003 deregister,
0x0100 register, 0x0102 authenticate, 0x0200 location, 0x0704 location batch.
Platform -> terminal: 0x8001 general response, 0x8100 register response.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from telemetry.jt808.errors import Jt808Error
from telemetry.jt808.framing import MAX_BODY_BYTES, Header, Packet, encode_frame
from telemetry.jt808.location import MODE_EXTRA_ID, Location, decode_location, encode_location

MSG_TERMINAL_RESPONSE = 0x0001
MSG_HEARTBEAT = 0x0002
MSG_DEREGISTER = 0x0003
MSG_REGISTER = 0x0100
MSG_AUTHENTICATE = 0x0102
MSG_LOCATION = 0x0200
MSG_LOCATION_BATCH = 0x0704
MSG_PLATFORM_RESPONSE = 0x8001
MSG_REGISTER_RESPONSE = 0x8100


class ResponseResult(IntEnum):
    """Result of a general response (0x0001 and 0x8001)."""

    SUCCESS = 0
    FAILURE = 1
    MESSAGE_ERROR = 2
    UNSUPPORTED = 3
    ALARM_CONFIRMED = 4  # 0x8001 only


class RegisterResult(IntEnum):
    """Result of a register response (0x8100)."""

    OK = 0
    VEHICLE_REGISTERED = 1
    NO_SUCH_VEHICLE = 2
    TERMINAL_REGISTERED = 3
    NO_SUCH_TERMINAL = 4


class BatchType(IntEnum):
    """Type of a location batch (0x0704)."""

    NORMAL = 0
    BLIND_AREA = 1  # backfill of fixes stored while out of coverage


@dataclass(frozen=True, slots=True)
class TerminalResponse:
    """0x0001: the terminal answers a platform message (`result`: a ResponseResult)."""

    reply_serial: int
    reply_id: int
    result: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """0x0002, empty body."""


@dataclass(frozen=True, slots=True)
class Deregister:
    """0x0003, empty body."""


@dataclass(frozen=True, slots=True)
class Register:
    """0x0100. Widths: maker 5 / 11 bytes, model 20 / 30, terminal id 7 / 30 (2013 / 2019).

    A 2013-header body shorter than 37 bytes is read in the 2011 layout (model 8 bytes).
    Plate colour 0 means no plate: `plate` then holds the VIN.
    """

    province_id: int
    city_id: int
    maker_id: str
    model: str
    terminal_id: str
    plate_colour: int
    plate: str


@dataclass(frozen=True, slots=True)
class Authenticate:
    """0x0102. 2013: the whole body is the code; 2019 adds the IMEI and software version."""

    auth_code: str
    imei: str | None = None
    software_version: str | None = None


@dataclass(frozen=True, slots=True)
class LocationBatch:
    """0x0704: `batch_type` 0 normal, 1 blind-area backfill (a BatchType)."""

    batch_type: int
    locations: tuple[Location, ...]


@dataclass(frozen=True, slots=True)
class PlatformResponse:
    """0x8001: the platform answers a terminal message (`result`: a ResponseResult)."""

    reply_serial: int
    reply_id: int
    result: int


@dataclass(frozen=True, slots=True)
class RegisterResponse:
    """0x8100 (`result`: a RegisterResult). The auth code is sent only with result 0."""

    reply_serial: int
    result: int
    auth_code: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message id this codec does not read (the gateway answers 3, unsupported)."""

    msg_id: int
    body: bytes


Message = (
    TerminalResponse
    | Heartbeat
    | Deregister
    | Register
    | Authenticate
    | Location
    | LocationBatch
    | PlatformResponse
    | RegisterResponse
    | UnknownMessage
)

_RESPONSE = struct.Struct(">HHB")
_REGISTER_RESPONSE = struct.Struct(">HB")
_U16 = struct.Struct(">H")
_BATCH_HEAD = struct.Struct(">HB")
# (maker, model, terminal id) widths; each layout then has a colour byte and the plate.
_REGISTER_2011 = (5, 8, 7)
_REGISTER_2013 = (5, 20, 7)
_REGISTER_2019 = (11, 30, 30)
_IMEI_BYTES = 15
_SOFTWARE_BYTES = 20


def _text(raw: bytes) -> str:
    try:
        return raw.strip(b"\x00").decode("gbk")
    except UnicodeDecodeError:
        raise Jt808Error("bad_text", f"not GBK: {raw.hex()}") from None


def _fixed(text: str, width: int) -> bytes:
    raw = text.encode("gbk")
    if len(raw) > width:
        raise ValueError(f"{text!r} takes {len(raw)} bytes in GBK, the field has {width}")
    return raw.ljust(width, b"\x00")


def _exact(body: bytes, size: int, what: str) -> None:
    if len(body) < size:
        raise Jt808Error("truncated", f"{what} needs {size} bytes, has {len(body)}")
    if len(body) > size:
        raise Jt808Error("length_mismatch", f"{what} needs {size} bytes, has {len(body)}")


def _decode_register(body: bytes, version: int | None) -> Register:
    widths = _REGISTER_2013 if version is None else _REGISTER_2019
    if version is None and len(body) < 4 + sum(_REGISTER_2013) + 1:
        widths = _REGISTER_2011
    fixed = 4 + sum(widths) + 1
    if len(body) < fixed:
        raise Jt808Error("truncated", f"register needs {fixed} bytes, has {len(body)}")
    province, city = struct.unpack_from(">HH", body)
    at = 4
    fields = []
    for width in widths:
        fields.append(_text(body[at : at + width]))
        at += width
    maker, model, terminal = fields
    return Register(province, city, maker, model, terminal, body[at], _text(body[at + 1 :]))


def _decode_authenticate(body: bytes, version: int | None) -> Authenticate:
    if version is None:
        return Authenticate(_text(body))
    if not body:
        raise Jt808Error("truncated", "authenticate has no code length")
    size = body[0]
    _exact(body, 1 + size + _IMEI_BYTES + _SOFTWARE_BYTES, "authenticate")
    imei_at = 1 + size
    software_at = imei_at + _IMEI_BYTES
    return Authenticate(
        _text(body[1:imei_at]),
        _text(body[imei_at:software_at]),
        _text(body[software_at:]),
    )


def _decode_batch(body: bytes, mode_extra_id: int | None) -> LocationBatch:
    if len(body) < 3:
        raise Jt808Error("truncated", "batch needs a count and a type")
    count, batch_type = _BATCH_HEAD.unpack_from(body)
    locations = []
    at, end = 3, len(body)
    for number in range(count):
        if at + 2 > end:
            raise Jt808Error("truncated", f"batch item {number + 1} of {count} is missing")
        (size,) = _U16.unpack_from(body, at)
        at += 2
        if at + size > end:
            raise Jt808Error("truncated", f"batch item {number + 1} needs {size} bytes")
        locations.append(decode_location(body, at, at + size, mode_extra_id=mode_extra_id))
        at += size
    if at != end:
        raise Jt808Error("length_mismatch", f"{end - at} bytes after {count} batch items")
    return LocationBatch(batch_type, tuple(locations))


def _decode_response(body: bytes, kind: type[TerminalResponse | PlatformResponse]) -> Message:
    _exact(body, _RESPONSE.size, "general response")
    return kind(*_RESPONSE.unpack(body))


def _decode_register_response(body: bytes) -> RegisterResponse:
    if len(body) < _REGISTER_RESPONSE.size:
        raise Jt808Error("truncated", "register response needs 3 bytes")
    serial, result = _REGISTER_RESPONSE.unpack_from(body)
    return RegisterResponse(
        serial, result, _text(body[3:]) if result == RegisterResult.OK else None
    )


def _decode_empty(body: bytes, kind: type[Heartbeat | Deregister]) -> Message:
    _exact(body, 0, "an empty message")
    return kind()


# Message id -> decoder(body, header version, mode extra id).
_DECODERS: dict[int, Callable[[bytes, int | None, int | None], Message]] = {
    MSG_TERMINAL_RESPONSE: lambda body, _v, _m: _decode_response(body, TerminalResponse),
    MSG_HEARTBEAT: lambda body, _v, _m: _decode_empty(body, Heartbeat),
    MSG_DEREGISTER: lambda body, _v, _m: _decode_empty(body, Deregister),
    MSG_REGISTER: lambda body, version, _m: _decode_register(body, version),
    MSG_AUTHENTICATE: lambda body, version, _m: _decode_authenticate(body, version),
    MSG_LOCATION_BATCH: lambda body, _v, mode: _decode_batch(body, mode),
    MSG_PLATFORM_RESPONSE: lambda body, _v, _m: _decode_response(body, PlatformResponse),
    MSG_REGISTER_RESPONSE: lambda body, _v, _m: _decode_register_response(body),
}


def decode_message(packet: Packet, *, mode_extra_id: int | None = MODE_EXTRA_ID) -> Message:
    """The message in a (reassembled) packet; an unknown id gives an UnknownMessage.

    `mode_extra_id` is the driving-mode extra's id in locations (None: not read). Raises
    Jt808Error: "truncated", "length_mismatch", "bad_text", "bad_time", "bad_extra", or
    "sub_package" for a sub-package (reassemble it first with a Reassembler).
    """
    header = packet.header
    if header.package_count is not None:
        raise Jt808Error("sub_package", "a sub-package is decoded once reassembled")
    if header.msg_id == MSG_LOCATION:  # the hot path first
        return decode_location(packet.body, mode_extra_id=mode_extra_id)
    decoder = _DECODERS.get(header.msg_id)
    if decoder is None:
        return UnknownMessage(header.msg_id, packet.body)
    return decoder(packet.body, header.version, mode_extra_id)


def _gbk(text: str) -> bytes:
    return text.encode("gbk")


def _encode_register(message: Register, version: int | None) -> bytes:
    maker, model, terminal = _REGISTER_2013 if version is None else _REGISTER_2019
    return b"".join(
        (
            struct.pack(">HH", message.province_id, message.city_id),
            _fixed(message.maker_id, maker),
            _fixed(message.model, model),
            _fixed(message.terminal_id, terminal),
            bytes((message.plate_colour,)),
            _gbk(message.plate),
        )
    )


def _encode_authenticate(message: Authenticate, version: int | None) -> bytes:
    code = _gbk(message.auth_code)
    if version is None:
        return code
    return b"".join(
        (
            bytes((len(code),)),
            code,
            _fixed(message.imei or "", _IMEI_BYTES),
            _fixed(message.software_version or "", _SOFTWARE_BYTES),
        )
    )


def _encode_batch(message: LocationBatch, mode_extra_id: int | None) -> bytes:
    body = bytearray(_BATCH_HEAD.pack(len(message.locations), message.batch_type))
    for location in message.locations:
        item = encode_location(location, mode_extra_id=mode_extra_id)
        body += _U16.pack(len(item)) + item
    return bytes(body)


def _encode_register_response(message: RegisterResponse) -> bytes:
    body = _REGISTER_RESPONSE.pack(message.reply_serial, message.result)
    if message.result == RegisterResult.OK:
        body += _gbk(message.auth_code or "")
    return body


_MSG_IDS: dict[type, int] = {
    TerminalResponse: MSG_TERMINAL_RESPONSE,
    Heartbeat: MSG_HEARTBEAT,
    Deregister: MSG_DEREGISTER,
    Register: MSG_REGISTER,
    Authenticate: MSG_AUTHENTICATE,
    Location: MSG_LOCATION,
    LocationBatch: MSG_LOCATION_BATCH,
    PlatformResponse: MSG_PLATFORM_RESPONSE,
    RegisterResponse: MSG_REGISTER_RESPONSE,
}


def encode_body(
    message: Message, *, version: int | None = None, mode_extra_id: int | None = MODE_EXTRA_ID
) -> tuple[int, bytes]:
    """(message id, body) of `message` in the layout of `version` (None: 2013)."""
    match message:
        case Location():
            body = encode_location(message, mode_extra_id=mode_extra_id)
        case LocationBatch():
            body = _encode_batch(message, mode_extra_id)
        case TerminalResponse() | PlatformResponse():
            body = _RESPONSE.pack(message.reply_serial, message.reply_id, message.result)
        case Register():
            body = _encode_register(message, version)
        case Authenticate():
            body = _encode_authenticate(message, version)
        case RegisterResponse():
            body = _encode_register_response(message)
        case UnknownMessage():
            return message.msg_id, message.body
        case _:  # Heartbeat, Deregister
            body = b""
    return _MSG_IDS[type(message)], body


def encode_message(
    message: Message,
    *,
    phone: str,
    serial: int,
    version: int | None = None,
    mode_extra_id: int | None = MODE_EXTRA_ID,
) -> bytes:
    """One frame carrying `message` (a 2019 header when `version` is set).

    Raises ValueError when the body needs sub-packaging (see `encode_packages`).
    """
    msg_id, body = encode_body(message, version=version, mode_extra_id=mode_extra_id)
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(f"a body of {len(body)} bytes must be sub-packaged (encode_packages)")
    return encode_frame(Header(msg_id, phone, serial, version), body)


def reply(request: Header, message: Message, *, serial: int) -> bytes:
    """`message` framed for the terminal that sent `request`: its phone, its header version."""
    return encode_message(message, phone=request.phone, serial=serial, version=request.version)


def general_response(request: Header, result: int, *, serial: int) -> bytes:
    """0x8001 answering `request` with `result` (a ResponseResult), platform serial `serial`."""
    return reply(request, PlatformResponse(request.serial, request.msg_id, result), serial=serial)
