"""Pure geometry: validation, geodesic measures, corridors, GCJ-02. No database."""

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from core.geo import gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from routes.geometry import GeometryProblem, clean_geometry, to_metric_geometry, zone_polygon
from tests.routes.helpers import LAT0, LON0, east_west_road, line, square

BBOX = (112.9, 37.5, 114.1, 38.4)
CRS = "EPSG:4547"


def vincenty_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Vincenty's inverse formula on WGS-84, written out here as an independent check."""
    a, f = 6378137.0, 1 / 298.257223563
    b = (1 - f) * a
    big_l = math.radians(lon2 - lon1)
    u1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = big_l
    for _ in range(200):
        sin_l, cos_l = math.sin(lam), math.cos(lam)
        sin_s = math.hypot(cos_u2 * sin_l, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l)
        cos_s = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l
        sigma = math.atan2(sin_s, cos_s)
        sin_a = cos_u1 * cos_u2 * sin_l / sin_s
        cos2_a = 1 - sin_a**2
        cos_2sm = cos_s - 2 * sin_u1 * sin_u2 / cos2_a
        c = f / 16 * cos2_a * (4 + f * (4 - 3 * cos2_a))
        previous = lam
        lam = big_l + (1 - c) * f * sin_a * (
            sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm**2))
        )
        if abs(lam - previous) < 1e-12:
            break
    else:
        raise AssertionError("Vincenty's iteration did not converge")
    u_sq = cos2_a * (a**2 - b**2) / b**2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    d_sigma = (
        big_b
        * sin_s
        * (
            cos_2sm
            + big_b
            / 4
            * (
                cos_s * (-1 + 2 * cos_2sm**2)
                - big_b / 6 * cos_2sm * (-3 + 4 * sin_s**2) * (-3 + 4 * cos_2sm**2)
            )
        )
    )
    return b * big_a * (sigma - d_sigma)


def clean(value: object, kind: str = "road", repair: bool = False):  # type: ignore[no-untyped-def]
    return clean_geometry(value, kind=kind, bbox=BBOX, repair=repair)


# --- lengths and areas ------------------------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [
        [(113.58, 37.86), (113.59, 37.86)],  # 0.01° east: 0.01 × 111.3 km × cos 37.86° ≈ 879 m
        [(113.50, 37.80), (113.56, 37.83), (113.62, 37.90)],  # a bent road, ≈ 6 + 9.5 km
        [(113.40, 37.70), (113.90, 38.20)],  # a long diagonal, ≈ 71 km
    ],
)
def test_road_length_matches_an_independent_vincenty_computation_within_a_thousandth(
    points: list[tuple[float, float]],
) -> None:
    expected = sum(vincenty_m(*points[i], *points[i + 1]) for i in range(len(points) - 1))
    measured = clean(line(*points)).length_m
    assert measured is not None
    assert abs(measured - expected) / expected < 1e-3


def test_one_tenth_degree_of_longitude_at_yangquan_is_about_8_8_km() -> None:
    # 0.1° × (π/180) × N cos φ, N ≈ 6,387,000 m at 37.86° → 0.1 × 0.017453 × 5,043,700 ≈ 8,803 m
    measured = clean(east_west_road(d_lon=0.1)).length_m
    assert measured == pytest.approx(8803, rel=1e-3)


def test_area_is_the_geodesic_area_of_the_polygon_not_its_perimeter() -> None:
    # a square of 1,000 m × 1,000 m drawn in the metric CRS, back to lon/lat: about 1e6 m²
    x, y = to_metric_geometry(Point(LON0, LAT0), CRS).coords[0]
    ring_x = np.array([x, x + 1000, x + 1000, x, x])
    ring_y = np.array([y, y, y + 1000, y + 1000, y])
    lon, lat = to_wgs84(ring_x, ring_y, CRS)
    polygon = {"type": "Polygon", "coordinates": [list(map(list, zip(lon, lat, strict=True)))]}
    result = clean(polygon, kind="area")
    assert result.length_m is None
    assert result.area_m2 == pytest.approx(1_000_000, rel=1e-3)


# --- refusals ----------------------------------------------------------------------------


def test_bad_json_text_is_refused_with_the_parser_reason() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean('{"type": "LineString", "coordinates": [[113.5, 37.8], ')
    assert caught.value.code == "bad_json"


def test_a_polygon_is_the_wrong_type_for_a_road() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean(square(LON0, LAT0, 0.01), kind="road")
    assert caught.value.code == "wrong_type"
    assert caught.value.params["type"] == "Polygon"


def test_a_line_is_the_wrong_type_for_an_area() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean(east_west_road(), kind="area")
    assert caught.value.code == "wrong_type"


def test_a_point_in_beijing_is_outside_the_service_area() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean(line((113.58, 37.86), (116.40, 39.90)))
    assert caught.value.code == "outside_area"
    assert caught.value.params["lon"] == 116.40


def test_swapped_latitude_and_longitude_are_outside_the_service_area() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean(line((37.86, 113.58), (37.87, 113.59)))
    assert caught.value.code == "outside_area"


def test_a_self_intersecting_polygon_is_refused_with_the_reason() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[113.58, 37.86], [113.59, 37.87], [113.59, 37.86], [113.58, 37.87], [113.58, 37.86]]
        ],
    }
    with pytest.raises(GeometryProblem) as caught:
        clean(bowtie, kind="area")
    assert caught.value.code == "invalid_polygon"
    assert "Self-intersection" in caught.value.params["reason"]


