"""Parse, validate and render ``{name}`` templates.

A template is checked when it is saved, so an unknown macro is refused naming it and never
discovered at delivery time. Values are URL-encoded; a missing value renders as ''.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from xtracker.errors import UnknownMacro, ValidationFailed

MACROS: frozenset[str] = frozenset(
    {
        "uid", "event", "canonical", "value", "currency", "occurred_at_ms", "tg_id", "fbclid",
        "campaign_id", "campaign_name", "adset_id", "adset_name", "ad_id", "ad_name",
        "placement", "eid", "event_id", "country", "link",
        "sub1", "sub2", "sub3", "sub4", "sub5",
    }
)  # fmt: skip
PARAM_PREFIX = "param."
_MACRO = re.compile(r"\{([^{}\s]*)\}")


@dataclass(frozen=True)
class Template:
    """A validated template: literal chunks interleaved with macro names."""

    source: str
    parts: tuple[tuple[str, str | None], ...]  # (literal, macro name or None)

    @property
    def macros(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.parts if name is not None)

    def render(self, values: Mapping[str, object]) -> str:
        out: list[str] = []
        for literal, name in self.parts:
            out.append(literal)
            if name is not None:
                value = values.get(name)
                out.append("" if value is None else quote(str(value), safe=""))
        return "".join(out)


def _is_known(name: str) -> bool:
    return name in MACROS or (name.startswith(PARAM_PREFIX) and len(name) > len(PARAM_PREFIX))


def validate_template(source: str, *, field: str = "url_template") -> Template:
    """Parse a template; raise ``UnknownMacro`` naming the first unknown macro."""
    if not source or not source.strip():
        raise ValidationFailed(f"{field} must not be empty", field=field)
    parts: list[tuple[str, str | None]] = []
    position = 0
    for match in _MACRO.finditer(source):
        name = match.group(1)
        if not _is_known(name):
            raise UnknownMacro(
                f"unknown macro {{{name}}} in {field}; known macros: "
                + ", ".join("{" + m + "}" for m in sorted(MACROS))
                + ", {param.<name>}",
                field=field,
            )
        parts.append((source[position : match.start()], name))
        position = match.end()
    parts.append((source[position:], None))
    return Template(source, tuple(parts))


def render(source: str, values: Mapping[str, object]) -> str:
    return validate_template(source).render(values)
