"""Web pages for importing segments from a file: upload and dry run with a preview (a report
per feature and a map), then the commit of exactly the previewed file, as drafts."""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.forms import submit
from core.roles import EDIT_SEGMENTS
from core.web import acting_user, capability_required

from .forms import SegmentImportCommitForm, SegmentImportForm
from .import_services import ImportReport, segment_import
from .models import RoadSegment
from .views import crumbs, map_context

# A dry-run upload waits here for its commit (see segment_import_page); a day is plenty.
IMPORT_DIR_NAME = "segment-imports"
IMPORT_MAX_AGE_S = 24 * 3600
IMPORT_SESSION_KEY = "segment_imports"
IMPORT_SESSION_KEEP = 5

# Between the dry run and the commit the uploaded file waits on the server, in VAR_DIR, under
# a random token that only this session holds. Asking the person to pick the same file again
# would let a different file be committed than the one previewed; keeping the bytes in the
# session would put up to 20 MB into the session table on every request. The file's sha256
# is checked at commit, and stale files (abandoned previews) are removed after a day.


def _import_dir() -> Path:
    folder = Path(settings.VAR_DIR) / IMPORT_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _prune_imports(folder: Path) -> None:
    cutoff = time.time() - IMPORT_MAX_AGE_S
    for path in folder.iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _keep_upload(request: HttpRequest, *, data: bytes, details: dict[str, Any]) -> str:
    folder = _import_dir()
    _prune_imports(folder)
    token = secrets.token_urlsafe(24)
    (folder / token).write_bytes(data)
    kept: dict[str, Any] = dict(request.session.get(IMPORT_SESSION_KEY, {}))
    kept[token] = {**details, "sha256": hashlib.sha256(data).hexdigest()}
    for old in list(kept)[:-IMPORT_SESSION_KEEP]:  # the oldest previews of this session
        (folder / old).unlink(missing_ok=True)
        del kept[old]
    request.session[IMPORT_SESSION_KEY] = kept
    return token


def _take_upload(request: HttpRequest, token: str) -> tuple[bytes, dict[str, Any]] | None:
    """The kept upload of `token` if this session made it and it is unchanged; forgotten."""
    kept: dict[str, Any] = dict(request.session.get(IMPORT_SESSION_KEY, {}))
    details = kept.pop(token, None)
    request.session[IMPORT_SESSION_KEY] = kept
    if details is None:
        return None
    path = _import_dir() / token
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    if hashlib.sha256(data).hexdigest() != details["sha256"]:
        return None
    return data, details


def _report_geojson(report: ImportReport) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": item.fields["geometry"],
            "properties": {
                "name": f"{item.index + 1}. {item.name}",
                "status": RoadSegment.Status.DRAFT,
                "kind_label": str(RoadSegment.Kind(item.kind).label),
            },
        }
        for item in report.items
        if item.fields
    ]
    return {"type": "FeatureCollection", "features": features}


@capability_required(EDIT_SEGMENTS)
def segment_import_page(request: HttpRequest) -> HttpResponse:
    """Step 1: upload and dry run. The preview shows each feature's measure and problems,
    and the features on a map; a file without problems can then be committed (step 2)."""
    user = acting_user(request)
    form = SegmentImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        content = upload.read()
        report = submit(
            form,
            segment_import,
            actor=user,
            data=content,
            filename=upload.name or "",
            crs=data["crs"],
            repair=data["repair"],
            reason=data["reason"],
        )
        if report is not None:
            context = {
                "report": report,
                "file_name": upload.name,
                "report_geojson": _report_geojson(report),
                "legend": [],
                **map_context(),
            }
            if report.items and not report.problem_count:
                token = _keep_upload(
                    request,
                    data=content,
                    details={
                        "name": upload.name or "",
                        "crs": data["crs"],
                        "repair": data["repair"],
                        "reason": data["reason"],
                    },
                )
                context["commit_form"] = SegmentImportCommitForm(initial={"token": token})
    title = _("Import segments")
    return render(
        request,
        "routes/segment_import.html",
        {
            "page_title": title,
            "breadcrumbs": [*crumbs(), (title, None)],
            "form": form,
            **context,
        },
    )


@capability_required(EDIT_SEGMENTS)
def segment_import_commit(request: HttpRequest) -> HttpResponse:
    """Step 2: import the previewed file for real, as drafts, in one transaction."""
    user = acting_user(request)
    form = SegmentImportCommitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kept = _take_upload(request, form.cleaned_data["token"])
        if kept is None:
            messages.error(
                request, _("The previewed file is no longer here; upload it again, please.")
            )
            return redirect("routes:segment_import")
        content, details = kept
        report = submit(
            form,
            segment_import,
            actor=user,
            data=content,
            filename=details["name"],
            crs=details["crs"],
            repair=details["repair"],
            reason=details["reason"],
            commit=True,
        )
        if report is not None:
            messages.success(
                request,
                ngettext(
                    "%(count)s segment imported as a draft from %(file)s.",
                    "%(count)s segments imported as drafts from %(file)s.",
                    len(report.items),
                )
                % {"count": len(report.items), "file": details["name"]},
            )
            return redirect(f"{reverse('routes:segment_list')}?status=draft")
        for error in form.non_field_errors():
            messages.error(request, str(error))
    return redirect("routes:segment_import")
