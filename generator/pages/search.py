"""The search index: small files, so that a first query reads a few of them, not the whole site.

`search.js` reads them only on the pages that search or filter (format version 2):

    search/index.json     the entry: counts, stop words, every actor and place as [kind, slug,
                          name, documents, type, aliases] (its page: sections[kind] + slug + "/"),
                          the distinct words of titles (names and titles are what typos are
                          forgiven in), which documents are notes, and the days they are dated
                          ([day, documents], oldest first)
    search/terms-B.json   {"v": 2, "terms": {term: [title, names, summary, body]}}: the documents
                          each term of shard B is in, field by field (see Terms)
    search/docs-K.json    [[kind, path, title, date, summary, lead], ...]: CHUNK documents each,
                          what a result shows (fetched for the results on screen only)
    search/tags-K.json    [postings, ...]: the documents tagged with each of TAG_BUCKET
                          consecutive entities of index.json (the actor and place filters)

Documents are numbered oldest first (the reverse of the site's order), so a number is also
a date order, a date range is a range of numbers, docs-K holds numbers K*CHUNK.., and a new
document, mostly the newest, takes the next number and leaves every other file's numbers as
they were (only the shards of its words, the last docs file, its tags and index.json change).
A term's shard is a hash of its first three letters (`shard_of`; search.js
computes the same), so the terms that start alike, which a prefix looks for, are in one
file. Postings are strings (`encode`): ascending numbers as base-32 gaps, or, where that is
longer, a bitmap (`~` then six numbers a character): a common word costs a bitmap of at
most N/6 characters.

Titles, summaries and the names and aliases of tagged actors and places are searched in
full; bodies by their `words`: the distinct words of the body, folded (lower case, no
accents, no apostrophes) in order of first appearance and without stop words, up to
WORD_BUDGET characters. The browser folds queries the same way (`fold` in search.js
mirrors :func:`fold`).

Incremental builds: a body edit changes the words of one document, so only the term
shards of the words it gained or lost change, and its docs file (its lead). The shard
pages hold a TermShard, whose fingerprint is a digest of that shard's postings, and the
preview's and warm builds' fast path makes a new Terms from the old one by changing just
the edited documents' rows (live.Applied calls TermShard.replaced).

Only published documents and entities reach this module: the Site holds nothing else.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import json
import re
import threading
import unicodedata
from array import array
from typing import Any, Iterable, Mapping, Protocol, Sequence

from generator.content.model import Document, Entity, Ref
from generator.site.urls import page_path, section_path

VERSION = 2
WORD_BUDGET = 900  # characters of distinct body words kept per document
_SCANS = (3_000, 16_000)  # characters of body HTML read for them: first try, then at most
CHUNK = 16  # documents per docs-K.json: a page of results reads a few small files
TAG_BUCKET = 64  # entities per tags-K.json
LEAD = 240  # characters of a body's text kept for the snippets of results
DOCS_PER_SHARD = 40  # term shards: about one per this many documents, a power of two,
MIN_SHARDS, MAX_SHARDS = 8, 2048  # within these bounds
SHARD_KEY = 3  # letters of a term that pick its shard
FIELDS = ("title", "names", "summary", "body")  # in the order of their weight in the ranking

_APOSTROPHES = re.compile(r"['’‘ʼʻ`´]")
_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_OPEN_TAG = re.compile(r"<[^>]*$")
_BLOCK_TAG = re.compile(r"</?(?:p|h[1-6]|li|ul|ol|br|hr|div|blockquote|pre|table|tr|td|th|dt|dd|figure|figcaption)\b[^>]*>")
_ASCII_SEPARATORS = bytes.maketrans(bytes(c for c in range(128) if not chr(c).isalnum()),
                                    b" " * sum(not chr(c).isalnum() for c in range(128)))
STOP_WORDS = frozenset("""
a about after against all also an and any are as at be been before being between both but by can could did do does
during each for from had has have he her his how if in into is it its may might more most no nor not of on once only or
other our out over said says she should so some such than that the their them then there these they this those through
to under until up was we were what when where which while who whom why will with would you your
""".split())


class HasHtml(Protocol):
    def html(self) -> str: ...


def words_of(body: HasHtml | None) -> str:
    """A body's search words: precomputed by the build when it has them, else from its HTML."""
    if body is None:
        return ""
    precomputed = getattr(body, "words", None)
    return precomputed() if precomputed is not None else body_words(body.html())


