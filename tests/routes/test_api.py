"""The segments API: GeoJSON in and out, the workflow per role, the summary."""

import pytest

from routes.models import RoadSegment
from tests.conftest import World, client_for
from tests.routes.helpers import (
    LAT0,
    LON0,
    approved_road,
    at,
    draft_road,
    east_west_road,
    square,
)

pytestmark = pytest.mark.django_db

ROAD = {"name": "桃北西街", "kind": "road", "geometry": east_west_road(), "two_way": True}


def create(world: World, **overrides: object) -> dict[str, object]:
    response = client_for(world.bureau).post(
        "/api/v1/segments/", {**ROAD, **overrides}, format="json"
    )
    assert response.status_code == 201, response.content
    body: dict[str, object] = response.json()
    return body


# --- creating, with each geometry error a 400 that says why ------------------------------


def test_bureau_creates_a_road_from_geojson_and_gets_it_back_measured(world: World) -> None:
    body = create(world)
    assert body["status"] == "draft"
    assert body["geometry"] == east_west_road()
    assert body["corridor_half_width_m"] == "15.00"
    assert body["length_m"] == pytest.approx(880.3, abs=1)


def test_geometry_may_be_sent_as_geojson_text(world: World) -> None:
    body = create(
        world, geometry='{"type": "LineString", "coordinates": [[113.58, 37.86], [113.59, 37.86]]}'
    )
    assert body["geometry"] == east_west_road()


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"geometry": square(LON0, LAT0, 0.01)}, "Polygon"),  # wrong type for a road
        ({"kind": "area", "geometry": east_west_road()}, "LineString"),  # wrong type for an area
        ({"geometry": east_west_road(lon=116.40, lat=39.90)}, "116.400000"),  # out of the area
        ({"geometry": '{"type": "LineString", "coordinates": [[113.58'}, "JSON"),  # bad JSON
        ({"geometry": {"type": "LineString"}}, "coordinates"),  # no coordinates
        (
            {
                "kind": "area",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [113.58, 37.86],
                            [113.59, 37.87],
                            [113.59, 37.86],
                            [113.58, 37.87],
                            [113.58, 37.86],
                        ]
                    ],
                },
            },
            "crosses itself at 113.585000, 37.865000",
        ),  # invalid polygon, with the point where it crosses
    ],
)
def test_each_geometry_error_is_a_400_naming_the_field_and_the_reason(
    world: World, overrides: dict[str, object], says: str
) -> None:
    client = client_for(world.bureau)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/api/v1/segments/", {**ROAD, **overrides}, format="json")
    assert response.status_code == 400
    (reason,) = response.json()["geometry"]
    assert says in reason
    assert not RoadSegment.objects.exists()


def test_malformed_request_json_is_a_400(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/segments/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_an_invalid_polygon_is_repaired_when_asked_and_the_repair_is_audited(
    world: World,
) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[113.58, 37.86], [113.59, 37.87], [113.59, 37.86], [113.58, 37.87], [113.58, 37.86]]
        ],
    }
    body = create(world, kind="area", geometry=bowtie, repair=True)
    assert body["geometry"]["type"] == "MultiPolygon"  # type: ignore[index]
    audit = client_for(world.bureau).get(f"/api/v1/audit/?object_id={body['id']}").json()
    assert "make_valid" in audit["results"][0]["reason"]


def test_an_unknown_field_is_a_400(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/segments/", {**ROAD, "colour": "red"}, format="json"
    )
    assert response.status_code == 400
    assert "colour" in response.json()


# --- workflow per role -------------------------------------------------------------------


