"""Every state change of companies, vehicles, users and tokens."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import ADMINISTER, MANAGE_COMPANIES, PROPOSE_VEHICLES, Role
from core.services import audit_record, model_create, model_update, require, transition
from core.versions import check_version

from .auth import hash_key
from .identifiers import normalise_credit_code, normalise_plate, normalise_vin
from .models import ApiToken, BankDetailsChange, Operator, User, Vehicle

OPERATOR_FIELDS = frozenset(
    {"name", "credit_code", "settled_on", "contact_name", "contact_phone", "contact_email"}
)
VEHICLE_FIELDS = frozenset(
    {"plate", "category", "permit_number", "permit_valid_from", "permit_valid_to"}
)


@transaction.atomic
def operator_create(*, actor: User, name: str, credit_code: str, **fields: Any) -> Operator:
    require(actor, MANAGE_COMPANIES)
    unknown = set(fields) - OPERATOR_FIELDS
    if unknown:
        raise ApplicationError(_("Unknown field."), field=sorted(unknown)[0])
    operator = Operator(name=name, credit_code=normalise_credit_code(credit_code), **fields)
    return model_create(instance=operator, actor=actor)


@transaction.atomic
def operator_update(*, actor: User, operator: Operator, data: dict[str, Any]) -> Operator:
    require(actor, MANAGE_COMPANIES)
    unknown = set(data) - OPERATOR_FIELDS
    if unknown:
        raise ApplicationError(_("This field cannot be changed here."), field=sorted(unknown)[0])
    if "credit_code" in data:
        data = {**data, "credit_code": normalise_credit_code(data["credit_code"])}
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    return model_update(instance=operator, data=data, actor=actor)


@transaction.atomic
def operator_admit(
    *,
    actor: User,
    operator: Operator,
    pilot_admitted_on: dt.date,
    reason: str = "",
    seen_version: int | None = None,
) -> Operator:
    """Admit a company to the demonstration pilot (or reinstate a suspended one)."""
    require(actor, MANAGE_COMPANIES)
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    check_version(operator, seen_version)
    if operator.settled_on is None:
        raise ApplicationError(
            _("Record the date the company settled in Yangquan first."), field="settled_on"
        )
    return transition(
        instance=operator,
        to=Operator.Status.ADMITTED,
        actor=actor,
        reason=reason,
        data={"pilot_admitted_on": pilot_admitted_on},
    )


@transaction.atomic
def operator_set_status(
    *, actor: User, operator: Operator, status: str, reason: str, seen_version: int | None = None
) -> Operator:
    """Suspend or withdraw a company; admission goes through operator_admit."""
    require(actor, MANAGE_COMPANIES)
    if status == Operator.Status.ADMITTED:
        raise ApplicationError(_("Use admission to admit a company."), field="status")
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), field="reason")
    operator = Operator.objects.select_for_update().get(pk=operator.pk)
    check_version(operator, seen_version)
    return transition(instance=operator, to=status, actor=actor, reason=reason)


@transaction.atomic
def vehicle_propose(
    *,
    actor: User,
    vin: str,
    plate: str,
    category: str,
    operator: Operator | None = None,
    **fields: Any,
) -> Vehicle:
    """Company staff propose a vehicle of their own company; the bureau may for any company."""
    require(actor, PROPOSE_VEHICLES)
    if actor.role == Role.OPERATOR:
        if operator is not None and operator.pk != actor.operator_id:
            raise ApplicationError(_("You can only register your own vehicles."), field="operator")
        operator = actor.operator
    if operator is None:
        raise ApplicationError(_("Choose the company."), field="operator")
    unknown = set(fields) - VEHICLE_FIELDS
    if unknown:
        raise ApplicationError(_("Unknown field."), field=sorted(unknown)[0])
    vehicle = Vehicle(
        operator=operator,
        vin=normalise_vin(vin),
        plate=normalise_plate(plate),
        category=category,
        **fields,
    )
    return model_create(instance=vehicle, actor=actor)


def vehicle_changeable_by(user: User, vehicle: Vehicle) -> bool:
    """Who may correct a vehicle: company staff only while it is proposed; the bureau (and
    admins) at any time. `vehicle_update` enforces it; pages use it to offer the edit."""
    return PROPOSE_VEHICLES.allows(user) and (
        user.role != Role.OPERATOR or vehicle.status == Vehicle.Status.PROPOSED
    )


@transaction.atomic
def vehicle_update(
    *, actor: User, vehicle: Vehicle, data: dict[str, Any], seen_version: int | None = None
) -> Vehicle:
    """Companies may correct a vehicle only while it is proposed; the bureau at any time."""
    require(actor, PROPOSE_VEHICLES)
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    check_version(vehicle, seen_version)
    if not vehicle_changeable_by(actor, vehicle):
        raise ApplicationError(
            _("An approved vehicle can only be changed by the transport bureau."), field="status"
        )
    unknown = set(data) - VEHICLE_FIELDS
    if unknown:
        raise ApplicationError(_("This field cannot be changed here."), field=sorted(unknown)[0])
    if "plate" in data:
        data = {**data, "plate": normalise_plate(data["plate"])}
    return model_update(instance=vehicle, data=data, actor=actor)


@transaction.atomic
def vehicle_approve(
    *,
    actor: User,
    vehicle: Vehicle,
    permit_number: str,
    permit_valid_from: dt.date,
    permit_valid_to: dt.date,
    reason: str = "",
    seen_version: int | None = None,
) -> Vehicle:
    """Approve (or renew, or reinstate) a vehicle's permit with its validity window.

    `seen_version` (core/versions.py): a form opened before someone else approved, renewed
    or changed the vehicle is refused rather than renewing the permit a second time."""
    require(actor, MANAGE_COMPANIES)
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    check_version(vehicle, seen_version)
    data = {
        "permit_number": permit_number,
        "permit_valid_from": permit_valid_from,
        "permit_valid_to": permit_valid_to,
    }
    if vehicle.status == Vehicle.Status.APPROVED:  # a renewal keeps the status
        return model_update(instance=vehicle, data=data, actor=actor, action="renew", reason=reason)
    return transition(
        instance=vehicle, to=Vehicle.Status.APPROVED, actor=actor, reason=reason, data=data
    )


@transaction.atomic
def vehicle_set_status(
    *, actor: User, vehicle: Vehicle, status: str, reason: str, seen_version: int | None = None
) -> Vehicle:
    """Reject, suspend or retire a vehicle; approval goes through vehicle_approve."""
    require(actor, MANAGE_COMPANIES)
    if status == Vehicle.Status.APPROVED:
        raise ApplicationError(_("Use permit approval to approve a vehicle."), field="status")
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), field="reason")
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    check_version(vehicle, seen_version)
    return transition(instance=vehicle, to=status, actor=actor, reason=reason)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    operator: Operator | None = None,
) -> User:
    """Make an account; `actor` is None when made from the command line."""
    if actor is not None:
        require(actor, ADMINISTER)
    user = User(
        username=username,
        role=role,
        operator=operator,
        # Government staff use the Django admin (read-mostly); admins manage everything.
        is_staff=role != Role.OPERATOR,
        is_superuser=role == Role.ADMIN,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(
        actor=actor,
        obj=user,
        action="create",
        changes={
            "username": [None, username],
            "role": [None, role],
            "operator": [None, operator.pk if operator else None],
        },
    )
    return user


def token_create(*, user: User) -> str:
    """Make an API token and return its key; only the key's hash is kept."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=hash_key(key), prefix=key[:8])
    return key


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- bank details ----------------------------------------------------------------------------


