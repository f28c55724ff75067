"""An incident's report is whole, a closed one has its time and reason; and on PostgreSQL a
closed incident is final: a trigger refuses changing or deleting it from any client, and a
reported one going back to open (SQLite relies on the transition table, as for 0002)."""

from django.db import migrations, models

CREATE = """
CREATE FUNCTION recorder_incident_final() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'incident % is closed (% refused)', OLD.id, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'reported' AND NEW.status = 'open' THEN
        RAISE EXCEPTION 'incident % was reported: it cannot be open again', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recorder_incident_final
    BEFORE UPDATE OR DELETE ON recorder_incident
    FOR EACH ROW EXECUTE FUNCTION recorder_incident_final();
"""

DROP = """
DROP TRIGGER IF EXISTS recorder_incident_final ON recorder_incident;
DROP FUNCTION IF EXISTS recorder_incident_final();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("recorder", "0005_incidents_closed_before_reasons")]

    operations = [
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('cause', ''), ('injured__isnull', True), ('report', ''), ('reported_at__isnull', True)), models.Q(('reported_at__isnull', False), models.Q(('report', ''), _negated=True)), _connector='OR'), name='incident_report_whole'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'reported'), _negated=True), ('reported_at__isnull', False), _connector='OR'), name='incident_reported_has_report'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'open'), _negated=True), ('reported_at__isnull', True), _connector='OR'), name='incident_open_unreported'),
        ),
        migrations.AddConstraint(
            model_name='incident',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('closed_at__isnull', False), ('status', 'closed'), models.Q(('close_reason', ''), _negated=True)), models.Q(models.Q(('status', 'closed'), _negated=True), ('close_reason', ''), ('closed_at__isnull', True)), _connector='OR'), name='incident_closed_has_reason'),
        ),
        migrations.RunPython(create, drop),
    ]