def test_the_bureau_walks_a_road_from_draft_to_approved_over_the_api(world: World) -> None:
    client = client_for(world.bureau)
    pk = create(world)["id"]
    assert client.post(f"/api/v1/segments/{pk}/submit/", {}, format="json").status_code == 200
    response = client.post(
        f"/api/v1/segments/{pk}/approve/",
        {"valid_from": "2024-01-01", "approval_ref": "阳交发〔2024〕3号"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["valid_from"] == "2024-01-01T00:00:00+08:00"  # the start of the local day
    assert body["approved_by_username"] == world.bureau.username


def test_approval_without_a_validity_window_is_a_400(world: World) -> None:
    client = client_for(world.bureau)
    pk = create(world)["id"]
    client.post(f"/api/v1/segments/{pk}/submit/", {}, format="json")
    response = client.post(f"/api/v1/segments/{pk}/approve/", {"approval_ref": "x"}, format="json")
    assert response.status_code == 400
    assert "valid_from" in response.json()


@pytest.mark.parametrize("role", ["finance", "staff_a"])
@pytest.mark.parametrize("step", ["submit", "approve", "suspend", "retire"])
def test_finance_and_companies_may_not_move_a_segment(world: World, role: str, step: str) -> None:
    road = approved_road(world.bureau)
    response = client_for(getattr(world, role)).post(
        f"/api/v1/segments/{road.pk}/{step}/",
        {"reason": "x", "valid_from": "2025-01-01", "approval_ref": "x"},
        format="json",
    )
    assert response.status_code == 403


def test_companies_cannot_create_segments(world: World) -> None:
    response = client_for(world.staff_a).post("/api/v1/segments/", ROAD, format="json")
    assert response.status_code == 403


def test_a_refused_transition_is_a_400_naming_the_status(world: World) -> None:
    road = draft_road(world.bureau)
    response = client_for(world.bureau).post(
        f"/api/v1/segments/{road.pk}/suspend/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()


def test_suspend_then_reinstate_over_the_api(world: World) -> None:
    client = client_for(world.bureau)
    road = approved_road(world.bureau)
    response = client.post(
        f"/api/v1/segments/{road.pk}/suspend/",
        {"reason": "道路施工", "effective_at": "2024-06-01T00:00:00+08:00"},
        format="json",
    )
    assert response.json()["valid_to"] == "2024-06-01T00:00:00+08:00"
    response = client.post(
        f"/api/v1/segments/{road.pk}/reinstate/",
        {"valid_from": "2024-07-01", "approval_ref": "阳交发〔2024〕9号", "reason": "施工结束"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["version"] == 2


def test_patching_an_approved_geometry_answers_201_with_the_new_version(world: World) -> None:
    road = approved_road(world.bureau)
    response = client_for(world.bureau).patch(
        f"/api/v1/segments/{road.pk}/",
        {"geometry": east_west_road(d_lon=0.02)},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.json()["supersedes"] == road.pk
    assert (
        client_for(world.bureau).get(f"/api/v1/segments/{road.pk}/").json()["superseded_by"]
        == response.json()["id"]
    )


def test_deleting_a_draft_answers_204(world: World) -> None:
    road = draft_road(world.bureau)
    assert client_for(world.bureau).delete(f"/api/v1/segments/{road.pk}/").status_code == 204


# --- reading -----------------------------------------------------------------------------


def test_companies_read_approved_segments_and_get_404_for_drafts(world: World) -> None:
    road = approved_road(world.bureau)
    draft = draft_road(world.bureau)
    client = client_for(world.staff_a)
    body = client.get("/api/v1/segments/").json()
    assert [row["id"] for row in body["results"]] == [road.pk]
    assert client.get(f"/api/v1/segments/{road.pk}/").status_code == 200
    assert client.get(f"/api/v1/segments/{draft.pk}/").status_code == 404
    assert client.get("/api/v1/segments/geojson/?status=draft").json()["features"] == []


def test_format_geojson_gives_a_feature_collection(world: World) -> None:
    road = approved_road(world.bureau)
    response = client_for(world.staff_a).get("/api/v1/segments/?format=geojson")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    (feature,) = body["features"]
    assert feature["geometry"] == road.geometry
    assert feature["properties"]["name"] == road.name
    assert "geometry" not in feature["properties"]


def test_one_segment_as_a_geojson_feature(world: World) -> None:
    road = approved_road(world.bureau)
    body = client_for(world.bureau).get(f"/api/v1/segments/{road.pk}/?format=geojson").json()
    assert body["type"] == "Feature"
    assert body["id"] == road.pk


def test_the_geojson_endpoint_filters_by_status_and_validity_date(world: World) -> None:
    early = approved_road(world.bureau, valid_from=at(2023, 1, 1), valid_to=at(2024, 1, 1))
    late = approved_road(world.bureau, valid_from=at(2024, 1, 1))
    draft_road(world.bureau)
    client = client_for(world.bureau)

    def names(query: str) -> set[int]:
        body = client.get(f"/api/v1/segments/geojson/?{query}").json()
        return {feature["id"] for feature in body["features"]}

    assert names("valid_at=2023-06-30") == {early.pk}
    # a date is the end of that (local) day: 2023-12-31 23:59 +08:00 is before 2024-01-01 UTC
    assert names("valid_at=2024-01-01") == {late.pk}
    assert names("valid_at=2024-01-01T07:59:00%2B08:00") == {early.pk}
    assert names("status=approved") == {early.pk, late.pk}
    assert len(names("status=draft")) == 1


def test_a_bad_valid_at_is_a_400(world: World) -> None:
    response = client_for(world.bureau).get("/api/v1/segments/?valid_at=yesterday")
    assert response.status_code == 400
    assert "valid_at" in response.json()


# --- summary -----------------------------------------------------------------------------


def test_summary_reports_open_and_two_way_km_against_the_target(world: World) -> None:
    approved_road(world.bureau, valid_from=at(2024, 1, 1))  # 880.3 m two-way
    approved_road(  # 1,760.6 m one-way
        world.bureau,
        valid_from=at(2024, 1, 1),
        two_way=False,
        geometry=east_west_road(lat=LAT0 + 0.01, d_lon=0.02),
    )
    draft_road(world.bureau)
    body = client_for(world.bureau).get("/api/v1/segments/summary/?as_of=2024-06-30").json()
    # open 0.8803 + 1.7606 = 2.641 km; two-way 2 × 0.8803 + 1.7606 = 3.521 km; 3.521 / 200
    assert body["open_road_km"] == pytest.approx(2.641, abs=0.002)
    assert body["two_way_operating_km"] == pytest.approx(3.521, abs=0.003)
    assert body["target_two_way_km"] == 200
    assert body["target_progress"] == pytest.approx(0.0176, abs=0.0001)
    assert body["by_status"]["draft"] == 1
    assert body["by_status"]["approved"] == 2
    assert body["as_of"] == "2024-06-30T23:59:59.999999+08:00"


def test_summary_before_any_approval_is_zero(world: World) -> None:
    approved_road(world.bureau)
    body = client_for(world.bureau).get("/api/v1/segments/summary/?as_of=2020-01-01").json()
    assert body["two_way_operating_km"] == 0


def test_companies_see_the_summary_but_no_draft_counts(world: World) -> None:
    approved_road(world.bureau)
    draft_road(world.bureau)
    body = client_for(world.staff_a).get("/api/v1/segments/summary/").json()
    assert body["by_status"]["draft"] == 0
    assert body["by_status"]["approved"] == 1
