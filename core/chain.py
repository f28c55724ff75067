"""Hash chains over append-only records (the audit trail, the money ledger).

Each chained record carries its place in its chain (`chain_seq`, 1, 2, 3, …), the hash of
the record before it (`chain_prev`, 64 zeros for the first) and its own hash
(`chain_sha256`): SHA-256 over the chain's name, its place, the previous hash and the
record's canonical content. Changing, removing or inserting any record changes every hash
after it, so a hash copied out of the system (printed on a statement, a public notice)
still tells a rewrite of the whole database from the real history.

The canonical content is JSON with sorted keys: times in UTC to the microsecond, decimals
at their column's places, foreign keys as ids (content types by name, which survive a dump
and load), and JSON values as the database gives them back (numbers with an integral value
as integers, since PostgreSQL's jsonb does not keep 1.0 apart from 1).

The writing (under a lock, in the record's transaction) is in core.models.ChainedModel;
this module is the arithmetic and the walk, shared by the nightly check and
`manage.py verify_document`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64
VERSION = b"yangquan-av chain v1"


def plain_time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def plain_decimal(value: Decimal | int | str | None, places: int) -> str | None:
    if value is None:
        return None
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places)):f}"


def _numbers(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
    if isinstance(value, Mapping):
        return {str(k): _numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(v) for v in value]
    return value


def plain_json(value: Any) -> Any:
    """A JSON field's value as it reads back from the database (either vendor)."""
    return _numbers(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def canonical(content: Mapping[str, Any]) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    ).encode()


def link_hash(chain: str, seq: int, prev: str, content: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(VERSION)
    for part in (chain.encode(), str(seq).encode(), prev.encode(), canonical(content)):
        digest.update(b"\n")
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Link:
    """One record as the walk reads it."""

    pk: int
    seq: int | None
    prev: str
    sha256: str
    content: Mapping[str, Any]


@dataclass(frozen=True)
class ChainFault:
    chain: str
    seq: int | None
    pk: int | None
    what: str

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else "(outside the chain)"
        record = f" (record {self.pk})" if self.pk is not None else ""
        return f"BROKEN: {self.chain} chain {where}{record}: {self.what}"


@dataclass
class ChainWalk:
    chain: str
    records: int = 0
    head_seq: int = 0
    head_sha256: str = GENESIS
    faults: list[ChainFault] = field(default_factory=list)
    # seq → hash of every record walked, for checking hashes printed on documents.
    hashes: dict[int, str] = field(default_factory=dict)


def walk(
    chain: str,
    links: Iterable[Link],
    *,
    head: tuple[int, str] | None,
    unchained_after_start: Iterable[int] = (),
) -> ChainWalk:
    """Recompute a chain from its first record; every record that does not follow is a fault.

    `links` in chain order; `head` the chain-head row's (seq, hash); `unchained_after_start`
    the ids of records without a place that were written after the chain began (a record
    inserted around the application).
    """
    result = ChainWalk(chain=chain)
    expected_seq, prev = 1, GENESIS
    for link in links:
        result.records += 1
        if link.seq != expected_seq:
            result.faults.append(
                ChainFault(chain, link.seq, link.pk, f"expected place {expected_seq}")
            )
        if link.prev != prev:
            result.faults.append(
                ChainFault(chain, link.seq, link.pk, "does not follow the record before it")
            )
        recomputed = link_hash(chain, link.seq or 0, link.prev, link.content)
        if recomputed != link.sha256:
            result.faults.append(
                ChainFault(chain, link.seq, link.pk, "content does not match its hash")
            )
        result.hashes[link.seq or 0] = link.sha256
        expected_seq, prev = (link.seq or 0) + 1, link.sha256
        result.head_seq, result.head_sha256 = link.seq or 0, link.sha256
    for pk in unchained_after_start:
        result.faults.append(ChainFault(chain, None, pk, "a record with no place in the chain"))
    if head is None and result.records:
        result.faults.append(ChainFault(chain, None, None, "the chain head row is missing"))
    if head is not None and head != (result.head_seq, result.head_sha256):
        result.faults.append(
            ChainFault(
                chain,
                head[0],
                None,
                f"the chain head says #{head[0]} {head[1]}, the records end at "
                f"#{result.head_seq} {result.head_sha256}",
            )
        )
    return result
