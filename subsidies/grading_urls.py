"""Grading's API paths (included under /api/v1/ before the router, so that the assessments'
detail route does not take them) and pages."""

from django.urls import path

from .grading_api import AcceptProposalView, DisengagementReportView, GradingPolicyListView

urlpatterns = [
    path("grading-policies/", GradingPolicyListView.as_view(), name="grading-policy-list"),
    path(
        "assessments/accept-proposal/",
        AcceptProposalView.as_view(),
        name="assessment-accept-proposal",
    ),
    path(
        "assessments/disengagement-report/",
        DisengagementReportView.as_view(),
        name="assessment-disengagement-report",
    ),
]
