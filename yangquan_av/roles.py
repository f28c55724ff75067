"""The four roles of DESIGN.md §2. Scoping by role lives in each app's selectors."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR = "operator", _("AV company staff")
    BUREAU = "bureau", _("Transport bureau")
    FINANCE = "finance", _("Finance bureau")
    ADMIN = "admin", _("Administrator")


# Roles that see every company's data (companies see only their own).
GOVERNMENT_ROLES = frozenset({Role.BUREAU, Role.FINANCE, Role.ADMIN})
