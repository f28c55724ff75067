"""Incidents closed before closing kept a time and a reason get both from what is known:
closed at their recorded report time, with a reason pointing to the audit trail; one closed
without a report loses the report time closing used to give it (0006 then holds)."""

from django.db import migrations
from django.db.models import F
from django.utils import timezone

REASON = "Closed before closing reasons were kept; see the audit trail."


def backfill(apps, schema_editor):
    Incident = apps.get_model("recorder", "Incident")
    closed = Incident.objects.filter(status="closed", closed_at__isnull=True)
    closed.filter(reported_at__isnull=False).update(closed_at=F("reported_at"))
    closed.filter(reported_at__isnull=True).update(closed_at=timezone.now())
    Incident.objects.filter(status="closed", close_reason="").update(close_reason=REASON)
    Incident.objects.filter(status="closed", report="").update(reported_at=None)


class Migration(migrations.Migration):
    dependencies = [("recorder", "0004_incident_report_and_close")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
