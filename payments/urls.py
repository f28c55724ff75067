"""The public notice's pages (included by yangquan_av/urls.py); no login needed."""

from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("public-notice/<int:year>/", views.public_notice_page, name="public_notice"),
    path("public-notice/<int:year>/pdf/", views.public_notice_pdf, name="public_notice_pdf"),
]
