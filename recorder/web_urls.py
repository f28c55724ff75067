"""The recorder's web pages (included by yangquan_av/urls.py)."""

from django.urls import path

from . import views

app_name = "recorder"

urlpatterns = [
    path("incidents/", views.incident_list_page, name="incident_list"),
]
