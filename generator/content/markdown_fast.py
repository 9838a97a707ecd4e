"""Same tokens, less work: speed-ups for a configured markdown-it parser.

markdown-it-py is the floor of a cold build (about 1.5 ms a document, pure
Python). :func:`tune` changes how a parser finds its answers, never what they
are; tests/test_markdown.py renders the CommonMark spec examples, markdown-it's
own fixtures, random documents and the sample corpus with and without these
changes and requires the same tokens and HTML.

It is a patch on markdown-it-py's internals, so it applies only to the releases
named in :data:`VERIFIED`; on any other, :func:`tune` leaves the parser as it is
(the same HTML, slower), and this module touches at import only names that
every markdown-it-py since 3.0 has.

- **Inline rules are tried only where they can match.** The inline tokenizer
  asks every rule, in order, at every special character ("is this `*` a
  link?"). Each stock rule first checks the character under the cursor and
  answers no at once, so asking only the rules whose first character it is, in
  the same order, gives the same tokens. Rules this module does not know
  (plugins) are asked everywhere, as before.
- **Runs of characters at which no rule but plain text can start are added to
  the pending text at once**, terminators that start nothing (`-`, `:`, `]`)
  included, where the loop would stop at each of them.
- **Text in which no inline rule can start is one text token.** More than half
  of the inline runs (paragraphs without emphasis, links or code, headings, table
  cells) contain none of the characters the rules start at; the tokenizer would
  add each of their characters to the pending text and emit it as one token, and
  the post-processing rules would find nothing to pair. Not done when a rule this
  module does not know is enabled.
- **Tokens are made without the dataclass machinery.** The block and inline
  states push tokens (some 300 a document) built field by field, the same
  objects for less than half the cost of Token's generated __init__, its default
  factories and __post_init__. Only while Token has the fields this module knows.
- **Block rules are asked only about lines they can start.** Most block rules
  (fence, quote, rule, list, heading, reference, footnote) begin with the first
  character of the line; a guard in front of each answers no for other lines
  before the rule's own preamble runs; the block tokenizer goes further and
  asks at each line only the rules its first character allows. Rules asked to
  end a paragraph use the same guarded functions.
- **Plain link targets skip URL normalisation.** `normalizeLink` parses a URL,
  punycodes its host and percent-encodes it character by character; for an
  ASCII `https://host/path` (or a relative path) that needs none of it, the
  answer is the URL itself. The test checks this against the stock function on
  thousands of generated URLs.
- **Emphasis markers ask whether they can open or close once per neighbours.**
  The answer (StateInline.scanDelims's) depends only on the characters
  before and after the run and on the marker; it is remembered for each such
  triple, and the tokens and delimiters are made as the stock rule makes them.
- **Link destinations are found with a regular expression** when they hold no
  escape and no parenthesis (markdown-it reads them character by character, a
  function call each); others go to markdown-it's own parser. The test checks
  the two against each other on thousands of generated destinations.
- **HTML is written without the general token renderer** for the commonest
  tokens: text (escaped) and tags without attributes, inline (`<em>`) and block
  (`<p>`, `<li>`), whose line breaks follow the same rules.
- **Optional settings the rules look up are set to their defaults.** markdown-it
  reads them with `options.get(name, False)`; absent, every lookup raises and
  catches a KeyError inside the options mapping.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import re
import types
from typing import Callable, Iterable, Literal

from markdown_it import MarkdownIt, helpers, rules_block, rules_inline
from markdown_it.common import normalize_url
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.parser_block import ParserBlock
from markdown_it.parser_inline import ParserInline
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.state_inline import Delimiter
from markdown_it.token import Token
from mdit_py_plugins.footnote import index as footnote

InlineRule = Callable[[StateInline, bool], bool]
BlockRule = Callable[[StateBlock, int, int, bool], bool]

# The markdown-it-py releases on which tests/test_markdown.py passed with this module in place.
# To verify another: install it and run that file, which tunes whatever is installed; add the
# release if every test passes (XPASS, not XFAIL, on a release not listed). 4.0-4.2 do not:
# their inline state has no pending-text buffer (append_pending), so part of the tuning stays off.
VERIFIED = ("4.3.0",)


def markdown_it_version() -> str:
    """The installed markdown-it-py's version, as its package metadata says."""
    try:
        return importlib.metadata.version("markdown-it-py")
    except importlib.metadata.PackageNotFoundError:  # no metadata (a copy on sys.path): not a verified release
        return "unknown"


