"""Web pages for grades, the annual computation and statements (included by yangquan_av/urls.py)."""

from django.urls import path

from . import views

app_name = "subsidies"

urlpatterns = [
    path("grades/", views.grade_list, name="grade_list"),
    path("grades/<int:operator_pk>/<int:year>/", views.grade_edit, name="grade_edit"),
    path("statements/", views.statement_list_page, name="statement_list"),
    path("statements/compute/", views.compute, name="compute"),
    path("statements/public-notice/", views.public_notice_page, name="public_notice"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/<slug:action>/", views.statement_action, name="statement_action"),
]
