"""Helpers for delivery tests: add destinations over the API, fire events, run the worker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.conftest import SpaceKeys
from xtracker.runtime import Runtime


async def add_destination(http: httpx.AsyncClient, space: SpaceKeys, **body: Any) -> dict[str, Any]:
    r = await http.post(f"/api/spaces/{space.slug}/destinations", json=body, headers=space.auth)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def fire(http: httpx.AsyncClient, space: SpaceKeys, **event: Any) -> str:
    r = await http.post("/events", json=event, headers=space.auth)
    assert r.status_code == 200 and r.json()["status"] == "queued", r.text
    inbox_id: str = r.json()["inbox_id"]
    return inbox_id


async def deliveries(
    http: httpx.AsyncClient, space: SpaceKeys, **query: Any
) -> list[dict[str, Any]]:
    r = await http.get(f"/api/spaces/{space.slug}/deliveries", params=query, headers=space.auth)
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()
    return out


async def delivery(http: httpx.AsyncClient, space: SpaceKeys, delivery_id: str) -> dict[str, Any]:
    r = await http.get(f"/api/spaces/{space.slug}/deliveries/{delivery_id}", headers=space.auth)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def visit(http: httpx.AsyncClient, runtime: Runtime, path: str, **headers: str) -> str:
    """A landing visit; returns the uid it minted."""
    before = await scalar(runtime, "SELECT count(*) FROM click")
    r = await http.get(path, headers=headers)
    assert r.status_code in (200, 302), r.text
    deadline = time.monotonic() + 3
    while await scalar(runtime, "SELECT count(*) FROM click") == before:
        assert time.monotonic() < deadline, "the click was not recorded"
        await asyncio.sleep(0.02)
    uid = await scalar(runtime, "SELECT uid FROM click ORDER BY ts_ms DESC, uid DESC LIMIT 1")
    return str(uid)


async def scalar(runtime: Runtime, sql: str, *params: object) -> Any:
    async with runtime.backend.reader() as tx:
        row = await tx.fetchone(sql, params)
    return None if row is None else row[0]