def is_tuned(md: MarkdownIt) -> bool:
    """Whether :func:`tune` changed `md` (it did if the installed release is verified)."""
    return vars(md).get("normalizeLink") is normalize_link


# Options some rules read with .get(name, False): present, the lookup does not raise.
_OPTIONAL_FLAGS = ("strikethrough_single_tilde", "tasklists", "tasklists_editable", "alerts",
                   "store_labels", "inline_definitions")

# An http(s) URL with a plain ASCII host, or a relative one, made of characters
# that URL normalisation leaves alone: no `%`, no port, no user, no non-ASCII.
_PLAIN_URL = re.compile(
    r"(?:https?://[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*)?"
    r"(?:/[A-Za-z0-9._~/-]*)?"
    r"(?:\?[A-Za-z0-9._~/=&+,-]*)?"
    r"(?:#[A-Za-z0-9._~/-]*)?"
)
_MAX_PLAIN = 255  # longer hosts are dropped by the URL parser: leave them to it


def tune(md: MarkdownIt, first_chars: dict[InlineRule, str] | None = None) -> MarkdownIt:
    """Make `md` faster, in place, once all its rules and plugins are added; on a
    markdown-it-py not in VERIFIED, return it unchanged.

    `first_chars` names more inline rules with the characters they can start at.
    """
    if markdown_it_version() not in VERIFIED:
        return md
    for name in _OPTIONAL_FLAGS:
        if name not in md.options:
            md.options[name] = False
    md.normalizeLink = normalize_link  # type: ignore[method-assign]
    if md.helpers is helpers:  # (this parser's own namespace: the module is everyone's)
        md.helpers = types.SimpleNamespace(**{name: getattr(helpers, name) for name in helpers.__all__})
        md.helpers.parseLinkDestination = parse_link_destination
    _make_tokens_quickly(md)
    _scan_delimiters_once(md)
    _dispatch_inline(md, {**_inline_first_chars(), **(first_chars or {})})
    _guard_block(md)
    _render_quickly(md)
    return md


def normalize_link(url: str) -> str:
    """markdown-it's normalizeLink, without the work for URLs it would return unchanged."""
    if len(url) <= _MAX_PLAIN and _PLAIN_URL.fullmatch(url):
        return url
    return normalize_url.normalizeLink(url)


# The class of parseLinkDestination's answers (private: helpers.parse_link_destination._Result).
_LinkResult = type(helpers.parseLinkDestination("", 0, 0))

# A destination that parseLinkDestination reads to its end in one run: no space, control
# character, backslash or parenthesis (which it counts, to allow balanced ones).
_DESTINATION_RUN = re.compile(r"[^\x00-\x20\x7f\\()]*")


def parse_link_destination(string: str, pos: int, maximum: int) -> _LinkResult:
    """markdown-it's parseLinkDestination, without its loop over each character when the
    destination has no `<...>`, escape or parenthesis (where it stops, it would stop)."""
    if pos < maximum and string[pos] != "<":
        end = _DESTINATION_RUN.match(string, pos, maximum).end()  # type: ignore[union-attr]
        if end == maximum or string[end] not in "\\(":
            result = _LinkResult()
            if end > pos:
                result.str, result.pos, result.ok = unescapeAll(string[pos:end]), end, True
            return result
    return helpers.parseLinkDestination(string, pos, maximum)


def _scan_delimiters_once(md: MarkdownIt) -> None:
    """Emphasis markers with the stock rule's tokens and delimiters, where whether a run of
    them can open or close emphasis is asked of StateInline.scanDelims once per (character
    before, character after, marker): it depends on nothing else."""
    if tuple(field.name for field in dataclasses.fields(Delimiter))[:6] != _DELIMITER_FIELDS:  # another markdown-it
        return
    ruler = md.inline.ruler
    for rule in list(ruler.__rules__):
        if rule.fn is rules_inline.emphasis.tokenize:
            ruler.at(rule.name, emphasis, {"alt": list(rule.alt)})


