"""The search index's format (generator/pages/search.py): postings, shards, the term index and
its edits, and the files a built site carries. The browser side is tests/test_search_browser.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pickle
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from conftest import BASIC, read_tree, write_site
from corpus import write_corpus
from generator.content.model import Document, Entity
from generator.engine.build import build
from generator.pages import search


def make(cls, **given):  # type: ignore[no-untyped-def]
    """A model object with the given fields and placeholders for the other required ones."""
    missing = {f.name: "" for f in dataclasses.fields(cls)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in given}
    return cls(**missing, **given)


# --------------------------------------------------------------------------- postings


@pytest.mark.parametrize("numbers, text", [
    ([], ""),
    ([0], "w"),  # gap 0: one final digit (32 + 0)
    ([1], "x"),
    ([31], "_"),  # the last one-character gap
    ([32], "1w"),  # two digits: 1*32 + 0
    ([0, 2, 40], "wx1B"),  # gaps 0, 1, 37 = 1*32 + 5
    ([0, 1, 2, 3, 4, 5], "~_"),  # a bitmap when it is shorter: six numbers a character
    (list(range(100)), "~" + "_" * 16 + "f"),
])
def test_postings_encode_as_gaps_or_a_bitmap(numbers: list[int], text: str) -> None:
    assert search.encode(numbers) == text
    assert search.decode(text) == numbers


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sets(st.integers(0, 70_000), max_size=400))
def test_postings_round_trip(numbers: set[int]) -> None:
    ordered = sorted(numbers)
    text = search.encode(ordered)
    assert search.decode(text) == ordered
    assert re.fullmatch(r"[0-9A-Za-z_~-]*", text)  # nothing JSON would escape
    assert len(text) <= max(len(ordered) * 4, 1) and (not ordered or len(text) <= ordered[-1] // 6 + 2)


@pytest.mark.parametrize("documents, shards", [(0, 8), (320, 8), (321, 16), (2_000, 64), (10_000, 256),
                                               (100_000, 2048), (1_000_000, 2048)])
def test_shard_count_grows_with_the_site(documents: int, shards: int) -> None:
    assert search.shard_count(documents) == shards


def test_terms_that_start_alike_share_a_shard() -> None:
    assert search.shard_of("hezbollah", 256) == search.shard_of("hez", 256) == search.shard_of("hezb", 256)
    assert {search.shard_of(t, 64) for t in ("militia", "drone", "baghdad", "kh", "ḥiz", "жёл")} <= set(range(64))
    # search.js computes the same: tests/test_search_browser.py compares the two on a table


# --------------------------------------------------------------------------- words of fields and leads


@pytest.mark.parametrize("text, words", [
    ("The Kata'ib Ḥizballah and KH", "kataib hizballah kh"),
    ("U.S. strikes, strikes again", "strikes again"),  # distinct; "u" and "s" are too short
    ("Ministère des Armées", "ministere des armees"),
    ("", ""),
])
def test_field_words_fold_like_body_words(text: str, words: str) -> None:
    assert search.field_words(text) == words


class _Html:
    def __init__(self, text: str):
        self.text = text

    def html(self) -> str:
        return self.text


@pytest.mark.parametrize("body, lead", [
    ("<h2>Background</h2><p>Rockets hit <a href='/x/'>Ain al-Asad</a>.</p>", "Background Rockets hit Ain al-Asad."),
    ("<p>A &amp; B</p>", "A & B"),
    ("<p>" + "word " * 100 + "</p>", ("word " * 48).strip() + "…"),
    ("", ""),
])
def test_lead_is_the_opening_text_cut_at_a_word(body: str, lead: str) -> None:
    assert search.lead(_Html(body)) == lead
    assert search.lead(None) == ""


def test_lead_drops_a_tag_cut_short_by_its_window() -> None:
    assert "<" not in search.lead(_Html("<p>short</p>" + " " * (search.LEAD * 8 - 20) + "<a href='/long/address/'>x</a>"))


# --------------------------------------------------------------------------- the term index


class _Body:
    """A body with precomputed words, as the build's render.Body (its cache key names its words)."""

    def __init__(self, words: str):
        self.key, self._words = f"k:{words}", words

    def words(self) -> str:
        return self._words


