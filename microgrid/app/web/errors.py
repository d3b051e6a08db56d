"""The web API's one error class: a status code and a one-line message for the page."""

from __future__ import annotations


class ApiError(Exception):
    """A request the API refuses: answered as ``{"error": message}`` with ``status`` (4xx)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
