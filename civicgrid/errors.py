"""One error family for pages and the API.

Every failure renders as ``{"error": {"code": ..., "message": ..., "detail": {...}}}`` with the
right HTTP status, so a client never sees a traceback or a 500 for bad input.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain said no. ``code`` is stable for clients; ``message`` is for people."""

    status = 400

    def __init__(
        self, code: str, message: str, detail: dict[str, Any] | None = None, *, status: int | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.detail = detail or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "detail": self.detail}}


class NotFound(DomainError):
    status = 404


class OutOfScope(NotFound):
    """An object exists but lies outside the reader's scope.

    It answers exactly like NotFound (so existence does not leak); the difference is only for
    the audit trail, which records the attempt.
    """

    def __init__(self, code: str, message: str, *, object_type: str, object_id: str):
        super().__init__(code, message)
        self.object_type = object_type
        self.object_id = object_id


# Stable error codes for HTTP failures that no domain rule raised (bad JSON, wrong method, …).
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def error_body(code: str, message: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "detail": detail or {}}}
