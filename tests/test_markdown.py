"""The Markdown stage: our tuned parser makes the same HTML as markdown-it-py's own rules.

The inputs are the CommonMark spec examples and markdown-it-py's own fixtures
(tests/vendor/markdown-it-py), random documents stitched from Markdown
fragments, the generated corpus and this repository's content. These tests tune
whatever markdown-it-py is installed, verified or not: that is how a release is
verified (see markdown_fast.VERIFIED). On a release not listed there, a failure
is reported as XFAIL (that release keeps the stock parser); it can be added once
every test here passes (XPASS) on it.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from markdown_it import MarkdownIt, helpers
from markdown_it.common import normalize_url
from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from conftest import BASIC, REPO, write_site
from corpus import write_corpus
from generator.content import markdown, markdown_fast

TRICKY = [
    "line one\r\nline two\rline three\nNUL here: \0 and \0\0\r\n",
    "<div class=\"x\">raw block</div>\n\npara with <span>inline</span> html <!-- comment --> <?php x ?>\n",
    "<script>alert(1)</script>\n\n<a href=\"javascript:x\">x</a> [y](javascript:alert(1)) <http://example.org>\n",
    "  <pre>\nindented html\n</pre>\n\n    code block <b>\n\n> quote <i>x</i>\n> - list <u>y</u>\n",
    "| a | b |\n|---|---|\n| <b>1</b> | ~~2~~ |\n\nText[^1] and ^[inline note].\n\n[^1]: The <em>note</em>.\n",
    "[[Baghdad]] and [[Erbil|the city]] and [ref] and ![img](/x.png \"t\")\n\n[ref]: /root/relative\n",
    "",
    "\0",
    "\r",
]
INSTALLED = markdown_fast.markdown_it_version()
verifying = pytest.mark.xfail(INSTALLED not in markdown_fast.VERIFIED, strict=False,
                              reason=f"markdown-it-py {INSTALLED} is not in markdown_fast.VERIFIED")


@pytest.fixture
def tuning_forced(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """markdown_fast tunes the installed markdown-it-py, in VERIFIED or not."""
    monkeypatch.setattr(markdown_fast, "VERIFIED", (INSTALLED,))
    parser = markdown._parser  # (the test may replace it)
    parser.cache_clear()
    yield
    parser.cache_clear()  # no parser tuned here outlives the test


SPEC = json.loads((REPO / "tests/vendor/markdown-it-py/inputs.json").read_text(encoding="utf-8"))

# Pieces of Markdown that start, end or interrupt blocks and inline runs, for random documents.
FRAGMENTS = [
    "word", "two words", "*em*", "**strong**", "_u_", "__uu__", "***", "~~s~~", "~", "`code`", "``a`b``", "\\*",
    "\\", "&amp;", "&#35;", "&bogus;", "[link](https://example.org/a/b?x=1#f)", "[l](</a b>)", "[l](%zz)",
    "[ref]", "[ref][]", "[[Wiki]]", "[[Wiki#part|label]]", "[[", "]]", "![i](/img.png)", "![a *b*](x.png \"t\")",
    "<http://a.example/>", "<b>", "</b>", "<!-- c -->", "^[note]", "[^1]", "[^x]", "#", "# h", "## h2 ##", "-", "- ",
    "+ item", "* item", "1. one", "2) two", "10. ten", "> quote", ">", "    code", "\t\tcode", "```", "```py", "~~~",
    "---", "***", "___", "===", "| a | b |", "|---|:-:|", "| 1 | 2 |", "[ref]: /url 'title'", "[^1]: note",
    "<div>", "</div>", "<pre>", "$x$", "@", "+", "=", ":", "{", "}", "%", "é", "★", "\u00a0", "  ", "\t", "\\\n",
]


def _stock(allow_html: bool) -> MarkdownIt:
    """markdown-it-py as configured before tuning (wikilinks rendered by the same rule)."""
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.inline.ruler.before("link", "wikilink", markdown._wikilink_rule)
    md.add_render_rule("wikilink", markdown._render_wikilink)
    return md


def _random_documents(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    documents = []
    for _ in range(count):
        lines = []
        for _ in range(rng.randint(1, 14)):
            pieces = rng.choices(FRAGMENTS, k=rng.randint(1, 6))
            indent = rng.choice(["", "", "", " ", "  ", "   ", "    ", "> ", "- ", "> - "])
            lines.append(indent + rng.choice([" ", "", "  "]).join(pieces))
            if rng.random() < 0.3:
                lines.append("")
        documents.append("\n".join(lines) + rng.choice(["", "\n"]))
    return documents


def _bodies(tmp_path: Path) -> list[str]:
    write_corpus(tmp_path / "corpus", 40, seed=7)
    files = sorted((tmp_path / "corpus/content").rglob("*.md")) + sorted((REPO / "content").rglob("*.md"))
    return (TRICKY + SPEC + _random_documents(1500, seed=11)
            + [p.read_text(encoding="utf-8").split("---\n", 2)[-1] for p in files])


@verifying
@pytest.mark.usefixtures("tuning_forced")
@pytest.mark.parametrize("allow_html", [False, True])
def test_tuned_parser_makes_the_stock_parsers_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     allow_html: bool) -> None:
    bodies = _bodies(tmp_path)
    assert len(SPEC) > 800 and len(bodies) > 2400
    tuned_parser = markdown._parser(allow_html)
    assert tuned_parser.normalizeLink is markdown_fast.normalize_link  # the tuning is in place
    assert tuned_parser.inline.tokenize.__qualname__.startswith("_dispatch_inline")
    assert tuned_parser.inline.parse.__qualname__.startswith("_plain_text_shortcut")
    assert markdown_fast.emphasis in tuned_parser.inline.ruler.getRules("")
    tuned = [markdown.render(body, allow_html) for body in bodies]
    stock_parser = _stock(allow_html)
    for body in bodies:  # token by token, every field (children included), not only the HTML they make
        assert tuned_parser.parse(body) == stock_parser.parse(body), body
    markdown._parser.cache_clear()
    monkeypatch.setattr(markdown, "_parser", _stock)
    stock = [markdown.render(body, allow_html) for body in bodies]
    for body, mine, theirs in zip(bodies, tuned, stock):
        assert mine == theirs, body
    assert "\ufffd" in tuned[0].html and "\r" not in tuned[0].html
    assert ("<div" in tuned[1].html) is allow_html


@verifying
@pytest.mark.usefixtures("tuning_forced")
def test_rules_it_does_not_know_are_still_asked_everywhere() -> None:
    """A plugin's inline rule ($math$) and block rule ($$) keep working once the parser is tuned."""
    def parser() -> MarkdownIt:
        md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
        return md.use(footnote_plugin).use(dollarmath_plugin)

    tuned = markdown_fast.tune(parser())
    assert not hasattr(tuned.inline.parse, "__qualname__") or "shortcut" not in tuned.inline.parse.__qualname__
    documents = ["Cost $x + y$ and *$z$* and \\$5.", "$$\na = b\n$$\n\n- $m$\n> $$q$$"] + _random_documents(400, 3)
    stock_html = [parser().render(d) for d in documents]
    assert [tuned.render(d) for d in documents] == stock_html
    assert 'class="math inline"' in stock_html[0] and "math block" in stock_html[1]


