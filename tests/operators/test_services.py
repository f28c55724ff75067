import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model

from core.errors import ApplicationError
from core.models import AuditRecord
from operators import services
from operators.models import Operator, Vehicle
from tests import factories
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db


def records_for(obj: Model) -> list[AuditRecord]:
    return list(
        AuditRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).order_by("id")
    )


def test_admission_is_audited_with_old_and_new_values_and_reason(world: World) -> None:
    company = factories.operator(actor=world.bureau, admitted_on=None)
    services.operator_admit(
        actor=world.bureau,
        operator=company,
        pilot_admitted_on=dt.date(2024, 3, 1),
        reason="第一批准入",
    )
    last = records_for(company)[-1]
    assert last.action == "admitted"
    assert last.actor == world.bureau
    assert last.reason == "第一批准入"
    assert last.changes == {
        "pilot_admitted_on": [None, "2024-03-01"],
        "status": ["registered", "admitted"],
    }


def test_creation_is_audited_field_by_field(world: World) -> None:
    company = factories.operator(actor=world.bureau, admitted_on=None)
    created = records_for(company)[0]
    assert created.action == "create"
    assert created.changes["credit_code"] == [None, company.credit_code]


def test_update_without_change_writes_no_audit_record(world: World) -> None:
    before = AuditRecord.objects.count()
    services.operator_update(
        actor=world.bureau, operator=world.company_a, data={"name": world.company_a.name}
    )
    assert AuditRecord.objects.count() == before


def test_admission_needs_the_settling_date(world: World) -> None:
    company = services.operator_create(
        actor=world.bureau, name="未落户", credit_code=factories.credit_code()
    )
    with pytest.raises(ApplicationError) as error:
        services.operator_admit(
            actor=world.bureau, operator=company, pilot_admitted_on=dt.date(2024, 1, 1)
        )
    assert error.value.field == "settled_on"


def test_eligibility_starts_at_the_later_of_settling_and_admission(world: World) -> None:
    company = factories.operator(
        actor=world.bureau, settled_on=dt.date(2024, 5, 1), admitted_on=dt.date(2024, 3, 1)
    )
    assert company.eligible_from == dt.date(2024, 5, 1)


def test_company_staff_cannot_admit(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.operator_admit(
            actor=world.staff_a, operator=world.company_a, pilot_admitted_on=dt.date(2024, 1, 1)
        )


def test_suspension_needs_a_reason(world: World) -> None:
    with pytest.raises(ApplicationError) as error:
        services.operator_set_status(
            actor=world.bureau, operator=world.company_a, status="suspended", reason=" "
        )
    assert error.value.field == "reason"


def test_withdrawn_company_cannot_be_readmitted(world: World) -> None:
    services.operator_set_status(
        actor=world.bureau, operator=world.company_a, status="withdrawn", reason="退出"
    )
    with pytest.raises(ApplicationError):
        services.operator_admit(
            actor=world.bureau, operator=world.company_a, pilot_admitted_on=dt.date(2025, 1, 1)
        )
    assert Operator.objects.get(pk=world.company_a.pk).status == "withdrawn"


def test_permit_window_covers_whole_local_days(world: World) -> None:
    vehicle = factories.vehicle(
        actor=world.bureau,
        operator=world.company_a,
        permit=(dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    )
    start, end = vehicle.permit_window()  # type: ignore[misc]
    # 2026-01-01 00:00 in Shanghai is 2025-12-31 16:00 UTC; the end is exclusive.
    assert start == dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)


def test_permit_renewal_keeps_approved_status_and_is_audited_as_renewal(world: World) -> None:
    services.vehicle_approve(
        actor=world.bureau,
        vehicle=world.vehicle_a,
        permit_number="续期",
        permit_valid_from=dt.date(2028, 1, 1),
        permit_valid_to=dt.date(2028, 12, 31),
    )
    vehicle = Vehicle.objects.get(pk=world.vehicle_a.pk)
    assert vehicle.status == "approved"
    assert records_for(vehicle)[-1].action == "renew"


def test_database_refuses_an_approved_vehicle_without_permit(world: World) -> None:
    world.vehicle_a.permit_number = ""
    with pytest.raises(ValidationError):
        world.vehicle_a.full_clean()


def test_audit_trail_is_readable_by_government_staff_and_not_by_companies(world: World) -> None:
    url = f"/api/v1/audit/?model=vehicle&object_id={world.vehicle_a.pk}"
    for reader in (world.bureau, world.finance, world.admin):
        body = client_for(reader).get(url).json()
        assert {row["action"] for row in body["results"]} == {"create", "approved"}
    assert client_for(world.staff_a).get(url).status_code == 403


def test_audit_records_cannot_be_changed_or_deleted(world: World) -> None:
    record = AuditRecord.objects.first()
    assert record is not None
    record.reason = "tampered"
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        record.delete()
    with pytest.raises(TypeError):
        AuditRecord.objects.filter(pk=record.pk).update(reason="tampered")
    with pytest.raises(TypeError):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.get(pk=record.pk).reason != "tampered"


def test_company_staff_may_change_their_vehicle_only_while_it_is_proposed(world: World) -> None:
    proposed = factories.vehicle(actor=world.staff_a, operator=world.company_a, permit=None)
    approved = world.vehicle_a
    may = services.vehicle_changeable_by
    assert (may(world.staff_a, proposed), may(world.staff_a, approved)) == (True, False)
    assert (may(world.bureau, approved), may(world.admin, approved)) == (True, True)
    assert not may(world.finance, proposed)
    with pytest.raises(ApplicationError):
        services.vehicle_update(actor=world.staff_a, vehicle=approved, data={"plate": "晋C12345"})
