"""The docs runner itself: parsing, conventions, matching, and one real page run each way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.runner import (
    DocsError,
    Template,
    check_expect,
    curl_commands,
    curl_fails_on_http_error,
    json_documents,
    lint,
    make_template,
    mismatch,
    parse_markdown,
    run_page,
)

FENCE = "```"


def page(text: str) -> str:
    return text.replace("'''", FENCE)


class TestParse:
    def test_blocks_keep_language_flags_and_line(self) -> None:
        parsed = parse_markdown(
            page(
                "# T\n\n'''bash\necho hi\n'''\n\n'''json expect\n{}\n'''\n'''bash norun\n# x\n'''\n"
            )
        )
        assert parsed.title == "T"
        assert [(b.lang, sorted(b.flags), b.line) for b in parsed.blocks] == [
            ("bash", [], 3),
            ("json", ["expect"], 7),
            ("bash", ["norun"], 10),
        ]
        assert parsed.blocks[0].kind == "bash"
        assert parsed.blocks[1].is_expect
        assert parsed.blocks[2].kind is None

    def test_indented_fence_in_a_list_is_dedented(self) -> None:
        parsed = parse_markdown(page("# T\n\n1. step\n   '''bash\n   echo one\n   '''\n"))
        assert parsed.blocks[0].code == "echo one\n"

    def test_longer_fence_holds_a_shorter_one(self) -> None:
        parsed = parse_markdown("# T\n````markdown\n```bash\nx\n```\n````\n")
        assert len(parsed.blocks) == 1
        assert parsed.blocks[0].lang == "markdown"

    def test_directives_set_env_and_services(self) -> None:
        parsed = parse_markdown(
            "# T\n<!-- docs-test: env XTRACKER_ALLOW_PRIVATE_TARGETS=true -->\n"
            "<!-- docs-test: service receiver -->\n"
        )
        assert parsed.env == {"XTRACKER_ALLOW_PRIVATE_TARGETS": "true"}
        assert parsed.services == ["receiver"]

    def test_unknown_directive_is_refused(self) -> None:
        with pytest.raises(DocsError, match="unknown docs-test directive"):
            parse_markdown("# T\n<!-- docs-test: skip please -->\n")

    def test_a_fence_inside_a_blockquote_is_refused_rather_than_skipped(self) -> None:
        with pytest.raises(DocsError, match="inside a blockquote"):
            parse_markdown(page("# T\n> '''bash\n> echo\n> '''\n"))

    def test_unclosed_fence_is_refused(self) -> None:
        with pytest.raises(DocsError, match="never closed"):
            parse_markdown(page("# T\n'''bash\necho\n"))


class TestLint:
    def test_curl_needs_a_fail_flag(self) -> None:
        problems = lint(parse_markdown(page("# T\n'''bash\ncurl -s \"$XT_URL/healthz\"\n'''\n")))
        assert len(problems) == 1
        assert "curl without -f" in problems[0]

    @pytest.mark.parametrize(
        "command",
        [
            'curl -f "$XT_URL/x"',
            "curl -fsS $XT_URL/x",
            "curl -sSf $XT_URL/x",
            "curl --fail-with-body -s $XT_URL/x",
            "curl -s --fail \\\n  $XT_URL/x",
        ],
    )
    def test_fail_flags_are_recognised(self, command: str) -> None:
        (found,) = curl_commands(command)
        assert curl_fails_on_http_error(found)

    def test_a_flag_inside_quotes_does_not_count(self) -> None:
        (found,) = curl_commands("curl -s -H 'x: -f' $XT_URL/x")
        assert not curl_fails_on_http_error(found)

    def test_each_curl_of_a_pipeline_is_checked(self) -> None:
        found = curl_commands('A=$(curl -fsS "$XT_URL/a") && curl -s "$XT_URL/b" | jq .')
        assert [curl_fails_on_http_error(c) for c in found] == [True, False]

    def test_error_block_needs_an_expect_block(self) -> None:
        problems = lint(parse_markdown(page("# T\n'''bash error\ncurl -s $XT_URL/x\n'''\n")))
        assert problems == [
            "page.md:2 (bash block): an 'error' block must be followed by an expect block"
        ]

    def test_norun_needs_a_reason(self) -> None:
        problems = lint(parse_markdown(page("# T\n'''bash norun\nxtracker serve\n'''\n")))
        assert "needs a '# why it cannot run' comment" in problems[0]

    def test_unknown_flag_is_refused(self) -> None:
        problems = lint(parse_markdown(page("# T\n'''bash nurun\necho\n'''\n")))
        assert "unknown flag" in problems[0]

    def test_expect_must_follow_a_run_block(self) -> None:
        problems = lint(parse_markdown(page("# T\n'''json expect\n{}\n'''\n")))
        assert "must follow a block that runs" in problems[0]


class TestMatch:
    def test_json_documents_finds_compact_pretty_and_skips_text(self) -> None:
        text = 'log line\n{"a":1}{"b":2}\n[INFO] x\n{\n  "c": [1, 2]\n}\n'
        assert json_documents(text) == [{"a": 1}, {"b": 2}, {"c": [1, 2]}]

    def test_subset_with_wildcards(self) -> None:
        actual = {"ok": True, "status": "queued", "inbox_id": "01abc", "extra": 1}
        assert mismatch({"ok": True, "status": "queued", "inbox_id": "…"}, actual) is None
        assert mismatch({"inbox_id": "01…"}, actual) is None
        assert 'expected "duplicate"' in (mismatch({"status": "duplicate"}, actual) or "")

    def test_arrays_match_item_by_item_and_open_ended(self) -> None:
        assert mismatch([{"a": 1}], [{"a": 1, "b": 2}]) is None
        assert mismatch([{"a": 1}], [{"a": 1}, {"a": 2}]) is not None
        assert mismatch([{"a": 1}, "…"], [{"a": 1}, {"a": 2}]) is None

    def test_true_is_not_one(self) -> None:
        assert mismatch(True, 1) is not None

    def test_text_expect_lines_in_order_with_ellipsis(self) -> None:
        block = parse_markdown(page("# T\n'''text expect\nSpace created: …\nBearer …\n'''\n"))
        output = "Space created: Promo X (promo-x)\nBearer secret: xtb_1\n"
        assert check_expect(block.blocks[0], output) is None
        assert check_expect(block.blocks[0], "Bearer\nSpace created: x") is not None


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return make_template(tmp_path_factory.mktemp("runner-template"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "example.md"
    path.write_text(page(text))
    return path


class TestRunPage:
    def test_blocks_share_state_and_expectations_are_checked(
        self, template: Template, tmp_path: Path
    ) -> None:
        path = write(
            tmp_path,
            """# Example

