"""Sub-packaged messages: splitting a long body, and putting the packages back together.

A body over 1,023 bytes travels as N frames with properties bit 13 set and "package
count, package index (1-based)" after the header; each package has its own serial,
normally consecutive, so the first package's serial is `serial - index + 1`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from telemetry.jt808.errors import Jt808Error
from telemetry.jt808.framing import MAX_BODY_BYTES, Header, Packet, encode_frame

#: Defaults of a Reassembler (per connection or per gateway).
REASSEMBLY_TIMEOUT_S = 60.0
MAX_PENDING_MESSAGES = 64
MAX_MESSAGE_BYTES = 256 * 1024

PackageKey = tuple[str, int, int]  # phone, message id, serial of the first package


def encode_packages(
    msg_id: int,
    body: bytes,
    *,
    phone: str,
    first_serial: int,
    version: int | None = None,
    package_bytes: int = MAX_BODY_BYTES,
) -> list[bytes]:
    """The frames of `body` cut into packages of `package_bytes`, serials from `first_serial`.

    Always sub-packaged (a body that fits one package gives one package, "1 of 1").
    """
    if not 1 <= package_bytes <= MAX_BODY_BYTES:
        raise ValueError(f"package_bytes must be 1-{MAX_BODY_BYTES}")
    chunks = [body[at : at + package_bytes] for at in range(0, len(body), package_bytes)] or [b""]
    if len(chunks) > 0xFFFF:
        raise ValueError(f"{len(chunks)} packages do not fit a u16 count")
    return [
        encode_frame(
            Header(msg_id, phone, (first_serial + n) & 0xFFFF, version, len(chunks), n + 1), chunk
        )
        for n, chunk in enumerate(chunks)
    ]


@dataclass
class _Pending:
    first: Header
    started_at: float
    count: int
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class Reassembler:
    """Collects sub-packages into whole packets, in any order.

    `add(packet)` returns the packet itself when it is not a sub-package, the whole
    message (header of package 1 without package fields, bodies joined in index order) when
    its last missing package arrives, else None. Messages are keyed by phone, message id
    and first serial. A message still incomplete `timeout_s` after its first package is
    dropped, and so is the oldest one when more than `max_pending` are open; `dropped`
    counts both. Raises Jt808Error("sub_package") when a package's count disagrees with the
    others of its message or the message would pass `max_message_bytes` (it is dropped).
    """

    def __init__(
        self,
        *,
        timeout_s: float = REASSEMBLY_TIMEOUT_S,
        max_pending: int = MAX_PENDING_MESSAGES,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_pending = max_pending
        self.max_message_bytes = max_message_bytes
        self.dropped = 0
        self._clock = clock
        self._pending: dict[PackageKey, _Pending] = {}

    @property
    def pending(self) -> int:
        """Messages open (some packages arrived, not all)."""
        return len(self._pending)

    def missing(self, key: PackageKey) -> list[int]:
        """Indexes still missing of the open message `key` (for a re-send request)."""
        entry = self._pending.get(key)
        if entry is None:
            return []
        return [n for n in range(1, entry.count + 1) if n not in entry.parts]

    def expire(self) -> int:
        """Drop messages open longer than the timeout; returns how many."""
        deadline = self._clock() - self.timeout_s
        stale = [key for key, entry in self._pending.items() if entry.started_at <= deadline]
        for key in stale:
            del self._pending[key]
        self.dropped += len(stale)
        return len(stale)

    def add(self, packet: Packet) -> Packet | None:
        header = packet.header
        if header.package_count is None or header.package_index is None:
            return packet
        count, index = header.package_count, header.package_index
        if not 1 <= index <= count:
            raise Jt808Error("sub_package", f"package {index} of {count}")
        self.expire()
        key = (header.phone, header.msg_id, (header.serial - index + 1) & 0xFFFF)
        entry = self._pending.get(key)
        if entry is None:
            while len(self._pending) >= self.max_pending:
                del self._pending[next(iter(self._pending))]
                self.dropped += 1
            entry = self._pending[key] = _Pending(header, self._clock(), count)
        elif entry.count != count:
            del self._pending[key]
            self.dropped += 1
            raise Jt808Error("sub_package", f"package count {count}, earlier {entry.count}")
        if index == 1:
            entry.first = header
        if index not in entry.parts:
            entry.size += len(packet.body)
            entry.parts[index] = packet.body
        if entry.size > self.max_message_bytes:
            del self._pending[key]
            self.dropped += 1
            raise Jt808Error("sub_package", f"message over {self.max_message_bytes} bytes")
        if len(entry.parts) < count:
            return None
        del self._pending[key]
        body = b"".join(entry.parts[n] for n in range(1, count + 1))
        first = replace(
            entry.first,
            serial=key[2],
            package_count=None,
            package_index=None,
        )
        return Packet(first, body)
