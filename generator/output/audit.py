"""Checks on a finished build, for `briefing check` and `briefing build --strict`.

Two kinds of problems, both as Diagnostics:
- output errors: links, `#anchors`, images and other files that the rendered
  pages point at but the site does not have. They are found in the pages
  themselves, so they cover Markdown links, raw HTML, `[[links]]` and template
  links alike. Each is reported at the line of the source document that writes
  the link when there is one, else at the line of the output file.
- warnings: profiles that nothing uses, documents tagged with no actor and no
  place, dates later than today, and a `base_url` too partial for feeds.

The pages are scanned with a regular expression, not an HTML parser: they are
our own escaped output (text never holds a raw `<` or `"`), and a full parse of
10,000 pages would cost more than the build.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import pickle
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Iterator, Mapping, NamedTuple
from urllib.parse import quote, unquote, urljoin, urlsplit

from generator import code_version, parallel
from generator.content.cache import Cache
from generator.content.config import SiteConfig
from generator.diagnostics import Diagnostic
from generator.content.markdown import HEADING_ID_PREFIX
from generator.content.model import Document, Entity, Site
from generator.content.text import slugify
from generator.output.write import read_manifest
from generator.site.urls import Urls, output_file, page_path

_PLACEHOLDER_ORIGIN = "https://site.invalid"  # resolves links when base_url is a bare path

# A comment, a script or style element (skipped whole), or a start tag with its attributes.
# (Case folded by hand where it matters: the whole pattern under re.I is a third slower.)
_MARKUP = re.compile(
    r"<!--.*?-->|<([sS][cC][rR][iI][pP][tT]|[sS][tT][yY][lL][eE])\b([^>]*)>.*?</(?i:\1)\s*>"
    r"|<([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^>]*)?)>",
    re.S,
)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_URL_ATTRIBUTES = {"href", "src", "poster", "srcset", "action", "formaction", "xlink:href"}
_FILE_TAGS = {"img", "source", "video", "audio", "track", "script", "link", "iframe", "embed"}
_XML_URL = re.compile(r"<loc>([^<]*)</loc>|<link\b[^>]*?\bhref=\"([^\"]*)\"")
_WIKI_ANCHOR = re.compile(r"\[\[([^\[\]|#\n]*)#([^\[\]|\n]+)(?:\|[^\[\]\n]*)?\]\]")


class Found(NamedTuple):
    """A URL in an output page, where it is written (a tuple: a first check makes a million)."""

    page: str  # site path of the page
    offset: int  # character offset in the page text
    tag: str
    attribute: str
    url: str  # as the browser reads it: entities decoded


def audit(site: Site, pages: Mapping[str, bytes], files: Collection[str], config: SiteConfig,
          today: dt.date) -> list[Diagnostic]:
    """Every output error and content warning of one build, sorted.

    `pages` maps site paths to rendered bytes; `files` are the output paths of
    copied files (theme and content assets).
    """
    problems = output_problems(site, pages, files, Urls(config.base_url), config.root, config.output_dir)
    return sorted(set(problems + content_warnings(site, today) + config_warnings(config)))


def audit_written(site: Site, pages: Mapping[str, bytes], config: SiteConfig, output_dir: Path,
                  today: dt.date, cache: Cache | None = None, report: dict[str, int] | None = None) -> list[Diagnostic]:
    """`audit` of a build written to `output_dir`: the files it links to are those the folder holds.
    With the site's `cache`, only the pages whose verdict may have changed since the last audit
    of this folder are read and checked (see output_problems)."""
    pages_at = {output_file(p) for p in pages}
    manifest = read_manifest(output_dir)
    if manifest and pages_at <= manifest.keys():
        files = [rel for rel in manifest if rel not in pages_at]
        keys: dict[str, str] | None = {p: manifest[output_file(p)] for p in pages}
    else:  # (a folder this build did not write: look at what it holds)
        files = [p.relative_to(output_dir).as_posix() for p in output_dir.rglob("*")
                 if p.is_file() and p.relative_to(output_dir).as_posix() not in pages_at]
        keys = None
    problems = output_problems(site, pages, files, Urls(config.base_url), config.root, output_dir, keys, cache, report)
    return sorted(set(problems + content_warnings(site, today) + config_warnings(config)))


def config_warnings(config: SiteConfig) -> list[Diagnostic]:
    """Feeds and sitemaps need absolute URLs, which a path-only `base_url` cannot give."""
    if Urls(config.base_url).origin:
        return []
    path = config.root / "site.yml"
    text = path.read_text("utf-8", errors="replace") if path.is_file() else ""
    line = next((i for i, l in enumerate(text.splitlines(), 1) if l.startswith("base_url:")), 0)
    return [Diagnostic("site.yml", line, "warning",
                       f"`base_url` {config.base_url} is a path, not a full address: the Atom feeds and sitemap.xml "
                       "need absolute URLs (https://user.github.io/repo/), or readers and search engines reject them")]


# --------------------------------------------------------------------------- content warnings


def content_warnings(site: Site, today: dt.date) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for doc in site.documents.values():
        if not doc.actor_names and not doc.place_names:
            line = doc.lines.get("actors") or doc.lines.get("places") or doc.lines.get("title", 1)
            out.append(Diagnostic(doc.path, line, "warning",
                                  "tagged with no actor and no place: the document appears on no actor or place page"))
        out.extend(_future_dates(doc, today))
    held_back = " (documents held back from this build do not count)" if site.held_back else ""
    for entity in site.entities.values():
        if entity.has_profile and not _is_used(site, entity):
            out.append(Diagnostic(
                entity.path, entity.lines.get("title", 1), "warning",
                f"orphan profile: no published document is tagged with `{entity.title}` or links to it, "
                f"and no other profile points at it{held_back}",
            ))
    return out


def unprofiled_tags(site: Site, limit: int = 10) -> str:
    """The publish audit's note on the tags that made pages with no profile ('' when none): the
    most used first. A note, not a warning: a tag needs no profile (one close to a profile's
    name is a warning of the build: generator/site/names.py)."""
    tags = sorted((e for e in site.entities.values() if not e.has_profile),
                  key=lambda e: (-len(site.tagged.get(e.ref, ())), e.title.casefold(), e.ref))
    if not tags:
        return ""
    shown = ", ".join(e.title for e in tags[:limit]) + (f" and {len(tags) - limit} more" if len(tags) > limit else "")
    return f"{len(tags)} tag{'s' if len(tags) != 1 else ''} made pages with no profile: {shown}"


def _future_dates(doc: Document, today: dt.date) -> Iterator[Diagnostic]:
    dates = [("date", doc.date, "date"), ("updated", doc.updated, "updated")]
    if doc.source is not None:
        dates.append(("source.date", doc.source.date, "source"))
    for name, value, key in dates:
        if value is not None and value > today:
            yield Diagnostic(doc.path, doc.lines.get(key, 1), "warning",
                             f"`{name}` {value.isoformat()} is in the future (today is {today.isoformat()})")


def _is_used(site: Site, entity: Entity) -> bool:
    ref = entity.ref
    return bool(
        site.tagged.get(ref)
        or site.mentions.get(ref)
        or site.children.get(ref)
        or any(ref in targets for targets in site.affiliations.values())
    )


def today_from(environ: Mapping[str, str]) -> dt.date:
    """Today's date, or the date of `SOURCE_DATE_EPOCH` (seconds) when it is set, in UTC."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.datetime.now(dt.timezone.utc).date()


