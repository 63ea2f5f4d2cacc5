"""The client package stands alone: httpx and the standard library only, a checked __all__."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import xtracker
import xtracker.client

PACKAGE = Path(xtracker.client.__file__).parent


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


class TestPackage:
    def test_imports_only_httpx_and_the_standard_library(self) -> None:
        for path in PACKAGE.glob("*.py"):
            outside = _imported_roots(path) - sys.stdlib_module_names - {"__future__", "httpx"}
            assert not outside, f"{path.name} imports {outside}"

    def test_all_lists_exactly_the_public_names(self) -> None:
        public = {name for name in vars(xtracker.client) if not name.startswith("_")}
        public -= {path.stem for path in PACKAGE.glob("_*.py")}  # submodules are not names
        assert set(xtracker.client.__all__) - {"__version__"} == public
        assert all(hasattr(xtracker.client, name) for name in xtracker.client.__all__)

    def test_the_private_modules_stay_private(self) -> None:
        assert all(path.name.startswith("_") for path in PACKAGE.glob("*.py"))

    def test_every_public_name_is_documented(self) -> None:
        for name in xtracker.client.__all__:
            if name != "__version__":
                assert getattr(xtracker.client, name).__doc__, name

    def test_the_version_is_the_project_version(self) -> None:
        assert xtracker.client.__version__ == xtracker.__version__

    def test_works_when_copied_alone(self, tmp_path: Path) -> None:
        shutil.copytree(
            PACKAGE, tmp_path / "xtclient", ignore=shutil.ignore_patterns("__pycache__")
        )
        code = (
            "import sys, xtclient\n"
            "assert 'xtracker' not in sys.modules, 'the copy pulled in the server package'\n"
            "print(xtclient.AsyncClient.__name__, xtclient.Client.__name__)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["AsyncClient", "Client"]