def _doc(i: int, title: str, summary: str = "", kind: str = "article") -> Document:
    return make(Document, kind=kind, slug=f"d{i}", title=title, date=dt.date(2023, 12, 31) - dt.timedelta(days=i),
                summary=summary, meta_digest=f"{title}|{summary}")


def _tables(terms: search.Terms) -> dict[str, list[str]]:
    return {t: p for b in range(terms.shards) for t, p in terms.table(b).items()}


def test_terms_post_each_field_of_each_document() -> None:
    docs = [_doc(0, "Drone strike on Erbil", "Militia drones"), _doc(1, "Quiet week")]
    terms = search.Terms(docs, ["kataib hezbollah kh", ""], [_Body("drone erbil base"), _Body("nothing happened")], shards=8)
    table = _tables(terms)
    assert table["drone"] == ["w", "", "", "w"]  # title and body of document 0
    assert table["kh"] == ["", "w"]  # the names of its actors
    assert table["militia"] == ["", "", "w"]
    assert table["quiet"] == ["x"] and table["happened"] == ["", "", "", "x"]
    assert "on" not in table  # stop words are never posted
    for b in range(8):
        assert all(search.shard_of(t, 8) == b for t in terms.table(b))
        assert list(terms.table(b)) == sorted(terms.table(b))