# --------------------------------------------------------------------------- output problems


@dataclass(frozen=True)
class PageAudit:
    """The problems the audit found on one page (kept from build to build: see output_problems)."""

    located: tuple[Diagnostic, ...] = ()  # at the source line that writes them
    templated: tuple[tuple[str, str, int], ...] = ()  # (message, page, line): written by a template
    xml: tuple[Diagnostic, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.located or self.templated or self.xml)


def output_problems(
    site: Site, pages: Mapping[str, bytes], files: Collection[str], urls: Urls, root: Path, output_dir: Path,
    keys: Mapping[str, str] | None = None, store: Cache | None = None, report: dict[str, int] | None = None,
) -> list[Diagnostic]:
    """Broken links, anchors and files in the rendered pages.

    Given `keys` (site path -> a digest of the page's bytes) and a `store` (the site's cache,
    which keeps each audit of an output folder), a page is read and checked again only when
    its key or its source file changed, when a file it links to (or that would be served in
    its stead) appeared or went, or when a page it links into for an #anchor changed its
    ids; every other page keeps its verdict. The targets that every page links to (the
    navigation, the stylesheet) are kept once: when one of them appears or goes, every page
    is checked. Without them, every page is checked, in a store of its own. Either way the
    result is a full audit's (tests/test_audit.py holds it to one).
    """
    own = store is None or keys is None
    if own:
        store, keys = Cache(None), None
    assert store is not None
    try:
        return _output_problems(site, pages, files, urls, root, output_dir, keys, store, report)
    finally:
        if own:
            store.close()


