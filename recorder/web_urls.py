"""The recorder's web pages (included by yangquan_av/urls.py)."""

from django.urls import path

from . import views

app_name = "recorder"

urlpatterns = [
    path("ads-events/import/", views.ads_event_import, name="ads_event_import"),
    path("incidents/", views.incident_list_page, name="incident_list"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/report/", views.incident_report, name="incident_report"),
    path("incidents/<int:pk>/close/", views.incident_close, name="incident_close"),
]
