"""Two accepted trips of one vehicle never overlap in time (PostgreSQL: btree_gist).

An exclusion constraint over (vehicle, [started_at, ended_at)) for accepted trips. SQLite
has no exclusion constraints; there trips.services holds the same rule while it writes
(SQLite runs one writer at a time).
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE trips_trip ADD CONSTRAINT trip_accepted_never_overlap EXCLUDE USING gist (
    vehicle_id WITH =,
    tstzrange(started_at, ended_at, '[)') WITH &&
) WHERE (status = 'accepted' AND started_at IS NOT NULL AND ended_at IS NOT NULL);
"""
DROP = "ALTER TABLE trips_trip DROP CONSTRAINT IF EXISTS trip_accepted_never_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("trips", "0003_copy_detection")]

    operations = [migrations.RunPython(create, drop)]
