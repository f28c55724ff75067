"""URL map: the API under /api/v1/, the admin, and the web UI."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.api import Router
from core.audit_api import AuditRecordViewSet
from operators.api import OperatorViewSet, TokenView, VehicleViewSet
from operators.forms import LoginForm
from payments.api import (
    ClawbackViewSet,
    ObjectionCreateView,
    ObjectionViewSet,
    PaymentBatchViewSet,
    PublicNoticeView,
    WorkCalendarViewSet,
)
from routes.api import SegmentViewSet
from subsidies.api import AssessmentViewSet, PolicyViewSet, StatementViewSet
from telemetry.api import TerminalViewSet
from trips.api import TripViewSet

from . import views

router = Router()
router.register("operators", OperatorViewSet, basename="operator")
router.register("vehicles", VehicleViewSet, basename="vehicle")
router.register("audit", AuditRecordViewSet, basename="audit")
router.register("segments", SegmentViewSet, basename="segment")
router.register("trips", TripViewSet, basename="trip")
router.register("terminals", TerminalViewSet, basename="terminal")
router.register("policies", PolicyViewSet, basename="policy")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("statements", StatementViewSet, basename="statement")
router.register("objections", ObjectionViewSet, basename="objection")
router.register("payment-batches", PaymentBatchViewSet, basename="payment-batch")
router.register("clawbacks", ClawbackViewSet, basename="clawback")
router.register("work-calendar", WorkCalendarViewSet, basename="work-calendar")

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's settings as a script file: the CSP allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("", include("recorder.urls")),
    path("", include("subsidies.grading_urls")),
    path("public-notice/", PublicNoticeView.as_view(), name="public-notice"),
    path(
        "statements/<int:pk>/objections/",
        ObjectionCreateView.as_view(),
        name="statement-objections",
    ),
    path("", include(router.urls)),
]

handler404 = "yangquan_av.views.not_found"
handler500 = "yangquan_av.views.server_error"

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("operators.urls")),
    path("", include("routes.urls")),
    path("", include("trips.urls")),
    path("", include("telemetry.urls")),
    path("", include("subsidies.urls")),
    path("", include("recorder.web_urls")),
    path("", include("subsidies.grading_web_urls")),
    path("", include("payments.urls")),
    path("", views.home, name="home"),
]
