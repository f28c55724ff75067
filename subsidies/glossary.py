"""One glossary for the web, the PDF and the exports: the words for statements' figures and
states are the models' own labels (translated in subsidies/locale), and the terms below
explain them. Pages, documents and files all read from here, so 合规里程 on the page is
合规里程 in the PDF and in the spreadsheet."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Statement, SubsidyPolicy

# Terms that are not a model's field, written once.
DOCUMENT_NUMBER = _("Document number")
ISSUED_ON = _("Issued on")
HANDLED_BY = _("Handled by")  # 经办人: who issued
REVIEWED_BY = _("Reviewed by")  # 审核人: who approved
HEAD = _("Person in charge")  # 负责人: signs by hand
SEAL_BOX = _("Seal here")
AMOUNT_IN_WORDS = _("Amount in words")
TOTAL = pgettext_lazy("sum", "Total")
POLICY_BASIS = _("Policy basis")
# A company's figure for a year: projected (预计补贴) until the year's statement is issued,
# then the issued figure (已下达补贴), with its statement.
PROJECTED_SUBSIDY = _("Projected subsidy")
ISSUED_SUBSIDY = _("Issued subsidy")

GLOSSARY: list[tuple[Any, Any]] = [
    (
        _("eligible (km)"),
        _(
            "Autonomous-mode kilometres by a permitted vehicle on an approved road segment or "
            "zone, from accepted trips, inside the policy window."
        ),
    ),
    (_("rate (yuan/km)"), _("Set by the year's demonstration-effect grade (A 3, B 2, C 1, D 0).")),
    (_("annual cap (yuan)"), _("At most 300,000 yuan per company and year.")),
    (_("Issued"), _("Issued under a document number; it no longer changes.")),
    (
        _("Public notice"),
        _("Issued amounts are published for a number of working days; anyone may object."),
    ),
    (_("Paid"), _("Paid by the treasury, with the bank's reference.")),
]


def label(model: type[models.Model], field: str) -> str:
    """A field's label as the web shows it, in the active language."""
    found = model._meta.get_field(field)
    assert isinstance(found, models.Field)  # noqa: S101 - a programming error, not input
    return str(found.verbose_name)


def statement_label(field: str) -> str:
    return label(Statement, field)


def policy_basis(policy: SubsidyPolicy) -> str:
    """The policy a statement rests on, said once: its name and version (the reference is
    kept on the policy; printing both repeated the article)."""
    return _("%(name)s, version %(version)s") % {"name": policy.name, "version": policy.version}


def person(user: Any) -> str:
    """Who acted, as a document names them."""
    if user is None:
        return ""
    return str(user.get_full_name() or user.username)