def _random_site(rng: random.Random, n: int) -> tuple[list[Document], list[str], list[_Body]]:
    vocabulary = "drone rocket militia base erbil baghdad strike convoy claim hezbollah kh tanf mosul".split()

    def text(k: int) -> str:
        return " ".join(rng.sample(vocabulary, k))

    docs = [_doc(i, text(3), text(4), rng.choice(["article", "note"])) for i in range(n)]
    return docs, [text(2) for _ in range(n)], [_Body(" ".join(dict.fromkeys(text(6).split()))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(12))
def test_replaced_terms_equal_terms_made_from_scratch(seed: int) -> None:
    """The fast path's edits (live.Applied -> TermShard.replaced) give the index a fresh build gives."""
    rng = random.Random(seed)
    docs, names, bodies = _random_site(rng, 30)
    terms = search.Terms(docs, names, bodies, shards=8)
    for _ in range(5):
        edited_docs, edited_bodies = {}, {}
        for i in rng.sample(range(30), rng.randint(1, 3)):
            if rng.random() < 0.5:
                new = _doc(i, rng.choice(["Quokka report", docs[i].title + " again", "Drone"]), docs[i].summary, docs[i].kind)
                edited_docs[new.ref] = docs[i] = new
            else:
                bodies[i] = edited_bodies[docs[i].ref] = _Body(rng.choice(["", "quokka drone", " ".join(dict.fromkeys((bodies[i].words() + " wombat").split()))]))
        before = terms
        terms = terms.replaced(edited_docs, edited_bodies)
        assert terms.replaced(edited_docs, edited_bodies) is terms  # every shard page asks: made once
        fresh = search.Terms(docs, names, bodies, shards=8)
        assert _tables(terms) == _tables(fresh)
        assert [terms.digest(b) for b in range(8)] == [fresh.digest(b) for b in range(8)]
        changed = {b for b in range(8) if before.digest(b) != terms.digest(b)}
        assert all(terms._tables[b] is before._tables[b] for b in set(range(8)) - changed)  # shared, not copied
        # a shard page is rendered again when its token changed: those whose postings did, only
        assert {b for b in range(8) if before.token(b) != terms.token(b)} == changed


def test_an_edit_that_changes_no_word_keeps_the_terms() -> None:
    docs, names, bodies = _random_site(random.Random(3), 5)
    terms = search.Terms(docs, names, bodies, shards=8)
    same = _Body(bodies[2].words())
    same.key = "another key"
    assert terms.replaced({}, {docs[2].ref: same}) is terms


def test_terms_survive_pickling_with_the_build_state() -> None:
    docs, names, bodies = _random_site(random.Random(4), 20)
    terms = search.Terms(docs, names, bodies, shards=8)
    shard = search.TermShard(terms, 3)
    again = pickle.loads(pickle.dumps(shard))
    assert again.token() == shard.token() and _tables(again.terms) == _tables(terms)
    edit = {docs[0].ref: _Body("quokka")}
    assert _tables(again.terms.replaced({}, edit)) == _tables(terms.replaced({}, edit))


def test_index_json_names_entities_days_notes_and_title_words() -> None:
    kh = make(Entity, kind="actor", slug="kataib-hezbollah", title="Kataib Hezbollah", aliases=("KH",), type="militia")
    docs = [_doc(2, "Older report"), _doc(0, "Strike near Baghdad", kind="note"), _doc(0, "Second strike")]
    docs[2] = dataclasses.replace(docs[2], slug="d0b")  # oldest first: the order of the documents' numbers
    index = search.build_index(docs, [(kh, 2)], shards=8)
    assert index["v"] == search.VERSION and index["docs"] == 3 and index["shards"] == 8
    baghdad = make(Entity, kind="place", slug="baghdad", title="Baghdad")
    index = search.build_index(docs, [(kh, 2), (baghdad, 0)], shards=8)
    assert index["entities"] == [["actor", "kataib-hezbollah", "Kataib Hezbollah", 2, "militia", ["KH"]],
                                 ["place", "baghdad", "Baghdad", 0]]  # no type, no aliases: left out
    assert index["sections"] == {"actor": "actors/", "place": "places/"}  # pages: section + slug + "/"
    assert index["days"] == [["2023-12-29", 1], ["2023-12-31", 2]]
    assert search.decode(index["notes"]) == [1]
    assert index["words"] == ["baghdad", "near", "older", "report", "second", "strike"]
    assert search.file_names(index) == [f"terms-{b}.json" for b in range(8)] + ["docs-0.json", "tags-0.json"]


# --------------------------------------------------------------------------- a built site


def _search_files(out: Path) -> dict[str, bytes]:
    return {k: v for k, v in read_tree(out).items() if k.startswith("search/")}


def test_a_site_carries_exactly_the_files_its_index_names_and_they_agree(tmp_path: Path) -> None:
    write_corpus(tmp_path / "site", n=60, seed=5)
    out = tmp_path / "out"
    assert build(tmp_path / "site", output=out).ok
    files = _search_files(out)
    index = json.loads(files["search/index.json"])
    assert set(files) == {"search/index.html", "search/index.json"} | {"search/" + n for n in search.file_names(index)}
    rows = [row for k in range(-(-index["docs"] // index["chunk"])) for row in json.loads(files[f"search/docs-{k}.json"])]
    assert len(rows) == index["docs"] == sum(count for _, count in index["days"])
    assert [r[3] for r in rows] == sorted(r[3] for r in rows)  # numbered oldest first
    assert [r[3] for r in rows] == [day for day, count in index["days"] for _ in range(count)]
    for b in range(index["shards"]):
        for term, postings in json.loads(files[f"search/terms-{b}.json"])["terms"].items():
            assert search.shard_of(term, index["shards"]) == b
            for field, text in enumerate(postings):
                for number in search.decode(text):
                    row = rows[number]
                    shown = [row[2], "", row[4], ""][field]
                    assert field in (1, 3) or term in search.field_words(shown).split(), (term, field, row)
    for at, entity in enumerate(index["entities"]):
        tags = json.loads(files[f"search/tags-{at // index['tag_bucket']}.json"])[at % index["tag_bucket"]]
        page = (out / index["sections"][entity[0]] / entity[1] / "index.html").read_text()
        assert {rows[i][1] for i in search.decode(tags)} <= set(re.findall(r'href="/briefing/((?:articles|notes)/[^"#]+/)"', page))
        assert len(search.decode(tags)) == entity[3]


def test_a_body_edit_rewrites_a_few_search_files_and_equals_a_fresh_build(tmp_path: Path) -> None:
    write_corpus(tmp_path / "site", n=120, seed=7)
    site, out = tmp_path / "site", tmp_path / "out"
    assert build(site, output=out).ok
    before = _search_files(out)
    doc = next((site / "content/articles").glob("*.md"))
    doc.write_text(doc.read_text().replace("## Assessment\n\n", "## Assessment\n\nQuokkaword sighted. "))
    result = build(site, output=out)
    assert result.ok
    after = _search_files(out)
    changed = sorted(k for k in after if after[k] != before.get(k))
    index = json.loads(after["search/index.json"])
    assert f"search/terms-{search.shard_of('quokkaword', index['shards'])}.json" in changed
    assert len(changed) <= 3, changed  # the new word's shard, the document's chunk (its lead may not change)
    fresh = tmp_path / "fresh"
    assert build(site, output=fresh, use_cache=False).ok
    assert _search_files(fresh) == after


def test_a_title_edit_rewrites_the_index_its_chunk_and_its_words_shards(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", BASIC)
    out = tmp_path / "out"
    assert build(site, output=out).ok
    before = _search_files(out)
    doc = site / "content/notes/assessment.md"
    doc.write_text(doc.read_text().replace("title: Escalation assessment", "title: Escalation assessment wombatword"))
    assert build(site, output=out).ok
    after = _search_files(out)
    changed = {k for k in after if after[k] != before.get(k)}
    index = json.loads(after["search/index.json"])
    assert "wombatword" in index["words"]
    assert {"search/index.json", "search/docs-0.json",
            f"search/terms-{search.shard_of('wombatword', index['shards'])}.json"} == changed
    fresh = tmp_path / "fresh"
    assert build(site, output=fresh, use_cache=False).ok
    assert _search_files(fresh) == after


def test_held_back_documents_reach_no_search_file(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "site", n=20, seed=9, held=4)
    out = tmp_path / "out"
    assert build(tmp_path / "site", output=out).ok
    blob = b"\0".join(_search_files(out).values()).decode("utf-8").lower()
    for doc in corpus.held:
        for where, canary in doc.canaries.items():
            assert canary not in blob, (doc.path, where)


def test_a_new_newest_document_leaves_the_other_documents_files_alone(tmp_path: Path) -> None:
    write_corpus(tmp_path / "site", n=100, seed=11)
    site, out = tmp_path / "site", tmp_path / "out"
    assert build(site, output=out).ok
    before = _search_files(out)
    (site / "content/articles/newest.md").write_text(
        "---\ntitle: Quokka convoy sighted\ndate: 2024-06-01\nsummary: Wombat drones.\nactors: [KH]\n---\nQuokka numbat text.\n")
    assert build(site, output=out).ok
    after = _search_files(out)
    changed = {k for k in after if after[k] != before.get(k)}
    index = json.loads(after["search/index.json"])
    last = f"search/docs-{(index['docs'] - 1) // index['chunk']}.json"
    assert {k for k in changed if "/docs-" in k} == {last}  # the others keep their numbers
    words = set(search.field_words("Quokka convoy sighted Wombat drones Quokka numbat text kataib hizballah hezbollah kh").split())
    assert {k for k in changed if "/terms-" in k} <= {f"search/terms-{search.shard_of(w, index['shards'])}.json" for w in words}
    fresh = tmp_path / "fresh"
    assert build(site, output=fresh, use_cache=False).ok
    assert _search_files(fresh) == after