def fold(text: str) -> str:
    """Lower case without accents or apostrophes: `Kata'ib Ḥizballah` -> `kataib hizballah`."""
    text = _APOSTROPHES.sub("", text.lower())
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def plain_text(body_html: str) -> str:
    return html.unescape(_TAG.sub(" ", body_html))


def body_words(body_html: str, budget: int = WORD_BUDGET) -> str:
    """Distinct words of a body in order of first appearance, space-separated, at most `budget` characters.

    Reads the start of the body, and more only when that does not fill the budget
    (the common case is one short read: this runs for every document of the site).
    """
    kept: list[str] = []
    for scan in _SCANS:
        kept, full = _distinct_words(plain_text(body_html[:scan]), budget)
        if full or scan >= len(body_html):
            break
    return " ".join(kept)


def _distinct_words(text: str, budget: int) -> tuple[list[str], bool]:
    seen: set[str] = set()
    kept: list[str] = []
    used = 0
    lowered = _APOSTROPHES.sub("", text.lower())
    # ASCII punctuation to spaces in one C pass, then split: the same words as _WORD.findall
    # where the text is ASCII (most of it), at half the cost; the rest goes through _WORD.
    spaced = lowered.encode("utf-8", "surrogatepass").translate(_ASCII_SEPARATORS).decode("utf-8", "surrogatepass")
    for chunk in dict.fromkeys(spaced.split()):  # distinct, in order
        if chunk.isascii():
            words: Iterable[str] = (chunk,)
        else:
            words = [w for t in _WORD.findall(chunk) for w in ((t,) if t.isascii() else _WORD.findall(fold(t)))]
        for word in words:
            if len(word) < 2 or word in STOP_WORDS or word in seen:
                continue
            if used + len(word) + 1 > budget:
                return kept, True
            seen.add(word)
            kept.append(word)
            used += len(word) + 1
    return kept, False


def field_words(text: str) -> str:
    """The distinct words of a title, summary or name, folded, without stop words: as body words are."""
    lowered = _APOSTROPHES.sub("", text.lower())
    if lowered.isascii():  # (most text: ASCII punctuation to spaces in one C pass, as _distinct_words does)
        found: Iterable[str] = lowered.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
    else:
        found = _WORD.findall(fold(lowered))
    return " ".join(dict.fromkeys(w for w in found if len(w) >= 2 and w not in STOP_WORDS))


def lead(body: HasHtml | None, limit: int = LEAD) -> str:
    """The opening of a body as plain text, cut at a word, for the snippets of results."""
    if body is None:
        return ""
    whole = body.html()
    for window in (limit * 3, limit * 12, len(whole)):  # the first is enough but for markup-heavy openings
        text = _lead_text(whole[:window])
        if len(text) > limit or window >= len(whole):
            break
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + "…"


