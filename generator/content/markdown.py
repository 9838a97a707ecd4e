"""Markdown body -> Rendered(html, toc, links), independent of the rest of the site.

The HTML holds placeholders where it depends on the site: `\\x00L<n>\\x00` for
the n-th `[[wiki link]]` and `\\x00B` for the base path in front of a
root-relative URL. :func:`resolve` fills them in once the graph is known, so a
rendered body depends only on its own text and can be cached by content hash.
(markdown-it turns NUL in the input into U+FFFD, so users cannot forge them.)
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from generator.content import markdown_fast
from generator.content.text import slugify

HEADING_ID_PREFIX = "sec-"  # user text as an id could clobber DOM globals (`id="location"`)
_PLACEHOLDER = re.compile("\x00L(\\d+)\x00")
BASE_MARK = "\x00B"
MAX_LINK_LENGTH = 512


@dataclass(frozen=True)
class WikiLink:
    target: str  # the name as written, without #anchor
    anchor: str  # "" or the part after '#'
    label: str  # the text to show
    line: int  # 1-based line within the body


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Rendered:
    html: str
    toc: tuple[Heading, ...]
    links: tuple[WikiLink, ...]


@lru_cache(maxsize=2)
def _parser(allow_html: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": allow_html, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.add_render_rule("wikilink", _render_wikilink)
    # Two changes that make the same HTML for less work (tests/test_markdown.py compares):
    if not allow_html:  # these rules answer "no" at once without the html option, but are asked
        md.disable(["html_block", "html_inline"])  # at every line and at every `<`
    md.core.ruler.at("normalize", _normalize)
    return markdown_fast.tune(md, {_wikilink_rule: "["})


def parser_kind() -> str:
    """Which parser renders bodies: "tuned (markdown-it-py 4.3.0)", or "stock (markdown-it-py
    5.0.0; the tuned parser is verified for 4.3.0 only)" on a release markdown_fast does not know."""
    version = markdown_fast.markdown_it_version()
    if markdown_fast.is_tuned(_parser(False)):
        return f"tuned (markdown-it-py {version})"
    verified = ", ".join(markdown_fast.VERIFIED)
    return f"stock (markdown-it-py {version}; the tuned parser is verified for {verified} only)"


def _normalize(state: StateCore) -> None:
    """markdown-it's `normalize` with str.replace instead of a regex that matches every line end."""
    state.src = state.src.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if not src.startswith("[[", start):
        return False
    end = src.find("]]", start + 2, start + 2 + MAX_LINK_LENGTH)  # bounded: unclosed [[ stay linear
    if end < 0:
        return False
    inner = src[start + 2 : end]
    if not inner.strip() or "[" in inner or "\n" in inner or "]" in inner:
        return False
    if not silent:
        target, _, label = inner.partition("|")
        token = state.push("wikilink", "", 0)
        token.meta = {"target": target.strip(), "label": label.strip(), "offset": start}
    state.pos = end + 2
    return True


def _render_wikilink(self, tokens: Sequence[Token], idx: int, options, env) -> str:  # type: ignore[no-untyped-def]
    return f"\x00L{tokens[idx].meta['index']}\x00"


def render(body: str, allow_html: bool = False) -> Rendered:
    md = _parser(allow_html)
    env: dict = {}
    tokens = md.parse(body, env)
    links: list[WikiLink] = []
    toc: list[Heading] = []
    used_ids: set[str] = set()
    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "inline":
            if token.children:
                _visit(token.children, token, links)
        elif kind == "heading_open":
            text = _plain_text(tokens[i + 1])
            hid = _unique(HEADING_ID_PREFIX + slugify(text), used_ids)
            token.attrSet("id", hid)
            toc.append(Heading(int(token.tag[1]), hid, text))
    out = md.renderer.render(tokens, md.options, env)
    return Rendered(out, tuple(toc), tuple(links))


def _visit(children: list[Token], inline: Token, links: list[WikiLink]) -> None:
    """Number the wiki links and mark root-relative URLs among `inline`'s tokens, in document order."""
    for child in children:
        kind = child.type
        if kind == "text":  # by far the commonest
            continue
        if kind == "wikilink":
            line = (inline.map[0] if inline.map else 0) + 1 + inline.content[: child.meta["offset"]].count("\n")
            target, _, anchor = child.meta["target"].partition("#")
            child.meta["index"] = len(links)
            links.append(WikiLink(target.strip(), anchor.strip(), child.meta["label"] or target.strip(), line))
        elif kind == "link_open":
            _mark_root_relative(child, "href")
        elif kind == "image":
            _mark_root_relative(child, "src")
        if child.children:  # an image's alt text
            _visit(child.children, inline, links)


def _mark_root_relative(token: Token, attr: str) -> None:
    value = token.attrGet(attr)
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        token.attrSet(attr, BASE_MARK + value[1:])


def _plain_text(inline: Token) -> str:
    return "".join(c.content for c in (inline.children or []) if c.type in ("text", "code_inline")).strip()


def _unique(candidate: str, used: set[str]) -> str:
    result, n = candidate, 1
    while result in used:
        n += 1
        result = f"{candidate}-{n}"
    used.add(result)
    return result


# href, title-attribute text; or None for "render as plain text"
LinkTarget = tuple[str, str] | None


def resolve(body_html: str, links: Sequence[WikiLink], base_path: str, targets: Sequence[LinkTarget]) -> str:
    """Fill in the placeholders of a rendered body; `targets[i]` answers for links[i]."""
    out = body_html.replace(BASE_MARK, base_path)
    if not links:
        return out

    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1))
        label = html.escape(links[index].label)
        target = targets[index] if index < len(targets) else None
        if target is None:
            return f'<span class="wikilink wikilink-missing">{label}</span>'
        href, title = target
        return f'<a class="wikilink" href="{html.escape(href)}" title="{html.escape(title)}">{label}</a>'

    return _PLACEHOLDER.sub(fill, out)
