"""Web pages for companies and vehicles (included at the site root by yangquan_av/urls.py)."""

from django.urls import path

from . import views

app_name = "operators"

urlpatterns = [
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<int:pk>/", views.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:pk>/admit/", views.company_admit, name="company_admit"),
    path("companies/<int:pk>/status/", views.company_status, name="company_status"),
    path("companies/<int:pk>/bank/", views.bank_request, name="bank_request"),
    path("companies/<int:pk>/bank/decide/", views.bank_decide, name="bank_decide"),
    path("vehicles/", views.vehicle_list_page, name="vehicle_list"),
    path("vehicles/new/", views.vehicle_create, name="vehicle_create"),
    path("vehicles/<int:pk>/", views.vehicle_detail, name="vehicle_detail"),
    path("vehicles/<int:pk>/edit/", views.vehicle_edit, name="vehicle_edit"),
    path("vehicles/<int:pk>/approve/", views.vehicle_approve, name="vehicle_approve"),
    path("vehicles/<int:pk>/status/", views.vehicle_status, name="vehicle_status"),
]