def _todo_rule(state: StateInline, silent: bool) -> bool:
    """A plugin-like rule that starts at a letter: `TODO` becomes a mark."""
    if not state.src.startswith("TODO", state.pos):
        return False
    if not silent:
        state.push("todo", "", 0)
    state.pos += 4
    return True


@verifying
@pytest.mark.usefixtures("tuning_forced")
def test_a_rule_that_starts_at_a_letter_is_asked_at_letters() -> None:
    def parser() -> MarkdownIt:
        md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
        md.inline.ruler.before("text", "todo", _todo_rule)
        md.add_render_rule("todo", lambda self, tokens, idx, options, env: "<mark>TODO</mark>")
        return md

    documents = ["TODO check", "# TODO heading", "- TODO item", "| a |\n|---|\n| TODO |"]  # where text starts
    stock_html = [parser().render(d) for d in documents]
    assert all("<mark>TODO</mark>" in html for html in stock_html)
    assert [markdown_fast.tune(parser()).render(d) for d in documents] == stock_html


URL_PARTS = ["https://", "http://", "HTTP://", "//", "mailto:", "ftp://", "", "example.org", "Example.ORG", "a-b.c",
             "xn--n3h.net", "☃.net", "a..b", "host:8080", "user@host", "[::1]", "a_b.org", "-x.org", "/", "/path",
             "/a/b.html", "../up", "rel", "?q=1", "?a=1&b=2", "&", "#frag", "#", "%20", "%zz", "%", " ", "é", "'",
             "(", ")", "*", "~", ".", "..", ":", "@", ";", "|", "\\", "<", ">", "\"", "`", "x" * 64, "y" * 70]


def _url_like(rng: random.Random) -> str:
    """A URL shaped like a plain one, now and then with a character that is not plain."""
    def run(alphabet: str, most: int) -> str:
        chars = alphabet + (rng.choice(URL_PARTS) if rng.random() < 0.1 else "")
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, most)))
    host = ".".join(run("abcXYZ019-", 8) for _ in range(rng.randint(1, 4)))
    scheme = rng.choice(["https://", "http://", "", "//"])
    return (scheme + host if scheme else "") + rng.choice(["", "/"]) + run("aZ9._~/-", 12) \
        + rng.choice(["", "?" + run("aZ9=&+,-._~/", 8)]) + rng.choice(["", "#" + run("aZ9._~/-", 6)])


