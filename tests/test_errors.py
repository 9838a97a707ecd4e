"""Every content error: exit 1, `path:line: error: message`, previous output intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BASIC, read_tree, write_site
from generator.commands.cli import main

ARTICLE = "content/articles/drone-attack.md"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def break_file(site: Path, rel: str, text: str) -> None:
    (site / rel).write_text(text, encoding="utf-8")


CASES = [
    # (file, text, expected line, expected words in the message)
    (ARTICLE, "---\ntitle: x\ndate: 2023-10-18\nactors: [a, b\nplaces: []\n---\n", 5, "invalid YAML"),
    (ARTICLE, "---\ndate: 2023-10-18\n---\nbody\n", 1, "missing required `title`"),
    (ARTICLE, "---\ntitle: x\n---\nbody\n", 1, "missing required `date`"),
    (ARTICLE, "---\ntitle: x\ndate: 18 October 2023\n---\n", 3, "`date` is not a date"),
    (ARTICLE, "---\ntitle: x\ndate: 2023-10-18\ntlp: purple\n---\n", 4, "`tlp` must be one of clear, green, amber"),
    (ARTICLE, "---\ntitle: x\ndate: 2023-10-18\nconfidence: certain\n---\n", 4, "`confidence` must be one of low, moderate, high"),
    (ARTICLE, "---\ntitle: x\ndate: 2023-10-18\nactor: [KH]\n---\n", 4, "unknown key `actor` (did you mean `actors`?)"),
    (ARTICLE, "---\ntitle: x\ndate: 2023-10-18\n---\n\nSee\n[[Nowhere Land]].\n", 7, "`[[Nowhere Land]]` links to nothing"),
    ("content/notes/zz.md", "---\ntitle: x\ndate: 2023-10-18\nslug: Assessment\n---\n", 4, "slug `assessment` is already used by content/notes/assessment.md"),
    (ARTICLE, "title: x\ndate: 2023-10-18\n", 1, "missing front-matter"),
    (ARTICLE, "---\ntitle: x\ndate: 2023-10-18\n", 1, "front-matter is never closed"),
    (ARTICLE, "---\ntitle: x\ntitle: y\ndate: 2023-10-18\n---\n", 3, "duplicate key `title`"),
    ("content/places/baghdad.md", "---\ntitle: Baghdad\ncoordinates: [100, 44]\n---\n", 3, "`coordinates` must be [latitude, longitude]"),
    # (an alias another profile also claims is ambiguous, a warning: see tests/test_names.py; a title is one profile's)
    ("content/places/zone.md", "---\nkind: district\ntitle: Green Zone\n---\n", 3, "title `Green Zone` is already the title of content/places/green-zone.md"),
    ("site.yml", "title: T\npublish:\n  max_tlp: purple\n", 2, "`publish.max_tlp` must be one of"),
    ("site.yml", "title: T\nbase_ur: https://x.org/\n", 2, "unknown key `base_ur` (did you mean `base_url`?)"),
]


@pytest.mark.parametrize("rel, text, line, words", CASES, ids=[c[3][:40] for c in CASES])
def test_error_is_reported_with_path_and_line_and_nothing_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rel: str, text: str, line: int, words: str
) -> None:
    site = write_site(tmp_path / "site", BASIC)
    out = tmp_path / "out"
    assert run(capsys, "build", "--site", str(site), "--output", str(out))[0] == 0
    before = read_tree(out)

    break_file(site, rel, text)
    code, _, err = run(capsys, "build", "--site", str(site), "--output", str(out))
    assert code == 1
    assert f"{rel}:{line}: error: " in err, err
    assert words in err, err
    assert read_tree(out) == before  # the previous good site is untouched
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temp folder left behind

    code, _, err_check = run(capsys, "check", "--site", str(site))
    assert code == 1 and words in err_check


def test_every_problem_is_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    break_file(site, ARTICLE, "---\ntitle: Drone attack on Ain al-Asad\ndate: nope\nactor: [KH]\n---\n")
    break_file(site, "content/notes/other.md", "---\ntitle: y\ndate: 2023-10-01\n---\n[[Missing]]\n")
    code, _, err = run(capsys, "check", "--site", str(site))
    lines = [l for l in err.splitlines() if ": error: " in l]
    assert code == 1
    assert lines == sorted(lines) and len(lines) == 3, err
    # a link to the broken document is not a second error, only a hint
    assert "assessment.md:9: warning: `[[Drone attack on Ain al-Asad]]` links to nothing" in err


@pytest.mark.parametrize(
    "data, words",
    [
        (b"---\ntitle: \xff\xfe\n---\n", "not UTF-8"),
        (b"\x00\x01\x02binary", "binary file"),
    ],
)
def test_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, words: str) -> None:
    site = write_site(tmp_path / "site", BASIC)
    (site / ARTICLE).write_bytes(data)
    code, _, err = run(capsys, "check", "--site", str(site))
    assert code == 1 and f"{ARTICLE}:" in err and words in err


def test_bom_and_crlf_are_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    (site / ARTICLE).write_bytes(b"\xef\xbb\xbf---\r\ntitle: Drone attack on Ain al-Asad\r\ndate: 2023-10-18\r\n---\r\nBody [[KH]].\r\n")
    code, _, err = run(capsys, "check", "--site", str(site))
    assert code == 0, err


def test_yaml_alias_bomb_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    bomb = ["---", "title: x", "date: 2023-10-18", "extra:", "  a: &a [1,1,1,1,1,1,1,1,1,1]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        bomb.append(f"  {name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    break_file(site, ARTICLE, "\n".join(bomb + ["---", ""]))
    code, _, err = run(capsys, "check", "--site", str(site))
    assert code == 1 and "alias bomb" in err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["build", "--no-such-flag"])
    assert exc.value.code == 2
    assert run(capsys, "build", "--site", str(tmp_path / "missing"))[0] == 2


def test_output_folder_with_foreign_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    code, _, err = run(capsys, "build", "--site", str(site), "--output", str(precious))
    assert code == 1 and "did not generate" in err
    assert (precious / "thesis.txt").read_text() == "years of work"
    # the site folder itself, and folders inside content/, are refused too
    assert run(capsys, "build", "--site", str(site), "--output", str(site))[0] == 1
    assert run(capsys, "build", "--site", str(site), "--output", str(site / "content" / "x"))[0] == 1
    assert (site / "content" / "articles" / "drone-attack.md").exists()


def test_the_output_holds_only_the_site_and_survives_a_deleted_cache(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    site = write_site(tmp_path / "site", BASIC)
    out = site / "_site"
    assert run(capsys, "build", "--site", str(site))[0] == 0
    first = read_tree(out)
    assert not [name for name in first if name.split("/")[-1].startswith(".") and name != ".nojekyll"]
    assert list((site / ".briefing-cache" / "manifests").iterdir())  # the manifest is beside it
    shutil.rmtree(site / ".briefing-cache")  # "deleting the cache is always safe"
    (out / "stale.html").write_text("left by an older build")
    code, _, err = run(capsys, "build", "--site", str(site))
    assert code == 0, err  # known as ours by its home page
    assert read_tree(out) == first  # written afresh: nothing of the old folder is left over
    # a folder whose home page briefing did not make is still refused
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "index.html").write_text("<!DOCTYPE html><title>My own site</title>")
    code, _, err = run(capsys, "build", "--site", str(site), "--output", str(precious))
    assert code == 1 and "did not generate" in err
    assert (precious / "index.html").read_text().endswith("My own site</title>")
