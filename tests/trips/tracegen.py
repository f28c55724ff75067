"""Synthetic traces with what real receivers do: time-correlated noise, jumps, gaps, stops.

Used by the verification tests and by bench/bench_verify.py. Positions are made in the
metric CRS along a path (a shapely LineString in metres), then noise is added:

- Noise is *correlated in time*, as a receiver's filtered output is: white noise passed
  through a second-order low-pass (time constant `noise_tau_s`) in the frequency domain,
  scaled to `noise_m` standard deviation per axis. Independent 2 m noise between 0.1 s
  fixes would read as ~100 km/h; this one wanders a few metres over minutes.
- Jumps: single fixes thrown 100–400 m off (multipath), which the speed rule drops.
- Gaps: spans with no fixes (tunnels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute  # binds pa.compute, which to_csv uses
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from shapely import LineString

from core.geo import to_wgs84

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Leg:
    """Drive `metres` at `speed_kmh`, or (speed 0) stand still for `seconds`."""

    metres: float = 0.0
    speed_kmh: float = 0.0
    seconds: float = 0.0
    auto: bool = True


@dataclass
class Trace:
    t_ns: npt.NDArray[np.int64]
    x: FloatArray
    y: FloatArray
    auto: npt.NDArray[np.bool_]
    true_x: FloatArray
    true_y: FloatArray

    def lonlat(self, crs: str = "EPSG:4547") -> tuple[FloatArray, FloatArray]:
        return to_wgs84(self.x, self.y, crs)


def correlated_noise(
    n: int, hz: float, sigma_m: float, tau_s: float, rng: np.random.Generator
) -> FloatArray:
    """Smooth noise: white noise through H(f) = 1 / (1 + (f/fc)^2), fc = 1/(2π tau)."""
    if n == 0 or sigma_m == 0:
        return np.zeros(n)
    # Long enough to hold many time constants, so that the scale below is the process's
    # and not that of a short stretch of it.
    size = 1 << int(np.ceil(np.log2(max(n, 2, 64 * tau_s * hz))))
    spectrum = np.fft.rfft(rng.standard_normal(size))
    f = np.fft.rfftfreq(size, d=1.0 / hz)
    fc = 1.0 / (2 * np.pi * tau_s)
    noise = np.fft.irfft(spectrum / (1.0 + (f / fc) ** 2), n=size)
    return np.asarray(noise[:n] / noise.std() * sigma_m, dtype=np.float64)


def along(
    path: LineString, legs: list[Leg], *, hz: float
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Noise-free fixes (time s, x, y, auto) driving `legs` along `path` at `hz`."""
    times: list[FloatArray] = []
    dist: list[FloatArray] = []
    autos: list[npt.NDArray[np.bool_]] = []
    t, s = 0.0, 0.0
    for leg in legs:
        if leg.speed_kmh > 0:
            v = leg.speed_kmh / 3.6
            duration = leg.metres / v
        else:
            v, duration = 0.0, leg.seconds
        k = np.arange(round(duration * hz), dtype=np.float64) / hz
        times.append(t + k)
        dist.append(s + v * k)
        autos.append(np.full(k.size, leg.auto))
        t += duration
        s += v * duration
    times.append(np.array([t]))
    dist.append(np.array([s]))
    autos.append(np.array([legs[-1].auto]))
    d = np.concatenate(dist)
    # Interpolated here rather than with shapely.line_interpolate_point, which walks the
    # path from its start for every point (quadratic on a long route).
    vx, vy = (np.asarray(c) for c in path.xy)
    at = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(vx), np.diff(vy)))))
    return np.concatenate(times), np.interp(d, at, vx), np.interp(d, at, vy), np.concatenate(autos)


def generate(
    path: LineString,
    legs: list[Leg],
    *,
    start: datetime,
    hz: float = 10.0,
    noise_m: float = 3.0,
    noise_tau_s: float = 60.0,
    jumps: int = 0,
    gaps: int = 0,
    gap_s: tuple[float, float] = (15.0, 60.0),
    seed: int = 0,
) -> Trace:
    rng = np.random.default_rng(seed)
    t_s, tx, ty, auto = along(path, legs, hz=hz)
    n = t_s.size
    x = tx + correlated_noise(n, hz, noise_m, noise_tau_s, rng)
    y = ty + correlated_noise(n, hz, noise_m, noise_tau_s, rng)
    if jumps:
        at = rng.choice(np.arange(10, n - 10), size=jumps, replace=False)
        angle = rng.uniform(0, 2 * np.pi, jumps)
        r = rng.uniform(100, 400, jumps)
        x[at] += r * np.cos(angle)
        y[at] += r * np.sin(angle)
    keep = np.ones(n, dtype=bool)
    for _ in range(gaps):
        a = int(rng.integers(0, n))
        keep[a : a + int(rng.uniform(*gap_s) * hz)] = False
    keep[0] = keep[-1] = True
    t_ns = int(start.timestamp()) * 1_000_000_000 + np.round(t_s * 1e9).astype(np.int64)
    return Trace(t_ns[keep], x[keep], y[keep], auto[keep], tx[keep], ty[keep])


def to_csv(trace: Trace, *, crs: str = "EPSG:4547", epoch_ms: bool = False) -> bytes:
    """Canonical CSV: ISO 8601 in Beijing time with its offset (or epoch ms), 7 decimals."""
    lon, lat = trace.lonlat(crs)
    if epoch_ms:
        stamp: pa.Array = pa.array(trace.t_ns // 1_000_000)
    else:
        local = (trace.t_ns + 8 * 3600 * 1_000_000_000).astype("datetime64[ns]")
        text = np.datetime_as_string(local, unit="ms")
        stamp = pa.compute.binary_join_element_wise(pa.array(text), "+08:00", "")
    table = pa.table(
        {
            "timestamp": stamp,
            "lat": np.round(lat, 7),
            "lon": np.round(lon, 7),
            "mode": pa.array(np.where(trace.auto, "auto", "manual")),
        }
    )
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="none"))
    return bytes(sink.getvalue())


def to_parquet(trace: Trace, *, crs: str = "EPSG:4547") -> bytes:
    lon, lat = trace.lonlat(crs)
    table = pa.table(
        {
            "timestamp": pa.array(trace.t_ns, pa.timestamp("ns", tz="UTC")),
            "lat": np.round(lat, 7),
            "lon": np.round(lon, 7),
            "mode": pa.array(np.where(trace.auto, "auto", "manual")).dictionary_encode(),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue())


START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
