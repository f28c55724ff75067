"""The web pages without a browser: scoping, role gates, language, form error mapping."""

import datetime as dt
import io

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core.errors import ApplicationError
from core.forms import Form, submit
from operators import services
from operators.models import User, Vehicle
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db


def browser_for(user: User, language: str = "") -> Client:
    client = Client(headers={"accept-language": language} if language else {})
    client.force_login(user)
    return client


class PlateForm(Form):
    plate = forms.CharField()


def refuse(error: Exception) -> None:
    raise error


def double(*, n: int) -> int:
    return n * 2


def test_submit_puts_a_model_validation_error_next_to_the_field_it_names() -> None:
    form = PlateForm(data={"plate": "x"})
    assert form.is_valid()
    result = submit(form, refuse, ValidationError({"plate": ["bad plate"]}))
    assert result is None
    assert form.errors == {"plate": ["bad plate"]}


def test_submit_puts_a_refusal_naming_a_field_the_form_lacks_above_the_form() -> None:
    form = PlateForm(data={"plate": "x"})
    assert form.is_valid()
    submit(form, refuse, ApplicationError("settle first", field="settled_on"))
    assert form.non_field_errors() == ["settle first"]


def test_submit_returns_what_the_service_returns() -> None:
    form = PlateForm(data={"plate": "x"})
    assert form.is_valid()
    assert submit(form, double, n=21) == 42
    assert not form.errors


@pytest.mark.parametrize("path", ["", "edit/", "approve/", "status/"])
def test_company_staff_get_404_for_every_page_of_another_companys_vehicle(
    world: World, path: str
) -> None:
    response = browser_for(world.staff_a).get(f"/vehicles/{world.vehicle_b.pk}/{path}")
    assert response.status_code == 404
    assert world.vehicle_b.plate not in response.content.decode()


@pytest.mark.parametrize("path", ["", "edit/", "admit/", "status/"])
def test_company_staff_get_404_for_every_page_of_another_company(world: World, path: str) -> None:
    response = browser_for(world.staff_a).get(f"/companies/{world.company_b.pk}/{path}")
    assert response.status_code == 404


def test_company_staff_see_only_their_own_vehicles_in_the_list(world: World) -> None:
    page = browser_for(world.staff_a).get("/vehicles/").content.decode()
    assert world.vehicle_a.plate in page
    assert world.vehicle_b.plate not in page


def test_company_staff_may_not_approve_a_permit_of_their_own_vehicle(world: World) -> None:
    response = browser_for(world.staff_a).get(f"/vehicles/{world.vehicle_a.pk}/approve/")
    assert response.status_code == 403


def test_finance_sees_companies_but_not_the_buttons_that_change_them(world: World) -> None:
    page = browser_for(world.finance).get(f"/companies/{world.company_a.pk}/")
    assert page.status_code == 200
    assert f"/companies/{world.company_a.pk}/status/" not in page.content.decode()
    assert (
        browser_for(world.finance).get(f"/companies/{world.company_a.pk}/status/").status_code
        == 403
    )


