"""`briefing deploy`: a production build committed to the gh-pages branch and pushed.

The way `mkdocs gh-deploy` does it, through ghp-import: the built folder is
streamed into `git fast-import`, which writes the commit straight onto the
branch ref. The user's working tree, index, current branch and stash are never
touched. Git runs as explicit argument lists with `cwd=` the repository.

Every commit this module makes carries the trailer `Deployed-by: briefing`, which
is how a later deploy tells its own history from commits someone else pushed.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import ghp_import

from generator import __version__
from generator.commands.policy import CollectorPolicy
from generator.engine.build import BuildResult, build
from generator.content.config import SiteConfig, load_config
from generator.diagnostics import Diagnostic, Diagnostics, counted
from generator.output.audit import audit_written, today_from

TRAILER = "Deployed-by: briefing"
_HISTORY_LIMIT = 200  # how far back to look for the last deploy commit
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")

Tree = dict[str, tuple[str, str]]  # path -> (mode, blob id)


class DeployError(Exception):
    """A refusal or a failed git step; the message says what to do."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)


@dataclass(frozen=True)
class DeployResult:
    build: BuildResult
    remote: str
    branch: str
    subject: str  # first line of the deploy commit message
    files: int  # files in the deployed tree
    previous: str | None  # branch tip before the deploy
    commit: str | None  # the new commit; None when the content was unchanged
    pushed: bool
    warnings: tuple[str, ...] = field(default=())


def deploy(
    site_dir: Path,
    remote: str | None = None,
    branch: str | None = None,
    message: str | None = None,
    cname: str | None = None,
    push: bool = True,
    force: bool = False,
) -> DeployResult:
    """Build `site_dir` for production and commit it to `branch` (and push it to `remote`).

    Options left as None come from site.yml's `deploy:` section. Raises DeployError,
    before anything is committed, for every refusal.
    """
    config = load_config(site_dir, Diagnostics())
    remote = remote or config.deploy_remote
    branch = branch or config.deploy_branch
    cname = (cname if cname is not None else config.deploy_cname).strip()
    message = (message if message is not None else config.deploy_message).strip()
    repo = _preflight(config, remote, branch, cname, push)
    warnings: list[str] = []
    dirty = uncommitted_changes(repo, config)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        warnings.append(f"the site has uncommitted changes ({shown}); deploying the working tree as it is")
    source = source_commit(repo)
    if source is None:
        warnings.append("the repository has no commit yet; the deploy cannot name its source")

    with tempfile.TemporaryDirectory(prefix="briefing-deploy-") as tmp:
        out = Path(tmp) / "site"
        built_site = _build(config, out, cname)
        built = folder_tree(repo, out)
        remote_tip = fetch_branch(repo, remote, branch) if push else None
        base = resolve(repo, f"refs/remotes/{remote}/{branch}") or resolve(repo, f"refs/heads/{branch}")
        if base and not force:
            _refuse_foreign(repo, base, f"{remote}/{branch}" if remote_tip else branch)
        result = DeployResult(build=built_site, remote=remote, branch=branch, subject=deploy_subject(source, bool(dirty)),
                              files=len(built), previous=base, commit=None, pushed=False, warnings=tuple(warnings))
        if base and tree(repo, base) == built:
            if push and remote_tip != base:  # committed earlier with --no-push: publish that commit
                push_branch(repo, remote, branch)
                return replace(result, pushed=True)
            return result
        commit = commit_folder(repo, out, remote, branch, commit_message(result.subject, message, source))
    if tree(repo, commit) != built:
        raise DeployError(f"the commit {commit[:12]} on {branch} does not match the build; nothing was pushed")
    if push:
        push_branch(repo, remote, branch)
    return replace(result, commit=commit, pushed=push)


def _preflight(config: SiteConfig, remote: str, branch: str, cname: str, push: bool) -> Path:
    """Every refusal that needs no build; returns the repository's top folder."""
    _check_name("remote", remote)
    _check_name("branch", branch)
    if cname and not _HOSTNAME.match(cname):
        raise DeployError(f"the CNAME must be a bare domain name such as docs.example.org, not {cname!r}")
    repo = find_repo(config.root)
    if current_branch(repo) == branch:
        raise DeployError(f"you are on the {branch} branch; switch to the branch with your sources and deploy from there")
    if push and not remote_exists(repo, remote):
        known = _git(repo, "remote").split()
        raise DeployError(f"the repository has no remote named {remote!r} "
                          f"({'its remotes: ' + ', '.join(known) if known else 'it has no remote'}); "
                          f"add it with `git remote add {remote} <url>`, pass --remote, or use --no-push")
    _check_identity(repo)
    return repo