def test_a_self_intersecting_polygon_is_repaired_only_when_asked_and_says_so() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[113.58, 37.86], [113.59, 37.87], [113.59, 37.86], [113.58, 37.87], [113.58, 37.86]]
        ],
    }
    result = clean(bowtie, kind="area", repair=True)
    assert result.geojson["type"] == "MultiPolygon"  # the two triangles of the bow tie
    assert "make_valid" in result.notes[0]


def test_a_line_of_one_repeated_point_has_no_length_and_is_refused() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean(line((LON0, LAT0), (LON0, LAT0)))
    assert caught.value.code == "zero_length"


def test_an_unknown_geometry_type_is_refused() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean({"type": "Circle", "coordinates": [113.58, 37.86]})
    assert caught.value.code == "unknown_type"


def test_a_height_coordinate_is_dropped() -> None:
    result = clean(line((113.58, 37.86, 700.0), (113.59, 37.86, 720.0)))
    assert result.geojson["coordinates"] == [[113.58, 37.86], [113.59, 37.86]]


# --- corridors ---------------------------------------------------------------------------


def test_a_road_corridor_has_flat_ends_so_it_stops_where_the_road_stops() -> None:
    x, y = to_metric_geometry(Point(LON0, LAT0), CRS).coords[0]
    lon, lat = to_wgs84(np.array([x, x + 1000.0]), np.array([y, y]), CRS)
    road = line((lon[0], lat[0]), (lon[1], lat[1]))
    corridor = zone_polygon(road, kind="road", corridor_half_width_m=15.0, crs=CRS)
    # 1,000 m long × 2 × 15 m wide = 30,000 m², no caps
    assert corridor.area == pytest.approx(30_000, rel=1e-4)
    assert shapely.contains_xy(corridor, x + 500, y + 14)  # beside the middle, inside
    assert not shapely.contains_xy(corridor, x + 500, y + 16)  # beyond the half-width
    assert not shapely.contains_xy(corridor, x + 1005, y)  # past the end, outside


def test_an_area_zone_is_the_polygon_itself_in_the_metric_crs() -> None:
    zone = zone_polygon(square(LON0, LAT0, 0.01), kind="area", corridor_half_width_m=None, crs=CRS)
    x, y = to_metric_geometry(Point(LON0 + 0.005, LAT0 + 0.005), CRS).coords[0]
    assert shapely.contains_xy(zone, x, y)


# --- GCJ-02 ------------------------------------------------------------------------------


def test_gcj02_offset_matches_the_published_reference_point() -> None:
    # wandergis/coordtransform's own example: wgs84togcj02(116.404, 39.915)
    lon, lat = wgs84_to_gcj02(np.array([116.404]), np.array([39.915]))
    assert lon[0] == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat[0] == pytest.approx(39.91640428150164, abs=1e-9)


def test_gcj02_to_wgs84_inverts_the_offset_to_a_tenth_of_a_millimetre() -> None:
    lon, lat = gcj02_to_wgs84(np.array([116.41024449916938]), np.array([39.91640428150164]))
    assert lon[0] == pytest.approx(116.404, abs=1e-9)  # 1e-9° ≈ 0.1 mm
    assert lat[0] == pytest.approx(39.915, abs=1e-9)


def test_the_gcj02_offset_in_yangquan_is_some_hundreds_of_metres() -> None:
    lon, lat = wgs84_to_gcj02(np.array([LON0]), np.array([LAT0]))
    east_m = (lon[0] - LON0) * 111_320 * math.cos(math.radians(LAT0))
    north_m = (lat[0] - LAT0) * 110_950
    assert 100 < math.hypot(east_m, north_m) < 1000


def test_a_one_point_line_is_refused_as_too_few_points_not_a_crash() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean({"type": "LineString", "coordinates": [[113.58, 37.86]]})
    assert caught.value.code == "too_few_points"


def test_a_two_position_ring_is_refused_as_too_short() -> None:
    ring = {"type": "Polygon", "coordinates": [[[113.58, 37.86], [113.59, 37.86]]]}
    with pytest.raises(GeometryProblem) as caught:
        clean(ring, kind="area")
    assert caught.value.code == "ring_too_short"


def test_a_self_intersection_carries_the_crossing_point() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[113.58, 37.86], [113.59, 37.87], [113.59, 37.86], [113.58, 37.87], [113.58, 37.86]]
        ],
    }
    with pytest.raises(GeometryProblem) as caught:
        clean(bowtie, kind="area")
    # the diagonals of the 0.01° square cross at its centre
    assert caught.value.params["why"] == "self_intersection"
    assert (caught.value.params["lon"], caught.value.params["lat"]) == pytest.approx(
        (113.585, 37.865)
    )


def test_bad_json_is_refused_with_its_line_and_column() -> None:
    with pytest.raises(GeometryProblem) as caught:
        clean('{"type": "LineString",\n "coordinates": [[113.5, 37.8] [113.6, 37.8]]}')
    # line 2: ' "coordinates": ' is 16 characters, '[[113.5, 37.8] ' 15 more: the "[" after
    # the missing comma is column 32
    assert (caught.value.params["line"], caught.value.params["column"]) == (2, 32)
