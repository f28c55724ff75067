"""Web pages for trips (included at the site root by yangquan_av/urls.py)."""

from django.urls import path

from . import views

app_name = "trips"

urlpatterns = [
    path("trips/", views.trip_list_page, name="trip_list"),
    path("trips/upload/", views.trip_upload_page, name="trip_upload"),
    path("trips/review/", views.review_queue_page, name="review_queue"),
    path("trips/<int:pk>/", views.trip_detail, name="trip_detail"),
    # Under review/ so that the review queue stays the current section of the navigation.
    path("trips/review/<int:pk>/", views.trip_review, name="trip_review"),
    path("trips/<int:pk>/reverify/", views.trip_reverify, name="trip_reverify"),
    path("trips/<int:pk>/declare-mode/", views.trip_declare_mode, name="trip_declare_mode"),
    path("trips/<int:pk>/withdraw/", views.trip_withdraw, name="trip_withdraw"),
]