def test_plain_url_shortcut_agrees_with_markdown_its_normalisation() -> None:
    rng = random.Random(5)
    urls = {"".join(rng.choices(URL_PARTS, k=rng.randint(1, 6))) for _ in range(20000)}
    urls |= {_url_like(rng) for _ in range(20000)}
    urls |= {"https://" + "a" * 250 + ".org/", "https://" + ".".join(["b" * 63] * 4) + "/x"}
    shortcut = 0
    for url in sorted(urls):
        assert markdown_fast.normalize_link(url) == normalize_url.normalizeLink(url), url
        shortcut += markdown_fast._PLAIN_URL.fullmatch(url) is not None and len(url) <= markdown_fast._MAX_PLAIN
    assert shortcut > 10000  # the shortcut was exercised, not just the fallback


@verifying
@pytest.mark.usefixtures("tuning_forced")
def test_link_destination_shortcut_agrees_with_markdown_its_parser() -> None:
    rng = random.Random(8)
    pieces = ["a", "Z", "9", "/", ".", "-", "~", "%20", "&amp;", "&", ";", "#", "?", "=", " ", "\t", "\n", "\x7f",
              "\x00", "\\", "\\ ", "\\)", "(", ")", "((", "))", "<", ">", "é", "★", "\u00a0", "'", '"', "[", "]"]
    texts = ["".join(rng.choices(pieces, k=rng.randint(0, 12))) for _ in range(20000)]
    texts += [_url_like(rng) + rng.choice(["", ")", " \"t\")", "(x)", "\\(", " "]) for _ in range(5000)]
    fast = 0
    for text in texts:
        for pos in {0, min(1, len(text)), len(text) // 2}:
            for maximum in {len(text), max(pos, len(text) - 1)}:
                mine = markdown_fast.parse_link_destination(text, pos, maximum)
                theirs = helpers.parseLinkDestination(text, pos, maximum)
                assert (mine.ok, mine.pos, mine.str) == (theirs.ok, theirs.pos, theirs.str), (text, pos, maximum)
                fast += mine.ok and not {"\\", "(", "<"} & set(text[pos:mine.pos + 1])
    assert fast > 20000  # the shortcut answered most of them, not the fallback
    assert markdown._parser(False).helpers.parseLinkDestination is markdown_fast.parse_link_destination
    assert helpers.parseLinkDestination is not markdown_fast.parse_link_destination  # the module is left alone


def _rules(md: MarkdownIt) -> list[tuple[str, object, bool]]:
    rulers = (md.core.ruler, md.block.ruler, md.inline.ruler, md.inline.ruler2)
    return [(rule.name, rule.fn, rule.enabled) for ruler in rulers for rule in ruler.__rules__]


def test_a_release_outside_the_verified_ones_gets_the_stock_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    import markdown_it

    assert INSTALLED == markdown_it.__version__  # the version lookup reads the installed release
    bodies = TRICKY + SPEC[::4] + _random_documents(300, seed=13)
    before = [markdown.render(body, allow_html) for allow_html in (False, True) for body in bodies]
    monkeypatch.setattr(markdown_fast, "markdown_it_version", lambda: "5.0.0")
    parser = markdown._parser
    parser.cache_clear()
    try:
        md = _stock(False)
        rules, options = _rules(md), dict(md.options)
        assert markdown_fast.tune(md, {markdown._wikilink_rule: "["}) is md
        assert _rules(md) == rules and dict(md.options) == options  # unchanged...
        assert "normalizeLink" not in vars(md) and md.helpers is helpers
        assert md.inline.tokenize.__func__ is ParserInline.tokenize and not markdown_fast.is_tuned(md)
        assert not markdown_fast.is_tuned(markdown._parser(False))  # ...and so is the site's own parser
        verified = ", ".join(markdown_fast.VERIFIED)
        assert markdown.parser_kind() == \
            f"stock (markdown-it-py 5.0.0; the tuned parser is verified for {verified} only)"
        after = [markdown.render(body, allow_html) for allow_html in (False, True) for body in bodies]
    finally:
        parser.cache_clear()
    assert after == before  # the same HTML, table of contents and links as with the tuned parser


def test_a_verified_release_gets_the_tuned_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markdown_fast, "markdown_it_version", lambda: markdown_fast.VERIFIED[-1])
    parser = markdown._parser
    parser.cache_clear()
    try:
        assert markdown_fast.is_tuned(markdown._parser(False)) and markdown_fast.is_tuned(markdown._parser(True))
        assert markdown.parser_kind() == f"tuned (markdown-it-py {markdown_fast.VERIFIED[-1]})"
    finally:
        parser.cache_clear()


def test_timings_name_the_markdown_parser(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", BASIC)
    done = subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site), "--output",
                           str(tmp_path / "out"), "--timings"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    timings = next(i for i, line in enumerate(lines) if line.startswith("timings: "))
    if INSTALLED in markdown_fast.VERIFIED:
        assert lines[timings + 1] == f"markdown: tuned (markdown-it-py {INSTALLED})"
    else:
        assert lines[timings + 1].startswith(f"markdown: stock (markdown-it-py {INSTALLED}; ")
    without = subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site), "--output",
                              str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert without.returncode == 0 and "markdown:" not in without.stdout  # only with --timings
