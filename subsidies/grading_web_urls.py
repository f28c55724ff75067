"""Grading's web pages (included by yangquan_av/urls.py)."""

from django.urls import path

from . import grading_views

app_name = "grading"

urlpatterns = [
    path(
        "grades/<int:operator_pk>/<int:year>/accept/",
        grading_views.grade_accept,
        name="grade_accept",
    ),
]
