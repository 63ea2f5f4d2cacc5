"""``{name}`` macros in outbound URL templates and web links' target URLs (SPEC §4)."""

from xtracker.macro.template import MACROS, Template, render, validate_template

__all__ = ["MACROS", "Template", "render", "validate_template"]
