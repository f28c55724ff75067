"""Coordinate systems shared by routes and trips. Pure: numpy and pyproj, no Django.

- WGS-84 (EPSG:4326) is what is stored; GCJ-02 ("Mars coordinates" of Chinese web maps) is
  converted to WGS-84 on the way in and never measured.
- Lengths and areas are measured in a metric CRS, EPSG:4547 by default (CGCS2000 / 3-degree
  Gauss-Krüger, central meridian 114°E), where Yangquan (113.6°E) has a scale error < 1e-5.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from pyproj import Transformer

FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=8)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_metric(lon: FloatArray, lat: FloatArray, crs: str) -> tuple[FloatArray, FloatArray]:
    """WGS-84 lon/lat → metric x/y (metres) in `crs`."""
    x, y = _transformer("EPSG:4326", crs).transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_wgs84(x: FloatArray, y: FloatArray, crs: str) -> tuple[FloatArray, FloatArray]:
    """Metric x/y in `crs` → WGS-84 lon/lat."""
    lon, lat = _transformer(crs, "EPSG:4326").transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


# GCJ-02: the publicly known form of the obfuscation (Krasovsky 1940 ellipsoid constants).
_A = 6378245.0
_EE = 0.00669342162296594323


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    d_lon, d_lat = _gcj_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Invert the GCJ-02 offset by fixed-point iteration.

    The offset varies by well under 1e-5 per degree, so each round shrinks the error by
    about 1e5: three rounds reach < 1e-9° (0.1 mm) of the exact inverse of the formula.
    The formula itself is the public reconstruction, known to agree with the official
    transform to about 1 m.
    """
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(3):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        w_lon -= g_lon - lon
        w_lat -= g_lat - lat
    return w_lon, w_lat
