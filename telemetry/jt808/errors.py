"""The one error a JT/T 808 decoder raises, with a machine-readable reason to count by."""

from __future__ import annotations

from typing import Literal

Reason = Literal[
    "garbage",  # bytes before the first 0x7e of a stream
    "too_long",  # a frame over MAX_FRAME_BYTES on the wire
    "bad_escape",  # 0x7d not followed by 0x01 or 0x02
    "checksum",  # the XOR check code does not match
    "truncated",  # fewer bytes than the header or a field needs
    "length_mismatch",  # body length in the header properties != actual body, or a count
    "encrypted",  # RSA or an unknown encryption in bits 10-12
    "bad_time",  # a BCD time that is not a valid YYMMDDhhmmss
    "bad_text",  # a text field that is not GBK
    "bad_extra",  # a known location extra with the wrong length or value
    "sub_package",  # an inconsistent sub-package (index 0 or over the count, too big)
]


class Jt808Error(ValueError):
    """A frame or message that cannot be decoded.

    `reason` is one of `Reason` (for logs and counters); the message says what was found.
    """

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason
        self.detail = detail
