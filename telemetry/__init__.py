"""Live telemetry from vehicles: pure protocol codecs, no Django (the gateway sits on top)."""