@transaction.atomic
def bank_details_request(
    *, actor: User, operator: Operator, bank_name: str, bank_account: str
) -> BankDetailsChange:
    """Ask to change where a company's subsidies are paid: its own staff, finance or the
    bureau may ask; the bureau confirms (bank_details_decide)."""
    if not (
        (actor.role == Role.OPERATOR and actor.operator_id == operator.pk) or actor.is_government
    ):
        raise PermissionDenied
    account = "".join(bank_account.split())
    if not account.isdigit() or not 8 <= len(account) <= 40:
        raise ApplicationError(_("An account number is 8 to 40 digits."), field="bank_account")
    if BankDetailsChange.objects.filter(
        operator=operator, status=BankDetailsChange.Status.PENDING
    ).exists():
        raise ApplicationError(
            _("A change of the bank details is waiting for the bureau already."),
            field="bank_account",
        )
    return model_create(
        instance=BankDetailsChange(
            operator=operator,
            bank_name=bank_name.strip(),
            bank_account=account,
            requested_by=actor,
            requested_at=timezone.now(),
        ),
        actor=actor,
    )


@transaction.atomic
def bank_details_decide(
    *,
    actor: User,
    change: BankDetailsChange,
    confirm: bool,
    reason: str = "",
    seen_version: int | None = None,
) -> BankDetailsChange:
    """The bureau confirms (the company's details change, audited old → new) or rejects;
    never the person who asked."""
    require(actor, MANAGE_COMPANIES)
    change = BankDetailsChange.objects.select_for_update().get(pk=change.pk)
    check_version(change, seen_version)
    if change.requested_by_id == actor.pk:
        raise ApplicationError(
            _("You asked for this change: another person of the bureau confirms it."),
            field="status",
        )
    change = transition(
        instance=change,
        to=BankDetailsChange.Status.CONFIRMED if confirm else BankDetailsChange.Status.REJECTED,
        actor=actor,
        reason=reason,
        data={"decided_by": actor, "decided_at": timezone.now()},
    )
    if confirm:
        operator = Operator.objects.select_for_update().get(pk=change.operator_id)
        model_update(
            instance=operator,
            data={"bank_name": change.bank_name, "bank_account": change.bank_account},
            actor=actor,
            action="bank_details",
            reason=reason,
        )
    return change
