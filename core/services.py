"""The audit mechanism every app's services use: create, update and record, in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .models import AuditRecord

if TYPE_CHECKING:
    from operators.models import User

    from .roles import Capability

M = TypeVar("M", bound=models.Model)


def _value(instance: models.Model, name: str) -> Any:
    field = instance._meta.get_field(name)
    value = getattr(instance, field.attname)  # type: ignore[union-attr]
    return value.name if isinstance(value, FieldFile) else value


def audit_record(
    *,
    actor: User | None,
    obj: models.Model,
    action: str,
    changes: Mapping[str, list[Any]] | None = None,
    reason: str = "",
) -> AuditRecord:
    record = AuditRecord(
        actor=actor,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        changes=dict(changes or {}),
        reason=reason,
    )
    record.save()
    return record


def model_create(*, instance: M, actor: User | None, reason: str = "") -> M:
    """Validate, save and audit a new row (every concrete field is recorded as null → value)."""
    instance.full_clean()
    instance.save()
    changes = {
        f.name: [None, _value(instance, f.name)]
        for f in instance._meta.concrete_fields
        if not f.primary_key
    }
    audit_record(actor=actor, obj=instance, action="create", changes=changes, reason=reason)
    return instance


def model_update(
    *,
    instance: M,
    data: Mapping[str, Any],
    actor: User | None,
    action: str = "update",
    reason: str = "",
    extra_fields: Iterable[str] = (),
) -> M:
    """Apply `data`, validate, save only what changed and audit old → new.

    `extra_fields` are saved without being compared (e.g. auto timestamps).
    """
    changes: dict[str, list[Any]] = {}
    for name, new in data.items():
        old = _value(instance, name)
        setattr(instance, name, new)
        if _value(instance, name) != old:
            changes[name] = [old, _value(instance, name)]
    if not changes:
        return instance
    instance.full_clean()
    instance.save(update_fields=[*changes, *extra_fields])
    audit_record(actor=actor, obj=instance, action=action, changes=changes, reason=reason)
    return instance


def require(actor: User, capability: Capability) -> None:
    """Services check the actor's capability themselves, so no caller can skip it."""
    if not capability.allows(actor):
        raise PermissionDenied


def transition(
    *,
    instance: M,
    to: str,
    actor: User | None,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> M:
    """Move `instance.status` along its model's TRANSITIONS, with any fields that go with it."""
    current = instance.status  # type: ignore[attr-defined]
    if to not in instance.TRANSITIONS[current]:  # type: ignore[attr-defined]
        # the statuses' labels in the reader's language, not their codes
        labels = dict(instance._meta.get_field("status").choices or ())  # type: ignore[union-attr]
        raise ApplicationError(
            _("Cannot go from %(current)s to %(to)s.")
            % {"current": labels.get(current, current), "to": labels.get(to, to)},
            field="status",
        )
    return model_update(
        instance=instance,
        data={**(data or {}), "status": to},
        actor=actor,
        action=to,
        reason=reason,
    )
