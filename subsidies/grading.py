"""Grading by policy: the version in force for a year, the proposal for a company-year, and
what an assessment stores of them (the proposal, the scorecard, the reason to differ)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import ADMINISTER
from core.services import model_create, require
from operators.models import User

from .models import GradingPolicy
from .scorecard import Proposal, Scorecard, propose_grade, scorecard


def grading_policy_for_year(year: int) -> GradingPolicy | None:
    """The version that grades `year`: the latest whose window overlaps the year; None if
    none does (then the bureau grades without a proposal, as before any policy)."""
    return (
        GradingPolicy.objects.filter(
            valid_from__lte=dt.date(year, 12, 31), valid_to__gte=dt.date(year, 1, 1)
        )
        .order_by("-valid_from", "-version")
        .first()
    )


@dataclass(frozen=True)
class GradeEvidence:
    scorecard: Scorecard
    policy: GradingPolicy | None
    proposal: Proposal | None


def grade_evidence(*, operator_id: int, year: int) -> GradeEvidence:
    """The scorecard and, under the policy in force, the grade it proposes."""
    card = scorecard(operator_id=operator_id, year=year)
    policy = grading_policy_for_year(year)
    return GradeEvidence(card, policy, propose_grade(card, policy) if policy else None)


def decision_fields(*, operator_id: int, year: int, grade: str, reason: str) -> dict[str, Any]:
    """What an assessment records of its proposal; refuses a grade other than the proposal
    without a reason (the database refuses it too: assessment_override_has_reason)."""
    evidence = grade_evidence(operator_id=operator_id, year=year)
    if evidence.proposal is None:
        return {
            "proposed_grade": "",
            "grading_policy": None,
            "scorecard": evidence.scorecard.as_json(),
            "override_reason": "",
        }
    overridden = grade != evidence.proposal.grade
    if overridden and not reason.strip():
        raise ApplicationError(
            _("The scorecard proposes %(grade)s: give the reason for another grade.")
            % {"grade": evidence.proposal.grade},
            field="reason",
        )
    return {
        "proposed_grade": evidence.proposal.grade,
        "grading_policy": evidence.policy,
        "scorecard": {
            **evidence.scorecard.as_json(),
            "policy_version": evidence.proposal.policy_version,
            "proposal_reasons": evidence.proposal.reasons,
        },
        "override_reason": reason.strip() if overridden else "",
    }


@transaction.atomic
def grading_policy_create(*, actor: User, **fields: Any) -> GradingPolicy:
    """A new version of the grading rules (administrators; audited). Versions are never
    edited: a change is a new version, so every grade keeps the rules it was proposed by."""
    require(actor, ADMINISTER)
    return model_create(instance=GradingPolicy(**fields), actor=actor)