def _output_problems(site: Site, pages: Mapping[str, bytes], files: Collection[str], urls: Urls, root: Path,
                     output_dir: Path, keys: Mapping[str, str] | None, store: Cache,
                     report: dict[str, int] | None) -> list[Diagnostic]:
    where = os.fspath(output_dir)
    existing = frozenset({output_file(p) for p in pages} | set(files))
    origin = urls.origin or _PLACEHOLDER_ORIGIN
    setting = repr((code_version(), origin, urls.base_path, str(root), where))
    checkable = sorted(p for p in pages if output_file(p).endswith((".html", ".xml")))
    sources = {page_path(item.ref): item.digest for item in [*site.documents.values(), *site.entities.values()]
               if item.path}
    key_of = {p: f"{keys.get(p, '') if keys is not None else ''}:{sources.get(p, '')}" for p in checkable}

    meta = store.audit_meta(where)
    valid = keys is not None and meta is not None and meta[0] == setting
    common: frozenset[str] = frozenset(pickle.loads(meta[1])) if valid and meta is not None else frozenset()
    before: frozenset[str] = frozenset(pickle.loads(meta[2])) if valid and meta is not None else frozenset()
    known = store.audit_keys(where) if valid else {}
    changed_files = existing ^ before
    full = not valid or not changed_files.isdisjoint(common)
    kept = set() if full else {p for p in checkable if known.get(p) == key_of[p] and p in keys}  # type: ignore[operator]

    def scan(page: str) -> tuple[list[Found], set[str], str]:
        text = pages[page].decode("utf-8", "replace")
        if output_file(page).endswith(".xml"):
            return list(_xml_urls(page, text)), set(), text
        found, ids = _scan_html(page, text)
        return found, ids, text

    gone = [p for p in known if p not in key_of]
    ids: dict[str, frozenset[str]] = {}
    scanned: dict[str, tuple[list[Found], set[str], str]] = {}  # (a few pages: those that changed)
    if full:  # every page, each read once and let go: its ids are known once it is read (see _Later)
        again = set(checkable)
    else:
        for p in checkable:
            if p not in kept:
                scanned[p] = scan(p)
                ids[p] = frozenset(scanned[p][1])
        stored = {p: _ids(text) for p, text in store.audit_ids(where, [p for p in ids if p in known]).items()}
        changed_ids = {p for p in ids if stored.get(p) != ids[p]} | set(gone)
        again = set(ids) | store.audit_linking(where, "f", changed_files) | store.audit_linking(where, "a", changed_ids)
        again &= key_of.keys()

    def ids_of(page: str) -> frozenset[str]:
        if page not in ids:
            if full:
                if page in again:
                    raise _Later  # read later in this audit: decided once every page is read
                return frozenset()
            ids.update((p, _ids(text)) for p, text in store.audit_ids(where, [page]).items())
        return ids.get(page, frozenset())

    locate = _Locator(site, root, urls.base_path)
    checked: dict[tuple[str, str, str, str], tuple[str | None, tuple[str, ...], str]] = {}
    parts: dict[str, tuple[list[Diagnostic], list[tuple[str, str, int]], tuple[Diagnostic, ...], set[str], set[str]]] = {}
    later: list[tuple[str, Found, tuple[str, str, str, str], str]] = []

    def verdict(page: str, found: Found, key: tuple[str, str, str, str], text: str) -> None:
        located, templated, _, targets, anchors = parts[page]
        message, wanted, anchor = checked[key]
        targets.update(wanted)
        if anchor:
            anchors.add(anchor)
        if message is None:
            return
        at = locate(page, found)
        if at is not None:
            located.append(Diagnostic(at[0], at[1], "error", message))
        else:  # written by a template: reported once, at the first page that shows it
            templated.append((message, page, text.count("\n", 0, found.offset) + 1))

    def read(batch: list[str]) -> tuple[dict, dict[str, frozenset[str]], list, frozenset[str]]:
        """Read and check these pages (in a worker, on a first audit): their parts, their ids, and
        the links that wait for pages read elsewhere (see _Later)."""
        mine: list[str] = []
        waiting: list[tuple[str, Found, tuple[str, str, str, str], str]] = []
        for page in batch:
            found_list, page_ids, text = scanned.pop(page, None) or scan(page)
            ids[page] = frozenset(page_ids)
            xml = tuple(_xml_errors({page: text}, output_dir, root)) if output_file(page).endswith(".xml") else ()
            parts[page] = ([], [], xml, set(), set())
            mine.append(page)
            for found in found_list:
                # Most URLs (navigation, tags) repeat on every page: check each once unless it is relative.
                independent = found.url.startswith(("/", "http:", "https:")) and not found.url.startswith("//")
                key = ("" if independent else page, found.tag, found.attribute, found.url)
                if key not in checked:
                    try:
                        checked[key] = _check(found, origin, urls.base_path, existing, ids_of)
                    except _Later:  # (keeps only the text before the link: its line is all it needs)
                        waiting.append((page, found, key, text[: found.offset]))
                        continue
                verdict(page, found, key, text)
        # the targets all these pages link to travel once (most of each page's: the navigation)
        html = [p for p in mine if output_file(p).endswith(".html")]
        shared = frozenset.intersection(*(frozenset(parts[p][3]) for p in html)) if html else frozenset()
        for p in html:
            parts[p][3].difference_update(shared)
        return {p: parts[p] for p in mine}, {p: ids[p] for p in mine}, waiting, shared

    order = sorted(again)
    batches = [order[i : i + _AUDIT_BATCH] for i in range(0, len(order), _AUDIT_BATCH)]
    # a first audit reads every page: on every core (each worker with its own memo of verdicts);
    # a later one reads a few, here (its ids come from the store, which a worker must not share)
    shared_of: dict[str, frozenset[str]] = {}  # an HTML page -> the targets of its batch's pages, left out of its own
    for got_parts, got_ids, waiting, shared in parallel.ordered_map(read, batches, chunksize=1,
                                                                     inline_below=2 if full else len(batches) + 1):
        parts.update(got_parts)
        ids.update(got_ids)
        later.extend(waiting)
        shared_of.update((p, shared) for p in got_parts if output_file(p).endswith(".html"))
    for page, found, key, text in later:  # #anchors into pages read after theirs
        if key not in checked:
            checked[key] = _check(found, origin, urls.base_path, existing, ids_of)
        verdict(page, found, key, text)
    made = {page: (PageAudit(tuple(located), tuple(templated), xml), targets, anchors)
            for page, (located, templated, xml, targets, anchors) in parts.items()}
    if full:  # what every page links to, kept once: what every batch's pages link to
        batch_shared = {id(shared): shared for shared in shared_of.values()}.values()
        common = frozenset.intersection(*batch_shared) if batch_shared else frozenset()
    empty: frozenset[str] = frozenset()
    store.audit_replace(where, setting, pickle.dumps(tuple(sorted(common))), pickle.dumps(tuple(sorted(existing))),
                        full, gone, {
        page: (key_of[page], "\x1f".join(sorted(ids_of(page))), pickle.dumps(record), bool(record),
               (targets - common) | (shared_of.get(page, empty) - common), anchors)
        for page, (record, targets, anchors) in made.items()})
    if report is not None:
        report["checked"] = len(again)

    records = {page: pickle.loads(data) for page, data in store.audit_with_problems(where).items()}  # noqa: S301
    out: list[Diagnostic] = []
    template_problems: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for page in sorted(records):
        out.extend(records[page].located)
        for message, at_page, line in records[page].templated:
            template_problems[message].append((at_page, line))
    for message, places in template_problems.items():
        page, line = min(places)
        more = f" (and on {len(places) - 1} more page{'s' if len(places) > 2 else ''})" if len(places) > 1 else ""
        out.append(Diagnostic(_output_rel(output_dir, root, page), line, "error", message + more))
    for page in sorted(records):
        out.extend(records[page].xml)
    return out


