"""Where a landing's button leads, per link kind.

A resolver gets the link, the click row and the visit's query parameters and returns the
URL. ``bot`` and ``web`` are built in; capabilities register more kinds (``channel``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from xtracker.db.models.click import CAMPAIGN_FIELDS
from xtracker.landing.links import LinkInfo
from xtracker.macro import validate_template
from xtracker.macro.template import PARAM_PREFIX

TargetResolver = Callable[[LinkInfo, dict[str, Any], dict[str, str]], Awaitable[str]]


class TargetUnavailable(Exception):
    """The target cannot be produced right now (e.g. Telegram is unreachable)."""


_ROW_MACROS = frozenset({*CAMPAIGN_FIELDS, "uid", "fbclid", "country"})


class ClickMacros(Mapping[str, Any]):
    """A click's macro values, looked up only for the macros a template names (building
    the whole dict per visit cost ~5 % of a landing's CPU under load)."""

    __slots__ = ("_link", "_params", "_row")

    def __init__(self, link: LinkInfo, row: dict[str, Any], params: dict[str, str]) -> None:
        self._link, self._row, self._params = link, row, params

    def get(self, name: str, default: Any = None) -> Any:
        if name in _ROW_MACROS:
            return self._row.get(name, default)
        if name == "link":
            return self._link.slug
        if name.startswith(PARAM_PREFIX):
            return self._params.get(name[len(PARAM_PREFIX) :], default)
        return default

    def __getitem__(self, name: str) -> Any:
        if name in self:
            return self.get(name)
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in _ROW_MACROS or name in self._names())

    def _names(self) -> list[str]:
        return ["link", *(PARAM_PREFIX + key for key in self._params)]

    def __iter__(self) -> Iterator[str]:
        yield from sorted(_ROW_MACROS)
        yield from self._names()

    def __len__(self) -> int:
        return len(_ROW_MACROS) + 1 + len(self._params)


def click_macros(link: LinkInfo, row: dict[str, Any], params: dict[str, str]) -> ClickMacros:
    return ClickMacros(link, row, params)


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
