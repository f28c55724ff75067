"""The figures a statement rests on cannot change once it is approved, on both vendors.

For a trip with a line in an approved, issued or paid statement ("frozen"):
- its days and segments (`trips_tripday`, `trips_tripsegment`) are never updated; the rows
  of its current verification (for a trip from before versions: its rows, while it has no
  version) are never deleted — rows of a superseded version may go, which is how a
  re-verification replaces them;
- its totals (`total_m`, `autonomous_m`, `eligible_m`) and `current_verification` change
  only together, to a newer version of the same trip (`trips_tripverification`, itself
  append-only) whose totals they equal;
- the trip itself is never deleted.

So the one way to change a frozen trip's figures is a new verification (trips.services
.trip_process), and the nightly check derives the adjustment from the two versions. The
status may still change (review, re-verification queued): those are audited decisions.
TRUNCATE is left to the table owner (test databases); tests/core/audit_guard.py lifts the
SQLite triggers for the test flush.
"""

from django.db import migrations

FROZEN = """EXISTS (SELECT 1 FROM subsidies_statementline l
    JOIN subsidies_statement s ON s.id = l.statement_id
    WHERE l.trip_id = {trip} AND s.status IN ('approved', 'issued', 'paid'))"""

POSTGRESQL_CREATE = f"""
CREATE OR REPLACE FUNCTION trips_trip_is_frozen(trip bigint) RETURNS boolean AS $$
    SELECT {FROZEN.format(trip="trip")}
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION trips_frozen_rows() RETURNS trigger AS $$
BEGIN
    IF trips_trip_is_frozen(OLD.trip_id) AND (
        TG_OP = 'UPDATE'
        OR OLD.verification_id IS NOT DISTINCT FROM (SELECT current_verification_id
                                                     FROM trips_trip WHERE id = OLD.trip_id)
    ) THEN
        RAISE EXCEPTION '% of trip % rest under an approved or issued statement (% refused)',
            TG_TABLE_NAME, OLD.trip_id, TG_OP;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION trips_trip_frozen() RETURNS trigger AS $$
DECLARE
    v trips_tripverification%ROWTYPE;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF trips_trip_is_frozen(OLD.id) THEN
            RAISE EXCEPTION 'trips_trip % rests under an approved or issued statement '
                '(DELETE refused)', OLD.id;
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.total_m, NEW.autonomous_m, NEW.eligible_m, NEW.current_verification_id)
        IS NOT DISTINCT FROM
       (OLD.total_m, OLD.autonomous_m, OLD.eligible_m, OLD.current_verification_id)
       OR NOT trips_trip_is_frozen(OLD.id) THEN
        RETURN NEW;
    END IF;
    SELECT * INTO v FROM trips_tripverification WHERE id = NEW.current_verification_id;
    IF NOT FOUND OR v.trip_id <> NEW.id
       OR (NEW.total_m, NEW.autonomous_m, NEW.eligible_m)
          IS DISTINCT FROM (v.total_m, v.autonomous_m, v.eligible_m)
       OR (NEW.current_verification_id IS DISTINCT FROM OLD.current_verification_id
           AND v.number <= COALESCE((SELECT number FROM trips_tripverification
                                     WHERE id = OLD.current_verification_id), 0)) THEN
        RAISE EXCEPTION 'trips_trip % rests under an approved or issued statement: its '
            'figures change only with a new verification (UPDATE refused)', OLD.id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trips_tripday_frozen BEFORE UPDATE OR DELETE ON trips_tripday
    FOR EACH ROW EXECUTE FUNCTION trips_frozen_rows();
CREATE TRIGGER trips_tripsegment_frozen BEFORE UPDATE OR DELETE ON trips_tripsegment
    FOR EACH ROW EXECUTE FUNCTION trips_frozen_rows();
CREATE TRIGGER trips_trip_frozen BEFORE UPDATE OR DELETE ON trips_trip
    FOR EACH ROW EXECUTE FUNCTION trips_trip_frozen();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS trips_trip_frozen ON trips_trip;
DROP TRIGGER IF EXISTS trips_tripsegment_frozen ON trips_tripsegment;
DROP TRIGGER IF EXISTS trips_tripday_frozen ON trips_tripday;
DROP FUNCTION IF EXISTS trips_trip_frozen();
DROP FUNCTION IF EXISTS trips_frozen_rows();
DROP FUNCTION IF EXISTS trips_trip_is_frozen(bigint);
"""


def _sqlite_rows(table: str) -> list[str]:
    frozen = FROZEN.format(trip="OLD.trip_id")
    return [
        f"""
        CREATE TRIGGER {table}_frozen_update BEFORE UPDATE ON {table}
        WHEN {frozen}
        BEGIN SELECT RAISE(ABORT, '{table} rest under an approved or issued statement
            (UPDATE refused)'); END
        """,
        f"""
        CREATE TRIGGER {table}_frozen_delete BEFORE DELETE ON {table}
        WHEN {frozen} AND OLD.verification_id IS
            (SELECT current_verification_id FROM trips_trip WHERE id = OLD.trip_id)
        BEGIN SELECT RAISE(ABORT, '{table} rest under an approved or issued statement
            (DELETE refused)'); END
        """,
    ]


SQLITE_CREATE = [
    *_sqlite_rows("trips_tripday"),
    *_sqlite_rows("trips_tripsegment"),
    f"""
    CREATE TRIGGER trips_trip_frozen_delete BEFORE DELETE ON trips_trip
    WHEN {FROZEN.format(trip="OLD.id")}
    BEGIN SELECT RAISE(ABORT, 'trips_trip rests under an approved or issued statement
        (DELETE refused)'); END
    """,
    f"""
    CREATE TRIGGER trips_trip_frozen_update BEFORE UPDATE ON trips_trip
    WHEN (NEW.total_m IS NOT OLD.total_m OR NEW.autonomous_m IS NOT OLD.autonomous_m
          OR NEW.eligible_m IS NOT OLD.eligible_m
          OR NEW.current_verification_id IS NOT OLD.current_verification_id)
      AND {FROZEN.format(trip="OLD.id")}
      AND NOT EXISTS (SELECT 1 FROM trips_tripverification v
          WHERE v.id = NEW.current_verification_id AND v.trip_id = NEW.id
            AND v.total_m = NEW.total_m AND v.autonomous_m = NEW.autonomous_m
            AND v.eligible_m = NEW.eligible_m
            AND (NEW.current_verification_id IS OLD.current_verification_id
                 OR v.number > COALESCE((SELECT number FROM trips_tripverification
                                         WHERE id = OLD.current_verification_id), 0)))
    BEGIN SELECT RAISE(ABORT, 'trips_trip rests under an approved or issued statement:
        its figures change only with a new verification (UPDATE refused)'); END
    """,
]

SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "trips_tripday_frozen_update",
        "trips_tripday_frozen_delete",
        "trips_tripsegment_frozen_update",
        "trips_tripsegment_frozen_delete",
        "trips_trip_frozen_delete",
        "trips_trip_frozen_update",
    )
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)  # % in RAISE: no placeholder
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql, params=None)
    else:
        raise NotImplementedError(f"no frozen-figures triggers for {vendor}")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("subsidies", "0010_statement_line_trip_index"),
        ("trips", "0008_trip_verification_append_only"),
    ]

    operations = [migrations.RunPython(create, drop)]
