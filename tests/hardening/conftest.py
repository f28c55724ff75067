"""Fixtures for any hardening test: the seeded world of tests/hardening/seed.py, built once
per module (`seeded`), and a real API token for each of its actors (`tokens`)."""

from tests.hardening.seed import seeded, tokens  # noqa: F401 - fixtures
