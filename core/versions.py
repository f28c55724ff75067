"""Stale forms are refused: every page that changes an object carries the object's version as
it was when the page was drawn, and the service compares it under the row lock.

The version is the id of the object's newest audit record. Every write goes through the
services, and every service write is audited (core.services), so the newest record changes
with every write; no column and no migration per model. Reads are audited too (a statement's
PDF downloaded, `download_*`): they are not changes, so they do not count. The audit table is
indexed on (content_type, object_id), so reading it is one index probe.

    # a service, after locking the row
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    check_version(vehicle, seen_version)

    # a form (core.forms.VersionField) and its view
    form = VehicleApproveForm(request.POST or None, initial={..., **version_initial(vehicle)})
    submit(form, services.vehicle_approve, actor=user, vehicle=vehicle, **form.cleaned_data)
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Max
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .models import AuditRecord

VERSION_FIELD = "seen_version"
# Audited reads (core.web.AUDIT_ACTIONS: "PDF downloaded"...): a download between drawing a
# page and submitting it changes nothing, so it must not make the page stale.
READ_ACTIONS_PREFIX = "download_"


def version_of(instance: models.Model) -> int:
    """The object's version: its newest audit record's id, 0 when it has none."""
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=True)
    newest = (
        AuditRecord.objects.filter(content_type=content_type, object_id=str(instance.pk))
        .exclude(action__startswith=READ_ACTIONS_PREFIX)
        .aggregate(newest=Max("id"))["newest"]
    )
    return int(newest or 0)


def check_version(instance: models.Model, seen: int | None) -> None:
    """Refuse when the object changed since the page was drawn (`seen`; None: not checked,
    as for API callers that send no version). Call it after `select_for_update()`."""
    if seen is not None and seen != version_of(instance):
        raise ApplicationError(
            _(
                "“%(object)s” was changed by someone else after you opened this page, so "
                "nothing was saved. Open it again to see the change, then decide."
            )
            % {"object": str(instance)},
            field=VERSION_FIELD,
        )


def version_initial(instance: models.Model) -> dict[str, Any]:
    """The initial value of a form's `seen_version` (core.forms.VersionField)."""
    return {VERSION_FIELD: version_of(instance)}
