"""The events' references to their vehicle and file, checked once per statement.

A foreign key checks (and locks) the referenced row once per inserted row: for a million
events, two million look-ups, half the import's database time (bench/README.md). So on
PostgreSQL the constraints give way to triggers doing the same per statement: after an
INSERT, the distinct vehicles and files its rows name are locked FOR KEY SHARE (as the
foreign key would) and must all exist; deleting a vehicle or file that events name, or
changing its id, is refused. The b-tree on (type, at) gives way to a BRIN index on the
time. SQLite (the embedded demo) relies on the model layer, as for append-only (0002).
"""

import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE FUNCTION recorder_adsevent_references() RETURNS trigger AS $$
DECLARE
    ids bigint[];
    found bigint;
BEGIN
    SELECT array_agg(vehicle_id) INTO ids FROM (SELECT DISTINCT vehicle_id FROM new_events) d;
    PERFORM 1 FROM operators_vehicle WHERE id = ANY (ids) FOR KEY SHARE;
    GET DIAGNOSTICS found = ROW_COUNT;
    IF found < cardinality(ids) THEN
        RAISE EXCEPTION 'recorder_adsevent: no such vehicle'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT array_agg(source_file_id) INTO ids
        FROM (SELECT DISTINCT source_file_id FROM new_events
              WHERE source_file_id IS NOT NULL) d;
    PERFORM 1 FROM recorder_eventfile WHERE id = ANY (ids) FOR KEY SHARE;
    GET DIAGNOSTICS found = ROW_COUNT;
    IF found < cardinality(ids) THEN
        RAISE EXCEPTION 'recorder_adsevent: no such event file'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recorder_adsevent_references
    AFTER INSERT ON recorder_adsevent REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION recorder_adsevent_references();

CREATE FUNCTION recorder_adsevent_referenced() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'operators_vehicle' THEN
        PERFORM 1 FROM recorder_adsevent WHERE vehicle_id = OLD.id LIMIT 1;
    ELSE
        PERFORM 1 FROM recorder_adsevent WHERE source_file_id = OLD.id LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION '% % is named by recorder events (% refused)', TG_TABLE_NAME, OLD.id, TG_OP
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER recorder_adsevent_referenced
    BEFORE DELETE OR UPDATE OF id ON operators_vehicle
    FOR EACH ROW EXECUTE FUNCTION recorder_adsevent_referenced();
CREATE TRIGGER recorder_adsevent_referenced
    BEFORE DELETE OR UPDATE OF id ON recorder_eventfile
    FOR EACH ROW EXECUTE FUNCTION recorder_adsevent_referenced();

CREATE INDEX recorder_adsevent_at_brin ON recorder_adsevent USING brin (at);
"""

DROP = """
DROP INDEX IF EXISTS recorder_adsevent_at_brin;
DROP TRIGGER IF EXISTS recorder_adsevent_referenced ON recorder_eventfile;
DROP TRIGGER IF EXISTS recorder_adsevent_referenced ON operators_vehicle;
DROP FUNCTION IF EXISTS recorder_adsevent_referenced();
DROP TRIGGER IF EXISTS recorder_adsevent_references ON recorder_adsevent;
DROP FUNCTION IF EXISTS recorder_adsevent_references();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("operators", "0002_operator_bank_details"),
        ("recorder", "0002_ads_events_append_only"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="adsevent", name="recorder_ad_type_7746cf_idx"),
        migrations.AlterField(
            model_name="adsevent",
            name="source_file",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="recorder.eventfile",
                verbose_name="file",
            ),
        ),
        migrations.AlterField(
            model_name="adsevent",
            name="vehicle",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ads_events",
                to="operators.vehicle",
                verbose_name="vehicle",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