def _build(config: SiteConfig, out: Path, cname: str) -> BuildResult:
    """A production build (never drafts) in `out`; with a custom domain the site lives at its root."""
    result = build(config.root, output=out, base_url=f"https://{cname}/" if cname else None, drafts=False,
                   policy=CollectorPolicy())
    if not result.ok:
        raise DeployError(f"the build failed with {counted(len(result.diagnostics.errors), 'error')}; "
                          "nothing was deployed", list(result.diagnostics))
    # what `briefing check` calls an error (a link to nothing, a missing #anchor or image) never goes out
    problems = audit_written(result.site, result.pages, result.config, out, today_from(os.environ))
    errors = [d for d in problems if d.level == "error"]
    if errors:
        raise DeployError(f"the site has {counted(len(errors), 'error')} that `briefing check` reports "
                          "(above); nothing was deployed", errors)
    if cname:
        (out / "CNAME").write_text(cname + "\n", encoding="utf-8")
    return result


def _refuse_foreign(repo: Path, base: str, where: str) -> None:
    foreign = foreign_commits(repo, base)
    if foreign:
        listed = "; ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
        count = f"{len(foreign)}{'+' if len(foreign) >= _HISTORY_LIMIT else ''}"
        raise DeployError(f"{where} has {count} commit(s) not made by `briefing deploy` ({listed}); "
                          "nothing was deployed; pass --force to deploy on top of them")


# -- messages ---------------------------------------------------------------------------


def deploy_subject(source: tuple[str, str, str | None] | None, dirty: bool) -> str:
    if source is None:
        return "Deploy uncommitted sources"
    _, short, branch = source
    text = f"Deploy {short}" + (f" from {branch}" if branch else "")
    return text + (" with uncommitted changes" if dirty else "")


def commit_message(subject: str, message: str, source: tuple[str, str, str | None] | None) -> str:
    trailers = ([f"Source-commit: {source[0]}"] if source else []) + [f"{TRAILER} {__version__}"]
    return "\n\n".join([subject] + ([message] if message else []) + ["\n".join(trailers)]) + "\n"


def is_deploy_message(text: str) -> bool:
    return any(line.startswith(TRAILER) for line in text.splitlines())


# -- git --------------------------------------------------------------------------------


def _git(repo: Path, *args: str, input: str | None = None, check: bool = True) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, text=True)
    except FileNotFoundError:
        raise DeployError("git is not installed (or not on PATH)") from None
    if check and proc.returncode != 0:
        detail = proc.stderr.strip().removeprefix("fatal: ") or f"exit status {proc.returncode}"
        raise DeployError(f"`git {' '.join(args[:2])}` failed: {detail}")
    return proc.stdout if proc.returncode == 0 else ""


def _check_name(what: str, name: str) -> None:
    # site.yml may come from someone else's repository: a name must never become a git option
    if not name or name.startswith("-") or any(c.isspace() or c in "~^:?*[\\" for c in name) or ".." in name:
        raise DeployError(f"invalid {what} name {name!r}")


def find_repo(site_dir: Path) -> Path:
    try:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=site_dir, capture_output=True, text=True)
    except FileNotFoundError:
        raise DeployError("git is not installed (or not on PATH)") from None
    if proc.returncode != 0 or not proc.stdout.strip():
        raise DeployError(f"{site_dir} is not inside a git repository; `briefing deploy` commits the built site to a "
                          "branch of the site's repository (or publish with the GitHub Actions workflow)")
    return Path(proc.stdout.strip())


def current_branch(repo: Path) -> str | None:
    return _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip() or None


def remote_exists(repo: Path, remote: str) -> bool:
    return remote in _git(repo, "remote").split()


def resolve(repo: Path, ref: str) -> str | None:
    return _git(repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}", check=False).strip() or None


def source_commit(repo: Path) -> tuple[str, str, str | None] | None:
    """(full sha, short sha, branch or None when detached) of HEAD; None before the first commit."""
    full = resolve(repo, "HEAD")
    if full is None:
        return None
    return full, _git(repo, "rev-parse", "--short", full).strip(), current_branch(repo)


def _check_identity(repo: Path) -> None:
    # ghp-import stamps the commit with GIT_COMMITTER_* or user.name/user.email, even when empty
    for env, key in (("GIT_COMMITTER_NAME", "user.name"), ("GIT_COMMITTER_EMAIL", "user.email")):
        if not (os.environ.get(env) or _git(repo, "config", key, check=False).strip()):
            raise DeployError(f"git has no {key}; set it with `git config {key} …` (or {env}) before deploying")


