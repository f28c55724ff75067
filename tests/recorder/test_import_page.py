"""Importing a recorder event file on the web page, as a company: the same service as the
API, so the same refusals by line, idempotency and incidents, in both languages."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from operators.models import User
from recorder.models import AdsEvent, Incident
from tests.conftest import World

pytestmark = pytest.mark.django_db

URL = "/ads-events/import/"
HEADER = "time,vin,event,initiator,lat,lon,note\n"


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, text: str, name: str = "events.csv") -> str:
    data = io.BytesIO(text.encode())
    data.name = name
    response = client.post(URL, {"file": data}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_a_company_imports_a_file_on_the_page_and_again_adds_nothing(world: World) -> None:
    vin = world.vehicle_a.vin
    text = (
        f"{HEADER}2026-03-02T09:00:00+08:00,{vin},activation,driver,,,\n"
        f"2026-03-02T09:30:00+08:00,{vin},collision,,37.86,113.55,追尾\n"
    )
    client = client_of(world.staff_a)
    assert "导入数据记录系统事件" in client.get("/incidents/").content.decode()
    page = client.get(URL).content.decode()
    assert 'enctype="multipart/form-data"' in page
    page = upload(client, text)
    assert "读取 2 行：新记录事件 2 个，新生成事故 1 起。" in page
    assert AdsEvent.objects.count() == 2
    assert Incident.objects.count() == 1
    page = upload(client, text)
    assert "读取 2 行：新记录事件 0 个，新生成事故 0 起。" in page
    assert AdsEvent.objects.count() == 2


def test_refused_lines_are_named_on_the_page_and_nothing_is_kept(world: World) -> None:
    vin = world.vehicle_a.vin
    text = (
        f"{HEADER}2026-03-02T09:00:00+08:00,{vin},activation,driver,,,\n"
        f"2026-03-02T09:10:00,{vin},deactivation,driver,,,\n"  # line 3: no offset
        f"2026-03-02T09:11:00+08:00,{world.vehicle_b.vin},activation,driver,,,\n"  # theirs
    )
    client = client_of(world.staff_a)
    page = upload(client, text)
    assert "第 3 行：时间不是带时区偏移的 ISO 8601 格式（time）" in page
    assert "第 4 行：无此车辆（vin）" in page
    assert AdsEvent.objects.count() == 0
    client.cookies["django_language"] = "en"
    page = upload(client, text)
    assert "line 3: the time is not ISO 8601 with an offset (time)" in page
    assert "Import recorder events" in page


def test_finance_may_not_import_on_the_page(world: World) -> None:
    assert client_of(world.finance).get(URL).status_code == 403
