"""Every example in ``docs/*.md`` runs against a real ``xtracker serve`` (see runner.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.runner import DOCS, Template, make_template, parse_markdown, run_page

# The documentation the product is made of (SPEC: "the project ships every page of that list").
SEED_PAGES: dict[str, str] = {
    "getting-started.md": "Getting started with XTRACKER",
    "quickstart.md": "Quickstart: your first conversion in 5 minutes",
    "canonical-events.md": "Canonical events explained",
    "destinations.md": "Destinations: Facebook CAPI, webhooks and S2S postbacks",
    "event-maps.md": "Event maps: from canonical to destination names",
    "idempotency.md": "Idempotency and deduplication, in depth",
    "api-reference.md": "API reference",
    "s2s-postback-macros.md": "S2S postback macros reference",
    "webhook-payload.md": "Webhook payload reference",
    "integrate-your-app.md": "Integrate your app with XTRACKER in 10 minutes",
    "pocket-option-postback.md": "Wire a Pocket Option postback to XTRACKER",
    "custom-domains.md": "Custom landing domains via CNAME",
    "reading-your-dashboard.md": "Reading your dashboard",
    "telegram-channel-funnel.md": "Building a Telegram channel funnel",
    "playbook-funnel-leak.md": "How to find and fix the leak in your funnel",
    "playbook-realtime-monitoring.md": (
        "Keep your finger on the pulse: real-time conversion monitoring"
    ),
    "playbook-creatives.md": "Same budget, more deposits: optimizing creatives with per-link data",
    "playbook-deposit-counted-twice.md": "The deposit you almost counted twice",
}

PAGES = sorted(DOCS.glob("*.md"))
_LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s#]+)(?:#[^)]*)?\)")


@pytest.fixture(scope="session")
def docs_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return make_template(tmp_path_factory.mktemp("docs-template"))


@pytest.mark.timeout(900)  # a page runs many CLI processes; the machine may be busy
@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run_against_a_real_server(
    path: Path, docs_template: Template, tmp_path: Path
) -> None:
    run_page(path, docs_template, tmp_path)


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_page_title_and_relative_links(path: Path) -> None:
    page = parse_markdown(path.read_text(), path)
    first = path.read_text().splitlines()[0] if path.read_text() else ""
    assert first.startswith("# "), f"{path.name} must start with '# Title'"
    if path.name in SEED_PAGES:
        assert page.title == SEED_PAGES[path.name], f"{path.name}: title differs from the seed"
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    for target in _LINK.findall(text):
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_index_links_every_page_of_the_documentation() -> None:
    index = (DOCS / "index.md").read_text()
    linked = set(_LINK.findall(index))
    missing = [name for name in SEED_PAGES if name not in linked]
    assert not missing, f"docs/index.md does not link {missing}"
    for name in SEED_PAGES:
        assert (DOCS / name).exists(), f"docs/{name} is listed in the seed but not written"
