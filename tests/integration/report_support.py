"""Scripted traffic for report tests, written through the real write paths."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from tests.conftest import SpaceKeys
from xtracker.click.record import Visit, build_click, click_insert_job
from xtracker.kit.ids import new_uid
from xtracker.runtime import Runtime

CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0 Mobile Safari/537.36"
)
BOT = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_765_411_200_000  # 2025-12-11 00:00 UTC; the frozen clock stands at 05:48:20 that day


async def create_link(http: httpx.AsyncClient, space: SpaceKeys, slug: str) -> str:
    answer = await http.post(
        f"/api/spaces/{space.slug}/links",
        json={
            "slug": slug,
            "kind": "web",
            "name": f"Link {slug}",
            "target_url": "https://offer.example/?c={uid}",
        },
        headers=space.auth,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def visit(
    rt: Runtime,
    space_id: str,
    link_id: str | None,
    ts_ms: int,
    *,
    country: str | None = "DE",
    bot: bool = False,
    **params: str,
) -> str:
    """One landing visit as the landing handler records it (country as a trusted proxy says)."""
    data = Visit(
        peer_ip="198.51.100.7",
        user_agent=BOT if bot else CHROME,
        referrer=None,
        host="t.example",
        raw_query=urlencode(params),
        cookies={},
        proxy_country=country,
    )
    row = build_click(
        uid=new_uid(ts_ms), space_id=space_id, link_id=link_id, ts_ms=ts_ms, visit=data, geo=None
    )
    assert row["is_bot"] is bot
    uid: str = await rt.committer.run(click_insert_job(row))
    return uid


async def send(http: httpx.AsyncClient, space: SpaceKeys, *events: dict[str, Any]) -> list[Any]:
    answer = await http.post("/events", json={"events": list(events)}, headers=space.auth)
    assert answer.status_code == 200, answer.text
    results: list[Any] = answer.json()["results"]
    return results


async def bind(http: httpx.AsyncClient, space: SpaceKeys, uid: str, tg_id: int) -> None:
    answer = await http.post("/bind", json={"uid": uid, "tg_id": tg_id}, headers=space.auth)
    assert answer.status_code == 200, answer.text
