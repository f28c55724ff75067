"""The recorder's API paths (included under /api/v1/ by yangquan_av/urls.py)."""

from django.urls import path

from .api import AdsEventImportView, IncidentListView

urlpatterns = [
    path("ads-events/import/", AdsEventImportView.as_view(), name="ads-event-import"),
    path("incidents/", IncidentListView.as_view(), name="incident-list"),
]
