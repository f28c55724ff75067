"""The public notice's pages (no login needed) and finance's pages after the statement
(included by yangquan_av/urls.py)."""

from django.urls import path

from . import finance_views as finance
from . import views

app_name = "payments"

urlpatterns = [
    path("public-notice/<int:year>/", views.public_notice_page, name="public_notice"),
    path("public-notice/<int:year>/pdf/", views.public_notice_pdf, name="public_notice_pdf"),
    path("payments/objections/", finance.objection_list_page, name="objection_list"),
    path("payments/objections/<int:pk>/", finance.objection_detail, name="objection_detail"),
    path("payments/batches/", finance.batch_list_page, name="batch_list"),
    path("payments/batches/new/", finance.batch_create, name="batch_create"),
    path("payments/batches/<int:pk>/", finance.batch_detail, name="batch_detail"),
    path("payments/batches/<int:pk>/<slug:step>/", finance.batch_step, name="batch_step"),
    path("payments/clawbacks/", finance.clawback_list_page, name="clawback_list"),
    path("payments/clawbacks/new/", finance.clawback_create, name="clawback_create"),
    path("payments/clawbacks/<int:pk>/", finance.clawback_detail, name="clawback_detail"),
    path("payments/clawbacks/<int:pk>/<slug:step>/", finance.clawback_step, name="clawback_step"),
    path("payments/calendar/", finance.work_calendar, name="work_calendar"),
]
