"""The only writer of the output folder.

A build is written into a sibling folder and swapped into place only when
complete: on Linux with renameat2(RENAME_EXCHANGE), so the output path always
holds either the whole old site or the whole new one; elsewhere with two
renames. The folder swapped out is kept (as `.briefing-cache/<name>.spare`
beside the output: a swap needs the same file system) and
brought up to date by the next build, which then writes only the files that
differ from it: an incremental build costs what changed, not the whole tree.
Files are always replaced by rename, never rewritten, because the spare
shares unchanged files (hard links) with the live site; a file that is not
there yet is created with O_EXCL (a new inode by construction), and if it
turns out to exist after all it is replaced by rename like any other.
Every destination is checked to stay inside the folder: lexically (no
absolute path, no `..`, `.` or empty component, no NUL), against the folder
being filled, which is the tool's own and is resolved once per build.

A folder's manifest (its files and their digests, which also proves the folder is ours)
is kept outside it, so that nothing but the site is in the folder that gets published:
in `.briefing-cache/manifests/` beside the output, named by the folder's device and inode
number, which a rename keeps. The swap exchanges the two folders and each keeps its own
manifest, with no second step to go wrong. Without its manifest (the cache folder deleted), an
output folder is still known as ours by its home page's generator tag, and written afresh.
(Earlier versions kept the manifest in the folder as `.briefing`: such a folder is still
recognised, and the file removed by the next build.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator import __version__

MARKER = ".briefing"  # where earlier versions kept the manifest: inside the folder (see manifest_path)
SPARE_DIR = ".briefing-cache"
MANIFESTS = "manifests"  # in SPARE_DIR: one file a folder, named by its inode
TEMP_SUFFIX = ".tmp-briefing"

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_BAD_PARTS = frozenset(("", ".", ".."))
_WINDOWS = os.name == "nt"


def _ignored_dir(folder: Path) -> None:
    """Create `folder` with a .gitignore of `*`, so it never shows in `git status`."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by briefing: build caches, safe to delete\n*\n", encoding="utf-8")


class OutputError(Exception):
    """The output folder cannot be used; the message says why."""


@dataclass(frozen=True)
class WriteResult:
    files: int
    changed: int  # files whose bytes differ from the previous build (or are new)
    removed: int
    swapped: bool  # False when nothing changed and the old folder was kept


def check_output_dir(output: Path, site_root: Path) -> None:
    """Refuse output folders that would destroy or mix with the user's files."""
    output, site_root = output.resolve(), site_root.resolve()
    if output == site_root or output in site_root.parents:
        raise OutputError(f"output folder {output} contains the site itself; choose a folder such as {site_root / '_site'}")
    for protected in ("content", "layouts", ".git"):
        folder = site_root / protected
        if output == folder or folder in output.parents:
            raise OutputError(f"output folder {output} is inside the site's {protected}/ folder")
    if output.exists() and not output.is_dir():
        raise OutputError(f"output path {output} exists and is not a folder")
    if output.is_dir() and not is_ours(output) and any(output.iterdir()):
        raise OutputError(
            f"output folder {output} holds files that briefing did not generate (it has no manifest in "
            f"{output.parent / SPARE_DIR / MANIFESTS}); refusing to replace it: empty it or choose another --output"
        )


def safe_rel(rel: str) -> bool:
    """True when `rel` names a file strictly below a folder, whatever the folder holds.

    Purely lexical: "/"-separated, not absolute, no empty, "." or ".." component, no NUL
    (and on Windows no backslash or drive/stream colon).
    """
    if type(rel) is not str or not rel or "\x00" in rel or rel[0] == "/":
        return False
    if _WINDOWS and ("\\" in rel or ":" in rel):
        return False
    return _BAD_PARTS.isdisjoint(rel.split("/"))


def check_rel(rel: str) -> str:
    if not safe_rel(rel):
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    return rel


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def manifest_path(folder: Path) -> Path | None:
    """Where the manifest of this output (or spare) folder is: beside the output, in
    `.briefing-cache/manifests/`, by the folder's device and inode (which renames keep);
    None when the folder does not exist."""
    try:
        stat = os.stat(folder)
    except OSError:
        return None
    home = folder.parent if folder.parent.name != SPARE_DIR else folder.parent.parent  # (a spare's output's)
    return home / SPARE_DIR / MANIFESTS / f"{stat.st_dev}-{stat.st_ino}.json"