def test_anonymous_visitors_are_sent_to_the_login_page(db: None) -> None:
    response = Client().get("/companies/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_pages_are_in_chinese_even_when_the_browser_prefers_english(world: World) -> None:
    page = browser_for(world.staff_a, language="en-US,en;q=0.9").get("/").content.decode()
    assert "阳泉市智能网联汽车示范应用里程与补贴台账" in page


def test_the_language_switcher_turns_pages_english(world: World) -> None:
    client = browser_for(world.staff_a)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Yangquan AV pilot mileage and subsidy ledger" in client.get("/").content.decode()


def test_the_api_still_answers_in_the_language_the_client_asks_for(world: World) -> None:
    client = browser_for(world.staff_a, language="en")
    response = client.post("/api/v1/vehicles/", {"vin": "X", "plate": "X", "category": "taxi"})
    assert response.status_code == 400
    assert "A VIN is 17 digits" in response.content.decode()


def test_a_permit_ending_within_30_days_is_flagged_on_the_dashboard(world: World) -> None:
    today = timezone.localdate()
    soon = factories.vehicle(
        actor=world.bureau,
        operator=world.company_a,
        permit=(today - dt.timedelta(days=300), today + dt.timedelta(days=29)),
    )
    page = browser_for(world.staff_a).get("/").content.decode()
    assert soon.plate in page
    assert "30 天内到期" in page
    assert world.vehicle_a.plate not in page  # valid to 2027-12-31


def test_the_expiring_filter_lists_only_permits_ending_within_30_days(world: World) -> None:
    today = timezone.localdate()
    expired = factories.vehicle(
        actor=world.bureau,
        operator=world.company_a,
        permit=(today - dt.timedelta(days=300), today - dt.timedelta(days=1)),
    )
    page = browser_for(world.bureau).get("/vehicles/?permit=expired").content.decode()
    assert expired.plate in page
    assert world.vehicle_a.plate not in page


def test_the_audit_trail_shows_old_and_new_status_with_the_reason(world: World) -> None:
    client = browser_for(world.bureau)
    response = client.post(
        f"/vehicles/{world.vehicle_a.pk}/status/",
        {"status": Vehicle.Status.SUSPENDED, "reason": "事故调查期间暂停"},
        follow=True,
    )
    page = response.content.decode()
    assert "事故调查期间暂停" in page
    assert '<td class="old">许可已批准</td>' in page  # the audit table: before, after
    assert '<td class="new">已暂停</td>' in page


def test_a_taken_plate_is_refused_next_to_the_plate_field(world: World) -> None:
    response = browser_for(world.staff_a).post(
        "/vehicles/new/",
        {"vin": factories.vin(), "plate": world.vehicle_b.plate, "category": "taxi"},
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["plate"]
    assert response.context["form"].errors["plate"] == ["已有车辆使用此号牌。"]


def test_admitting_a_company_without_a_settling_date_is_refused_above_the_form(
    world: World,
) -> None:
    unsettled = services.operator_create(
        actor=world.bureau, name="丁公司", credit_code=factories.credit_code()
    )
    response = browser_for(world.bureau).post(
        f"/companies/{unsettled.pk}/admit/", {"pilot_admitted_on": "2026-03-01"}
    )
    assert response.context["form"].non_field_errors() == ["请先登记企业落户阳泉的日期。"]
    assert '<ul class="errorlist nonfield" role="alert">' in response.content.decode()


def test_company_staff_correct_the_plate_of_a_proposed_vehicle(world: World) -> None:
    proposed = factories.vehicle(actor=world.staff_a, operator=world.company_a, permit=None)
    response = browser_for(world.staff_a).post(
        f"/vehicles/{proposed.pk}/edit/", {"plate": "晋CD77777", "category": "bus"}, follow=True
    )
    assert "修改已保存。" in response.content.decode()
    proposed.refresh_from_db()
    assert (proposed.plate, proposed.category) == ("晋CD77777", "bus")


def test_company_staff_cannot_change_an_approved_vehicle(world: World) -> None:
    client = browser_for(world.staff_a)
    detail = client.get(f"/vehicles/{world.vehicle_a.pk}/").content.decode()
    assert f"/vehicles/{world.vehicle_a.pk}/edit/" not in detail
    response = client.post(
        f"/vehicles/{world.vehicle_a.pk}/edit/", {"plate": "晋CD77777", "category": "bus"}
    )
    assert response.context["form"].non_field_errors() == ["已批准的车辆只能由交通运输局修改。"]
    world.vehicle_a.refresh_from_db()
    assert world.vehicle_a.plate != "晋CD77777"


# What each demo account may not open; everything else answers 200.
DEMO_FORBIDDEN = {
    "company1": {"/companies/", "/companies/new/"},
    "bureau": set(),
    "finance": {"/companies/new/", "/vehicles/new/"},
    "admin": set(),
}


def test_every_page_works_with_the_demo_data_for_each_account(db: None) -> None:
    call_command("load_demo", stdout=io.StringIO())  # once: it is the slow part
    own = User.objects.get(username="company1").operator
    assert own is not None
    vehicle = Vehicle.objects.filter(operator=own).first()
    assert vehicle is not None
    pages = [
        "/",
        "/vehicles/",
        "/vehicles/?status=approved&permit=expiring&q=CD",
        "/vehicles/new/",
        f"/vehicles/{vehicle.pk}/",
        "/companies/",
        "/companies/new/",
        f"/companies/{own.pk}/",
    ]
    for username, forbidden in DEMO_FORBIDDEN.items():
        client = browser_for(User.objects.get(username=username))
        for path in pages:
            expected = 403 if path in forbidden else 200
            assert client.get(path).status_code == expected, (username, path)
