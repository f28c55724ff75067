"""The recorder's API paths (included under /api/v1/ by yangquan_av/urls.py)."""

from django.urls import path

from .api import (
    AdsEventImportView,
    IncidentCloseView,
    IncidentDetailView,
    IncidentListView,
    IncidentReportView,
)

urlpatterns = [
    path("ads-events/import/", AdsEventImportView.as_view(), name="ads-event-import"),
    path("incidents/", IncidentListView.as_view(), name="incident-list"),
    path("incidents/<int:pk>/", IncidentDetailView.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/report/", IncidentReportView.as_view(), name="incident-report"),
    path("incidents/<int:pk>/close/", IncidentCloseView.as_view(), name="incident-close"),
]