_DELIMITER_FIELDS = ("marker", "length", "token", "end", "open", "close")  # emphasis makes them by position


_FLANKING: dict[tuple[str, str, str], tuple[bool, bool]] = {}  # (before, after, marker) -> (can open, can close)
_FLANKING_MOST = 20_000  # distinct neighbours remembered (a hostile text could make more)


def emphasis(state: StateInline, silent: bool) -> bool:
    """markdown-it's emphasis tokenize rule, asking StateInline.scanDelims less often."""
    start = state.pos
    src = state.src
    marker = src[start]
    if silent or marker not in "_*":
        return False
    end, most = start + 1, state.posMax
    while end < most and src[end] == marker:
        end += 1
    key = (src[start - 1] if start > 0 else " ", src[end] if end < most else " ", marker)
    flanking = _FLANKING.get(key)
    if flanking is None:
        scanned = state.scanDelims(start, marker == "*")
        flanking = scanned.can_open, scanned.can_close
        if len(_FLANKING) < _FLANKING_MOST:
            _FLANKING[key] = flanking
    can_open, can_close = flanking
    code, length, tokens, delimiters = ord(marker), end - start, state.tokens, state.delimiters
    for _ in range(length):
        token = state.push("text", "", 0)
        token.content = marker
        delimiters.append(Delimiter(code, length, len(tokens) - 1, -1, can_open, can_close))
    state.pos = end
    return True


@functools.cache
def _inline_first_chars() -> dict[InlineRule, str]:
    """The characters each stock inline rule can start at (its first test is `state.src[pos] != ...`).
    (Made when first asked, on a verified markdown-it-py: another may lack some of these rules.)"""
    return {
        rules_inline.linkify: ":",
        rules_inline.newline: "\n",
        rules_inline.escape: "\\",
        rules_inline.backtick: "`",
        rules_inline.strikethrough.tokenize: "~",
        rules_inline.emphasis.tokenize: "_*",
        emphasis: "_*",
        rules_inline.link: "[",
        rules_inline.image: "!",
        rules_inline.autolink: "<",
        rules_inline.html_inline: "<",
        rules_inline.entity: "&",
        footnote.footnote_inline: "^",
        footnote.footnote_ref: "[",
    }


def _render_quickly(md: MarkdownIt) -> None:
    renderer = md.renderer
    if type(renderer) is not RendererHTML:
        return
    rules = renderer.rules
    stock_text = rules.get("text")
    render_token = renderer.renderToken

    def render_inline(tokens, options, env):  # type: ignore[no-untyped-def]
        out = []
        plain_text = rules.get("text") is stock_text  # unless someone replaced the text rule since
        for i, token in enumerate(tokens):
            kind = token.type
            if kind == "text" and plain_text:
                out.append(escapeHtml(token.content))
            elif kind in rules:
                out.append(rules[kind](tokens, i, options, env))
            elif token.nesting and not token.attrs and not token.block and not token.hidden:
                out.append(("</" if token.nesting < 0 else "<") + token.tag + ">")  # renderToken's answer
            else:
                out.append(render_token(tokens, i, options, env))
        return "".join(out)

    def render(tokens, options, env):  # type: ignore[no-untyped-def]
        out = []
        last = len(tokens) - 1
        for i, token in enumerate(tokens):
            kind = token.type
            if kind == "inline":
                if token.children:
                    out.append(renderer.renderInline(token.children, options, env))
            elif kind in rules:
                out.append(rules[kind](tokens, i, options, env))
            elif token.hidden:  # a tight list's paragraph
                continue
            elif token.block and not token.attrs and token.nesting:  # renderToken's answer, without its tests
                if token.nesting < 0:
                    out.append("</" + token.tag + ">\n")
                    continue
                after = tokens[i + 1] if i < last else None
                inside = after is not None and (after.type == "inline" or after.hidden
                                                or (after.nesting == -1 and after.tag == token.tag))
                before = "\n<" if i and tokens[i - 1].hidden else "<"
                out.append(before + token.tag + (">" if inside else ">\n"))
            else:
                out.append(render_token(tokens, i, options, env))
        return "".join(out)

    renderer.renderInline = render_inline  # type: ignore[method-assign]
    renderer.render = render  # type: ignore[method-assign]