_AUDIT_BATCH = 128  # pages a worker reads and checks at a time (a first audit)


class _Later(Exception):
    """An #anchor into a page this audit has still to read."""


def _ids(text: str) -> frozenset[str]:
    return frozenset(text.split("\x1f")) if text else frozenset()


def _scan_html(page: str, text: str) -> tuple[list[Found], set[str]]:
    """The URLs a page points at, and the ids it defines."""
    urls: list[Found] = []
    ids: set[str] = set()
    for match in _MARKUP.finditer(text):
        script, script_attributes, tag, attributes = match.groups()
        at = 4
        if script:  # a script or style element (its content skipped), else any other start tag
            tag, attributes, at = script, script_attributes, 2
        if not tag or not attributes:
            continue
        folded = attributes.lower()  # most tags hold no attribute looked at below (a class, a role): passed over
        if not ("href" in folded or "src" in folded or "id" in folded or "name" in folded or "action" in folded
                or "poster" in folded):
            continue
        for attr in _ATTRIBUTE.finditer(attributes):
            name, double, single, bare = attr.groups()
            name = name.lower()
            is_url = name in _URL_ATTRIBUTES
            if not is_url and name != "id" and name != "name":
                continue
            value = double if double is not None else single if single is not None else bare
            value = html.unescape(value) if "&" in value else value
            if not is_url:
                if name == "id" or tag.lower() == "a":
                    ids.add(value)
                continue
            offset = match.start(at) + attr.start()
            if name == "srcset":
                urls.extend(Found(page, offset, tag.lower(), name, c.split()[0].strip())
                            for c in value.split(",") if c.strip())
            else:
                urls.append(Found(page, offset, tag.lower(), name, value.strip()))
    return urls, ids


