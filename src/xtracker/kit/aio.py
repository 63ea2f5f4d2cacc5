"""Small asyncio helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def uncancellable(work: Awaitable[T]) -> T:
    """Await ``work`` to its end even if the caller is cancelled meanwhile (the caller
    then sees the cancellation once ``work`` is done). For work that must not stop halfway:
    a statement handed to a thread, a query on a pooled connection.

    Every wait goes through a shield: a caller can be cancelled more than once (anyio's
    cancel scopes, which Starlette's streaming uses, cancel again on every loop turn until
    the task leaves the scope), and a bare ``await`` on the work would pass the next one on.
    """
    future = asyncio.ensure_future(work)
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not future.cancelled():
            future.exception()  # retrieved: the caller's cancellation is what it sees
        raise asyncio.CancelledError
    return future.result()