@functools.cache
def _block_first_chars() -> dict[BlockRule, str]:
    """The characters each stock block rule can start a line with (after its indentation)."""
    return {
        rules_block.fence: "~`",
        rules_block.blockquote: ">",
        rules_block.hr: "*-_",
        rules_block.list_block: "*-+0123456789",
        rules_block.reference: "[",
        rules_block.heading: "#",
        footnote.footnote_def: "[",
    }


def _guard_block(md: MarkdownIt) -> None:
    ruler = md.block.ruler
    first: dict[BlockRule, tuple[BlockRule, str]] = {}  # guarded rule -> (the rule, its first characters)
    for rule in list(ruler.__rules__):
        chars = _block_first_chars().get(rule.fn)
        if chars is not None:
            guarded = _guarded(rule.fn, chars)
            first[guarded] = (rule.fn, chars)
            ruler.at(rule.name, guarded, {"alt": list(rule.alt)})  # `at` would clear alt
    _dispatch_block(md, first)


def _dispatch_block(md: MarkdownIt, first: dict[BlockRule, tuple[BlockRule, str]]) -> None:
    """The block tokenizer, asking at each line only the rules that can start with its first character."""
    parser = md.block
    enabled = [rule.fn for rule in parser.ruler.__rules__ if rule.enabled]
    if enabled != parser.ruler.getRules(""):
        return
    everything = tuple(enabled)

    def rules_at(ch: str) -> tuple[BlockRule, ...]:
        return tuple(first[fn][0] if fn in first else fn for fn in enabled if fn not in first or ch in first[fn][1])

    table = {ch: rules_at(ch) for ch in "".join(chars for _, chars in first.values())}
    ordinary = rules_at("\0")  # a line no guarded rule can start
    max_nesting = md.options["maxNesting"]

    def tokenize(state: StateBlock, startLine: int, endLine: int) -> None:  # noqa: N803 (markdown-it's names)
        line = startLine
        has_empty_lines = False
        while line < endLine:
            state.line = line = state.skipEmptyLines(line)
            if line >= endLine:
                break
            if state.sCount[line] < state.blkIndent:  # the end of a nested block (quote, list item)
                break
            if state.level >= max_nesting:
                state.line = endLine
                break
            pos = state.bMarks[line] + state.tShift[line]
            ok = False
            for rule in table.get(state.src[pos], ordinary) if pos < state.eMarks[line] else everything:
                ok = rule(state, line, endLine, False)
                if ok:
                    if state.line <= line:
                        raise RuntimeError("block rule didn't increment state.line")
                    break
            if not ok:
                raise RuntimeError("none of the block rules matched")
            state.tight = not has_empty_lines
            line = state.line
            if (line - 1) < endLine and state.isEmpty(line - 1):  # a paragraph may end on an empty line
                has_empty_lines = True
            if line < endLine and state.isEmpty(line):
                has_empty_lines = True
                line += 1
                state.line = line

    parser.tokenize = tokenize  # type: ignore[method-assign]