'''bash
mkdir sub && cd sub
ANSWER=$(curl -fsS "$XT_URL/healthz")
say() { echo "said $1"; }
'''

'''bash
test "$(basename "$PWD")" = sub
say hello
curl -fsS "$XT_URL/events" -H "Authorization: Bearer $XT_BEARER" \\
  -d "{\\"event\\": \\"contact\\", \\"uid\\": \\"u1\\"}"
'''

'''json expect
{"ok": true, "status": "queued", "inbox_id": "…"}
'''

'''python
import os, json
print(json.dumps({"answer": json.loads(os.environ["ANSWER"]), "space": os.environ["XT_SPACE"]}))
'''

'''json expect
{"answer": {"ok": true}, "space": "promo-x"}
'''

'''bash error
curl -s "$XT_URL/e?token=$XT_INGEST&event=lead&uid=u1"
'''

'''json expect
{"ok": false, "error": {"code": "unknown_event", "field": "event"}}
'''
""",
        )
        assert run_page(path, template, tmp_path / "run") == 4

    def test_a_4xx_fails_the_page_and_shows_the_output(
        self, template: Template, tmp_path: Path
    ) -> None:
        path = write(
            tmp_path,
            """# Example

'''bash
curl -fsS "$XT_URL/e?token=wrong&event=deposit&uid=u1"
'''
""",
        )
        with pytest.raises(DocsError, match=r"exited with 22[\s\S]*--- stderr ---"):
            run_page(path, template, tmp_path / "run")

    def test_a_failed_expectation_names_the_difference(
        self, template: Template, tmp_path: Path
    ) -> None:
        path = write(
            tmp_path,
            """# Example

'''bash
curl -fsS "$XT_URL/e?token=$XT_INGEST&event=deposit&uid=u1&eid=tx-1"
'''

'''json expect
{"status": "duplicate"}
'''
""",
        )
        with pytest.raises(DocsError, match='expected "duplicate", got "queued"'):
            run_page(path, template, tmp_path / "run")

    def test_page_directives_reach_the_blocks_and_the_receiver_records(
        self, template: Template, tmp_path: Path
    ) -> None:
        path = write(
            tmp_path,
            """# Example
<!-- docs-test: service receiver -->
<!-- docs-test: env XT_GREETING=hello -->

'''bash
test "$XT_GREETING" = hello
curl -fsS "$XT_RECEIVER/hook?a=1" -H 'content-type: application/json' -d '{"n": 1}'
curl -fsS -o /dev/null "$XT_RECEIVER/status/503/hook" 2>/dev/null || echo 'a 503, as asked'
curl -fsS "$XT_RECEIVER/_received"
'''

'''json expect
[{"method": "POST", "path": "/hook", "query": {"a": "1"}, "json": {"n": 1}},
 {"path": "/status/503/hook"}]
'''
""",
        )
        assert run_page(path, template, tmp_path / "run") == 1
