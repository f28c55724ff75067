"""Live telemetry: the pure protocol codecs (no database)."""