def _xml_urls(page: str, text: str) -> Iterator[Found]:
    for match in _XML_URL.finditer(text):
        loc, href = match.group(1), match.group(2)
        yield Found(page, match.start(), "loc" if loc is not None else "link", "href", html.unescape(loc or href or "").strip())


def _check(
    found: Found, origin: str, base_path: str, existing: Collection[str], ids_of: Callable[[str], Collection[str]]
) -> tuple[str | None, tuple[str, ...], str]:
    """(a message when `found` points at something the site does not have, else None; the output
    files whose presence decides it; the page whose ids decide it, or "")."""
    raw = found.url
    if not raw:
        return (f"empty `{found.attribute}` on <{found.tag}>" if found.tag in ("a", "img", "loc") else None), (), ""
    if found.page == "404.html" and not raw.startswith(("/", "#")) and ":" not in raw.split("/", 1)[0]:
        return f"relative link `{raw}` on 404.html: the page is served at any depth, so it must be root-relative", (), ""
    resolved = _on_site(raw, found.page, origin, base_path)
    if isinstance(resolved, str):
        return resolved, (), ""
    if resolved is None:
        return None, (), ""  # another site, mailto:, data: ...: not ours to check
    path, fragment = resolved
    if not (path + "/").startswith(base_path):
        return f"link `{raw}` leaves the site's base path {base_path}", (), ""
    rest = path[len(base_path):]
    candidates = _candidates(rest)
    target = next((c for c in candidates if c in existing), None)
    if target is None:
        if found.tag in ("img", "source") or found.attribute == "poster":
            return f"missing image `{raw}`: no file at /{rest} (content/{rest} would be copied there)", candidates, ""
        if found.tag in _FILE_TAGS:
            return f"missing file `{raw}`: no file at /{rest}", candidates, ""
        return f"broken link `{raw}`: no page at /{rest}", candidates, ""
    if fragment and fragment != "top" and target.endswith(".html"):
        anchor = _site_path_of(target)
        if fragment not in ids_of(anchor):
            return f"broken anchor `{raw}`: /{anchor} has no element with id `{fragment}`", candidates, anchor
        return None, candidates, anchor
    return None, candidates, ""


# what urljoin would change in a root-relative URL (a dot segment, an empty ";params"), what urlsplit strips
_NOT_PLAIN = re.compile(r"[\x00-\x20\x7f\\;]|/\.\.?(?:[/?#]|$)")


def _on_site(raw: str, page: str, origin: str, base_path: str) -> tuple[str, str] | str | None:
    """(path, fragment) of the URL `raw` written on `page`, unquoted, when it points into the site
    at `origin`; None when it points elsewhere; a message when it is malformed. A root-relative
    URL, or one that starts with the origin, and has no dot segment resolves to itself (most of a
    page's, and every URL of a sitemap): the general resolution is only for the rest."""
    rest = raw[len(origin):] if raw.startswith(origin) and raw[len(origin):][:1] == "/" else raw
    if rest[:1] == "/" and rest[1:2] != "/" and not _NOT_PLAIN.search(rest):
        before, _, fragment = rest.partition("#")
        return unquote(before.partition("?")[0]), unquote(fragment)
    if raw.startswith(("https://", "http://")) and not _NOT_PLAIN.search(raw):  # another site's, most likely
        netloc = raw.split("/", 3)[2].partition("?")[0].partition("#")[0]
        if (netloc.isascii() and netloc and not any(c in netloc for c in "[]@")
                and netloc.lower() != origin.split("/", 3)[2].lower()):
            return None
    return _resolved(raw, page, origin, base_path)


