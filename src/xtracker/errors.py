"""Errors that carry their own HTTP status and stable snake_case code.

The docstring of each class is its default message. Services raise; the edge renders
one JSON shape: ``{"ok": false, "error": {"code", "message", "field"}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson


class XTrackerError(Exception):
    """Internal error."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.field = field
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": False,
            "error": {"code": self.code, "message": self.message, "field": self.field},
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(XTrackerError):
    """The request is malformed."""

    status, code = 400, "bad_request"


class InvalidJSON(BadRequest):
    """The body is not valid JSON."""

    code = "invalid_json"


class ValidationFailed(XTrackerError):
    """A field has an invalid value."""

    status, code = 422, "validation_error"


class UnknownEvent(ValidationFailed):
    """Event must be one of contact, subscribed, registration, deposit."""

    code = "unknown_event"


class UnknownMacro(ValidationFailed):
    """The template names a macro that does not exist."""

    code = "unknown_macro"


class MissingCredentials(XTrackerError):
    """Authentication is required: send Authorization: Bearer <secret>."""

    status, code = 401, "missing_credentials"


class InvalidToken(XTrackerError):
    """The secret or token is not valid (unknown, or rotated out more than 24 hours ago)."""

    status, code = 401, "invalid_token"


class Forbidden(XTrackerError):
    """This credential may not do that."""

    status, code = 403, "forbidden"


class NotFound(XTrackerError):
    """Not found."""

    status, code = 404, "not_found"


class Conflict(XTrackerError):
    """The request conflicts with the current state."""

    status, code = 409, "conflict"


class AlreadyBound(Conflict):
    """This uid is already bound to another tg_id."""

    code = "already_bound"


class SlugTaken(Conflict):
    """That slug is already in use."""

    code = "slug_taken"


class PayloadTooLarge(XTrackerError):
    """The body is larger than 1 MiB."""

    status, code = 413, "payload_too_large"


class RateLimited(XTrackerError):
    """Too many requests; retry later."""

    status, code = 429, "rate_limited"

    def __init__(self, retry_after_s: int = 1, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Unavailable(XTrackerError):
    """The service is not ready."""

    status, code = 503, "unavailable"
