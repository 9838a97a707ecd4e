"""The Markdown stage: our tuned parser makes the same HTML as markdown-it-py's own rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from conftest import REPO
from corpus import write_corpus
from generator import markdown

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


def _stock(allow_html: bool) -> MarkdownIt:
    """markdown-it-py as configured before tuning (wikilinks rendered by the same rule)."""
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.inline.ruler.before("link", "wikilink", markdown._wikilink_rule)
    md.add_render_rule("wikilink", markdown._render_wikilink)
    return md


def _bodies(tmp_path: Path) -> list[str]:
    write_corpus(tmp_path / "corpus", 40, seed=7)
    files = sorted((tmp_path / "corpus/content").rglob("*.md")) + sorted((REPO / "content").rglob("*.md"))
    return TRICKY + [p.read_text(encoding="utf-8").split("---\n", 2)[-1] for p in files]


@pytest.mark.parametrize("allow_html", [False, True])
def test_tuned_parser_makes_the_stock_parsers_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     allow_html: bool) -> None:
    bodies = _bodies(tmp_path)
    assert len(bodies) > 60
    tuned = [markdown.render(body, allow_html) for body in bodies]
    markdown._parser.cache_clear()
    monkeypatch.setattr(markdown, "_parser", _stock)
    stock = [markdown.render(body, allow_html) for body in bodies]
    assert tuned == stock
    assert "\ufffd" in tuned[0].html and "\r" not in tuned[0].html
    assert ("<div" in tuned[1].html) is allow_html
