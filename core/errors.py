"""The one exception a service raises for a refused business action (mapped to HTTP 400)."""

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the action. `field` names the input at fault, if one is."""

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
