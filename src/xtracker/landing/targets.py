"""Where a landing's button leads, per link kind.

A resolver gets the link, the click row and the visit's query parameters and returns the
URL. ``bot`` and ``web`` are built in; capabilities register more kinds (``channel``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from xtracker.db.models.click import CAMPAIGN_FIELDS
from xtracker.landing.links import LinkInfo
from xtracker.macro import validate_template
from xtracker.macro.template import PARAM_PREFIX

TargetResolver = Callable[[LinkInfo, dict[str, Any], dict[str, str]], Awaitable[str]]


class TargetUnavailable(Exception):
    """The target cannot be produced right now (e.g. Telegram is unreachable)."""


def click_macros(link: LinkInfo, row: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {name: row.get(name) for name in CAMPAIGN_FIELDS}
    values.update(uid=row["uid"], fbclid=row.get("fbclid"), country=row.get("country"))
    values["link"] = link.slug
    for key, value in params.items():
        values[PARAM_PREFIX + key] = value
    return values


async def bot_target(link: LinkInfo, row: dict[str, Any], params: dict[str, str]) -> str:
    return f"https://t.me/{link.bot_username}?start=fb_{quote(row['uid'], safe='')}"


async def web_target(link: LinkInfo, row: dict[str, Any], params: dict[str, str]) -> str:
    template = link.template
    if template is None:
        assert link.target_url is not None
        template = validate_template(link.target_url, field="target_url")
    return template.render(click_macros(link, row, params))


def builtin_resolvers() -> dict[str, TargetResolver]:
    return {"bot": bot_target, "web": web_target}