def _manifest_text(folder: Path) -> str:
    path = manifest_path(folder)
    if path is not None and path.is_file():
        return path.read_text(encoding="utf-8")
    return (folder / MARKER).read_text(encoding="utf-8")  # a folder written by an earlier version


def is_ours(folder: Path) -> bool:
    """True when this tool wrote the folder, so that a build may replace it: it has a manifest,
    or (the cache folder deleted) its home page names briefing as its generator."""
    path = manifest_path(folder)
    if (path is not None and path.is_file()) or (folder / MARKER).is_file():
        return True
    try:
        with open(folder / "index.html", "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return GENERATOR_TAG in head


GENERATOR_TAG = b'<meta name="generator" content="briefing '  # as the theme's base.html writes it


def manifest_digest(folder: Path) -> str:
    """A digest of the folder's manifest ("" when it has none): changes whenever a build writes it."""
    try:
        return hashlib.blake2b(_manifest_text(folder).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    except OSError:
        return ""


def read_manifest(output: Path) -> dict[str, str]:
    """The previous build's files and their digests ({} when unknown); unsafe names are dropped."""
    try:
        data = json.loads(_manifest_text(output))
        files = data.get("files", {})
        if not isinstance(files, dict):
            return {}
        return {rel: h for rel, h in files.items() if isinstance(h, str) and safe_rel(rel)}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_new(path: str, data: bytes) -> None:
    """Create `path` (which must not exist) holding `data`; FileExistsError if it does exist."""
    fd = os.open(path, _NEW_FILE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        _unlink(path)
        raise
    os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _write_temp(path: str, data: bytes) -> str:
    """Write `data` to a fresh inode beside `path` (a stale temp from a crash is dropped first)."""
    temp = path + TEMP_SUFFIX
    try:
        _write_new(temp, data)
    except FileExistsError:
        _unlink(temp)
        _write_new(temp, data)
    return temp


def _mkdirs(root: str, reldir: str, known: set[str]) -> None:
    """Make sure root/reldir exists; `known` holds folders already made or seen (races tolerated)."""
    if reldir in known:
        return
    if not reldir:  # the folder itself (the live folder of a first in-place build may not exist yet)
        os.makedirs(root, exist_ok=True)
        known.add(reldir)
        return
    path = os.path.join(root, reldir)
    try:
        os.mkdir(path)
    except FileExistsError:
        pass  # made by another worker, or there from an earlier build
    except FileNotFoundError:
        _mkdirs(root, posixpath.dirname(reldir), known)
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
    known.add(reldir)


def write_file(root: Path, rel: str, data: bytes) -> str:
    """Write one file below `root` as a new inode (also from worker processes); returns its digest."""
    check_rel(rel)
    target = os.path.join(os.fspath(root), rel)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(_write_temp(target, data), target)
    return digest(data)


class OutputTree:
    """One build's output: bring the spare folder up to date, then `commit` swaps it in."""

    def __init__(self, output: Path):
        self.output = output
        self.old = read_manifest(output) if output.is_dir() else {}
        self.files: dict[str, str] = {}
        self.fresh: Path | None = None
        self.spare_files: dict[str, str] = {}
        self._root = ""  # the folder being filled, resolved once
        self._live = ""  # the live output folder, the source of hard links
        self._linking = False  # filling the spare (not the live folder itself)
        self._dirs: set[str] = set()  # folders (relative to _root) known to exist

    @property
    def spare(self) -> Path:
        return self.output.parent / SPARE_DIR / f"{self.output.name}.spare"

    def _begin(self, folder: Path, linking: bool) -> Path:
        self.fresh = folder
        self._root = os.path.realpath(folder)
        self._live = os.fspath(self.output)
        self._linking = linking
        self._dirs = set()
        return folder

    def start(self) -> Path:
        """The folder to fill: the spare from the build before last, or a new one."""
        self.output.parent.mkdir(parents=True, exist_ok=True)
        spare = self.spare
        _ignored_dir(spare.parent)
        self.spare_files = read_manifest(spare) if spare.is_dir() else {}
        if spare.exists() and not self.spare_files:
            shutil.rmtree(spare)  # unknown content (a crash while it was being updated)
        if not spare.exists():
            spare.mkdir()
        _forget_manifest(spare)  # it is "unknown" until commit
        (spare / MARKER).unlink(missing_ok=True)  # (where earlier versions kept it)
        return self._begin(spare, linking=True)

    def start_in_place(self) -> Path:
        """Update the live folder itself (the preview server, whose requests wait for builds)."""
        self.spare_files = dict(self.old)
        return self._begin(self.output, linking=False)

    def _target(self, rel: str) -> str:
        """The absolute path of `rel` in the folder being filled, its parent folder made."""
        check_rel(rel)
        slash = rel.rfind("/")
        _mkdirs(self._root, rel[:slash] if slash > 0 else "", self._dirs)
        return os.path.join(self._root, rel)

    def _retry(self, rel: str) -> str:
        """After FileNotFoundError: a folder we thought was there is gone; make it again."""
        self._dirs = set()
        return self._target(rel)

    def _put(self, rel: str, data: bytes) -> None:
        """Make the file `rel` hold `data`, as a new inode: never an existing file rewritten."""
        target = self._target(rel)
        for attempt in (0, 1):
            try:
                if self._linking and rel not in self.spare_files:
                    try:  # not in the spare's manifest: it should not exist, create it directly
                        _write_new(target, data)
                        return
                    except FileExistsError:
                        pass  # it does after all (left by an aborted build): replace it
                os.replace(_write_temp(target, data), target)
                return
            except FileNotFoundError:
                if attempt:
                    raise
                target = self._retry(rel)

    def _link(self, rel: str) -> bool:
        """Make `rel` a hard link to the live site's file; False when that cannot be done."""
        source = os.path.join(self._live, rel)
        try:
            target = self._target(rel)
            if rel not in self.spare_files:
                try:
                    os.link(source, target)
                    return True
                except FileExistsError:
                    pass
            temp = target + TEMP_SUFFIX
            try:
                os.link(source, temp)
            except FileExistsError:
                _unlink(temp)
                os.link(source, temp)
            os.replace(temp, target)
            return True
        except OSError:
            return False

    def place(self, rel: str, data: bytes) -> str:
        """Put a rendered file in the folder being filled, writing only if its bytes changed.

        Safe in worker processes: it touches only this file (and makes its folder, racing safely).
        """
        assert self.fresh is not None
        file_hash = digest(data)
        if self.spare_files.get(rel) == file_hash:
            return file_hash
        if self._linking and self.old.get(rel) == file_hash and self._link(rel):
            return file_hash
        self._put(rel, data)
        return file_hash

    def claim(self, rel: str) -> None:
        if rel in self.files:
            raise OutputError(f"two pages would write the same file {rel}")
        self.files[rel] = ""

    def record(self, rel: str, file_hash: str) -> None:
        self.files[rel] = file_hash

    def write(self, rel: str, data: bytes) -> None:
        assert self.fresh is not None
        self.claim(rel)
        self._put(rel, data)
        self.files[rel] = digest(data)

    def copy(self, source: Path, rel: str, file_hash: str) -> None:
        assert self.fresh is not None
        self.claim(rel)
        if self.spare_files.get(rel) != file_hash:
            target = self._target(rel)
            temp = target + TEMP_SUFFIX
            _unlink(temp)
            shutil.copyfile(source, temp)
            os.replace(temp, target)
        self.files[rel] = file_hash

    def reuse(self, rel: str, file_hash: str) -> bool:
        """Keep an unchanged file: already in the spare, or linked from the live site."""
        assert self.fresh is not None
        if self.spare_files.get(rel) == file_hash:
            self.files[rel] = file_hash
            return True
        if self.old.get(rel) != file_hash or not self._link(rel):
            return False
        self.files[rel] = file_hash
        return True

    def unchanged(self, planned: dict[str, str]) -> bool:
        """True when `planned` (rel -> digest) is exactly the previous output."""
        return bool(self.old) and planned == self.old

    def commit(self) -> WriteResult:
        assert self.fresh is not None
        gone = [rel for rel in self.spare_files if rel not in self.files]
        for rel in gone:
            _unlink(os.path.join(self._root, rel))
        _prune_folders(self._root, gone)
        _write_manifest(self.fresh, self.files)
        changed = sum(1 for rel, h in self.files.items() if self.old.get(rel) != h)
        removed = sum(1 for rel in self.old if rel not in self.files)
        _swap(self.fresh, self.output)
        self.fresh = None
        return WriteResult(len(self.files), changed, removed, swapped=True)

    def drop_in_place(self, rels: list[str]) -> None:
        """Remove these files of the live folder now, in an update in place (start_in_place), before
        its commit: files no page of the build makes (a deleted document's page), and the folders
        they leave empty. The commit finds them gone."""
        assert self.fresh is not None
        for rel in rels:
            check_rel(rel)
            _unlink(os.path.join(self._root, rel))
        _prune_folders(self._root, rels)

    def commit_in_place(self, files: dict[str, str]) -> WriteResult:
        """End an update of the live folder (start_in_place): `files` (rel -> digest) is all it
        now holds; every other file of the previous output goes, and the manifest says so."""
        assert self.fresh is not None
        removed = [rel for rel in self.old if rel not in files]
        for rel in removed:
            check_rel(rel)
            _unlink(os.path.join(self._root, rel))
        _prune_folders(self._root, removed)
        changed = sum(1 for rel, h in files.items() if self.old.get(rel) != h)
        path = manifest_path(self.output)
        if changed or removed or path is None or not path.is_file():
            _write_manifest(self.output, files)
        self.files, self.old, self.fresh = dict(files), dict(files), None
        return WriteResult(len(files), changed, len(removed), swapped=False)

    def abort(self) -> None:
        """Leave the live site alone; the spare stays marked unknown."""
        self.fresh = None


def _prune_folders(root: str, removed: list[str]) -> None:
    """Remove the folders that the removal of these files left empty (a deleted document's
    `articles/x/`), deepest first; a folder that still holds anything stays."""
    folders = {rel.rsplit("/", 1)[0] for rel in removed if "/" in rel}
    for folder in sorted(folders, key=lambda f: -f.count("/")):
        while folder:
            try:
                os.rmdir(os.path.join(root, folder))
            except OSError:  # not empty (or already gone)
                break
            folder = folder.rsplit("/", 1)[0] if "/" in folder else ""


def _write_manifest(folder: Path, files: dict[str, str]) -> None:
    """Write the folder's manifest (atomically), forget those of folders that are gone, and
    remove the one an earlier version left in the folder."""
    path = manifest_path(folder)
    assert path is not None
    _ignored_dir(path.parent.parent)
    path.parent.mkdir(exist_ok=True)
    text = json.dumps({"generator": f"briefing {__version__}", "files": dict(sorted(files.items()))},
                      indent=0, sort_keys=True) + "\n"
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
    (folder / MARKER).unlink(missing_ok=True)
    _prune_manifests(path.parent)


def _forget_manifest(folder: Path) -> None:
    path = manifest_path(folder)
    if path is not None:
        path.unlink(missing_ok=True)


def _prune_manifests(manifests: Path) -> None:
    """Forget the manifests of folders that no longer exist (an output folder deleted by hand),
    so that a new folder that gets the same inode number is not taken for ours. The folders
    with manifests are the outputs beside the cache folder and the spares in it."""
    home = manifests.parent.parent
    alive = set()
    for folder in (home, home / SPARE_DIR):
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stat = entry.stat(follow_symlinks=False)
                        alive.add(f"{stat.st_dev}-{stat.st_ino}.json")
        except OSError:
            return  # cannot tell: keep them all
    for entry in os.scandir(manifests):
        if entry.name.endswith(".json") and entry.name not in alive:
            _unlink(entry.path)


_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if os.name == "posix" else None


def _swap(fresh: Path, output: Path) -> None:
    """Put `fresh` at `output`; the previous folder (if any) ends up at `fresh`."""
    if not output.exists():
        os.rename(fresh, output)
        return
    if _libc is not None and hasattr(_libc, "renameat2"):
        at_fdcwd = -100
        result = _libc.renameat2(at_fdcwd, os.fsencode(fresh), at_fdcwd, os.fsencode(output), _RENAME_EXCHANGE)
        if result == 0:
            return
        if ctypes.get_errno() not in (errno.EINVAL, errno.ENOSYS, errno.EXDEV):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(output))
    trash = output.with_name(f".{output.name}.old-{os.getpid()}")
    os.rename(output, trash)
    os.rename(fresh, output)
    os.rename(trash, fresh)