def _resolved(raw: str, page: str, origin: str, base_path: str) -> tuple[str, str] | str | None:
    """_on_site by the general resolution of a URL against its page's (RFC 3986, urljoin)."""
    try:
        page_url = origin + quote(base_path + page, safe="/%:@!$&'()*+,;=~-._")
        absolute = urlsplit(urljoin(page_url, raw))
        site = urlsplit(origin)
    except ValueError:
        return f"malformed URL `{raw}`"
    if absolute.scheme not in ("http", "https") or absolute.netloc.lower() != site.netloc.lower():
        return None
    return unquote(absolute.path), unquote(absolute.fragment)


def _candidates(rest: str) -> tuple[str, ...]:
    """The output files a site path may be served from, in the order a static host tries them."""
    if rest == "" or rest.endswith("/"):
        return (rest + "index.html",)
    return (rest, rest + "/index.html")  # a folder without its slash redirects


def _site_path_of(output: str) -> str:
    if output == "index.html":
        return ""
    return output[: -len("index.html")] if output.endswith("/index.html") else output


def _xml_errors(texts: Mapping[str, str], output_dir: Path, root: Path) -> Iterator[Diagnostic]:
    for page, text in texts.items():
        if not output_file(page).endswith(".xml"):
            continue
        try:
            ET.fromstring(text.encode("utf-8"))
        except ET.ParseError as exc:
            line = exc.position[0] if exc.position else 0
            yield Diagnostic(_output_rel(output_dir, root, page), line, "error", f"not well-formed XML: {exc}")


def _output_rel(output_dir: Path, root: Path, page: str) -> str:
    """The output file of a page, relative to the site folder when it is inside it."""
    path = output_dir / output_file(page)
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


class _Locator:
    """Finds the source line that writes a URL found on a document's or profile's page."""

    def __init__(self, site: Site, root: Path, base_path: str):
        self.root, self.base_path = root, base_path
        self.sources: dict[str, Document | Entity] = {}
        for item in [*site.documents.values(), *site.entities.values()]:
            if item.path:
                self.sources[page_path(item.ref)] = item
        self.bodies: dict[str, list[str]] = {}
        self._found: dict[tuple[str, str], tuple[str, int] | None] = {}

    def __call__(self, page: str, found: Found) -> tuple[str, int] | None:
        key = (page, found.url)  # a URL a page repeats is looked for once
        if key not in self._found:
            self._found[key] = self._locate(page, found.url)
        return self._found[key]

    def _locate(self, page: str, url: str) -> tuple[str, int] | None:
        item = self.sources.get(page)
        if item is None:
            return None
        for i, line in enumerate(self._body(item)):
            if _writes(line, url, self.base_path):
                return item.path, item.body_line + i
        return None

    def _body(self, item: Document | Entity) -> list[str]:
        if item.path not in self.bodies:
            try:
                text = (self.root / item.path).read_text("utf-8-sig", errors="replace")
            except OSError:
                text = ""
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            self.bodies[item.path] = lines[max(item.body_line - 1, 0):]
        return self.bodies[item.path]


def _writes(line: str, url: str, base_path: str) -> bool:
    """Does this source line write `url`, as a Markdown or HTML link or as a `[[name#anchor]]`?"""
    candidates = {url}
    if url.startswith(base_path) and base_path != "/":
        candidates.add("/" + url[len(base_path):])  # Markdown's `/x` is written out as `/base/x`
    candidates |= {unquote(c) for c in candidates}
    decoded = unquote(line)
    for c in candidates:
        if any(f"{before}{c}" in text for before in ("(", '"', "'", "<", "]: ") for text in (line, decoded)):
            return True
    fragment = url.partition("#")[2]
    if fragment:
        for match in _WIKI_ANCHOR.finditer(line):
            anchor = match.group(2).strip()
            if fragment in (anchor, HEADING_ID_PREFIX + slugify(anchor)):
                return True
    return False
