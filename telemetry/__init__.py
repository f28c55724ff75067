"""Live telemetry: terminals bound to vehicles, the fix store, raw archives, the JT/T 808
gateway and the MQTT ingest (docs/telemetry.md). Sits below trips and never imports it; the
codec in `telemetry.jt808` is pure Python without Django."""
