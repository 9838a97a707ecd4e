"""`briefing deploy` against a real local bare repository as `origin`, and the Pages workflows."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import BASIC, REPO, read_tree, write_site
from generator.engine.build import build
from generator.commands.cli import main
from generator.commands.deploy import TRAILER, DeployError, deploy
from generator.commands.scaffold import init_site
from generator.output.write import MARKER

HELD_BACK = {
    "content/articles/secret-draft.md": """
        ---
        title: Unreleased plan
        date: 2023-10-21
        draft: true
        ---
        zanzibarword in a draft.
        """,
    "content/notes/amber-note.md": """
        ---
        title: Amber assessment
        date: 2023-10-22
        tlp: amber
        ---
        quetzalword under TLP amber.
        """,
}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def branch_files(repo: Path, rev: str) -> dict[str, bytes]:
    """Every file at `rev`, read through `git archive` (no checkout)."""
    data = subprocess.run(["git", "archive", "--format=tar", rev], cwd=repo, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def subjects(repo: Path, rev: str = "gh-pages") -> list[str]:
    return git(repo, "log", "--format=%s", rev).splitlines()


def has_branch(repo: Path, branch: str = "gh-pages") -> bool:
    return subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=repo,
                          capture_output=True).returncode == 0


def fresh_build(site: Path, out: Path, **kwargs) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    result = build(site, output=out, drafts=False, **kwargs)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    files = read_tree(out)
    assert MARKER not in files  # the build's bookkeeping is kept outside the output
    return files


@pytest.fixture(autouse=True)
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh machine: no global or system git config, identity from the environment."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Analyst")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "analyst@example.org")


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    return bare


@pytest.fixture
def site(tmp_path: Path, origin: Path) -> Path:
    """A site repository on branch main with BASIC committed and `origin` as its remote."""
    root = write_site(tmp_path / "desk", BASIC)
    (root / ".gitignore").write_text("_site/\n")
    git(root, "init", "--quiet", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "First reports")
    git(root, "remote", "add", "origin", str(origin))
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["deploy", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_deploy_twice_commits_only_when_content_changed(site: Path, origin: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--site", str(site))
    assert code == 0, err
    first_source = git(site, "rev-parse", "--short", "HEAD").strip()
    assert "deployed " in out and "to origin/gh-pages" in out and "published 2 documents" in out
    assert subjects(origin) == [f"Deploy {first_source} from main"]
    body = git(origin, "log", "-1", "--format=%B", "gh-pages")
    assert TRAILER in body and git(site, "rev-parse", "HEAD").strip() in body
    assert branch_files(origin, "gh-pages") == fresh_build(site, tmp_path / "fresh1")
    assert "CNAME" not in branch_files(origin, "gh-pages")
    first_tip = git(origin, "rev-parse", "gh-pages").strip()

    code, out, err = run(capsys, "--site", str(site))  # same content: no commit, and it says so
    assert code == 0, err
    assert out.startswith(f"no change: gh-pages ({first_tip[:7]}) already holds this build")
    assert git(origin, "rev-parse", "gh-pages").strip() == first_tip

    (site / "content/articles/drone-attack.md").write_text(
        (site / "content/articles/drone-attack.md").read_text().replace("Two drones", "Three drones"))
    git(site, "commit", "--quiet", "-am", "Correct the drone count")
    second_source = git(site, "rev-parse", "--short", "HEAD").strip()
    code, out, err = run(capsys, "--site", str(site))
    assert code == 0, err
    assert subjects(origin) == [f"Deploy {second_source} from main", f"Deploy {first_source} from main"]
    assert git(origin, "rev-parse", "gh-pages^").strip() == first_tip
    tip_files = branch_files(origin, "gh-pages")
    assert tip_files == fresh_build(site, tmp_path / "fresh2")
    assert b"Three drones" in tip_files["articles/drone-attack/index.html"]
    assert tip_files[".nojekyll"] == b"" and MARKER not in tip_files


def test_user_working_tree_index_branch_and_stash_are_untouched(site: Path, origin: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (site / "content/notes/assessment.md").write_text((site / "content/notes/assessment.md").read_text() + "\nStashed.\n")
    git(site, "stash", "push", "--quiet", "-m", "work in progress")
    git(site, "checkout", "--quiet", "-b", "analysis")
    edited = site / "content/articles/drone-attack.md"
    edited.write_text(edited.read_text() + "\nAn unsaved thought.\n")  # unstaged edit
    (site / "content/places/erbil.md").write_text("---\ntitle: Erbil\nkind: city\n---\n")
    git(site, "add", "content/places/erbil.md")  # staged edit
    (site / "notes.txt").write_text("untracked\n")

    def state() -> dict[str, str]:
        return {
            "status": git(site, "status", "--porcelain", "--untracked-files=all"),
            "branch": git(site, "rev-parse", "--abbrev-ref", "HEAD"),
            "head": git(site, "rev-parse", "HEAD"),
            "stash": git(site, "stash", "list"),
            "stash_tip": git(site, "rev-parse", "stash@{0}"),
            "diff": git(site, "diff"),
            "cached": git(site, "diff", "--cached"),
            "edited": edited.read_text(),
            "refs": git(site, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/main", "refs/heads/analysis"),
        }

    before = state()
    code, out, err = run(capsys, "--site", str(site))
    assert code == 0, err
    assert state() == before
    assert "warning: the site has uncommitted changes" in err and "content/articles/drone-attack.md" in err
    short = git(site, "rev-parse", "--short", "HEAD").strip()
    assert subjects(origin) == [f"Deploy {short} from analysis with uncommitted changes"]
    # the working tree as it is was deployed: the staged profile and the unstaged edit
    files = branch_files(origin, "gh-pages")
    assert "places/erbil/index.html" in files and b"An unsaved thought." in files["articles/drone-attack/index.html"]


def test_drafts_and_amber_documents_are_never_deployed(tmp_path: Path, origin: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = write_site(tmp_path / "desk", {**BASIC, **HELD_BACK})
    git(root, "init", "--quiet", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "with held-back documents")
    git(root, "remote", "add", "origin", str(origin))
    code, out, err = run(capsys, "--site", str(root))
    assert code == 0, err
    assert "held back: 1 draft, 1 TLP:AMBER" in out
    files = branch_files(origin, "gh-pages")
    assert not [p for p in files if "secret-draft" in p or "amber-note" in p]
    for word in (b"zanzibarword", b"quetzalword", b"Unreleased plan", b"Amber assessment"):
        assert not [p for p, data in files.items() if word in data], word


def test_no_push_commits_locally_only(site: Path, origin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--site", str(site), "--no-push", "--message", "Weekly update")
    assert code == 0, err
    assert "not pushed" in out
    assert not has_branch(origin)
    assert len(subjects(site)) == 1
    body = git(site, "log", "-1", "--format=%B", "gh-pages")
    assert "Weekly update" in body and TRAILER in body
    # deploying again with push publishes the commit already made, without a new one
    local_tip = git(site, "rev-parse", "gh-pages").strip()
    code, out, err = run(capsys, "--site", str(site))
    assert code == 0, err
    assert "no change" in out and "pushed it to origin" in out
    assert git(origin, "rev-parse", "gh-pages").strip() == local_tip


def test_cname_is_written_and_the_site_is_built_for_the_domain_root(site: Path, origin: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--site", str(site), "--cname", "briefing.example.org")
    assert code == 0, err
    files = branch_files(origin, "gh-pages")
    assert files["CNAME"] == b"briefing.example.org\n"
    page = files["articles/drone-attack/index.html"].decode()
    assert 'href="/actors/kataib-hezbollah/"' in page and "/repo/" not in page
    assert b"https://briefing.example.org/articles/drone-attack/" in files["sitemap.xml"]


def test_cname_and_branch_from_site_yml(site: Path, origin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "site.yml").write_text("title: Test desk\nbase_url: https://user.github.io/repo/\n"
                                   "deploy:\n  branch: pages\n  cname: desk.example.org\n  message: From site.yml\n")
    code, out, err = run(capsys, "--site", str(site))
    assert code == 0, err
    assert not has_branch(origin, "gh-pages")
    assert branch_files(origin, "pages")["CNAME"] == b"desk.example.org\n"
    assert "From site.yml" in git(origin, "log", "-1", "--format=%B", "pages")


def test_refuses_outside_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_site(tmp_path / "plain", BASIC)
    code, out, err = run(capsys, "--site", str(root))
    assert code == 1
    assert "is not inside a git repository" in err and not out


def test_refuses_a_missing_remote(site: Path, origin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--site", str(site), "--remote", "upstream")
    assert code == 1
    assert "no remote named 'upstream'" in err and "origin" in err
    assert not has_branch(origin) and not has_branch(site)


def test_refuses_when_the_build_fails_and_prints_its_diagnostics(site: Path, origin: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (site / "content/notes/bad.md").write_text("---\ntitle: Bad\ndate: 2023-10-01\nactor: [KH]\n---\n")
    code, out, err = run(capsys, "--site", str(site))
    assert code == 1
    assert "content/notes/bad.md:4: error: unknown key `actor` (did you mean `actors`?)" in err
    assert "the build failed with 1 error; nothing was deployed" in err
    assert not has_branch(origin) and not has_branch(site)


def test_refuses_foreign_commits_on_the_remote_branch_unless_forced(site: Path, origin: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # someone else published a hand-made page to origin/gh-pages
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(origin), str(other))
    git(other, "checkout", "--quiet", "--orphan", "gh-pages")
    (other / "index.html").write_text("<p>hand-made</p>\n")
    git(other, "add", "index.html")
    git(other, "commit", "--quiet", "-m", "Hand-made landing page")
    git(other, "push", "--quiet", "origin", "gh-pages")
    foreign_tip = git(origin, "rev-parse", "gh-pages").strip()

    code, out, err = run(capsys, "--site", str(site))
    assert code == 1
    assert "origin/gh-pages has 1 commit(s) not made by `briefing deploy` (" in err
    assert "Hand-made landing page" in err and "--force" in err
    assert git(origin, "rev-parse", "gh-pages").strip() == foreign_tip

    code, out, err = run(capsys, "--site", str(site), "--force")
    assert code == 0, err
    assert git(origin, "rev-parse", "gh-pages^").strip() == foreign_tip  # history kept, never force-pushed
    assert b"hand-made" not in branch_files(origin, "gh-pages")["index.html"]

    # once the tip is a deploy, later deploys need no --force; a new foreign commit on top refuses again
    (site / "content/places/baghdad.md").write_text((site / "content/places/baghdad.md").read_text() + "More.\n")
    git(site, "commit", "--quiet", "-am", "More on Baghdad")
    assert run(capsys, "--site", str(site))[0] == 0
    git(other, "pull", "--quiet", "--ff-only", "origin", "gh-pages")
    (other / "extra.html").write_text("x\n")
    git(other, "add", "extra.html")
    git(other, "commit", "--quiet", "-m", "Manual fix")
    git(other, "push", "--quiet", "origin", "gh-pages")
    code, out, err = run(capsys, "--site", str(site))
    assert code == 1 and "Manual fix" in err


def test_refuses_on_the_deploy_branch_itself(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(site, "checkout", "--quiet", "-b", "gh-pages")
    code, out, err = run(capsys, "--site", str(site))
    assert code == 1 and "you are on the gh-pages branch" in err


def test_refuses_names_that_git_would_read_as_options(site: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    (site / "site.yml").write_text(f"title: T\ndeploy:\n  remote: --upload-pack=touch {marker}\n")
    code, out, err = run(capsys, "--site", str(site))
    assert code == 1 and "invalid remote name" in err
    assert not marker.exists()
    code, out, err = run(capsys, "--site", str(site), "--remote", "origin", "--branch=--delete")
    assert code == 1 and "invalid branch name" in err


def test_refuses_a_bad_cname(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--site", str(site), "--cname", "https://example.org/")
    assert code == 1 and "bare domain name" in err


def test_refuses_without_a_git_identity(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    with pytest.raises(DeployError, match="git has no user.name"):
        deploy(site)
    git(site, "config", "user.name", "Configured Analyst")
    assert deploy(site).pushed


def test_deploy_as_a_real_process(site: Path, origin: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "generator", "deploy", "--site", str(site)], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("deployed ") and has_branch(origin)


# -- the GitHub Actions workflows ----------------------------------------------------------

WORKFLOWS = [REPO / ".github/workflows/pages.yml", REPO / "generator/skeleton/dot-github/workflows/pages.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=["repository", "skeleton"])
def test_workflow_uses_the_documented_pages_actions(path: Path) -> None:
    flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "push" in triggers and "workflow_dispatch" in triggers
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert flow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    build_steps = flow["jobs"]["build"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in build_steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert "actions/configure-pages" in uses and "actions/upload-pages-artifact" in uses
    configure = next(s for s in build_steps if s.get("uses", "").startswith("actions/configure-pages"))
    assert configure["id"] == "pages"
    runs = "\n".join(step.get("run", "") for step in build_steps)
    assert "pip install" in runs
    assert 'briefing build --check --base-url "${{ steps.pages.outputs.base_url }}/"' in runs
    upload = next(s for s in build_steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_site"
    # the build cache is restored before the build (and saved after it), so CI builds are incremental too
    (cache,) = [s for s in build_steps if s.get("uses", "").startswith("actions/cache@")]
    build_step = next(s for s in build_steps if "briefing build" in s.get("run", ""))
    assert build_steps.index(cache) < build_steps.index(build_step)
    assert ".briefing-cache" in cache["with"]["path"]
    key, restore_keys = cache["with"]["key"], cache["with"]["restore-keys"].splitlines()
    assert "${{ runner.os }}" in key and "hashFiles(" in key and "site.yml" in key
    # a new cache each run (a saved one is never updated); when the key misses, the newest that shares a prefix
    assert key.endswith("-${{ github.sha }}")
    assert restore_keys and all(key.startswith(prefix) and key != prefix for prefix in restore_keys)
    deploy_job = flow["jobs"]["deploy"]
    assert deploy_job["needs"] == "build"
    assert deploy_job["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    (step,) = deploy_job["steps"]
    assert step["uses"].startswith("actions/deploy-pages@") and step["id"] == "deployment"


def test_repository_workflow_installs_this_checkout_and_init_writes_the_skeleton_one(tmp_path: Path) -> None:
    assert "python -m pip install .\n" in WORKFLOWS[0].read_text()
    assert "git+https://" in WORKFLOWS[1].read_text()
    written = init_site(tmp_path / "desk")
    target = tmp_path / "desk/.github/workflows/pages.yml"
    assert target in written and target.read_bytes() == WORKFLOWS[1].read_bytes()
    assert not any("dot-" in p.as_posix() for p in written)


# --------------------------------------------------------------------------- nothing broken goes out

BROKEN_LINKS = {
    "content/articles/broken.md": "---\ntitle: Broken\ndate: 2023-11-05\nactors: [KH]\n---\n"
                                  "See [x](/articles/nope/).\n\nAnd [[Baghdad#No such heading]].\n",
}


def test_deploy_refuses_what_check_calls_an_error(site: Path, origin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_site(site, BROKEN_LINKS, site_yml=None)
    git(site, "add", "-A")
    git(site, "commit", "--quiet", "-m", "A broken link")
    code, _, err = run(capsys, "--site", str(site))
    assert code == 1
    assert "content/articles/broken.md:6: error:" in err and "/articles/nope/" in err
    assert "content/articles/broken.md:8: error:" in err and "no-such-heading" in err
    assert "nothing was deployed" in err
    assert not has_branch(origin) and not has_branch(site)


def _workflow_build(flow_path: Path, site: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    """The shipped workflow's Build step, run as the job would (with `briefing` on PATH)."""
    flow = yaml.safe_load(flow_path.read_text(encoding="utf-8"))
    (step,) = [s for s in flow["jobs"]["build"]["steps"] if "briefing build" in s.get("run", "")]
    script = step["run"].replace("${{ steps.pages.outputs.base_url }}", base_url.rstrip("/"))
    shim = site.parent / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "briefing").write_text(f"#!/bin/sh\nexec {sys.executable} -m generator \"$@\"\n")
    (shim / "briefing").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    return subprocess.run(["bash", "-e", "-c", script], cwd=site, capture_output=True, text=True, env=env)


@pytest.mark.parametrize("path", WORKFLOWS, ids=["repository", "skeleton"])
def test_the_workflow_and_deploy_publish_the_same_files(path: Path, site: Path, origin: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    base = "https://user.github.io/repo/"
    proc = _workflow_build(path, site, base)
    assert proc.returncode == 0, proc.stderr
    uploaded = read_tree(site / "_site")
    assert MARKER not in uploaded  # the build's bookkeeping is not published
    assert run(capsys, "--site", str(site))[0] == 0
    assert sorted(branch_files(origin, "gh-pages")) == sorted(uploaded)


@pytest.mark.parametrize("path", WORKFLOWS, ids=["repository", "skeleton"])
def test_the_workflow_fails_on_what_check_calls_an_error(path: Path, site: Path) -> None:
    write_site(site, BROKEN_LINKS, site_yml=None)
    proc = _workflow_build(path, site, "https://user.github.io/repo/")
    assert proc.returncode == 1
    assert "content/articles/broken.md:6: error:" in proc.stderr
