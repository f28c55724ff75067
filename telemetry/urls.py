"""Web pages for live telemetry (included at the site root by yangquan_av/urls.py)."""

from django.urls import path

from . import views

app_name = "telemetry"

urlpatterns = [
    path("live/", views.live_map, name="live_map"),
]
