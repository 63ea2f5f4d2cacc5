"""Run the examples of a ``docs/*.md`` page against a real ``xtracker serve`` process.

The conventions (also in CONTRIBUTING.md, "Docs examples"):

- ```` ```bash ```` and ```` ```python ```` blocks run, in page order, against one server per
  page. Every other info string (``json``, ``text``, ``http``, ``console``…) is shown only.
- ```` ```bash norun ```` / ```` ```python norun ````: shown, not run; the block must carry a
  ``#`` comment saying why (e.g. ``xtracker serve`` itself, which the runner already started).
- ```` ```bash error ````: the block shows an error answer on purpose. Its ``curl`` calls may
  go without ``-f``; it must be followed by an ``expect`` block, which is what checks it.
  Everywhere else every ``curl`` needs ``-f``/``--fail``/``--fail-with-body``, so a 4xx fails.
- ```` ```json expect ```` after a run block: the last JSON document the block printed on
  stdout must contain this one (objects: a subset of keys, recursively; arrays: element by
  element, a trailing ``"…"`` allows more items; a string ``"…"`` matches any value and
  ``"xtb_…"`` any string with that prefix). ```` ```text expect ````: every non-empty line
  appears in stdout, in order, ``…`` matching any text.
- Page directives are HTML comments (invisible on GitHub), one per line:
  ``<!-- docs-test: env NAME=value -->`` sets a variable for the server and the blocks;
  ``<!-- docs-test: service NAME -->`` starts ``tests/docs/services/NAME.py``'s ``service``
  context manager before the server (it yields extra environment variables).
- Blocks run with ``bash -euo pipefail`` in one temporary directory per page. Variables a bash
  block sets (and its working directory) carry over to the page's later blocks; python blocks
  see them in ``os.environ``. The runner provides ``XT_URL``, ``XT_BEARER``, ``XT_INGEST``,
  ``XT_SPACE`` (slug), ``XT_SPACE_ID``, ``XT_LINK`` (a ``web`` link's slug),
  ``XTRACKER_DATA_DIR`` and ``XTRACKER_PUBLIC_URL`` (= ``XT_URL``), with the venv's ``bin``
  first on ``PATH``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
VENV_BIN = Path(sys.executable).parent

RUN_LANGS = {"bash": "bash", "sh": "bash", "shell": "bash", "python": "python", "py": "python"}
RUN_FLAGS = {"norun", "error"}
SHOW_FLAGS = {"expect"}
ELLIPSIS = ("…", "...")
BLOCK_TIMEOUT_S = 120.0
# Outbound APIs point at a closed loopback port unless a page's service or env says otherwise,
# so no example ever reaches the internet.
NO_INTERNET = {
    "XTRACKER_META_GRAPH_URL": "http://127.0.0.1:9",
    "XTRACKER_TELEGRAM_API_URL": "http://127.0.0.1:9",
}
SERVER_START_TIMEOUT_S = 40.0

DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
QUOTED_FENCE = re.compile(r"^\s*>[\s>]*(`{3,}|~{3,})")


class DocsError(AssertionError):
    """A page breaks a convention, or an example failed."""


# ------------------------------------------------------------------------------- parsing


@dataclass
class Block:
    lang: str  # the first word of the info string, lower-case ("" when none)
    flags: frozenset[str]
    code: str
    line: int  # 1-based line of the opening fence

    @property
    def kind(self) -> str | None:
        """``bash`` or ``python`` for a block that runs, else None."""
        if "norun" in self.flags:
            return None
        return RUN_LANGS.get(self.lang)

    @property
    def runnable_lang(self) -> bool:
        return self.lang in RUN_LANGS

    @property
    def is_expect(self) -> bool:
        return "expect" in self.flags and not self.runnable_lang

    def where(self, page: str) -> str:
        return f"{page}:{self.line} ({self.lang or 'no language'} block)"


@dataclass
class Page:
    path: Path
    title: str | None
    blocks: list[Block]
    env: dict[str, str] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def parse_markdown(text: str, path: Path = Path("page.md")) -> Page:
    lines = text.splitlines()
    blocks: list[Block] = []
    env: dict[str, str] = {}
    services: list[str] = []
    title: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        match = FENCE.match(line)
        if match is None:
            if QUOTED_FENCE.match(line):
                raise DocsError(
                    f"{path.name}:{i + 1}: a code block inside a blockquote would not run;"
                    " move it out of the quote"
                )
            if title is None and line.startswith("# "):
                title = line[2:].strip()
            directive = DIRECTIVE.match(line)
            if directive is not None:
                _directive(directive.group("body"), env, services, path, i + 1)
            i += 1
            continue
        indent, fence, info = match.group("indent"), match.group("fence"), match.group("info")
        if fence[0] == "`" and "`" in info:  # an inline code span, not a fence
            i += 1
            continue
        words = info.strip().split()
        lang = words[0].lower() if words else ""
        flags = frozenset(w.lower() for w in words[1:])
        body: list[str] = []
        start = i + 1
        i += 1
        closed = False
        while i < len(lines):
            close = lines[i].strip()
            if close.startswith(fence[0] * len(fence)) and set(close) == {fence[0]}:
                closed = True
                i += 1
                break
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        if not closed:
            raise DocsError(f"{path.name}:{start}: code fence {fence} is never closed")
        blocks.append(Block(lang, flags, "\n".join(body) + "\n", start))
    return Page(path, title, blocks, env, services)


def _directive(body: str, env: dict[str, str], services: list[str], path: Path, line: int) -> None:
    verb, _, rest = body.partition(" ")
    rest = rest.strip()
    if verb == "env" and "=" in rest:
        name, _, value = rest.partition("=")
        env[name.strip()] = value.strip()
    elif verb == "service" and re.fullmatch(r"[a-z][a-z0-9_]*", rest):
        services.append(rest)
    else:
        raise DocsError(
            f"{path.name}:{line}: unknown docs-test directive {body!r}"
            " (use 'env NAME=value' or 'service NAME')"
        )


# ------------------------------------------------------------------------------- linting

_CURL = re.compile(r"(?:^|[\s;|&(`$])curl(?=\s|$)")
_COMMAND_END = re.compile(r"\s(?:\||&&|\|\||;)\s|\)|`")
_FAIL_FLAG = re.compile(r"(?:^|\s)(?:--fail(?:-with-body)?|-[A-Za-z]*f[A-Za-z]*)(?=\s|$)")


def curl_commands(code: str) -> list[str]:
    """The ``curl …`` commands of a shell block (continuation lines joined)."""
    joined = re.sub(r"\\\n", " ", code)
    found = []
    for line in joined.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for match in _CURL.finditer(line):
            rest = line[match.end() :]
            end = _COMMAND_END.search(rest)
            found.append("curl" + (rest[: end.start()] if end else rest))
    return found


def curl_fails_on_http_error(command: str) -> bool:
    unquoted = re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", " '' ", command)
    return _FAIL_FLAG.search(unquoted) is not None


def lint(page: Page) -> list[str]:
    """Convention problems of a page (empty when it is fine)."""
    problems: list[str] = []
    if page.title is None:
        problems.append(f"{page.name}: the page must start with a '# Title' line")
    previous: Block | None = None
    for block in page.blocks:
        where = block.where(page.name)
        if block.runnable_lang:
            unknown = block.flags - RUN_FLAGS
            if unknown:
                problems.append(f"{where}: unknown flag(s) {sorted(unknown)}; use norun or error")
            if "norun" in block.flags and not any(
                ln.strip().startswith("#") and len(ln.strip()) > 2 for ln in block.code.splitlines()
            ):
                problems.append(f"{where}: a norun block needs a '# why it cannot run' comment")
            if block.kind == "bash" and "error" not in block.flags:
                for command in curl_commands(block.code):
                    if not curl_fails_on_http_error(command):
                        problems.append(
                            f"{where}: curl without -f/--fail-with-body (a 4xx would pass"
                            f" unnoticed; mark the block 'error' if it shows one on purpose):"
                            f" {command.strip()[:120]}"
                        )
        if block.is_expect:
            if previous is None or previous.kind is None:
                problems.append(f"{where}: an expect block must follow a block that runs")
            elif block.lang not in ("json", "text"):
                problems.append(f"{where}: expect works on json and text blocks")
        if "error" in block.flags and block.kind is not None:
            following = _next(page.blocks, block)
            if following is None or not following.is_expect:
                problems.append(f"{where}: an 'error' block must be followed by an expect block")
        previous = block
    return problems


def _next(blocks: list[Block], block: Block) -> Block | None:
    index = blocks.index(block)
    return blocks[index + 1] if index + 1 < len(blocks) else None


# ------------------------------------------------------------------------------ matching


def json_documents(text: str) -> list[Any]:
    """Every JSON value in ``text``: compact ones back to back, pretty ones, between log lines."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    pos = 0
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        if text[pos] in "{[":
            try:
                value, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                pass
            else:
                documents.append(value)
                pos = end
                continue
        newline = text.find("\n", pos)
        pos = len(text) if newline < 0 else newline + 1
    return documents


