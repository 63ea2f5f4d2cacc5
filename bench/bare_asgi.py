"""The floor under our numbers: a raw ASGI app that answers every request with a 302.

Served by granian with the settings ``xtracker serve`` uses, in the same sitting as nginx, it
shows how much of the gap to nginx is the Python server itself rather than XTRACKER's work.
"""

from __future__ import annotations

from typing import Any

HEADERS = [(b"location", b"https://example.com/x"), (b"content-length", b"0")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 302, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b""})


if __name__ == "__main__":
    import sys

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

    Granian("bare_asgi:app", address="127.0.0.1", port=int(sys.argv[1]), interface=Interfaces.ASGI,
            workers=1, loop=Loops.uvloop, websockets=False, log_access=False,
            http=HTTPModes.http1).serve()  # fmt: skip
