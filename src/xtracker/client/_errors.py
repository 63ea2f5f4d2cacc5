"""The exception tree of the XTRACKER client.

::

    XTrackerError                  every error this package raises
    ├── APIError                   the server answered an error: .status_code .code .message .field
    │   ├── ValidationError        400, 422  (e.g. code "unknown_event", field "event")
    │   ├── AuthenticationError    401       (missing, unknown or rotated-out secret)
    │   ├── PermissionDeniedError  403
    │   ├── NotFoundError          404
    │   ├── ConflictError          409       (e.g. code "already_bound")
    │   ├── PayloadTooLargeError   413
    │   ├── RateLimitError         429       (.retry_after seconds, or None)
    │   └── ServerError            5xx
    ├── TransportError             no answer: connection failure or timeout (after retries)
    └── ProtocolError              an answer that is not what the API promises
"""

from __future__ import annotations

from typing import Any


class XTrackerError(Exception):
    """Base class of every error raised by the XTRACKER client."""


class APIError(XTrackerError):
    """The server answered with an error.

    ``code`` is the server's stable snake_case error code (``"unknown_event"``,
    ``"invalid_token"`` …), ``field`` names the offending request field when there is one.
    An answer without the documented error body gets the code ``"http_<status>"``.
    """

    def __init__(self, status_code: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(status_code, code, message, field)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        where = f" (field: {self.field})" if self.field else ""
        return f"{self.status_code} {self.code}: {self.message}{where}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only state (RateLimitError.retry_after) travels in __dict__.
        args = (self.status_code, self.code, self.message, self.field)
        return (type(self), args, self.__dict__)


class ValidationError(APIError):
    """The request was refused as invalid (400 or 422)."""


class AuthenticationError(APIError):
    """The Bearer secret is missing, unknown, or was rotated out more than 24 hours ago (401)."""


class PermissionDeniedError(APIError):
    """The credential may not do that (403)."""


class NotFoundError(APIError):
    """The resource does not exist (404)."""


class ConflictError(APIError):
    """The request conflicts with the current state, e.g. a uid bound to another tg_id (409)."""


class PayloadTooLargeError(APIError):
    """The request body is larger than the server accepts, 1 MiB (413)."""


class RateLimitError(APIError):
    """Too many requests (429). ``retry_after`` is the server's ``Retry-After``, in seconds."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status_code, code, message, field)
        self.retry_after = retry_after


class ServerError(APIError):
    """The server failed (5xx). Raised only once the client's retries are exhausted."""


class TransportError(XTrackerError):
    """No answer: the connection failed or timed out, also on every retry.

    The underlying ``httpx`` exception is the ``__cause__``.
    """


class ProtocolError(XTrackerError):
    """The server's answer is not what the API promises (not JSON, missing fields, a redirect…).

    Usually the ``base_url`` does not point at an XTRACKER server.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
}


def error_class(status_code: int) -> type[APIError]:
    """The APIError subclass for an HTTP status (APIError itself for an unlisted 4xx)."""
    if status_code == 429:
        return RateLimitError
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, APIError)