def _wild(value: Any) -> bool:
    return isinstance(value, str) and value in ELLIPSIS


def mismatch(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Why ``actual`` does not contain ``expected`` (None when it does)."""
    if _wild(expected):
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {json.dumps(actual)[:200]}"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}: key {key!r} missing in {json.dumps(actual)[:300]}"
            problem = mismatch(value, actual[key], f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected an array, got {json.dumps(actual)[:200]}"
        open_ended = bool(expected) and _wild(expected[-1])
        items = expected[:-1] if open_ended else expected
        if len(actual) < len(items) or (not open_ended and len(actual) != len(items)):
            return f"{path}: expected {len(items)} items, got {len(actual)}"
        for index, item in enumerate(items):
            problem = mismatch(item, actual[index], f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(expected, str) and isinstance(actual, str):
        for mark in ELLIPSIS:
            if mark in expected:
                pattern = ".*".join(re.escape(part) for part in expected.split(mark))
                if re.fullmatch(pattern, actual, re.DOTALL):
                    return None
                return f"{path}: {actual!r} does not match {expected!r}"
    if type(expected) is not type(actual) or expected != actual:
        return f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"
    return None


def check_expect(block: Block, stdout: str) -> str | None:
    if block.lang == "json":
        try:
            expected = json.loads(block.code)
        except json.JSONDecodeError as exc:
            return f"the expect block is not valid JSON: {exc}"
        documents = json_documents(stdout)
        if not documents:
            return "expected JSON output, the block printed none"
        return mismatch(expected, documents[-1])
    pos = 0
    for line in block.code.splitlines():
        if not line.strip():
            continue
        pattern = ".*?".join(re.escape(part) for part in re.split("…|\\.\\.\\.", line.strip()))
        found = re.compile(pattern).search(stdout, pos)
        if found is None:
            return f"line {line.strip()!r} not found (in order) in the output"
        pos = found.end()
    return None


# ------------------------------------------------------------------------------- running


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def xtracker_command() -> list[str]:
    script = VENV_BIN / "xtracker"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from xtracker.cli.main import run; run()"]


def base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XTRACKER_", "XT_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env.update(NO_COLOR="1", COLUMNS="120", PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def _kill_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Template:
    """A data directory with one space and one ``web`` link, made once with the real CLI."""

    data_dir: Path
    env: dict[str, str]


def make_template(root: Path) -> Template:
    data_dir = root / "data"
    env = base_env({"XTRACKER_DATA_DIR": str(data_dir)})
    cli = xtracker_command()

    def run(*args: str) -> Any:
        done = subprocess.run(
            [*cli, *args, "--json"], env=env, cwd=root, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise DocsError(f"xtracker {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout)

    created = run("space", "create", "Promo X", "--slug", "promo-x")
    link = run(
        "link", "create", "--space", "promo-x", "--slug", "offer", "--kind", "web",
        "--target", "https://offer.example/?click_id={uid}", "--title", "Claim your bonus",
    )  # fmt: skip
    return Template(
        data_dir,
        {
            "XT_BEARER": created["bearer"],
            "XT_INGEST": created["ingest_token"],
            "XT_SPACE": created["space"]["slug"],
            "XT_SPACE_ID": created["space"]["id"],
            "XT_LINK": link["slug"],
        },
    )


@dataclass
class PageContext:
    """What a docs-test service gets: the page's directory, data directory and environment."""

    page: Page
    workdir: Path
    data_dir: Path
    env: dict[str, str]

    def free_port(self) -> int:
        return free_port()


@contextlib.contextmanager
def running_server(ctx: PageContext) -> Iterator[tuple[str, Path]]:
    """``xtracker serve`` on a free port; yields its URL and log file."""
    log_path = ctx.workdir.parent / f"{ctx.page.path.stem}-server.log"
    for _attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(ctx.env, XTRACKER_PUBLIC_URL=url)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [*xtracker_command(), "serve", "--port", str(port)], env=env, cwd=ctx.workdir,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        try:
            if _wait_healthy(url, process):
                yield url, log_path
                return
        finally:
            _kill_group(process)
        if "address already in use" not in log_path.read_text(errors="replace").lower():
            break
    raise DocsError(f"xtracker serve did not start:\n{tail(log_path)}")


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


_BASH_PRELUDE = """\
set -a
if [ -f "$XT_STATE" ]; then . "$XT_STATE"; fi
__xt_save() {
  { export -p | grep -Ev '^declare -x (PWD|OLDPWD|SHLVL|_)='
    declare -f
    printf 'cd -- %q\\n' "$PWD"; } > "$XT_STATE.new" 2>/dev/null && mv "$XT_STATE.new" "$XT_STATE"
}
trap __xt_save EXIT
"""
_PYTHON_LAUNCH = 'if [ -f "$XT_STATE" ]; then set -a; . "$XT_STATE"; set +a; fi\nexec python "$1"\n'


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool


class PageRun:
    """Runs one page's blocks in order; keeps every block's process group until ``close``."""

    def __init__(self, ctx: PageContext, url: str, server_log: Path) -> None:
        self.ctx = ctx
        self.url = url
        self.server_log = server_log
        self.env = dict(ctx.env, XT_URL=url, XTRACKER_PUBLIC_URL=url)
        self.env["XT_STATE"] = str(ctx.workdir.parent / f"{ctx.page.path.stem}.state")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.count = 0

    def run_block(self, block: Block) -> Outcome:
        self.count += 1
        scripts = self.ctx.workdir.parent / "blocks"
        scripts.mkdir(exist_ok=True)
        stem = f"{self.ctx.page.path.stem}-{self.count:02d}-line{block.line}"
        if block.kind == "bash":
            script = scripts / f"{stem}.sh"
            script.write_text(_BASH_PRELUDE + block.code)
            argv = ["bash", "--noprofile", "--norc", "-euo", "pipefail", str(script)]
        else:
            script = scripts / f"{stem}.py"
            script.write_text(block.code)
            launcher = scripts / f"{stem}.launch.sh"
            launcher.write_text(_PYTHON_LAUNCH)
            argv = ["bash", "--noprofile", "--norc", "-eu", str(launcher), str(script)]
        out_path, err_path = scripts / f"{stem}.out", scripts / f"{stem}.err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = subprocess.Popen(
                argv, env=self.env, cwd=self._cwd(), stdout=out, stderr=err,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)
        timed_out = False
        try:
            process.wait(BLOCK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process, timeout=5)
        return Outcome(
            process.returncode if process.returncode is not None else -1,
            out_path.read_text(errors="replace"),
            err_path.read_text(errors="replace"),
            timed_out,
        )

    def _cwd(self) -> Path:
        return self.ctx.workdir  # bash blocks restore their own cwd from the state file

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None or _group_alive(process.pid):
                _kill_group(process, timeout=5)

    def failure(self, block: Block, why: str, outcome: Outcome | None) -> DocsError:
        parts = [f"{block.where(self.ctx.page.name)}: {why}", "--- block ---", block.code.rstrip()]
        if outcome is not None:
            parts += ["--- stdout ---", outcome.stdout.rstrip()[-4000:],
                      "--- stderr ---", outcome.stderr.rstrip()[-4000:]]  # fmt: skip
        parts += ["--- server log (tail) ---", tail(self.server_log)]
        return DocsError("\n".join(parts))


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@contextlib.contextmanager
def started_services(ctx: PageContext) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for name in ctx.page.services:
            try:
                module = importlib.import_module(f"tests.docs.services.{name}")
            except ModuleNotFoundError as exc:
                raise DocsError(f"{ctx.page.name}: no docs-test service {name!r}") from exc
            extra = stack.enter_context(module.service(ctx))
            ctx.env.update(extra or {})
        yield


