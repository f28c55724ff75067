"""Data: every trip processed before versions existed gets its result as version 1, and
its days and segments point at it. Separate from the schema (0003) and from the triggers
(0005), which would refuse nothing here but must come after."""

from django.db import migrations


def backfill(apps, schema_editor):
    Trip = apps.get_model("trips", "Trip")
    TripDay = apps.get_model("trips", "TripDay")
    TripSegment = apps.get_model("trips", "TripSegment")
    TripVerification = apps.get_model("trips", "TripVerification")
    trips = Trip.objects.filter(processed_at__isnull=False, current_verification__isnull=True)
    for trip in trips.order_by("pk").iterator(chunk_size=500):
        days = list(TripDay.objects.filter(trip=trip).order_by("day"))
        segments = list(TripSegment.objects.filter(trip=trip).order_by("segment_id"))
        version = TripVerification.objects.create(
            trip=trip,
            number=1,
            created_at=trip.processed_at,
            actor=None,
            outcome=trip.status,
            format=trip.format,
            started_at=trip.started_at,
            ended_at=trip.ended_at,
            points_total=trip.points_total,
            points_used=trip.points_used,
            total_m=trip.total_m,
            autonomous_m=trip.autonomous_m,
            eligible_m=trip.eligible_m,
            disengagements=trip.disengagements,
            days=[[d.day.isoformat(), str(d.autonomous_m), str(d.eligible_m)] for d in days],
            segments=[[s.segment_id, str(s.eligible_m)] for s in segments],
            reasons=trip.reasons,
            params=trip.params,
            code_version=trip.code_version,
        )
        TripDay.objects.filter(trip=trip).update(verification=version)
        TripSegment.objects.filter(trip=trip).update(verification=version)
        Trip.objects.filter(pk=trip.pk).update(current_verification=version)


class Migration(migrations.Migration):
    dependencies = [("trips", "0006_trip_verification_versions")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
