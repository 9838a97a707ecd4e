"""The one place that knows URLs and output paths.

A *site path* is where a page lives relative to the site root, with pretty URLs:
"" (home), "actors/kataib-hezbollah/", "feed.xml". From it come
- `href`: the link that works under the base path ("/repo/actors/kh/"),
- `absolute`: the full URL for feeds, sitemaps and canonical links,
- `output_file`: the file under the output folder ("actors/kh/index.html").
Every link in the output is root-relative under the base path, so pages work
at any depth, including GitHub Pages' 404.html.
`Urls` answers are pure functions of the base URL and the argument, so each
instance remembers them (templates ask for the same links dozens of times a page).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from functools import cached_property
from typing import Collection
from urllib.parse import quote, urlsplit

from generator.content.model import Ref
from generator.content.text import name_key

SECTION_OF_KIND = {"article": "articles", "note": "notes", "actor": "actors", "place": "places"}
_MEMO_LIMIT = 200_000  # entries per table; past it a table starts over (memory stays bounded)
_SAFE = "/#%:@!$&'()*+,;=~-._"


def page_path(ref: Ref) -> str:
    """Site path of a document or entity page."""
    kind, slug = ref
    return f"{SECTION_OF_KIND[kind]}/{slug}/"


def feed_path(ref: Ref) -> str:
    return page_path(ref) + "feed.xml"


def section_path(kind: str) -> str:
    return f"{SECTION_OF_KIND[kind]}/"


def archive_path(listing: str, month: str, part: int = 1, taken: Collection[str] = ()) -> str:
    """Site path of a month's archive page under a listing (`timeline/`, `articles/`, an entity's
    page): `timeline/2023-10/`, and `timeline/2023-10/2/` onwards for a month over the page budget.

    `taken`: the slugs of pages directly under the listing (the documents of `articles/`). A
    document keeps its URL: `content/articles/2024-10.md` is `articles/2024-10/`, and October
    2024's archive of `articles/` is then `articles/archive/2024-10/`. Nothing can collide there:
    a document's page is one segment under its section with nothing below it, and `archive` is
    not a month. Under `timeline/` and an entity's page no other page is one segment deep but
    its feed.xml, so their archives are never moved."""
    base = f"{listing}archive/{month}/" if month in taken else f"{listing}{month}/"
    return base + (f"{part}/" if part > 1 else "")


# The letters of a split /actors/ or /places/ index (render.plan), in their order:
# (path segment, label). Names are filed by the first character of their matching key, so
# accents fold as in a slug (`Ḥizballah` under H); a digit files under 0-9, anything else
# (another script, a symbol) under `other`.
INDEX_LETTERS = (*((c, c.upper()) for c in "abcdefghijklmnopqrstuvwxyz"), ("0-9", "0–9"), ("other", "Other"))


def index_letter(name: str) -> str:
    """The letter segment a name is filed under on a split index: `a`…`z`, `0-9` or `other`."""
    first = name_key(name)[:1]
    if "a" <= first <= "z":
        return first
    return "0-9" if "0" <= first <= "9" else "other"


def letter_path(kind: str, letter: str, part: int = 1) -> str:
    """Site path of an index's letter page: `actors/letter/a/`, `actors/letter/a/2/` onwards for a
    letter over the page budget. Two segments under the section, so no entity's page (one
    segment) is one; an actor slugged `letter` keeps `actors/letter/`, its feed and archives
    (feed.xml, months) besides these."""
    return f"{SECTION_OF_KIND[kind]}/letter/{letter}/" + (f"{part}/" if part > 1 else "")


SITEMAP_PATH = "sitemap.xml"


def sitemap_part_path(number: int) -> str:
    """A file of a sitemap split past the protocol's limit, listed by sitemap.xml: `sitemap-1.xml`."""
    return f"sitemap-{number}.xml"


def output_file(site_path: str) -> str:
    """Relative output file for a site path; refuses anything that could escape."""
    path = site_path + "index.html" if site_path == "" or site_path.endswith("/") else site_path
    normal = posixpath.normpath(path)
    if normal.startswith(("../", "/")) or normal == ".." or "\x00" in normal:
        raise ValueError(f"unsafe output path: {site_path!r}")
    return normal


@dataclass(frozen=True)
class Urls:
    base_url: str  # ends with "/": "https://user.github.io/repo/" or "/repo/"
    # memo tables: not part of the value (equality, hash, repr)
    _hrefs: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _refs: dict[Ref, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def base_path(self) -> str:
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @cached_property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    def href(self, site_path: str) -> str:
        if type(site_path) is not str:  # e.g. a template's Undefined: fail (or not) exactly as without the memo
            return quote(self.base_path + site_path, safe=_SAFE)
        memo = self._hrefs
        found = memo.get(site_path)
        if found is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            found = memo[site_path] = quote(self.base_path + site_path, safe=_SAFE)
        return found

    def absolute(self, site_path: str) -> str:
        return self.origin + self.href(site_path)

    def of(self, ref: Ref) -> str:
        memo = self._refs
        try:
            found = memo.get(ref)
        except TypeError:  # unhashable: not a Ref, let page_path say so
            return self.href(page_path(ref))
        if found is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            found = memo[ref] = self.href(page_path(ref))
        return found
