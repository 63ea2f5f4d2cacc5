"""The vendored browser assets are exactly the versions package-lock.json pins.

``npm ci && scripts/build-assets`` refreshes them; this test fails when someone bumps
package.json without rebuilding (or edits a vendored file by hand).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "xtracker" / "dashboard" / "static" / "vendor"
FILES = {
    "echarts": ("echarts.min.js", "dist/echarts.min.js"),
    "topojson-client": ("topojson-client.min.js", "dist/topojson-client.min.js"),
    "world-atlas": ("countries-110m.json", "countries-110m.json"),
}


def _locked() -> dict[str, str]:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in FILES}


def test_vendored_versions_match_the_lockfile() -> None:
    recorded = json.loads((VENDOR / "VERSIONS.json").read_text())
    assert recorded == _locked()


def test_vendored_files_carry_their_version() -> None:
    locked = _locked()
    assert f'version="{locked["echarts"]}"' in (VENDOR / "echarts.min.js").read_text()
    head = (VENDOR / "topojson-client.min.js").read_text()[:200]
    assert f"v{locked['topojson-client']}" in head
    world = json.loads((VENDOR / "countries-110m.json").read_text())
    assert len(world["objects"]["countries"]["geometries"]) == 177


def test_vendored_files_equal_the_installed_packages_when_installed() -> None:
    """After ``npm ci`` (scripts/setup-dev runs it), the copies are byte-identical."""
    modules = ROOT / "node_modules"
    compared = 0
    for name, (vendored, source) in FILES.items():
        installed = modules / name / source
        if not installed.exists():
            continue
        version = json.loads((modules / name / "package.json").read_text())["version"]
        assert version == _locked()[name], f"node_modules/{name} is not the locked version"
        digest = hashlib.sha256(installed.read_bytes()).hexdigest()
        assert digest == hashlib.sha256((VENDOR / vendored).read_bytes()).hexdigest(), name
        compared += 1
    assert compared in (0, len(FILES))
