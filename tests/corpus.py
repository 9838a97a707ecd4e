"""A deterministic generated briefing site, for validators, leak and crash tests.

`write_corpus(root, n, seed)` writes n articles and notes that use every feature the
format has — profiles with aliases, `within` and affiliations, non-ASCII names,
headings, lists, tables, footnotes, code, quotes, images, root-relative and relative
Markdown links, `[[links]]` with `#anchors` — and, on request, documents held back
as drafts or by TLP level, each carrying unique canary words.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

ACTORS = [
    ("Kata'ib Ḥizballah", ["KH", "Kataib Hezbollah"]), ("Islamic Resistance in Iraq", ["IRI"]),
    ("Asa'ib Ahl al-Haq", ["AAH"]), ("Harakat al-Nujaba", ["Nujaba"]), ("Quds Force", ["IRGC-QF"]),
    ("Popular Mobilization Forces", ["PMF", "al-Hashd al-Shaabi"]), ("Kataib Sayyid al-Shuhada", ["KSS"]),
    ("U.S. Central Command", ["CENTCOM"]), ("Government of Iraq", []), ("Ansar Allah", ["Houthis"]),
    ("Hezbollah", []), ("Syrian Democratic Forces", ["SDF"]), ("Saraya Awliya al-Dam", []),
    ("Ministère des Armées", []), ("Жёлтый отряд", []), ("قوات الحشد", []),
]
PLACES = [
    ("Iraq", None, []), ("Syria", None, []), ("Baghdad", "Iraq", ["Bagdad"]), ("Erbil", "Iraq", ["Arbil"]),
    ("Ain al-Asad Air Base", "Iraq", ["Al Asad"]), ("Al-Tanf", "Syria", ["At-Tanf garrison"]),
    ("Deir ez-Zor", "Syria", []), ("Abu Kamal", "Syria", ["Al-Bukamal"]), ("Green Zone", "Baghdad", ["International Zone"]),
    ("Jurf al-Sakhar", "Iraq", []), ("Mosul", "Iraq", []), ("Al-Hasakah", "Syria", []), ("Zaxo", "Iraq", []),
]
WORDS = ("militia drone rocket base convoy claim strike statement official forces attack report escalation "
         "ceasefire border logistics airfield launcher warning retaliation casualty pressure channel").split()
TLP_HELD = ("green", "amber", "amber+strict", "red")


@dataclass
class Held:
    """A document left out of a default build, and the words that only it contains."""

    path: str
    draft: bool
    tlp: str
    canaries: dict[str, str] = field(default_factory=dict)  # where -> word


@dataclass
class Corpus:
    root: Path
    published: list[str] = field(default_factory=list)  # paths of documents published by default
    held: list[Held] = field(default_factory=list)


def _sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def write_corpus(root: Path, n: int = 40, seed: int = 1, held: int = 0, base_url: str = "https://desk.example.org/briefing/",
                 max_tlp: str = "clear") -> Corpus:
    """Write a site of n published documents (plus `held` held-back ones) under root."""
    rng = random.Random(seed)
    content = root / "content"
    for folder in ("articles", "notes", "actors", "places", "images"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    (root / "site.yml").write_text(
        f"title: Generated desk {seed}\ndescription: A generated corpus.\nbase_url: {base_url}\n"
        f"publish:\n  max_tlp: {max_tlp}\nfeed: {{limit: 20}}\n", encoding="utf-8")
    (content / "images/chart.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n')
    _profiles(content, rng)
    corpus = Corpus(root)
    start = dt.date(2023, 10, 1)
    slugs: list[tuple[str, str]] = []  # (section, slug) of published documents, for links
    for i in range(n):
        section = "notes" if i % 3 == 2 else "articles"
        slug = f"doc-{seed}-{i:04d}"
        date = start + dt.timedelta(days=rng.randrange(120))
        actors = rng.sample([a for a, _ in ACTORS] + [al for _, als in ACTORS for al in als[:1]], rng.randint(0, 3))
        places = rng.sample([p for p, _, _ in PLACES], rng.randint(1 if not actors else 0, 3))
        front = [f"title: \"Report {i}: {rng.choice(WORDS)} near {places[0] if places else 'the border'}\"",
                 f"date: {date.isoformat()}", f"summary: \"{_sentence(rng, 10)}\""]
        if actors:
            front.append("actors: [" + ", ".join(f'"{a}"' for a in actors) + "]")
        if places:
            front.append("places: [" + ", ".join(f'"{p}"' for p in places) + "]")
        if section == "notes":
            front += [f"author: Analyst {rng.randint(1, 5)}", f"confidence: {rng.choice(['low', 'moderate', 'high'])}"]
        else:
            front += ["source: {name: Example Wire, url: \"https://example.org/wire/%d\", date: %s}" % (i, date.isoformat()),
                      f"reliability: {rng.choice('ABC')}", f"credibility: {rng.choice('123')}"]
        body = _body(rng, slugs, i)
        _write(content / section / f"{slug}.md", front, body)
        corpus.published.append(f"content/{section}/{slug}.md")
        slugs.append((section, slug))
    for j in range(held):
        corpus.held.append(_held(content, rng, seed, j, slugs, start))
    return corpus


def _profiles(content: Path, rng: random.Random) -> None:
    for k, (title, aliases) in enumerate(ACTORS[:10]):
        front = [f"title: \"{title}\"", "kind: militia"]
        if aliases:
            front.append("aliases: [" + ", ".join(f'"{a}"' for a in aliases) + "]")
        if k and k % 3 == 0:
            front.append(f"affiliations: [\"{ACTORS[0][0]}\"]")
        body = f"## Background\n\n{_sentence(rng)} Active around [[{rng.choice(PLACES[:9])[0]}]].\n\n## Leadership\n\n{_sentence(rng)}\n"
        _write(content / "actors" / f"actor-{k}.md", front, body)
    for k, (title, within, aliases) in enumerate(PLACES[:9]):
        front = [f"title: \"{title}\"", "kind: place", f"coordinates: [{30 + k * 0.7:.2f}, {40 + k * 0.9:.2f}]"]
        if within:
            front.append(f"within: \"{within}\"")
        if aliases:
            front.append("aliases: [" + ", ".join(f'"{a}"' for a in aliases) + "]")
        _write(content / "places" / f"place-{k}.md", front, f"{_sentence(rng)}\n\n## History\n\n{_sentence(rng)}\n")


def _body(rng: random.Random, slugs: list[tuple[str, str]], i: int) -> str:
    parts = [f"## What happened\n\n{_sentence(rng)} {_sentence(rng)}[^1]"]
    if slugs:
        section, slug = rng.choice(slugs)
        parts.append(f"See [the earlier report](/{section}/{slug}/) and [its account](/{section}/{slug}/#sec-what-happened), "
                     f"or [[{slug}#What happened|the same]] and [[{rng.choice(PLACES[:9])[0]}#History]].")  # profiled places only
    parts.append(f"- {_sentence(rng, 5)}\n- {_sentence(rng, 6)}\n  1. nested *{rng.choice(WORDS)}*\n")
    if i % 4 == 0:
        parts.append("| When | What |\n|---|---|\n| 18 Oct | drones |\n| 19 Oct | rockets |")
    if i % 5 == 1:
        parts.append("```\nlaunch_site = 'unknown'\n```")
    if i % 6 == 2:
        parts.append("![A chart of the attacks](/images/chart.svg \"Attacks\")")
    parts.append(f"> {_sentence(rng)}\n\n## Assessment\n\n{_sentence(rng)} Back to [the top](#sec-what-happened). "
                 f"<https://example.org/source/{i}>")
    parts.append(f"[^1]: {_sentence(rng, 6)}")
    return "\n\n".join(parts) + "\n"


def _held(content: Path, rng: random.Random, seed: int, j: int, slugs: list[tuple[str, str]], start: dt.date) -> Held:
    draft = rng.random() < 0.5
    tlp = rng.choice(TLP_HELD) if (not draft or rng.random() < 0.5) else "clear"
    if tlp == "clear":
        draft = True
    section = rng.choice(["articles", "notes"])
    word = lambda where: f"zq{where}{seed:x}x{j}q"  # noqa: E731 - unique, lower-case, no substring of another
    canaries = {w: word(w) for w in ("title", "summary", "body", "actor", "place", "slug", "author", "source", "heading", "alt")}
    front = [
        f"title: \"Held {canaries['title']}\"", f"date: {(start + dt.timedelta(days=rng.randrange(120))).isoformat()}",
        f"summary: \"Summary {canaries['summary']}\"", f"slug: {canaries['slug']}",
        f"actors: [\"Actor {canaries['actor']}\", \"{ACTORS[0][1][0]}\"]", f"places: [\"Place {canaries['place']}\", Baghdad]",
        f"tlp: {tlp}", f"author: Analyst {canaries['author']}", f"source: \"Wire {canaries['source']}\"",
    ]
    if draft:
        front.append("draft: true")
    target_section, target = rng.choice(slugs) if slugs else ("articles", "none")
    body = (f"## Heading {canaries['heading']}\n\nBody {canaries['body']} cites [[{target}]] and "
            f"[[Actor {canaries['actor']}]]. ![Alt {canaries['alt']}](/images/chart.svg)\n")
    rel = f"content/{section}/held-{seed}-{j}.md"
    _write(content.parent / rel, front, body)
    if slugs:  # a published document links to the held one: plain text, with a neutral label
        pub = content / target_section / f"{target}.md"
        pub.write_text(pub.read_text(encoding="utf-8") + f"\nAlso [[{canaries['slug']}|a held-back document]].\n",
                       encoding="utf-8")
    return Held(rel, draft, tlp, canaries)


def _write(path: Path, front: list[str], body: str) -> None:
    path.write_text("---\n" + "\n".join(front) + "\n---\n" + body, encoding="utf-8")
