"""JT/T 808 (2013 and 2019) codec: pure Python, no Django, no I/O.

A gateway reads a connection like this::

    reader, parts = FrameReader(), Reassembler()
    for item in reader.feed(data):               # Packet | Jt808Error, in stream order
        if isinstance(item, Jt808Error):
            log and count item.reason             # never acknowledged as a success
            continue
        packet = parts.add(item)                  # None while a sub-packaged one is open
        if packet is None:
            continue
        try:
            message = decode_message(packet, mode_extra_id=settings.JT808_MODE_EXTRA_ID)
        except Jt808Error:
            send(general_response(packet.header, ResponseResult.MESSAGE_ERROR, serial=n))
        ...
        send(general_response(packet.header, ResponseResult.SUCCESS, serial=n))

Answers go out in the header version the terminal used (`reply`, `general_response`).
Every decoding failure is a `Jt808Error` whose `reason` is one of `Reason`; encoding
misuse (a field too long, a body that needs sub-packaging) is a ValueError.
"""

from telemetry.jt808.errors import Jt808Error, Reason
from telemetry.jt808.framing import (
    MAX_BODY_BYTES,
    MAX_FRAME_BYTES,
    FrameReader,
    Header,
    Packet,
    decode_frame,
    encode_frame,
    escape,
    unescape,
    xor_checksum,
)
from telemetry.jt808.location import (
    MODE_EXTRA_ID,
    STATUS_POSITIONED,
    STATUS_SOUTH,
    STATUS_WEST,
    Location,
    decode_bcd_time,
    decode_location,
    encode_bcd_time,
    encode_location,
)
from telemetry.jt808.messages import (
    MSG_AUTHENTICATE,
    MSG_DEREGISTER,
    MSG_HEARTBEAT,
    MSG_LOCATION,
    MSG_LOCATION_BATCH,
    MSG_PLATFORM_RESPONSE,
    MSG_REGISTER,
    MSG_REGISTER_RESPONSE,
    MSG_TERMINAL_RESPONSE,
    Authenticate,
    BatchType,
    Deregister,
    Heartbeat,
    LocationBatch,
    Message,
    PlatformResponse,
    Register,
    RegisterResponse,
    RegisterResult,
    ResponseResult,
    TerminalResponse,
    UnknownMessage,
    decode_message,
    encode_body,
    encode_message,
    general_response,
    reply,
)
from telemetry.jt808.packages import Reassembler, encode_packages

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_FRAME_BYTES",
    "MODE_EXTRA_ID",
    "MSG_AUTHENTICATE",
    "MSG_DEREGISTER",
    "MSG_HEARTBEAT",
    "MSG_LOCATION",
    "MSG_LOCATION_BATCH",
    "MSG_PLATFORM_RESPONSE",
    "MSG_REGISTER",
    "MSG_REGISTER_RESPONSE",
    "MSG_TERMINAL_RESPONSE",
    "STATUS_POSITIONED",
    "STATUS_SOUTH",
    "STATUS_WEST",
    "Authenticate",
    "BatchType",
    "Deregister",
    "FrameReader",
    "Header",
    "Heartbeat",
    "Jt808Error",
    "Location",
    "LocationBatch",
    "Message",
    "Packet",
    "PlatformResponse",
    "Reason",
    "Reassembler",
    "Register",
    "RegisterResponse",
    "RegisterResult",
    "ResponseResult",
    "TerminalResponse",
    "UnknownMessage",
    "decode_bcd_time",
    "decode_frame",
    "decode_location",
    "decode_message",
    "encode_bcd_time",
    "encode_body",
    "encode_frame",
    "encode_location",
    "encode_message",
    "encode_packages",
    "escape",
    "general_response",
    "reply",
    "unescape",
    "xor_checksum",
]
