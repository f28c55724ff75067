"""The scorecard beside the grade form and on a statement: `{% grade_scorecard company year %}`
reads the live scorecard and proposal; `{% assessment_scorecard assessment %}` shows the one
stored with a grade. Inclusion tags, so that the pages' views need not change."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from core.versions import VERSION_FIELD, version_of
from operators.models import Operator
from subsidies.grading import grade_evidence
from subsidies.models import Assessment
from subsidies.scorecard import reason_in_words

register = template.Library()


register.filter("reason_in_words", reason_in_words)


@register.inclusion_tag("subsidies/_scorecard.html")
def grade_scorecard(company: Operator, year: int) -> dict[str, Any]:
    evidence = grade_evidence(operator_id=company.pk, year=year)
    report = reverse("assessment-disengagement-report")
    graded = Assessment.objects.filter(operator=company, year=year).first()
    return {
        "card": evidence.scorecard,
        "proposal": evidence.proposal,
        "show_no_policy": True,
        "accept_url": reverse("grading:grade_accept", args=[company.pk, year]),
        # The accept button is a form too: stale once someone grades after it was drawn.
        "version_field": VERSION_FIELD,
        "seen_version": version_of(graded) if graded else 0,
        "report_urls": [
            (label, f"{report}?operator={company.pk}&year={year}&file={kind}")
            for label, kind in ((_("PDF"), "pdf"), (_("Excel (XLSX)"), "xlsx"), (_("CSV"), "csv"))
        ],
    }


@register.inclusion_tag("subsidies/_scorecard.html")
def assessment_scorecard(assessment: Assessment | None) -> dict[str, Any]:
    if assessment is None or not assessment.scorecard:
        return {"card": None}
    stored = assessment.scorecard
    proposal = (
        {
            "grade": assessment.proposed_grade,
            "policy_version": stored.get("policy_version"),
            "reasons": stored.get("proposal_reasons", []),
        }
        if assessment.proposed_grade
        else None
    )
    return {"card": stored, "proposal": proposal}