def _lead_text(start: str) -> str:
    start = _OPEN_TAG.sub("", start)  # (a tag cut short by the window)
    return _SPACES.sub(" ", html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", start)))).strip()  # a link's words stay as written


# --------------------------------------------------------------------------- postings and shards

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
_VALUE = {c: i for i, c in enumerate(_DIGITS)}
_BITMAP = "~"


def _gap(value: int) -> str:
    """A gap as base-32 digits, most significant first; the last digit is marked (+32)."""
    out = [_DIGITS[32 + (value & 31)]]
    value >>= 5
    while value:
        out.append(_DIGITS[value & 31])
        value >>= 5
    return "".join(reversed(out))


_GAPS = [_gap(v) for v in range(1 << 10)]  # one or two characters: most gaps
_TO_DIGITS = bytes.maketrans(bytes(range(64)), _DIGITS.encode())


def encode(numbers: Sequence[int]) -> str:
    """Ascending document numbers as a string: gaps, or a bitmap where that is shorter."""
    if not numbers:
        return ""
    gaps = _GAPS
    previous = -1
    parts = []
    for n in numbers:
        step = n - previous - 1
        parts.append(gaps[step] if step < 1024 else _gap(step))
        previous = n
    sparse = "".join(parts)
    size = numbers[-1] // 6 + 2
    if len(sparse) <= size:
        return sparse
    bits = bytearray(size - 1)
    for n in numbers:
        bits[n // 6] |= 1 << (n % 6)
    return _BITMAP + bits.translate(_TO_DIGITS).decode("ascii")


def decode(text: str) -> list[int]:
    """The numbers of an encoded postings string (search.js has the same)."""
    out: list[int] = []
    if text.startswith(_BITMAP):
        for i, ch in enumerate(text[1:]):
            value = _VALUE[ch]
            out.extend(i * 6 + b for b in range(6) if value >> b & 1)
        return out
    previous, value = -1, 0
    for ch in text:
        digit = _VALUE[ch]
        if digit < 32:
            value = value * 32 + digit
        else:
            previous += value * 32 + digit - 32 + 1
            out.append(previous)
            value = 0
    return out


def shard_count(documents: int) -> int:
    """How many term shards a site of this many documents has."""
    count = MIN_SHARDS
    while count < MAX_SHARDS and count * DOCS_PER_SHARD < documents:
        count *= 2
    return count


def shard_of(term: str, shards: int) -> int:
    """The shard of a term: FNV-1a of the code points of its first SHARD_KEY letters."""
    h = 0x811C9DC5
    for ch in term[:SHARD_KEY]:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    return h % shards


def _posted(row: "Row") -> set[tuple[str, int]]:
    """(term, field) for each field of a document a term is in (0 title .. 3 body)."""
    return {(term, field) for field, words in enumerate(row) for term in words.split()}


Row = tuple[str, str, str, str]  # a document's words: title, names of its actors and places, summary, body


class Terms:
    """The inverted index of every published document, by shard: term -> array of
    number*4 + field, ascending (field 0 title .. 3 body; a term in two fields is posted in
    both). Made from the documents and their bodies' words when a shard is first rendered
    (the words are ready by then, not when the pages are planned), once per process. Never
    changed once made: `replaced` makes a new one that shares the shards an edit leaves alone.

    A shard's token (its page's fingerprint) is a digest of its postings, so that a build
    renders only the shards whose postings changed (a new document: those of its words, not
    all 256 of a 10,000-document site). Tokens need the terms made: a build makes them in the
    parent process before it fingerprints pages (`prepare`), so that the workers share them."""

    def __init__(self, docs: Sequence[Document], names: Sequence[str], bodies: Sequence[Any],
                 shards: int | None = None):
        self.shards = shard_count(len(docs)) if shards is None else shards
        self.refs: tuple[Ref, ...] = tuple(d.ref for d in docs)
        self._source: tuple[Sequence[Document], Sequence[str], Sequence[Any]] | None = (docs, names, bodies)
        self._rows: list[Row] = []
        self._tables: list[dict[str, array]] = []
        self._tokens: list[str | None] = [None] * self.shards  # None: not worked out yet
        self._position: dict[Ref, int] = {}
        self._lock = threading.Lock()
        self._next: tuple[tuple, Terms] | None = None  # the last `replaced`: every shard page asks it

    # made lazily -----------------------------------------------------------------
    def _ready(self) -> None:
        if self._source is None:
            return
        with self._lock:
            if self._source is None:
                return
            docs, names, bodies = self._source
            # each field's words distinct (body words are: body_words), so a term is posted once a field
            rows = [(field_words(d.title), " ".join(dict.fromkeys(n.split())), field_words(d.summary), words_of(b))
                    for d, n, b in zip(docs, names, bodies)]
            tables: list[dict[str, array]] = [{} for _ in range(self.shards)]
            postings: dict[str, array] = {}
            for number, row in enumerate(rows):  # 1.6M terms at 10,000 documents: the plainest loop
                code = number * 4
                for words in row:
                    for term in words.split():
                        try:
                            postings[term].append(code)
                        except KeyError:
                            postings[term] = array("I", (code,))
                    code += 1
            shards = self.shards
            for term in sorted(postings):
                tables[shard_of(term, shards)][term] = postings[term]
            self._rows, self._tables = rows, tables
            self._position = {ref: i for i, ref in enumerate(self.refs)}
            self._source = None

    def __getstate__(self) -> dict[str, Any]:  # kept with the build's state (warm.py)
        self._ready()
        return {"shards": self.shards, "refs": self.refs, "rows": self._rows, "tables": self._tables,
                "tokens": [self.token(b) for b in range(self.shards)]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.shards, self.refs = state["shards"], state["refs"]
        self._rows, self._tables, self._tokens = state["rows"], state["tables"], state["tokens"]
        self._position = {ref: i for i, ref in enumerate(self.refs)}
        self._source, self._lock, self._next = None, threading.Lock(), None

    # what the shard pages show ------------------------------------------------------
    def token(self, shard: int) -> str:
        """What one shard's postings are made of (see the class): its page's fingerprint."""
        found = self._tokens[shard]
        if found is None:
            found = self._tokens[shard] = f"d{self.digest(shard)}"
        return found

    def digest(self, shard: int) -> str:
        """A digest of one shard's postings themselves."""
        self._ready()
        h = hashlib.blake2b(digest_size=16)
        for term, codes in self._tables[shard].items():  # terms in sorted order
            h.update(term.encode("utf-8", "surrogatepass") + b"\0")
            h.update(codes.tobytes())
        return h.hexdigest()

    def table(self, shard: int) -> dict[str, list[str]]:
        """term -> [title, names, summary, body] postings (encoded; trailing empty fields left out)."""
        self._ready()
        out: dict[str, list[str]] = {}
        for term, codes in self._tables[shard].items():
            fields: list[list[int]] = [[], [], [], []]
            for code in codes:
                fields[code & 3].append(code >> 2)
            while not fields[-1]:
                fields.pop()
            out[term] = [encode(f) for f in fields]
        return out

    def row(self, ref: Ref) -> Row | None:
        self._ready()
        at = self._position.get(ref)
        return self._rows[at] if at is not None else None

    # the fast path's edits --------------------------------------------------------------
    def replaced(self, docs: Mapping[Ref, Document], bodies: Mapping[Ref, Any]) -> "Terms":
        """These terms with the titles and summaries of `docs` and the words of `bodies` in
        (the edits of the fast path: the same documents in the same order, with the same tags)."""
        self._ready()
        key = (tuple(sorted((r, d.meta_digest) for r, d in docs.items() if r in self._position)),
               tuple(sorted((r, b.key) for r, b in bodies.items() if r in self._position)))
        known = self._next
        if known is not None and known[0] == key:
            return known[1]
        changes: dict[int, Row] = {}
        for ref in {r for part in key for r, _ in part}:
            at = self._position[ref]
            title, names, summary, body = old = self._rows[at]
            if ref in docs:
                title, summary = field_words(docs[ref].title), field_words(docs[ref].summary)
            if ref in bodies:
                body = words_of(bodies[ref])
            if (title, names, summary, body) != old:
                changes[at] = (title, names, summary, body)
        new = self._changed(changes) if changes else self
        self._next = (key, new)
        return new

    def _changed(self, changes: Mapping[int, Row]) -> "Terms":
        rows, tables = list(self._rows), list(self._tables)
        copied: set[int] = set()
        for number, row in sorted(changes.items()):
            before, after = _posted(rows[number]), _posted(row)
            for term, field in sorted(before ^ after):
                shard = shard_of(term, self.shards)
                if shard not in copied:
                    tables[shard] = dict(tables[shard])
                    copied.add(shard)
                codes = array("I", tables[shard].get(term, ()))
                if (term, field) in before:
                    del codes[bisect.bisect_left(codes, number * 4 + field)]
                else:
                    bisect.insort(codes, number * 4 + field)
                if codes:
                    tables[shard][term] = codes
                else:
                    del tables[shard][term]
            rows[number] = row
        for shard in copied:  # the file lists terms in sorted order
            tables[shard] = dict(sorted(tables[shard].items()))
        new = Terms.__new__(Terms)
        new.__setstate__({"shards": self.shards, "refs": self.refs, "rows": rows, "tables": tables,
                          "tokens": [self.token(b) for b in range(self.shards)]})
        for shard in copied:
            new._tokens[shard] = None  # (a digest of its new postings, when asked)
        return new


def prepare(pages: Iterable[Any]) -> None:
    """Make the site's terms now, in this process, if a page shows them (the shards share one
    Terms): before a build fingerprints its pages on every core, which then share them."""
    for page in pages:
        for value in page.context.values():
            if type(value) is TermShard:
                value.prepare()
                return


class TermShard:
    """What a terms-B.json page shows: shard B of the site's Terms. Its fingerprint is the
    shard's token (see Terms): after an edit, only the shards whose postings changed get a new one."""

    __slots__ = ("terms", "shard")

    def __init__(self, terms: Terms, shard: int):
        self.terms, self.shard = terms, shard

    def token(self) -> str:
        return f"{self.shard}:{self.terms.token(self.shard)}"

    def prepare(self) -> None:
        """Make the terms now (the fast path needs them), not at the first edit."""
        self.terms.table(self.shard)

    def replaced(self, docs: Mapping[Ref, Document], bodies: Mapping[Ref, Any]) -> "TermShard":
        terms = self.terms.replaced(docs, bodies)
        return self if terms is self.terms else TermShard(terms, self.shard)

    def __getstate__(self) -> tuple[Terms, int]:
        return (self.terms, self.shard)

    def __setstate__(self, state: tuple[Terms, int]) -> None:
        self.terms, self.shard = state


# --------------------------------------------------------------------------- the files


def _dumps(value: Any) -> str:
    """Compact JSON, UTF-8 rather than escapes."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def entity_words(entity: Entity) -> str:
    """The words of an entity's name and aliases: what a document tagged with it is found by."""
    return field_words(" ".join((entity.title, *entity.aliases)))


def build_index(docs: Sequence[Document], entities: Iterable[tuple[Entity, int]], shards: int) -> dict[str, Any]:
    """index.json as a value. `docs` in their numbers' order (oldest first), `entities` (entity, documents
    tagged) in the site's order."""
    entity_rows = []
    for e, count in entities:
        row = [e.kind, e.slug, e.title, count, e.type, list(e.aliases)]
        while len(row) > 4 and not row[-1]:  # no aliases, no type: most tags without a profile
            row.pop()
        entity_rows.append(row)
    vocabulary: set[str] = set()
    days: list[list[Any]] = []
    for doc in docs:
        vocabulary.update(field_words(doc.title).split())
        day = doc.date.isoformat()
        if days and days[-1][0] == day:
            days[-1][1] += 1
        else:
            days.append([day, 1])
    return {"v": VERSION, "docs": len(docs), "shards": shards, "chunk": CHUNK, "tag_bucket": TAG_BUCKET,
            "stop": sorted(STOP_WORDS), "sections": {kind: section_path(kind) for kind in ("actor", "place")},
            "entities": entity_rows, "words": sorted(vocabulary),
            "notes": encode([i for i, d in enumerate(docs) if d.kind == "note"]), "days": days}


def index_json(docs: Sequence[Document], entities: Iterable[tuple[Entity, int]], shards: int) -> str:
    return _dumps(build_index(docs, entities, shards))


def terms_json(shard: TermShard) -> str:
    """One terms-B.json."""
    return _dumps({"v": VERSION, "terms": shard.terms.table(shard.shard)})


def docs_json(docs: Sequence[Document], bodies: Sequence[HasHtml | None]) -> str:
    """One docs-K.json: what a result shows of each of these documents."""
    return _dumps([[d.kind, page_path(d.ref), d.title, d.date.isoformat(), d.summary, lead(b)]
                   for d, b in zip(docs, bodies)])


def tags_json(rows: Sequence[str]) -> str:
    """One tags-K.json: the postings of consecutive entities, already encoded when planned."""
    return _dumps(list(rows))


def tag_rows(docs: Sequence[Document], entities: Sequence[Entity], tagged: Mapping[Ref, Sequence[Ref]]) -> list[str]:
    """Each entity's documents as encoded postings, in the entities' order."""
    number = {d.ref: i for i, d in enumerate(docs)}
    return [encode(sorted(number[r] for r in tagged.get(e.ref, ()) if r in number)) for e in entities]


def file_names(index: Mapping[str, Any]) -> list[str]:
    """Every file beside index.json that search.js may fetch, as it names them."""
    docs, entities = index["docs"], len(index["entities"])
    return ([f"terms-{b}.json" for b in range(index["shards"])]
            + [f"docs-{k}.json" for k in range(-(-docs // index["chunk"]))]
            + [f"tags-{k}.json" for k in range(-(-entities // index["tag_bucket"]))])
