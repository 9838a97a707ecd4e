"""site.yml -> a frozen SiteConfig, with every problem as a Diagnostic."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.diagnostics import Diagnostics
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
_TOP_KEYS = ("title", "description", "base_url", "language", "output", "cache", "estimative", "extra", *_SECTIONS)
ESTIMATIVE_SCALES = ("icd203", "phia")  # see content/estimative.py


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
    extra: dict[str, Any] = field(default_factory=dict)

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
