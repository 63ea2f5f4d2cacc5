"""XTRACKER Python client: a drop-in async (and sync) client that needs only ``httpx``.

::

    from xtracker.client import AsyncClient

    async with AsyncClient("https://track.example.com", bearer=SECRET) as xt:
        uid = await xt.click(link_slug="spring", fbclid=fbclid)
        await xt.bind(uid, tg_id=555123)
        result = await xt.send_event("deposit", uid=uid, value="25.00", eid="tx-42")
        result.status  # "queued", or "duplicate" when already recorded

The client pins ``occurred_at_ms`` once per logical event and re-sends the identical body on
its internal retries, so a retry deduplicates on the server. Errors are typed; see
``XTrackerError``. This package imports nothing from the server and can be copied alone.
"""

from ._client import AsyncClient, Client
from ._errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
    XTrackerError,
)
from ._models import BindResult, EventResult
from ._wire import __version__

__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BindResult",
    "Client",
    "ConflictError",
    "EventResult",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "XTrackerError",
    "__version__",
]
