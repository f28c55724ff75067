"""Data: the stream heads of terminals that already have fixes, from those fixes.

`moved_at` stays empty (the sweep then looks closer at such a vehicle once, which is
safe), and `late_received_at` is the newest receipt, so any fix received since the last
sweep is looked for once as a late fix.
"""

from typing import Any

from django.db import migrations

HEADS = """
UPDATE telemetry_terminal SET
    last_fix_at = (SELECT MAX(f.t) FROM telemetry_fix f WHERE f.terminal_id = telemetry_terminal.id),
    last_received_at = (SELECT MAX(f.received_at) FROM telemetry_fix f
                        WHERE f.terminal_id = telemetry_terminal.id)
"""


def heads(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(HEADS)
        cursor.execute("UPDATE telemetry_terminal SET late_received_at = last_received_at")


class Migration(migrations.Migration):
    dependencies = [("telemetry", "0003_terminal_stream_head")]

    operations = [migrations.RunPython(heads, migrations.RunPython.noop)]
