"""site.yml -> a frozen SiteConfig, with every problem as a Diagnostic."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.diagnostics import Diagnostics
from generator.content.model import BUILT_IN_RELATIONS, RelationType
from generator.content.yamltext import YamlProblem, load_mapping

CONFIG_FILE = "site.yml"
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")

# section -> {key in site.yml: field of SiteConfig}
_FIELDS: dict[str, dict[str, str]] = {
    "publish": {"max_tlp": "max_tlp"},
    "markdown": {"allow_html": "allow_html"},
    "feed": {"limit": "feed_limit"},
    "home": {"latest": "home_latest"},
    "deploy": {"remote": "deploy_remote", "branch": "deploy_branch", "cname": "deploy_cname", "message": "deploy_message"},
    "serve": {"host": "serve_host", "port": "serve_port", "watch": "watch"},
}
_SECTIONS = {name: tuple(keys) for name, keys in _FIELDS.items()}
_TOP_KEYS = ("title", "description", "base_url", "language", "output", "cache", "estimative", "relation_types", "extra",
             *_SECTIONS)
ESTIMATIVE_SCALES = ("icd203", "phia")  # see content/estimative.py
RELATION_TYPE_KEYS = ("wording", "inverse", "stix", "places")
# A relation type's name, and its STIX relationship_type: what STIX allows (a-z, 0-9, hyphens), one word or hyphenated
RELATION_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class SiteConfig:
    root: Path  # the site folder
    title: str = "Briefing"
    description: str = ""
    base_url: str = "/"
    language: str = "en"
    output: str = "_site"
    cache: str = ".briefing-cache"
    max_tlp: str = "clear"
    allow_html: bool = False
    feed_limit: int = 50
    home_latest: int = 20
    deploy_remote: str = "origin"
    deploy_branch: str = "gh-pages"
    deploy_cname: str = ""
    deploy_message: str = ""
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    watch: tuple[str, ...] = ()
    estimative: str = "icd203"  # the likelihood scale notes are checked against
    relation_types: tuple[RelationType, ...] = ()  # the site's own, beside model.BUILT_IN_RELATIONS
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def relation_vocabulary(self) -> dict[str, RelationType]:
        """Every relation type a profile may use: the built-in ones, then the site's."""
        return {**BUILT_IN_RELATIONS, **{t.name: t for t in self.relation_types}}

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def layouts_dir(self) -> Path:
        return self.root / "layouts"

    @property
    def output_dir(self) -> Path:
        return (self.root / self.output).resolve()

    @property
    def cache_dir(self) -> Path:
        return (self.root / self.cache).resolve()


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """' (did you mean `x`?)' or ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def load_config(root: Path, diags: Diagnostics, **overrides: Any) -> SiteConfig:
    """Read `root/site.yml` (optional) and apply command-line overrides that are not None."""
    root = root.resolve()
    values: dict[str, Any] = {}
    path = root / CONFIG_FILE
    if path.is_file():
        values = _read(path, diags)
    for key, value in overrides.items():
        if value is not None:
            values[key] = value
    if "base_url" in values:
        values["base_url"] = normalise_base_url(str(values["base_url"]))
    return SiteConfig(root=root, **values)


def normalise_base_url(url: str) -> str:
    """Always end with '/'; accept a bare path ('/repo') or a full URL."""
    url = url.strip() or "/"
    return url if url.endswith("/") else url + "/"


def _read(path: Path, diags: Diagnostics) -> dict[str, Any]:
    rel = CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        mapping = load_mapping(text, 1)
    except UnicodeDecodeError as exc:
        diags.error(rel, 0, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return {}
    except YamlProblem as exc:
        diags.error(rel, exc.line, exc.message)
        return {}
    data, out = mapping.data, {}
    for key, value in data.items():
        line = mapping.line(key, 1)
        if key not in _TOP_KEYS:
            diags.error(rel, line, f"unknown key `{key}`{suggest(key, _TOP_KEYS)}")
        elif key in _SECTIONS:
            out.update(_section(key, value, rel, line, diags))
        elif key == "relation_types":
            out["relation_types"] = _relation_types(value, text, line, diags)
        elif key == "extra":
            if isinstance(value, dict):
                out["extra"] = value
            else:
                diags.error(rel, line, "`extra` must be a mapping")
        elif not isinstance(value, str) or not value.strip():
            diags.error(rel, line, f"`{key}` must be non-empty text")
        else:
            out[key] = value.strip()
    if out.get("estimative", "icd203") not in ESTIMATIVE_SCALES:
        diags.error(rel, mapping.line("estimative", 1),
                    f"`estimative` must be one of {', '.join(ESTIMATIVE_SCALES)}, not `{out.pop('estimative')}`")
    if "base_url" in out:
        parts = urlsplit(out["base_url"])
        if not (parts.scheme in ("http", "https") and parts.netloc) and not out["base_url"].startswith("/"):
            diags.error(rel, mapping.line("base_url", 1), "`base_url` must be an http(s) URL or a path starting with `/`")
            del out["base_url"]
    return out


def _section(name: str, value: Any, rel: str, line: int, diags: Diagnostics) -> dict[str, Any]:
    if not isinstance(value, dict):
        diags.error(rel, line, f"`{name}` must be a mapping with keys {', '.join(_SECTIONS[name])}")
        return {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _SECTIONS[name]:
            diags.error(rel, line, f"unknown key `{name}.{key}`{suggest(str(key), _SECTIONS[name])}")
            continue
        checked = _check(f"{name}.{key}", item, rel, line, diags)
        if checked is not None:
            out[_FIELDS[name][key]] = checked
    return out


def _check(key: str, value: Any, rel: str, line: int, diags: Diagnostics) -> Any:
    if key == "publish.max_tlp":
        if value not in TLP_LEVELS:
            diags.error(rel, line, f"`{key}` must be one of {', '.join(TLP_LEVELS)}, not `{value}`")
            return None
        return value
    if key == "markdown.allow_html":
        if not isinstance(value, bool):
            diags.error(rel, line, f"`{key}` must be true or false")
            return None
        return value
    if key in ("feed.limit", "home.latest", "serve.port"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            diags.error(rel, line, f"`{key}` must be a positive whole number")
            return None
        return value
    if key == "serve.watch":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            diags.error(rel, line, f"`{key}` must be a list of folders")
            return None
        return tuple(items)
    if not isinstance(value, str):
        diags.error(rel, line, f"`{key}` must be text")
        return None
    return value


def _relation_types(value: Any, text: str, line: int, diags: Diagnostics) -> tuple[RelationType, ...]:
    """`relation_types:` a mapping of name -> {wording, inverse, stix, places}: the site's own
    relation types, each an error at its own line when it is not well formed."""
    if not isinstance(value, dict):
        diags.error(CONFIG_FILE, line, "`relation_types` must be a mapping of type names to "
                                       "{wording, inverse, stix, places}")
        return ()
    lines = _nested_key_lines(text, line)
    out: list[RelationType] = []
    for name, spec in value.items():
        name = str(name)
        at = lines.get(name, line)
        where = f"`relation_types.{name}`"
        if not RELATION_NAME.match(name):
            diags.error(CONFIG_FILE, at, f"{where}: a type name is lowercase letters, digits and hyphens "
                                         "(`designated-by`), as STIX wants it")
            continue
        if name in BUILT_IN_RELATIONS:
            diags.error(CONFIG_FILE, at, f"{where} is built in; give the site's own type another name")
            continue
        if not isinstance(spec, dict):
            diags.error(CONFIG_FILE, at, f"{where} must be a mapping {{wording, inverse, stix, places}}")
            continue
        unknown = [k for k in spec if k not in RELATION_TYPE_KEYS]
        if unknown:
            diags.error(CONFIG_FILE, at, f"unknown key `relation_types.{name}.{unknown[0]}`"
                                         f"{suggest(str(unknown[0]), RELATION_TYPE_KEYS)}")
            continue
        wording, inverse = spec.get("wording"), spec.get("inverse", spec.get("wording"))
        stix, places = spec.get("stix", name), spec.get("places", False)
        if not isinstance(wording, str) or not wording.strip():
            diags.error(CONFIG_FILE, at, f"{where} needs a `wording`: what the actor's page says (`designated by`)")
        elif not isinstance(inverse, str) or not inverse.strip():
            diags.error(CONFIG_FILE, at, f"{where}: `inverse` must be text: what the target's page says")
        elif not isinstance(stix, str) or not RELATION_NAME.match(stix):
            diags.error(CONFIG_FILE, at, f"{where}: `stix` must be a STIX relationship type: lowercase letters, "
                                         f"digits and hyphens, not `{stix}`")
        elif not isinstance(places, bool):
            diags.error(CONFIG_FILE, at, f"{where}: `places` must be true or false")
        else:
            out.append(RelationType(name, " ".join(wording.split()), " ".join(inverse.split()), stix, places))
    return tuple(out)


_NESTED_KEY = re.compile(r"^([ \t]+)(?:\"([^\"\n]+)\"|'([^'\n]+)'|([^\s#:'\"\-\[\{][^:#\n]*?))[ \t]*:(?:\s|$)")


def _nested_key_lines(text: str, line: int) -> dict[str, int]:
    """The line of each key one level under the top-level key at `line` (block style;
    a flow mapping `{...}` has all of its keys on that line)."""
    out: dict[str, int] = {}
    indent = ""
    for number, raw in enumerate(text.split("\n")[line:], line + 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[:1].isspace():
            break  # the next top-level key
        match = _NESTED_KEY.match(raw)
        if match and (not indent or match.group(1) == indent):
            indent = match.group(1)
            out.setdefault((match.group(2) or match.group(3) or match.group(4)).strip(), number)
    return out
