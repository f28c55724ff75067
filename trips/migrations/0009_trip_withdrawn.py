"""A trip may be withdrawn by its company (status `withdrawn`), never while an approved,
issued or paid statement holds it: a trigger on both vendors (the statement lines are how a
statement holds a trip; subsidies.0011 freezes the same trips' figures)."""

from django.db import migrations, models

# trips.models.WITHDRAW_REFUSED, copied: a migration never imports the code that changes.
REFUSED = "trip held by an approved or issued statement cannot be withdrawn"
HELD = """EXISTS (SELECT 1 FROM subsidies_statementline l
    JOIN subsidies_statement s ON s.id = l.statement_id
    WHERE l.trip_id = OLD.id AND s.status IN ('approved', 'issued', 'paid'))"""

POSTGRESQL_CREATE = f"""
CREATE OR REPLACE FUNCTION trips_trip_withdraw_guard() RETURNS trigger AS $$
BEGIN
    IF {HELD} THEN
        RAISE EXCEPTION '{REFUSED} (trip %)', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trips_trip_withdraw_guard BEFORE UPDATE OF status ON trips_trip
    FOR EACH ROW WHEN (NEW.status = 'withdrawn' AND OLD.status <> 'withdrawn')
    EXECUTE FUNCTION trips_trip_withdraw_guard();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS trips_trip_withdraw_guard ON trips_trip;
DROP FUNCTION IF EXISTS trips_trip_withdraw_guard();
"""
SQLITE_CREATE = f"""
CREATE TRIGGER trips_trip_withdraw_guard BEFORE UPDATE OF status ON trips_trip
WHEN NEW.status = 'withdrawn' AND OLD.status <> 'withdrawn' AND {HELD}
BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS trips_trip_withdraw_guard"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE, params=None)
    else:
        raise NotImplementedError(f"no withdrawal trigger for {vendor}")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("trips", "0008_trip_verification_append_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trip",
            name="status",
            field=models.CharField(
                choices=[
                    ("received", "Received"),
                    ("processing", "Processing"),
                    ("accepted", "Accepted"),
                    ("rejected", "Rejected"),
                    ("needs_review", "Needs review"),
                    ("withdrawn", "Withdrawn by the company"),
                ],
                default="received",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="tripverification",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("received", "Received"),
                    ("processing", "Processing"),
                    ("accepted", "Accepted"),
                    ("rejected", "Rejected"),
                    ("needs_review", "Needs review"),
                    ("withdrawn", "Withdrawn by the company"),
                ],
                max_length=20,
                verbose_name="outcome",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
