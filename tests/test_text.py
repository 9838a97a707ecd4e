import pytest

from generator.content.text import name_key, slugify
from generator.site.urls import Urls, output_file, page_path


@pytest.mark.parametrize(
    "name, key",
    [
        ("Kataib Hezbollah", "kataib-hezbollah"),
        ("Kata'ib Ḥizballah", "kataib-hizballah"),
        ("KATAIB  HIZBALLAH", "kataib-hizballah"),
        ("Kata’ib-Hizballah", "kataib-hizballah"),
        ("Türkiye Armed Forces", "turkiye-armed-forces"),
        ("U.S. Central Command", "u-s-central-command"),
        ("Al-Asad", "al-asad"),
        ("al asad", "al-asad"),
        ("snake_case", "snake-case"),
    ],
)
def test_name_key(name: str, key: str) -> None:
    assert name_key(name) == key


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", ".", "/", "a/../../b", "   ", "\x00", "%2e%2e"])
def test_slugify_never_escapes(name: str) -> None:
    slug = slugify(name)
    assert slug and "/" not in slug and slug not in (".", "..") and not slug.startswith(".")


def test_slugify_keeps_non_latin_letters() -> None:
    assert slugify("الحشد الشعبي") == "الحشد-الشعبي"


@pytest.mark.parametrize(
    "base, path, href, absolute",
    [
        ("https://user.github.io/repo/", "actors/kh/", "/repo/actors/kh/", "https://user.github.io/repo/actors/kh/"),
        ("https://example.org/", "", "/", "https://example.org/"),
        ("/sub/", "feed.xml", "/sub/feed.xml", "/sub/feed.xml"),
        ("https://h.io/r/", "places/الحشد/", "/r/places/%D8%A7%D9%84%D8%AD%D8%B4%D8%AF/", "https://h.io/r/places/%D8%A7%D9%84%D8%AD%D8%B4%D8%AF/"),
    ],
)
def test_urls(base: str, path: str, href: str, absolute: str) -> None:
    urls = Urls(base)
    assert urls.href(path) == href
    assert urls.absolute(path) == absolute


@pytest.mark.parametrize(
    "site_path, file",
    [("", "index.html"), ("actors/kh/", "actors/kh/index.html"), ("feed.xml", "feed.xml"), ("404.html", "404.html")],
)
def test_output_file(site_path: str, file: str) -> None:
    assert output_file(site_path) == file


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd"])
def test_output_file_refuses_escape(bad: str) -> None:
    with pytest.raises(ValueError):
        output_file(bad)


def test_page_path() -> None:
    assert page_path(("note", "x")) == "notes/x/"
    assert page_path(("place", "baghdad")) == "places/baghdad/"


_TOP_KEY = __import__("re").compile(r"^(?:\"([^\"]+)\"|'([^']+)'|([^\s#:'\"\-\[\{][^:#]*?))\s*:(?:\s|$)")


def _key_lines_by_definition(text: str, first_line: int) -> dict[str, int] | tuple[int, str]:
    """yamltext._key_lines as the loop over lines that defines it: each line that starts with a
    key (quoted, or plain up to `:`) then `:`; or (line, message) at a repeated key."""
    key_lines: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n")):
        match = _TOP_KEY.match(raw)
        if not match:
            continue
        key = next(g for g in match.groups() if g is not None).strip()
        if key in key_lines:
            return first_line + number, f"duplicate key `{key}` (first at line {key_lines[key]})"
        key_lines[key] = first_line + number
    return key_lines


def test_top_level_key_lines_agree_with_their_definition() -> None:
    import random

    from generator.content import yamltext

    rng = random.Random(12)
    pieces = ["title", "date", " x", "  - a", "\"quoted key\"", "'single'", "\"", "'", ":", ": ", ":x", " :", "\t:",
              "#", "# c", "-", "- x", "[", "{", "a b", "é", "key2", "\t", " ", "\x0c", "\x0b", "\u2028", "\u00a0", "::"]
    for _ in range(20000):
        lines = ["".join(rng.choices(pieces, k=rng.randint(0, 5))) for _ in range(rng.randint(0, 8))]
        text = "\n".join(lines) + rng.choice(["", "\n"])
        try:
            mine: dict[str, int] | tuple[int, str] = yamltext._key_lines(text, 2)
        except yamltext.YamlProblem as exc:
            mine = (exc.line, exc.message)
        assert mine == _key_lines_by_definition(text, 2), text
