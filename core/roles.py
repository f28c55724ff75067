"""The four roles of DESIGN.md §2 and, once, what each may do.

A capability names a thing people do (edit segments, grade, settle...) and the roles that may
do it. Services check one with `core.services.require`, the API with `core.api.permission`,
pages with `core.web.capability_required` and the navigation with `NavItem`: a rule about
who may do what is written here and nowhere else. Scoping (a company sees only its own rows)
lives in each app's selectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR = "operator", _("AV company staff")
    BUREAU = "bureau", _("Transport bureau")
    FINANCE = "finance", _("Finance bureau")
    ADMIN = "admin", _("Administrator")


@dataclass(frozen=True)
class Capability:
    name: str
    roles: frozenset[str]

    def allows(self, user: Any) -> bool:
        """Whether `user` (any user object, anonymous included) may do this."""
        return bool(getattr(user, "is_authenticated", False)) and (
            getattr(user, "role", None) in self.roles
        )


def _capability(name: str, *roles: Role) -> Capability:
    return Capability(name, frozenset(roles))


# Every logged-in person; company staff alone (their "My ..." pages).
EVERYONE = _capability("everyone", *Role)
COMPANY_STAFF = _capability("company_staff", Role.OPERATOR)
# Government staff see every company's data and read the audit trail.
SEE_ALL_COMPANIES = _capability("see_all_companies", Role.BUREAU, Role.FINANCE, Role.ADMIN)
# The bureau registers and admits companies and approves vehicles' permits.
MANAGE_COMPANIES = _capability("manage_companies", Role.BUREAU, Role.ADMIN)
# Companies propose their own vehicles; the bureau may propose for them.
PROPOSE_VEHICLES = _capability("propose_vehicles", Role.OPERATOR, Role.BUREAU, Role.ADMIN)
EDIT_SEGMENTS = _capability("edit_segments", Role.BUREAU, Role.ADMIN)
REVIEW_TRIPS = _capability("review_trips", Role.BUREAU, Role.ADMIN)
GRADE = _capability("grade", Role.BUREAU, Role.ADMIN)
# Data-recorder events: companies import their own vehicles' events, the bureau any.
IMPORT_ADS_EVENTS = _capability("import_ads_events", Role.OPERATOR, Role.BUREAU, Role.ADMIN)
UPLOAD = _capability("upload", Role.OPERATOR, Role.ADMIN)
# Finance computes, approves, issues and pays statements.
SETTLE = _capability("settle", Role.FINANCE, Role.ADMIN)
# Policy versions, accounts and bulk re-verification.
ADMINISTER = _capability("administer", Role.ADMIN)
