"""Shared pieces every app may use: the audit trail, roles and capabilities, the audited
transition helper, units, shared API and web helpers, CRS helpers. Imports no app at run time."""
