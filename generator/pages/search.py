"""The search index: everything /search/ needs, in one compact JSON file.

`search.js` fetches it only on the pages that search or filter, so no page
carries it inline. Rows are arrays, not objects, to keep it small:

    {"v": 1, "stop": [stop words],
     "entities": [[kind, slug, title, [aliases], type, path, documents], ...],
     "docs": [[kind, path, title, "YYYY-MM-DD", summary, [entity index, ...], words], ...]}

Titles, summaries and the names and aliases of tagged actors and places are
searched in full. `words` are the distinct words of the body, folded (lower
case, no accents, no apostrophes) in order of first appearance and without stop
words, up to WORD_BUDGET characters: enough to find a document by what it is
about while 10,000 documents stay a few megabytes. The browser folds queries
the same way (`fold` in search.js mirrors :func:`fold`).

Only published documents and entities reach this module: the Site holds
nothing else.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Any, Iterable, Protocol, Sequence

from generator.content.model import Document, Entity
from generator.site.urls import page_path

VERSION = 1
WORD_BUDGET = 900  # characters of distinct body words kept per document
_SCANS = (3_000, 16_000)  # characters of body HTML read for them: first try, then at most
_APOSTROPHES = re.compile(r"['’‘ʼʻ`´]")
_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")
_ASCII_SEPARATORS = bytes.maketrans(bytes(c for c in range(128) if not chr(c).isalnum()),
                                    b" " * sum(not chr(c).isalnum() for c in range(128)))
STOP_WORDS = frozenset("""
a about after against all also an and any are as at be been before being between both but by can could did do does
during each for from had has have he her his how if in into is it its may might more most no nor not of on once only or
other our out over said says she should so some such than that the their them then there these they this those through
to under until up was we were what when where which while who whom why will with would you your
""".split())


SHARD = 250  # documents per words file: a body edit rewrites one small file, not the whole index


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


def build_index(
    docs: Sequence[Document],
    tags: Sequence[str],
    bodies: Sequence[HasHtml | None],
    entities: Iterable[tuple[Entity, int]],
    shards: int = 0,
) -> dict[str, Any]:
    """The index as a value.

    `docs` are newest first; `tags[i]` holds the actor and place keys of docs[i]
    ("actor/kataib-hezbollah place/baghdad"), `bodies[i]` its body (or None:
    then its words come from `shards` files, SHARD documents each, see shard_json).
    """
    entity_rows: list[list[Any]] = []
    position: dict[str, int] = {}
    for entity, count in entities:
        position[f"{entity.kind}/{entity.slug}"] = len(entity_rows)
        entity_rows.append([entity.kind, entity.slug, entity.title, list(entity.aliases), entity.type,
                            page_path(entity.ref), count])
    doc_rows = []
    for doc, keys, body in zip(docs, tags, bodies):
        text = words_of(body)
        doc_rows.append([doc.kind, page_path(doc.ref), doc.title, doc.date.isoformat(), doc.summary,
                         [position[k] for k in keys.split() if k in position], text])
    index = {"v": VERSION, "stop": sorted(STOP_WORDS), "entities": entity_rows, "docs": doc_rows}
    if shards:
        index["shards"], index["shard_size"] = shards, SHARD
    return index


def index_json(
    docs: Sequence[Document],
    tags: Sequence[str],
    bodies: Sequence[HasHtml | None],
    entities: Iterable[tuple[Entity, int]],
    shards: int = 0,
) -> str:
    """The index file: compact JSON, UTF-8 rather than escapes."""
    return json.dumps(build_index(docs, tags, bodies, entities, shards), ensure_ascii=False,
                      separators=(",", ":")) + "\n"


def shard_json(bodies: Sequence[HasHtml | None]) -> str:
    """One words file: the words of SHARD consecutive documents of the index, in its order."""
    return json.dumps([words_of(b) for b in bodies], ensure_ascii=False, separators=(",", ":")) + "\n"