def run_page(path: Path, template: Template, workroot: Path) -> int:
    """Run every example of the page at ``path``; return how many blocks ran."""
    page = parse_markdown(path.read_text(), path)
    problems = lint(page)
    if problems:
        raise DocsError("\n".join(problems))
    if not any(block.kind for block in page.blocks):
        return 0
    workdir = workroot / "work"
    workdir.mkdir(parents=True)
    data_dir = workroot / "data"
    shutil.copytree(template.data_dir, data_dir)
    env = base_env(
        dict(template.env, XTRACKER_DATA_DIR=str(data_dir), XTRACKER_LOG_LEVEL="warning")
    )
    env.update(NO_INTERNET)  # a page that needs Meta or Telegram brings a fake (a service)
    env.update(page.env)
    ctx = PageContext(page, workdir, data_dir, env)
    with started_services(ctx), running_server(ctx) as (url, log):
        runner = PageRun(ctx, url, log)
        try:
            last: Outcome | None = None
            for block in page.blocks:
                if block.kind is not None:
                    last = runner.run_block(block)
                    if last.timed_out:
                        raise runner.failure(block, f"timed out after {BLOCK_TIMEOUT_S:.0f}s", last)
                    if last.returncode != 0:
                        raise runner.failure(block, f"exited with {last.returncode}", last)
                elif block.is_expect:
                    assert last is not None
                    problem = check_expect(block, last.stdout)
                    if problem:
                        raise runner.failure(block, f"expect failed: {problem}", last)
            return runner.count
        finally:
            runner.close()
