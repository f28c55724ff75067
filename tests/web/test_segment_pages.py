"""The road-segment pages without a browser: scoping by role, the workflow forms and their
errors in Chinese, drawing, import with its dry run, the dashboard card, the catalogue."""

import datetime as dt
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from operators.models import User
from routes import services
from routes.models import RoadSegment
from tests.conftest import World
from tests.routes.helpers import LAT0, LON0, approved, approved_road, draft_road, line, square

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CATALOGUE = Path(__file__).resolve().parents[2] / "routes" / "locale" / "zh_Hans" / "LC_MESSAGES"


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(html: bytes) -> str:
    """The page's words, without tags and with runs of white space as one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def field_errors(response: Any, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


@pytest.fixture(autouse=True)
def private_var_dir(settings: Any, tmp_path: Path) -> None:
    # Uploads waiting between the dry run and the commit are kept under VAR_DIR.
    settings.VAR_DIR = tmp_path


@pytest.fixture
def segments(world: World) -> dict[str, RoadSegment]:
    """One segment per status, like the demo data."""
    bureau = world.bureau
    suspended = approved_road(
        bureau, name="南大街", geometry=line((113.57, 37.85), (113.58, 37.85))
    )
    suspended = services.segment_suspend(actor=bureau, segment=suspended, reason="施工")
    submitted = services.segment_submit(
        actor=bureau,
        segment=draft_road(bureau, name="泉中路", geometry=line((113.56, 37.87), (113.57, 37.87))),
    )
    return {
        "approved": approved_road(bureau, name="德胜街"),
        "submitted": submitted,
        "draft": draft_road(
            bureau, name="阳五高速连接线", geometry=line((113.6, 37.9), (113.61, 37.9))
        ),
        "suspended": suspended,
    }


# ---- scoping ------------------------------------------------------------------------------


def test_the_bureau_sees_every_status_on_the_map_and_in_the_table(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    response = browser_for(world.bureau).get("/segments/")
    assert response.status_code == 200
    shown = {f["properties"]["name"] for f in response.context["segments_geojson"]["features"]}
    assert shown == {str(s) for s in segments.values()}
    page = text_of(response.content)
    for label in ("已批准", "已提交", "草稿", "已暂停"):
        assert label in page
    assert "绘制道路或区域" in page  # the bureau may draw


def test_company_staff_see_approved_segments_only(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    response = browser_for(world.staff_a).get("/segments/")
    assert response.status_code == 200
    names = [str(s) for s in response.context["segments"]]
    assert names == [str(segments["approved"])]
    page = response.content.decode()
    for hidden in ("泉中路", "阳五高速连接线", "南大街"):
        assert hidden not in page
    assert "绘制道路或区域" not in page
    assert 'name="status"' not in page  # nothing to filter: approved only


@pytest.mark.parametrize("status", ["draft", "submitted", "suspended"])
@pytest.mark.parametrize("path", ["", "edit/", "approve/", "submit/", "retire/", "delete/"])
def test_a_segment_a_company_may_not_see_is_404_on_every_page(
    world: World, segments: dict[str, RoadSegment], status: str, path: str
) -> None:
    response = browser_for(world.staff_a).get(f"/segments/{segments[status].pk}/{path}")
    assert response.status_code == 404
    assert segments[status].name not in response.content.decode()


def test_company_staff_read_an_approved_segment_but_cannot_act_on_it(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    client = browser_for(world.staff_a)
    detail = client.get(f"/segments/{segments['approved'].pk}/")
    assert detail.status_code == 200
    assert "暂停" not in text_of(detail.content)
    assert client.get(f"/segments/{segments['approved'].pk}/suspend/").status_code == 403
    assert client.get("/segments/new/").status_code == 403
    assert client.get("/segments/import/").status_code == 403


def test_finance_reads_the_map_but_may_not_draw(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    client = browser_for(world.finance)
    assert client.get("/segments/").status_code == 200
    assert client.get("/segments/new/").status_code == 403
    assert client.get(f"/segments/{segments['submitted'].pk}/approve/").status_code == 403


def test_the_filter_finds_what_was_valid_on_a_day(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    # The suspended road was approved from 2024-01-01 and suspended now: valid on 2024-06-01,
    # as was the approved one; drafts never are.
    response = browser_for(world.bureau).get("/segments/", {"valid_on": "2024-06-01"})
    names = {s.name for s in response.context["segments"]}
    assert names == {"德胜街", "南大街"}
    response = browser_for(world.bureau).get("/segments/", {"status": "submitted"})
    assert [s.name for s in response.context["segments"]] == ["泉中路"]


# ---- detail and workflow ------------------------------------------------------------------


def test_detail_shows_the_buttons_the_status_allows(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    client = browser_for(world.bureau)
    expected = {
        "draft": {"submit", "edit", "retire", "delete"},
        "submitted": {"approve", "return", "edit", "retire", "delete"},
        "approved": {"suspend", "edit", "retire"},
        "suspended": {"reinstate", "edit", "retire"},  # a change is a new draft version
    }
    for status, actions in expected.items():
        segment = segments[status]
        page = client.get(f"/segments/{segment.pk}/").content.decode()
        found = set(re.findall(rf'href="/segments/{segment.pk}/(\w+)/"', page))
        assert found == actions, status


def test_approving_needs_a_reference_and_a_window_that_ends_after_it_starts(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    url = f"/segments/{segments['submitted'].pk}/approve/"
    client = browser_for(world.bureau)
    response = client.post(url, {"valid_from": "2026-03-01T00:00", "valid_to": ""})
    assert field_errors(response, "approval_ref") == ["该字段是必填项。"]
    response = client.post(
        url,
        {
            "valid_from": "2026-03-01T00:00",
            "valid_to": "2026-02-01T00:00",
            "approval_ref": "阳交运发〔2026〕7号",
        },
    )
    assert field_errors(response, "valid_to") == ["有效期的结束时间必须晚于开始时间。"]
    assert 'aria-invalid="true"' in response.content.decode()
    segments["submitted"].refresh_from_db()
    assert segments["submitted"].status == "submitted"


def test_approval_times_are_beijing_time(world: World, segments: dict[str, RoadSegment]) -> None:
    segment = segments["submitted"]
    response = browser_for(world.bureau).post(
        f"/segments/{segment.pk}/approve/",
        {
            "valid_from": "2026-03-01T00:00",
            "valid_to": "2027-03-01T00:00",
            "approval_ref": "阳交运发〔2026〕7号",
            "reason": "专家评审通过",
        },
        follow=True,
    )
    assert "“泉中路 v1”已批准。" in text_of(response.content)
    segment.refresh_from_db()
    # 00:00 in Beijing (UTC+8) is 16:00 UTC the day before.
    assert segment.valid_from == dt.datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert segment.valid_to == dt.datetime(2027, 2, 28, 16, 0, tzinfo=UTC)
    assert (segment.status, segment.approval_ref) == ("approved", "阳交运发〔2026〕7号")
    assert "2026-03-01 00:00 – 2027-03-01 00:00" in text_of(response.content)


def test_return_and_suspend_need_a_reason(world: World, segments: dict[str, RoadSegment]) -> None:
    client = browser_for(world.bureau)
    response = client.post(f"/segments/{segments['submitted'].pk}/return/", {"reason": ""})
    assert field_errors(response, "reason") == ["该字段是必填项。"]
    response = client.post(f"/segments/{segments['approved'].pk}/suspend/", {"reason": ""})
    assert field_errors(response, "reason") == ["该字段是必填项。"]


def test_a_refused_transition_is_shown_above_the_form(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    # The draft is not submitted: the service refuses, naming `status`, which the form lacks.
    response = browser_for(world.bureau).post(
        f"/segments/{segments['draft'].pk}/approve/",
        {"valid_from": "2026-03-01T00:00", "approval_ref": "阳交运发〔2026〕8号"},
    )
    assert response.context["form"].non_field_errors() == [
        "只有已提交的路段才能批准（此路段状态为 草稿）。"
    ]


def test_reinstating_opens_the_new_version(world: World, segments: dict[str, RoadSegment]) -> None:
    suspended = segments["suspended"]
    response = browser_for(world.bureau).post(
        f"/segments/{suspended.pk}/reinstate/",
        {"valid_from": "2099-01-01T00:00", "approval_ref": "阳交运发〔2099〕1号", "reason": "复工"},
    )
    new = RoadSegment.objects.get(supersedes=suspended)
    assert response.status_code == 302
    assert response["Location"] == f"/segments/{new.pk}/"
    assert (new.version, new.status) == (2, "approved")


def test_the_detail_lists_the_versions_and_the_audit_trail(
    world: World, segments: dict[str, RoadSegment]
) -> None:
    old = segments["approved"]
    new = services.segment_update(
        actor=world.bureau, segment=old, data={"geometry": line((LON0, LAT0), (LON0 + 0.02, LAT0))}
    )
    page = text_of(browser_for(world.bureau).get(f"/segments/{old.pk}/").content)
    assert "已有更新版本： 第 2 版 （草稿）" in page  # tags are spaces in text_of
    assert "审计记录" in page
    detail = browser_for(world.bureau).get(f"/segments/{new.pk}/")
    assert [v.version for v in detail.context["versions"]] == [1, 2]


# ---- drawing ------------------------------------------------------------------------------


def draw(client: Client, url: str, **fields: Any) -> Any:
    data = {"name": "新建路", "kind": "road", "two_way": "on", "corridor_half_width_m": "15"}
    data.update(fields)
    if isinstance(data.get("geometry"), dict):
        data["geometry"] = json.dumps(data["geometry"])
    return client.post(url, data)


@pytest.mark.parametrize(
    ("geometry", "kind", "message"),
    [
        (line((120.0, 30.0), (120.01, 30.0)), "road", "位于服务区域（"),
        (square(LON0, LAT0, 0.01), "road", "需要 LineString, MultiLineString 类型的几何"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [LON0, LAT0],
                        [LON0 + 0.01, LAT0 + 0.01],
                        [LON0 + 0.01, LAT0],
                        [LON0, LAT0 + 0.01],
                        [LON0, LAT0],
                    ]
                ],
            },
            "area",
            "多边形无效（",
        ),
        ("{not json", "road", "不是有效的 JSON"),
        ("", "road", "请在地图上绘制道路或区域。"),
    ],
)
def test_a_refused_geometry_is_shown_next_to_the_geometry_field_in_chinese(
    world: World, geometry: Any, kind: str, message: str
) -> None:
    response = draw(browser_for(world.bureau), "/segments/new/", geometry=geometry, kind=kind)
    assert response.status_code == 200
    errors = field_errors(response, "geometry")
    assert len(errors) == 1
    assert message in errors[0]
    assert 'id="id_geometry_error"' in response.content.decode()
    assert not RoadSegment.objects.filter(name="新建路").exists()


def test_a_drawn_road_is_saved_as_a_draft_with_its_corridor(world: World) -> None:
    response = draw(
        browser_for(world.bureau),
        "/segments/new/",
        geometry=line((LON0, LAT0), (LON0 + 0.01, LAT0)),
        corridor_half_width_m="",
        road_code="X001",
    )
    segment = RoadSegment.objects.get(name="新建路")
    assert response["Location"] == f"/segments/{segment.pk}/"
    assert (segment.status, segment.kind, segment.road_code, segment.two_way) == (
        "draft",
        "road",
        "X001",
        True,
    )
    assert segment.corridor_half_width_m == 15  # empty means the default
    # 0.01° of longitude at 37.86°N is about 880 m.
    assert segment.length_m == pytest.approx(880, rel=0.01)


def test_a_drawn_area_ignores_the_corridor_width(world: World) -> None:
    draw(
        browser_for(world.bureau),
        "/segments/new/",
        name="示范片区",
        kind="area",
        geometry=square(LON0, LAT0, 0.01),
        corridor_half_width_m="15",
    )
    area = RoadSegment.objects.get(name="示范片区")
    assert (area.kind, area.corridor_half_width_m) == ("area", None)


def test_changing_an_approved_geometry_makes_a_new_draft_version(world: World) -> None:
    road = approved_road(world.bureau)
    client = browser_for(world.bureau)
    form = client.get(f"/segments/{road.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["two_way"] = "on"
    data["geometry"] = json.dumps(line((LON0, LAT0), (LON0 + 0.02, LAT0)))
    response = client.post(f"/segments/{road.pk}/edit/", data, follow=True)
    new = RoadSegment.objects.get(supersedes=road)
    assert (new.version, new.status) == (2, "draft")
    assert "已生成第 2 版草稿；第 1 版在新版本批准前继续有效。" in text_of(response.content)


def test_renaming_with_the_same_geometry_changes_the_version_in_place(world: World) -> None:
    road = approved_road(world.bureau)
    client = browser_for(world.bureau)
    data = dict(client.get(f"/segments/{road.pk}/edit/").context["form"].initial)
    data.update(name="德胜东街", two_way="on")
    client.post(f"/segments/{road.pk}/edit/", data)
    road.refresh_from_db()
    assert road.name == "德胜东街"
    assert not RoadSegment.objects.filter(supersedes=road).exists()


# ---- import -------------------------------------------------------------------------------


def geojson_file(features: list[dict[str, Any]], name: str = "roads.geojson") -> io.BytesIO:
    upload = io.BytesIO(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    upload.name = name
    return upload


def feature(name: str, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"name": name, **props}, "geometry": geometry}


GOOD = [
    feature("导入一路", line((LON0, LAT0), (LON0 + 0.01, LAT0))),
    feature("导入片区", square(LON0, LAT0 + 0.01, 0.01)),
]


def test_the_import_page_names_the_properties_it_reads_as_code(world: World) -> None:
    body = browser_for(world.bureau).get("/segments/import/").content.decode()
    # the names as they must be spelled in the file, each marked as code, never translated
    for name in ("name", "名称", "kind", "road", "area", "two_way", "road_code"):
        assert f"<code>{name}</code>" in body
    assert "<dt><code>corridor_half_width_m</code></dt><dd>走廊半宽（米）；未填时为 15</dd>" in body


def test_import_dry_run_previews_and_commit_creates_drafts(world: World) -> None:
    client = browser_for(world.bureau)
    preview = client.post("/segments/import/", {"file": geojson_file(GOOD), "crs": "EPSG:4326"})
    assert preview.status_code == 200
    page = text_of(preview.content)
    assert "2. 检查结果（尚未保存）" in page
    assert "将这 2 个要素导入为草稿？" in page
    assert len(preview.context["report_geojson"]["features"]) == 2
    assert not RoadSegment.objects.exists()  # a dry run writes nothing
    # Two-way is a road's property: the area's row says nothing of it.
    rows = {
        name: row
        for row in preview.content.decode().split("<tr")
        for name in ("导入一路", "导入片区")
        if f"<td>{name}</td>" in row
    }
    assert "<td>是</td>" in rows["导入一路"]
    assert "<td>是</td>" not in rows["导入片区"]
    assert "<td>—</td>" in rows["导入片区"]

    token = preview.context["commit_form"].initial["token"]
    done = client.post("/segments/import/commit/", {"token": token}, follow=True)
    assert "已从 roads.geojson 导入 2 个路段草稿。" in text_of(done.content)
    assert sorted(RoadSegment.objects.values_list("name", "status")) == [
        ("导入一路", "draft"),
        ("导入片区", "draft"),
    ]
    # The kept file is gone: the same token cannot import twice.
    again = client.post("/segments/import/commit/", {"token": token}, follow=True)
    assert "预览的文件已不在服务器上" in text_of(again.content)
    assert RoadSegment.objects.count() == 2


def test_import_problems_are_listed_per_feature_and_block_the_commit(world: World) -> None:
    features = [*GOOD, feature("远方路", line((120.0, 30.0), (120.01, 30.0)))]
    preview = browser_for(world.bureau).post(
        "/segments/import/", {"file": geojson_file(features), "crs": "EPSG:4326"}
    )
    page = text_of(preview.content)
    assert "位于服务区域（" in page
    assert "存在有问题的要素时不能导入" in page
    assert "commit_form" not in preview.context


def test_a_file_without_a_coordinate_system_is_refused_on_the_crs_field(world: World) -> None:
    response = browser_for(world.bureau).post("/segments/import/", {"file": geojson_file(GOOD)})
    assert field_errors(response, "crs")[0].startswith("此 geojson 文件未说明坐标系")


def test_a_token_from_another_session_imports_nothing(world: World) -> None:
    preview = browser_for(world.bureau).post(
        "/segments/import/", {"file": geojson_file(GOOD), "crs": "EPSG:4326"}
    )
    token = preview.context["commit_form"].initial["token"]
    browser_for(world.admin).post("/segments/import/commit/", {"token": token})
    assert not RoadSegment.objects.exists()


def test_a_zipped_shapefile_needs_its_parts(world: World) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("roads.shp", b"not really")
    archive.seek(0)
    archive.name = "roads.zip"
    response = browser_for(world.bureau).post("/segments/import/", {"file": archive})
    assert field_errors(response, "file")


# ---- dashboard and catalogue --------------------------------------------------------------


def test_the_dashboard_card_shows_two_way_km_against_the_plan(world: World) -> None:
    # A two-way road 0.01° long at 37.86°N (~880 m) counts twice: ~1.8 km of 200 (0.9 %).
    approved(world.bureau, draft_road(world.bureau))
    for user in (world.bureau, world.staff_a):
        response = browser_for(user).get("/")
        assert response.context["two_way_km"] == pytest.approx(1.76, rel=0.01)
        page = text_of(response.content)
        assert "双向运营里程（规划目标 200 公里）" in page
        assert "1.760 / 目标 200 公里" in page  # km to 3 decimals everywhere


def test_the_segment_pages_switch_to_english(
    world: World, segments: dict[str, RoadSegment], settings: Any
) -> None:
    client = browser_for(world.bureau)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text_of(client.get("/segments/").content)
    assert "Draw a road or area" in page
    assert "Submitted" in page
    detail = text_of(client.get(f"/segments/{segments['submitted'].pk}/approve/").content)
    assert "Valid from" in detail


def gettext_tool(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - our own arguments, no user input
        list(args), capture_output=True, text=True, check=True
    ).stdout


def test_the_segment_pages_catalogue_is_complete_and_compiled(tmp_path: Path) -> None:
    source = str(CATALOGUE / "django.po")
    assert gettext_tool("msgattrib", "--untranslated", "--no-obsolete", source) == ""
    compiled = tmp_path / "django.mo"
    gettext_tool("msgfmt", "--check-format", "-o", str(compiled), source)
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes()
