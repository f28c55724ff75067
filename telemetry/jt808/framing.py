"""Frames: 0x7e delimiters, 0x7d escapes, the XOR check code and the message header.

On the wire a frame is ``7e <escaped: header, body, check code> 7e``; 0x7d is sent as
``7d 01`` and 0x7e as ``7d 02``. The check code is the XOR of every header and body byte
after unescaping, so the XOR of header, body *and* check code is 0.

Header (all big-endian)::

    2013: msg id u16, properties u16, phone BCD[6] (12 digits), serial u16       12 bytes
    2019: msg id u16, properties u16, version u8, phone BCD[10] (20 digits),
          serial u16                                                           17 bytes
    then, when sub-packaged (properties bit 13): package count u16, index u16   + 4 bytes

Properties: bits 0-9 body length, 10-12 encryption (0 = none, anything else is refused),
bit 13 sub-packaged, bit 14 the 2019 version flag, bit 15 reserved.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from telemetry.jt808._twins import twin
from telemetry.jt808.errors import Jt808Error

#: The most bytes a frame may take on the wire between its two 0x7e (escaped).
#: A body is at most 1,023 bytes, so a real frame, even fully escaped, is under 2.1 KiB.
MAX_FRAME_BYTES = 8192
#: The largest body one frame carries (10 bits of length); longer ones are sub-packaged.
MAX_BODY_BYTES = 0x3FF

DELIMITER = 0x7E
ESCAPE = 0x7D

_PROP_LENGTH = 0x03FF
_PROP_ENCRYPTION = 0x1C00
_PROP_SUB_PACKAGED = 0x2000
_PROP_2019 = 0x4000

_HEAD_2013 = struct.Struct(">HH6sH")  # 12 bytes
_HEAD_2019 = struct.Struct(">HHB10sH")  # 17 bytes
_PACKAGE = struct.Struct(">HH")
_MIN_FRAME = _HEAD_2013.size + 1  # header and check code, empty body

# The XOR of a byte string is folded from one big integer: halve its width until one
# byte is left. Shift (bits) and mask per step, widest first (frames up to 64 KiB).
_FOLDS = tuple((bits, (1 << bits) - 1) for bits in (1 << k for k in range(19, 2, -1)))


def xor_checksum(data: bytes | bytearray) -> int:
    """The XOR of all bytes of `data` (0 for an empty string)."""
    x = int.from_bytes(data)
    if len(data) <= 64:  # a location frame: XOR in bytes 64 apart, 32 apart, ... 1 apart
        x ^= x >> 256
        x ^= x >> 128
        x ^= x >> 64
        x ^= x >> 32
        x ^= x >> 16
        x ^= x >> 8
        return x & 0xFF
    width = x.bit_length()
    for bits, mask in _FOLDS:
        if width > bits:
            x = (x >> bits) ^ (x & mask)
            width = bits
    return x


def escape(raw: bytes) -> bytes:
    """0x7d -> 7d 01, then 0x7e -> 7d 02 (the order matters)."""
    if b"\x7d" in raw:
        raw = raw.replace(b"\x7d", b"\x7d\x01")
    if b"\x7e" in raw:
        raw = raw.replace(b"\x7e", b"\x7d\x02")
    return raw


def unescape(escaped: bytes) -> bytes:
    """The inverse of `escape`; a 0x7d not followed by 01 or 02 is a "bad_escape"."""
    if b"\x7d" not in escaped:
        return escaped
    pairs = escaped.count(b"\x7d\x01") + escaped.count(b"\x7d\x02")
    if escaped.count(b"\x7d") != pairs:
        raise Jt808Error("bad_escape", "0x7d must be followed by 0x01 or 0x02")
    # In a valid stream every 0x7d starts a pair, so the pairs cannot overlap.
    return escaped.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


@dataclass(frozen=True, slots=True)
class Header:
    """A message header. `version` is the 2019 protocol version byte (None: a 2013 header).

    `phone` is the terminal's phone number as sent: 12 BCD digits (2013) or 20 (2019),
    leading zeros kept (a non-decimal nibble is kept as its hex letter). `package_count`
    and `package_index` (1-based) are set only on a sub-package.
    """

    msg_id: int
    phone: str
    serial: int
    version: int | None = None
    package_count: int | None = None
    package_index: int | None = None

    @property
    def is_2019(self) -> bool:
        return self.version is not None


@dataclass(frozen=True, slots=True)
class Packet:
    """One checked frame: its header and its raw body (decode it with `decode_message`)."""

    header: Header
    body: bytes


_HeaderTwin = twin(Header)
_PacketTwin = twin(Packet)


def decode_frame(frame: bytes, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> Packet:
    """Unescape and check one frame: the bytes between its 0x7e, or with them.

    Raises Jt808Error ("too_long", "bad_escape", "truncated", "checksum", "encrypted",
    "sub_package", "length_mismatch").
    """
    if frame[:1] == b"\x7e" and frame[-1] == DELIMITER and len(frame) >= 2:
        frame = frame[1:-1]
    if len(frame) > max_frame_bytes:
        raise Jt808Error("too_long", f"{len(frame)} bytes > {max_frame_bytes}")
    if b"\x7e" in frame:
        raise Jt808Error("bad_escape", "0x7e inside a frame")
    raw = unescape(frame) if b"\x7d" in frame else frame
    size = len(raw)
    if size < _MIN_FRAME:
        raise Jt808Error("truncated", f"{size} bytes is shorter than a header")
    if xor_checksum(raw):
        raise Jt808Error("checksum", f"XOR check code {raw[-1]:#04x} does not match")
    msg_id, props, phone, serial = _HEAD_2013.unpack_from(raw)
    if props & _PROP_ENCRYPTION:
        raise Jt808Error("encrypted", f"encryption bits {(props >> 10) & 7:03b}")
    version: int | None = None
    offset = 12
    if props & _PROP_2019:
        if size < _HEAD_2019.size + 1:
            raise Jt808Error("truncated", f"{size} bytes is shorter than a 2019 header")
        _, _, version, phone, serial = _HEAD_2019.unpack_from(raw)
        offset = 17
    count: int | None = None
    index: int | None = None
    if props & _PROP_SUB_PACKAGED:
        if size < offset + 5:
            raise Jt808Error("truncated", "no room for the package count and index")
        count, index = _PACKAGE.unpack_from(raw, offset)
        offset += 4
        if not 1 <= index <= count:
            raise Jt808Error("sub_package", f"package {index} of {count}")
    body = raw[offset:-1]
    if len(body) != props & _PROP_LENGTH:
        raise Jt808Error(
            "length_mismatch", f"header says {props & _PROP_LENGTH} bytes, body has {len(body)}"
        )
    # Header(...) and Packet(...), built as their twins (see _twins: 4x faster).
    header: Header = _HeaderTwin(msg_id, phone.hex(), serial, version, count, index)
    header.__class__ = Header
    packet: Packet = _PacketTwin(header, body)
    packet.__class__ = Packet
    return packet


def encode_frame(header: Header, body: bytes) -> bytes:
    """The frame on the wire for `header` and `body`, delimiters included.

    The phone is left-padded with zeros to 12 (2013) or 20 (2019) digits. Raises
    ValueError for a body over MAX_BODY_BYTES (sub-package it: `encode_packages`), a phone
    too long or not hex, or a field out of range.
    """
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(f"a body of {len(body)} bytes must be sub-packaged")
    width = 20 if header.version is not None else 12
    if len(header.phone) > width:
        raise ValueError(f"phone {header.phone!r} has more than {width} digits")
    phone = bytes.fromhex(header.phone.zfill(width))
    props = len(body)
    if header.package_count is not None:
        props |= _PROP_SUB_PACKAGED
    if header.version is None:
        head = _HEAD_2013.pack(header.msg_id, props, phone, header.serial)
    else:
        head = _HEAD_2019.pack(
            header.msg_id, props | _PROP_2019, header.version, phone, header.serial
        )
    if header.package_count is not None:
        head += _PACKAGE.pack(header.package_count, header.package_index or 0)
    raw = head + body
    return b"\x7e" + escape(raw + bytes((xor_checksum(raw),))) + b"\x7e"


class FrameReader:
    """Splits a TCP byte stream into frames, however the reads cut it.

    `feed(data)` returns, in stream order, a `Packet` for each good frame and a
    `Jt808Error` for each bad one (the connection carries on after either). Every 0x7e
    closes the frame before it and opens the next, so ``7e 7e`` between frames is an empty
    frame (skipped) and no good frame is lost to a bad one. Bytes before the first 0x7e
    are reported once as "garbage"; bytes that run past `max_frame_bytes` without a 0x7e
    are reported once as "too_long" and dropped up to the next 0x7e, so the buffer never
    holds more than `max_frame_bytes`.
    """

    def __init__(self, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._pending = b""
        self._started = False  # a 0x7e has been seen
        self._skipping = False  # dropping an over-long frame up to the next 0x7e

    @property
    def buffered(self) -> int:
        """Bytes held for a frame not yet closed."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[Packet | Jt808Error]:
        out: list[Packet | Jt808Error] = []
        parts = data.split(b"\x7e")
        if len(parts) == 1:
            self._hold(data, out)
            return out
        first = self._pending + parts[0]
        self._pending = b""
        if self._skipping:
            self._skipping = False
        elif not self._started:
            if first:
                out.append(Jt808Error("garbage", f"{len(first)} bytes before the first 0x7e"))
        elif first:
            out.append(self._decode(first))
        self._started = True
        for part in parts[1:-1]:
            if part:
                out.append(self._decode(part))
        self._hold(parts[-1], out)
        return out

    def _hold(self, data: bytes, out: list[Packet | Jt808Error]) -> None:
        if self._skipping or not data:
            return
        if len(self._pending) + len(data) > self.max_frame_bytes:
            out.append(Jt808Error("too_long", f"no 0x7e within {self.max_frame_bytes} bytes"))
            self._pending = b""
            self._skipping = True
        else:
            self._pending += data

    def _decode(self, frame: bytes) -> Packet | Jt808Error:
        try:
            return decode_frame(frame, max_frame_bytes=self.max_frame_bytes)
        except Jt808Error as error:
            return error