def _guarded(fn: BlockRule, chars: str) -> BlockRule:
    def rule(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        pos = state.bMarks[line] + state.tShift[line]
        if pos < state.eMarks[line] and state.src[pos] not in chars:
            return False
        return fn(state, line, end, silent)  # an empty line goes to the rule itself, as before

    rule.__wrapped__ = fn  # type: ignore[attr-defined]
    return rule


def _dispatch_inline(md: MarkdownIt, first_chars: dict[InlineRule, str]) -> None:
    parser = md.inline
    enabled = [rule.fn for rule in parser.ruler.__rules__ if rule.enabled]
    if enabled != parser.ruler.getRules(""):  # a chain we do not understand: leave it alone
        return
    terminator = getattr(parser, "terminator_re", None)
    if terminator is None or not _pending_is_buffered(md):  # an older markdown-it-py
        return

    # a plugin may add a known rule with its options bound (mdit-py-plugins' footnote_ref)
    first_chars = {**first_chars, **{fn: first_chars[fn.func] for fn in enabled
                                     if isinstance(fn, functools.partial) and fn.func in first_chars and not fn.args}}

    def rules_at(ch: str) -> tuple[InlineRule, ...]:
        return tuple(fn for fn in enabled if _may_start(fn, ch, first_chars, terminator))

    special = set().union(*(first_chars.get(fn, "") for fn in enabled), _terminators(terminator))
    table = {ch: rules_at(ch) for ch in special}
    ordinary = rules_at("a")  # any character that is neither special nor a terminator
    max_nesting = md.options["maxNesting"]

    # Where plain text is the only rule for ordinary characters, a run of characters at none of
    # which another rule can start is pending text at once: the text rule's run and the
    # terminators no rule starts at (`-`, `:`, `]`...), which the loop would add one by one.
    only_text = ordinary == (rules_inline.text,)
    live = re.compile("[" + "".join(re.escape(ch) for ch in sorted(ch for ch, rules in table.items() if rules)) + "]"
                      if any(table.values()) else "(?!)")

    def tokenize(state: StateInline) -> None:
        src, end = state.src, state.posMax
        while state.pos < end:
            pos = state.pos
            if only_text and not table.get(src[pos]):
                found = live.search(src, pos + 1, end)
                state.append_pending(src[pos : found.start() if found else end])
                state.pos = found.start() if found else end
                continue
            ok = False
            if state.level < max_nesting:
                for rule in table.get(src[pos], ordinary):
                    if rule(state, False):
                        if state.pos <= pos:
                            raise RuntimeError("inline rule didn't increment state.pos")
                        ok = True
                        break
            if ok:
                if state.pos >= end:
                    break
                continue
            state.append_pending(src[state.pos])
            state.pos += 1
        if state.pending:
            state.pushPending()

    def skip_token(state: StateInline) -> None:
        pos = state.pos
        cache = state.cache
        if pos in cache:
            state.pos = cache[pos]
            return
        ok = False
        if state.level < max_nesting:
            for rule in table.get(state.src[pos], ordinary):
                state.level += 1  # as the stock skipToken: limits recursion through link labels
                ok = rule(state, True)
                state.level -= 1
                if ok:
                    if state.pos <= pos:
                        raise RuntimeError("inline rule didn't increment state.pos")
                    break
        else:
            state.pos = state.posMax
        if not ok:
            state.pos += 1
        cache[pos] = state.pos

    parser.tokenize = tokenize  # type: ignore[method-assign]
    parser.skipToken = skip_token  # type: ignore[method-assign]
    if ordinary == (rules_inline.text,) and set(parser.ruler2.getRules("")) <= _pairing_rules():
        _plain_text_shortcut(parser, {ch for ch, rules in table.items() if set(rules) - {rules_inline.text}})


@functools.cache
def _pairing_rules() -> frozenset[Callable[[StateInline], None]]:
    """The stock post-processing rules: each only pairs delimiter runs (`*`, `_`, `~~`), or joins the text they left."""
    return frozenset({rules_inline.link_pairs, rules_inline.strikethrough.postProcess,
                      rules_inline.emphasis.postProcess, rules_inline.fragments_join})


def _plain_text_shortcut(parser: ParserInline, starts: set[str]) -> None:
    """Inline text in which no rule can start (more than half of a document's paragraphs,
    headings and cells) is one text token: the tokenizer would add each character to the
    pending text, and the post-processing rules would find nothing to pair or join.
    `starts`: the characters at which a rule other than plain text may match."""
    parse_rules = parser.parse  # the full inline parse (with the token states above, if they are in place)
    may_start = re.compile("[" + "".join(re.escape(ch) for ch in sorted(starts)) + "]" if starts else "(?!)")

    def parse(src, md, env, tokens):  # type: ignore[no-untyped-def]
        if may_start.search(src):
            return parse_rules(src, md, env, tokens)
        if src:
            token = _token("text", "", 0, 0, False)
            token.content = src
            tokens.append(token)
        return tokens

    parser.parse = parse  # type: ignore[method-assign]


# markdown-it's Token, field by field: _token makes the same object without the dataclass
# __init__, its default factories and __post_init__ (a document makes some 300 tokens).
_TOKEN_FIELDS = ("type", "tag", "nesting", "attrs", "map", "level", "children", "content", "markup", "info", "meta",
                 "block", "hidden")
_new = object.__new__


def _token(ttype: str, tag: str, nesting: int, level: int, block: bool) -> Token:
    token = _new(Token)
    token.type, token.tag, token.nesting, token.attrs, token.map, token.level = ttype, tag, nesting, {}, None, level
    token.children, token.content, token.markup, token.info, token.meta = None, "", "", "", {}
    token.block, token.hidden = block, False
    return token


class _StateBlock(StateBlock):
    """StateBlock.push, with tokens made by _token."""

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        if nesting < 0:
            self.level -= 1  # closing tag
        token = _token(ttype, tag, nesting, self.level, True)
        if nesting > 0:
            self.level += 1  # opening tag
        self.tokens.append(token)
        return token


class _StateInline(StateInline):
    """StateInline.push and pushPending, with tokens made by _token, and the pending text
    taken from its buffer directly, not through the `pending` property (twice a push)."""

    def pushPending(self) -> Token:
        token = _token("text", "", 0, self.pendingLevel, False)
        token.content = self._take_pending()
        self.tokens.append(token)
        return token

    def _take_pending(self) -> str:
        buffer = self._pending_buffer
        text = self._pending + "".join(buffer) if buffer else self._pending
        buffer.clear()
        self._pending = ""
        return text

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        if self._pending_buffer or self._pending:
            text = self._take_pending()
            if text:
                token = _token("text", "", 0, self.pendingLevel, False)
                token.content = text
                self.tokens.append(token)
        token_meta = None
        if nesting < 0:  # closing tag
            self.level -= 1
            self.delimiters = self._prev_delimiters.pop()
        token = _token(ttype, tag, nesting, self.level, False)
        if nesting > 0:  # opening tag
            self.level += 1
            self._prev_delimiters.append(self.delimiters)
            self.delimiters = []
            token_meta = {"delimiters": self.delimiters}
        self.pendingLevel = self.level
        self.tokens.append(token)
        self.tokens_meta.append(token_meta)
        return token


def _pending_is_buffered(md: MarkdownIt) -> bool:
    """Whether StateInline keeps its pending text as `_pending` and `_pending_buffer`, which
    append_pending fills (markdown-it-py 4.x): _StateInline and the tokenizer read them."""
    state = StateInline("", md, {}, [])
    return hasattr(state, "append_pending") and type(vars(state).get("_pending_buffer")) is list \
        and type(vars(state).get("_pending")) is str


def _make_tokens_quickly(md: MarkdownIt) -> None:
    """Block and inline parsing with the states above, where Token is the one they copy."""
    if tuple(field.name for field in dataclasses.fields(Token)) != _TOKEN_FIELDS:  # another markdown-it
        return
    block, inline = md.block, md.inline
    if type(block) is not ParserBlock or type(inline) is not ParserInline or not _pending_is_buffered(md):
        return

    def parse_block(src, md, env, out_tokens):  # type: ignore[no-untyped-def]
        if not src:
            return None
        state = _StateBlock(src, md, env, out_tokens)
        block.tokenize(state, state.line, state.lineMax)
        return state.tokens

    def parse_inline(src, md, env, tokens):  # type: ignore[no-untyped-def]
        state = _StateInline(src, md, env, tokens)
        inline.tokenize(state)
        for rule in inline.ruler2.getRules(""):
            rule(state)
        return state.tokens

    block.parse = parse_block  # type: ignore[method-assign]
    inline.parse = parse_inline  # type: ignore[method-assign]


def _may_start(fn: InlineRule, ch: str, first_chars: dict[InlineRule, str], terminator: re.Pattern[str]) -> bool:
    if fn is rules_inline.text:  # plain text: any run of characters up to a terminator
        return not terminator.match(ch)
    chars = first_chars.get(fn)
    return chars is None or ch in chars


def _terminators(terminator: re.Pattern[str]) -> Iterable[str]:
    return (chr(code) for code in range(128) if terminator.match(chr(code)))
