"""The command line, run in-process and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from generator.engine.build import build
from generator.commands.cli import main


def test_init_then_new_then_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "desk"
    assert main(["init", str(site)]) == 0
    assert (site / "site.yml").is_file() and (site / ".gitignore").is_file()
    assert main(["init", str(site)]) == 1  # never over an existing site
    assert main(["new", "--site", str(site), "note", "Escalation: what next?"]) == 0
    path = site / "content/notes/escalation-what-next.md"
    assert path.is_file() and 'title: "Escalation: what next?"' in path.read_text()
    assert main(["new", "--site", str(site), "note", "Escalation: what next?"]) == 1  # never overwrite
    assert main(["new", "--site", str(site), "actor", "Kataib Hezbollah"]) == 0
    assert main(["new", "--site", str(site), "place", "Erbil"]) == 0
    assert main(["new", "--site", str(site), "article", "A report"]) == 0
    capsys.readouterr()
    assert main(["build", "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert "held back: 2 draft" in out  # new documents start as drafts
    assert (site / "_site/articles/first-report/index.html").is_file()
    assert (site / "_site/actors/kataib-hezbollah/index.html").is_file()  # a profile is always published


def test_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "desk"
    main(["init", str(site)])
    (site / "content/notes/bad.md").write_text("---\ntitle: x\ndate: 2023-10-01\nplace: [X]\n---\n")
    capsys.readouterr()
    assert main(["check", "--site", str(site), "--format", "json"]) == 1
    items = json.loads(capsys.readouterr().out)
    assert items == [{"path": "content/notes/bad.md", "line": 4, "level": "error",
                      "message": "unknown key `place` (did you mean `places`?); put free-form fields under `extra:`"}]
    assert not (site / "_site").exists()  # check writes nothing


def test_python_dash_m_generator(tmp_path: Path) -> None:
    site = tmp_path / "desk"
    main(["init", str(site)])
    proc = subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site), "--output", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "built " in proc.stdout and (tmp_path / "o/index.html").is_file()
    proc = subprocess.run([sys.executable, "-m", "generator", "frobnicate"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    # a build ends the process at once (no heap teardown): what it printed still arrives, with its exit code
    (site / "content/notes/bad.md").write_text("---\ntitle: x\ndate: 2023-10-01\nplace: [X]\n---\n")
    proc = subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site), "--output", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert "content/notes/bad.md:4: error: unknown key `place`" in proc.stderr and "build failed: 1 error" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "generator", "check", "--site", str(site), "--format", "json"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1 and json.loads(proc.stdout)[0]["path"] == "content/notes/bad.md"


def test_repository_sample_site_builds_cleanly(tmp_path: Path) -> None:
    result = build(REPO, output=tmp_path / "site")
    assert result.ok, "\n".join(map(str, result.diagnostics))
    assert not result.diagnostics.warnings, "\n".join(map(str, result.diagnostics))
    site = result.site
    assert site is not None
    assert len(site.documents) >= 8
    assert len(site.entities_of_kind("actor")) >= 12 and len(site.entities_of_kind("place")) >= 10
    places_with_coordinates = [e for e in site.entities_of_kind("place") if e.coordinates]
    assert len(places_with_coordinates) >= 10 and site.parent  # hierarchy present
    assert any(e.aliases for e in site.entities_of_kind("actor"))
    assert site.held_back  # the sample shows held-back content too


def _build_process(site: Path, out: Path, *extra: str, terminal: bool) -> tuple[str, str]:
    """Run `python -m generator build` with stderr on a pseudo-terminal or a pipe: (stdout, stderr)."""
    import os
    import pty

    cmd = [sys.executable, "-m", "generator", "build", "--site", str(site), "--output", str(out), *extra]
    if not terminal:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.stdout.read() if proc.stdout else ""
    assert proc.wait(timeout=120) == 0, seen
    os.close(leader)
    return stdout, seen.decode()


def test_progress_on_a_terminal_only_and_timings_on_request(tmp_path: Path) -> None:
    from conftest import BASIC, write_site

    files = dict(BASIC)
    for i in range(60):  # enough for the worker pool
        files[f"content/articles/gen-{i:02d}.md"] = f"---\ntitle: Generated {i}\ndate: 2023-10-01\nactors: [KH]\n---\nBody {i}.\n"
    site = write_site(tmp_path / "site", files)
    stdout, stderr = _build_process(site, tmp_path / "a", terminal=True)
    assert "\rreading Markdown" in stderr.replace("\x1b[K", "")
    pages = int(stdout.split("built ", 1)[1].split(" pages", 1)[0])
    assert f"writing pages {pages:,}/{pages:,}" in stderr  # the last count is always shown...
    assert stderr.endswith("\r\x1b[K")  # ...and the line is erased before the report
    assert "timings:" not in stdout
    stdout, stderr = _build_process(site, tmp_path / "b", "--timings", terminal=False)
    assert "reading Markdown" not in stderr and "\r" not in stderr  # a pipe gets the report alone
    timings = stdout.split("timings: ", 1)[1].splitlines()[0]
    for step in ("load+markdown", "link", "render+write"):
        assert f"{step} " in timings



@pytest.mark.parametrize("command", ["build", "check", "serve", "new", "init", "deploy"])
def test_each_subcommand_help_says_what_it_does_and_what_its_arguments_are(command: str) -> None:
    import argparse
    import subprocess
    import sys

    from generator.commands.cli import _parser

    proc = subprocess.run([sys.executable, "-m", "generator", command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert any(l and l[0].isupper() and l.endswith(".") for l in proc.stdout.splitlines()), proc.stdout
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = sub.choices[command]
    assert parser.description
    for action in parser._actions:
        assert action.help, f"{command}: {action.dest} has no help"
        assert (action.option_strings[0] if action.option_strings else action.dest) in proc.stdout


def test_new_article_writes_the_grading_with_its_scales_and_an_empty_summary_warns(tmp_path: Path) -> None:
    from generator.commands.scaffold import init_site, new_document
    from generator.engine.build import build

    init_site(tmp_path / "desk", "https://desk.github.io/d/")
    path = new_document(tmp_path / "desk", "article", "A new report")
    text = path.read_text()
    assert "\nreliability: F\n" in text and "\ncredibility: 6\n" in text
    assert "B usually reliable" in text and "2 probably true" in text
    result = build(tmp_path / "desk", output=tmp_path / "out", drafts=True, write=False)
    assert result.ok
    line = text.splitlines().index('summary: ""') + 1
    assert [str(d) for d in result.diagnostics.warnings] == [
        f"content/articles/a-new-report.md:{line}: warning: `summary` is empty: listings, feeds and previews "
        "show the summary; write one sentence or remove the key"]
