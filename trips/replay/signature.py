"""Fingerprints of a trace: the exact one of its fixes, and the shape signature of its path.

- `fix_fingerprint` is a SHA-256 of the fixes themselves (absolute time to 0.1 s, position
  to 1e-6°), so one recording written as CSV, GPX or with other columns has one value.
- `fingerprint` gives a `ShapeSignature`: MinHash band keys of the cells the path passes
  through (candidates, time-independent) and a compact polyline resampled along the path
  with the relative time at each point (confirmation). Both survive a move to another day
  or vehicle, thinning and sub-metre nudges; `to_bytes()` is what a database row keeps.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.geo import to_metric
from trips.replay.params import ReplayParams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
U64Array = npt.NDArray[np.uint64]

_FIXES_DOMAIN = b"yangquan-av/fixes/v1\n"
_MAGIC = b"YQRS\x01"
_TICK_NS = 100_000_000  # 0.1 s
_DM = 10.0  # stored coordinates are decimetres
_CS = 100.0  # stored times are centiseconds
# MinHash permutations: fixed seeds, part of scheme v1 (changing them changes every key).
_SEEDS = (
    np.random.default_rng(0x59_51_41_56)
    .integers(0, np.iinfo(np.int64).max, size=4096, dtype=np.int64)
    .astype(np.uint64)
)
_FEATURE_BLOCK = 8192


def fix_fingerprint(lon: FloatArray, lat: FloatArray, t_ns: IntArray) -> str:
    """SHA-256 (hex) of the fixes: absolute UTC time to 0.1 s, lon/lat to 1e-6° (~0.1 m).

    Absolute time is part of it: the same fixes at the same instants are the same recording
    (for the same vehicle, the same trip). A re-timed copy has another value and is found as
    a near copy. Encodings that keep the digits of the fixes (CSV, GPX, GeoJSON, Parquet,
    extra columns, other column order) give one value; a re-encoding that rounds positions
    to fewer than 6 decimals, or times to whole seconds, does not (near copy again).
    """
    ticks = (np.asarray(t_ns, dtype=np.int64) + _TICK_NS // 2) // _TICK_NS
    digest = hashlib.sha256(_FIXES_DOMAIN)
    digest.update(struct.pack("<q", ticks.size))
    digest.update(ticks.astype("<i8").tobytes())
    digest.update(np.round(np.asarray(lon, dtype=np.float64) * 1e6).astype("<i8").tobytes())
    digest.update(np.round(np.asarray(lat, dtype=np.float64) * 1e6).astype("<i8").tobytes())
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class ShapeSignature:
    """What is kept of a trip to find its copies.

    `band_keys` (signed 64-bit, one per band, the band number mixed in) go to an indexed
    table of (band_key, trip_id); the polyline (`x_dm`, `y_dm`: metric CRS in decimetres,
    every `step_m` along the path; `t_cs`: centiseconds since the trip's first fix) is read
    back only for the few candidates.
    """

    scheme: str
    band_keys: tuple[int, ...]
    length_m: float
    x_dm: npt.NDArray[np.int32]
    y_dm: npt.NDArray[np.int32]
    t_cs: npt.NDArray[np.int32]

    def to_bytes(self) -> bytes:
        scheme = self.scheme.encode()
        head = struct.pack("<H", len(scheme)) + scheme
        keys = struct.pack(f"<H{len(self.band_keys)}q", len(self.band_keys), *self.band_keys)
        body = np.concatenate([_delta(self.x_dm), _delta(self.y_dm), _delta(self.t_cs)]).astype(
            "<i4"
        )
        return (
            _MAGIC
            + head
            + keys
            + struct.pack("<dI", self.length_m, self.x_dm.size)
            + zlib.compress(body.tobytes(), 6)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ShapeSignature:
        if not data.startswith(_MAGIC):
            raise ValueError("not a shape signature")
        at = len(_MAGIC)
        (size,) = struct.unpack_from("<H", data, at)
        scheme = data[at + 2 : at + 2 + size].decode()
        at += 2 + size
        (bands,) = struct.unpack_from("<H", data, at)
        keys = struct.unpack_from(f"<{bands}q", data, at + 2)
        at += 2 + 8 * bands
        length_m, n = struct.unpack_from("<dI", data, at)
        body = np.frombuffer(zlib.decompress(data[at + 12 :]), dtype="<i4").reshape(3, n)
        x, y, t = (np.cumsum(row, dtype=np.int64).astype(np.int32) for row in body)
        return cls(scheme, tuple(keys), float(length_m), x, y, t)

    def points(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The polyline in metres and its relative times in seconds."""
        return self.x_dm / _DM, self.y_dm / _DM, self.t_cs / _CS


def _delta(values: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    out = values.astype(np.int64)
    out[1:] = np.diff(out)
    return out


def fingerprint(
    lon: FloatArray, lat: FloatArray, t_ns: IntArray, *, params: ReplayParams
) -> ShapeSignature | None:
    """The shape signature of a trip's fixes (WGS-84, in time order); None when short."""
    x, y = to_metric(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), params.metric_crs
    )
    return fingerprint_metric(x, y, t_ns, params=params)


def fingerprint_metric(
    x: FloatArray, y: FloatArray, t_ns: IntArray, *, params: ReplayParams
) -> ShapeSignature | None:
    """The same from fixes already in `params.metric_crs` (as verification has them).

    Fixes should be those verification kept (outliers dropped). The path is smoothed over
    `smooth_s` in time (a copy's per-fix nudges average out; a receiver's noise, correlated
    over tens of seconds, does not), then resampled along its length, which forgets speed,
    stops and sampling rate.
    """
    t_s = (np.asarray(t_ns, dtype=np.int64) - int(t_ns[0])) / 1e9
    x, y = _smooth(t_s, x, y, params.smooth_s)
    along = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
    length_m = float(along[-1])
    if length_m < params.min_length_m:
        return None
    at = np.arange(0.0, length_m, params.step_m)
    px, py, pt = (np.interp(at, along, v) for v in (x, y, t_s))
    fat = np.arange(0.0, length_m, params.feature_step_m)
    cx = np.floor(np.interp(fat, along, x) / params.cell_m).astype(np.int64)
    cy = np.floor(np.interp(fat, along, y) / params.cell_m).astype(np.int64)
    cells = np.unique((cx << 32) + (cy & 0xFFFFFFFF)).astype(np.uint64)
    return ShapeSignature(
        scheme=params.scheme(),
        band_keys=band_keys(minhash(cells, params.bands * params.rows), params.rows),
        length_m=length_m,
        x_dm=np.round(px * _DM).astype(np.int32),
        y_dm=np.round(py * _DM).astype(np.int32),
        t_cs=np.round(pt * _CS).astype(np.int32),
    )


def _smooth(
    t_s: FloatArray, x: FloatArray, y: FloatArray, width_s: float
) -> tuple[FloatArray, FloatArray]:
    """Centred moving average over [t − width/2, t + width/2], for any sampling."""
    if width_s <= 0 or x.size < 3:
        return x, y
    lo = np.searchsorted(t_s, t_s - width_s / 2, side="left")
    hi = np.searchsorted(t_s, t_s + width_s / 2, side="right")
    count = hi - lo
    out = []
    for v in (x, y):
        base = v - v[0]  # keep the sums small: metric coordinates are ~10^6 m
        cum = np.concatenate(([0.0], np.cumsum(base)))
        out.append((cum[hi] - cum[lo]) / count + v[0])
    return out[0], out[1]


def _mix(z: U64Array) -> U64Array:
    """splitmix64's finaliser: a fast bijective scramble of 64-bit integers."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def minhash(features: U64Array, permutations: int) -> U64Array:
    """For each of `permutations` hash functions, the least hash over the feature set.

    Each feature is scrambled once (splitmix64), then hash j is a·x + b (mod 2^64) with
    odd a: one multiply-add per feature and permutation.
    """
    if 2 * permutations > _SEEDS.size:
        raise ValueError(f"at most {_SEEDS.size // 2} permutations")
    a = _SEEDS[:permutations, None] | np.uint64(1)
    b = _SEEDS[permutations : 2 * permutations, None]
    mixed = _mix(features)
    least = np.full(permutations, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, mixed.size, _FEATURE_BLOCK):
        block = mixed[None, start : start + _FEATURE_BLOCK]
        least = np.minimum(least, (block * a + b).min(axis=1))
    return least


def band_keys(signature: U64Array, rows: int) -> tuple[int, ...]:
    """One signed 64-bit key per band of `rows` minima, its band number mixed in."""
    keys = []
    for band, start in enumerate(range(0, signature.size, rows)):
        digest = hashlib.blake2b(
            struct.pack("<I", band) + signature[start : start + rows].astype("<u8").tobytes(),
            digest_size=8,
        ).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return tuple(keys)