def uncommitted_changes(repo: Path, config: SiteConfig) -> list[str]:
    """Changed or untracked paths in the site folder, leaving out build products."""
    root = repo.resolve()
    spec = [config.root.resolve().relative_to(root).as_posix()]  # "." when the site is the repository
    for product in (config.output_dir.resolve(), config.cache_dir.resolve()):
        if root in product.parents:
            spec.append(":(exclude)" + product.relative_to(root).as_posix())
    lines = _git(repo, "status", "--porcelain", "--untracked-files=all", "--", *spec).splitlines()
    return [line[3:] for line in lines if line.strip()]


def fetch_branch(repo: Path, remote: str, branch: str) -> str | None:
    """Bring the remote branch into refs/remotes/<remote>/<branch>; its sha, or None if it has none."""
    listing = _git(repo, "ls-remote", "--heads", remote, f"refs/heads/{branch}")
    tip = next((line.split()[0] for line in listing.splitlines() if line.endswith(f"\trefs/heads/{branch}")), None)
    if tip:
        _git(repo, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
    return tip


def foreign_commits(repo: Path, tip: str) -> list[str]:
    """Subjects of the commits on top of the newest deploy commit (all of them if there is none)."""
    log = _git(repo, "log", "-z", "--first-parent", f"--max-count={_HISTORY_LIMIT}", "--format=%h %B", tip)
    foreign = []
    for entry in filter(None, log.split("\0")):
        if is_deploy_message(entry):
            break
        foreign.append(entry.strip().splitlines()[0])
    return foreign


def tree(repo: Path, rev: str) -> Tree:
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", rev)
    entries: Tree = {}
    for item in filter(None, listing.split("\0")):
        meta, path = item.split("\t", 1)
        mode, _, blob = meta.split()
        entries[path] = (mode, blob)
    return entries


def folder_tree(repo: Path, folder: Path) -> Tree:
    """The tree ghp-import would commit for `folder`, hashed without writing any object."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        return {}
    blobs = _git(repo, "hash-object", "--no-filters", "--stdin-paths", input="".join(f"{p}\n" for p in files)).split()
    return {p.relative_to(folder).as_posix(): (_mode(p), blob) for p, blob in zip(files, blobs)}


def _mode(path: Path) -> str:
    return "100755" if os.access(path, os.X_OK) else "100644"  # as ghp_import.add_file decides


class _RepoGit(ghp_import.Git):
    """ghp-import's git runner, bound to one repository instead of the process's cwd."""

    def __init__(self, repo: Path, errors: object) -> None:
        super().__init__(use_shell=False)
        self.repo = repo
        self.errors = errors

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["cwd"] = self.repo
        if args and args[0] == "fast-import":
            kwargs["stdout"] = kwargs["stderr"] = self.errors
        return super().open(*args, **kwargs)


def commit_folder(repo: Path, folder: Path, remote: str, branch: str, message: str) -> str:
    """Commit exactly the files of `folder` as the new tip of `branch`, on top of the remote's tip."""
    with tempfile.TemporaryFile() as errors:
        git = _RepoGit(repo, errors)
        if not git.try_rebase(remote, branch):
            raise DeployError(f"could not move {branch} to {remote}/{branch}")
        before = resolve(repo, f"refs/heads/{branch}")
        pipe = git.open("fast-import", "--date-format=rfc2822", "--quiet", stdin=subprocess.PIPE)
        ghp_import.start_commit(pipe, git, branch, message)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            ghp_import.add_file(pipe, str(path), path.relative_to(folder).as_posix())
        ghp_import.write(pipe, b"\n")
        pipe.stdin.close()
        failed = pipe.wait() != 0
        errors.seek(0)
        detail = errors.read().decode("utf-8", "replace").strip()
    after = resolve(repo, f"refs/heads/{branch}")
    if failed or after is None or after == before:
        raise DeployError(f"git fast-import could not commit to {branch}: {detail or 'no commit was made'}")
    return after


def push_branch(repo: Path, remote: str, branch: str) -> None:
    try:
        _git(repo, "push", "--quiet", remote, f"refs/heads/{branch}:refs/heads/{branch}")
    except DeployError as exc:
        raise DeployError(f"the deploy is committed to {branch} locally, but pushing it to {remote} failed: {exc}") from None
