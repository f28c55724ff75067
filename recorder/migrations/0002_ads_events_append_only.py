"""Recorder events are evidence: on PostgreSQL a trigger refuses UPDATE and DELETE from any
client. SQLite (the embedded demo) relies on the model layer (AppendOnlyModel)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION recorder_adsevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'recorder_adsevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recorder_adsevent_append_only
    BEFORE UPDATE OR DELETE ON recorder_adsevent
    FOR EACH ROW EXECUTE FUNCTION recorder_adsevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS recorder_adsevent_append_only ON recorder_adsevent;
DROP FUNCTION IF EXISTS recorder_adsevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("recorder", "0001_ads_events_and_incidents")]

    operations = [migrations.RunPython(create, drop)]
