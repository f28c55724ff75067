"""Web pages for road segments and zones (included at the site root by yangquan_av/urls.py)."""

from django.urls import path

from . import import_views, views

app_name = "routes"

urlpatterns = [
    path("segments/", views.segment_list_page, name="segment_list"),
    path("segments/new/", views.segment_create, name="segment_create"),
    path("segments/import/", import_views.segment_import_page, name="segment_import"),
    path(
        "segments/import/commit/", import_views.segment_import_commit, name="segment_import_commit"
    ),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<int:pk>/submit/", views.segment_submit, name="segment_submit"),
    path("segments/<int:pk>/return/", views.segment_return, name="segment_return"),
    path("segments/<int:pk>/approve/", views.segment_approve, name="segment_approve"),
    path("segments/<int:pk>/suspend/", views.segment_suspend, name="segment_suspend"),
    path("segments/<int:pk>/retire/", views.segment_retire, name="segment_retire"),
    path("segments/<int:pk>/reinstate/", views.segment_reinstate, name="segment_reinstate"),
]
