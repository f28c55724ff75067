"""An in-memory index of band keys: which stored trips share a band with a new one.

It is the table a database would hold — rows (band_key, trip_id) with an index on
band_key — kept as two sorted numpy arrays (16 bytes a row) plus an unsorted tail of
recent additions, merged into the sorted part once it grows past `merge_rows`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from trips.replay.signature import ShapeSignature

I64 = npt.NDArray[np.int64]


class ReplayIndex:
    def __init__(self, scheme: str, *, merge_rows: int = 1 << 16) -> None:
        if merge_rows < 1:
            raise ValueError("merge_rows must be positive")
        self.scheme = scheme
        self._merge_rows = merge_rows
        self._keys: I64 = np.zeros(0, dtype=np.int64)
        self._ids: I64 = np.zeros(0, dtype=np.int64)
        self._tail_keys: I64 = np.zeros(merge_rows, dtype=np.int64)
        self._tail_ids: I64 = np.zeros(merge_rows, dtype=np.int64)
        self._tail = 0  # rows used in the tail
        self._trips = 0

    def __len__(self) -> int:
        """Trips added."""
        return self._trips

    def add(self, trip_id: int, signature: ShapeSignature) -> None:
        self._check(signature)
        n = len(signature.band_keys)
        if self._tail + n > self._merge_rows:
            self._merge()
        self._tail_keys[self._tail : self._tail + n] = signature.band_keys
        self._tail_ids[self._tail : self._tail + n] = trip_id
        self._tail += n
        self._trips += 1

    def candidates(self, signature: ShapeSignature, *, limit: int) -> list[int]:
        """Trips sharing at least one band key, most shared first (ties by id), at most `limit`."""
        self._check(signature)
        query = np.array(signature.band_keys, dtype=np.int64)
        lo = np.searchsorted(self._keys, query, side="left")
        hi = np.searchsorted(self._keys, query, side="right")
        found = [self._ids[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        if self._tail:
            hit = np.isin(self._tail_keys[: self._tail], query)
            found.append(self._tail_ids[: self._tail][hit])
        if not found:
            return []
        ids, shared = np.unique(np.concatenate(found), return_counts=True)
        order = np.lexsort((ids, -shared))[:limit]
        return [int(i) for i in ids[order]]

    def nbytes(self) -> int:
        """Memory held by the rows: the sorted arrays and the tail's buffers."""
        return int(
            self._keys.nbytes + self._ids.nbytes + self._tail_keys.nbytes + self._tail_ids.nbytes
        )

    def _check(self, signature: ShapeSignature) -> None:
        if signature.scheme != self.scheme:
            raise ValueError(f"signature scheme {signature.scheme!r}, index {self.scheme!r}")

    def _merge(self) -> None:
        keys = np.concatenate([self._keys, self._tail_keys[: self._tail]])
        ids = np.concatenate([self._ids, self._tail_ids[: self._tail]])
        order = np.argsort(keys, kind="stable")
        self._keys, self._ids = keys[order], ids[order]
        self._tail = 0
