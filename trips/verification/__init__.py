"""Trace verification: a parsed trace and the approved zones in, verified metres and
reasons out (docs/verification.md). Pure (numpy, shapely 2, pyproj; no Django) but for
`params`, which builds the parameters from settings:

- `verify`: the rules in the order they apply, `VerifyParams` and `VerificationResult`;
- `clean`: projection, speed outliers, step lengths, gaps, stationary jitter;
- `zones`: eligible metres by the zones valid at each step, and the zones' cached indexes;
- `zonecut`: the exact, vectorised cut of short segments by polygons;
- `findings`: refusals, review flags and the reasons metres earned nothing;
- `times`: epoch nanoseconds, aware datetimes and local days;
- `geojson`: the verified trace for a map;
- `params`: `VerifyParams` from `settings.TRIP_VERIFY`.
"""
