"""Breadcrumbs back to pages of a higher app (core.web.register_origin): a trip opened from a
statement (?from=statement:<id>) leads back to it. trips may not import subsidies (the
layers of docs/architecture.md), so the project, which sees both, wires it here.
"""

from __future__ import annotations

from core.web import Crumbs, register_origin
from operators.models import User
from subsidies import selectors as subsidies_selectors
from subsidies import views as subsidies_views


def _statement_crumbs(user: User, pk: int | None) -> Crumbs | None:
    """Statements → the statement, if the reader may see it (a company: its issued ones)."""
    if pk is None:
        return None
    statement = subsidies_selectors.statement_list(user=user).filter(pk=pk).first()
    if statement is None:
        return None
    # The statement page's own crumbs, so both read alike (subsidies keeps them private:
    # they move to subsidies with this registration once its owner takes it).
    return subsidies_views._statement_crumbs(user, statement)


def register() -> None:
    register_origin("statement", _statement_crumbs)
