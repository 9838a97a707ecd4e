"""The only writer of the output folder.

A build is written into a sibling folder and swapped into place only when
complete: on Linux with renameat2(RENAME_EXCHANGE), so the output path always
holds either the whole old site or the whole new one; elsewhere with two
renames. The folder swapped out is kept (as `.briefing-cache/<name>.spare`
beside the output: a swap needs the same file system) and
brought up to date by the next build, which then writes only the files that
differ from it: an incremental build costs what changed, not the whole tree.
Files are always replaced by rename, never rewritten, because the spare
shares unchanged files (hard links) with the live site.
Every destination is checked to stay inside the folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator import __version__

MARKER = ".briefing"  # proves a folder was written by this tool, so it may be replaced
SPARE_DIR = ".briefing-cache"


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
    if output.is_dir() and not (output / MARKER).is_file() and any(output.iterdir()):
        raise OutputError(
            f"output folder {output} holds files that briefing did not generate (no {MARKER} marker); "
            "refusing to replace it: empty it or choose another --output"
        )


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def read_manifest(output: Path) -> dict[str, str]:
    """The previous build's files and their digests ({} when unknown)."""
    try:
        data = json.loads((output / MARKER).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return files if isinstance(files, dict) else {}
    except (OSError, ValueError):
        return {}


def write_file(root: Path, rel: str, data: bytes) -> str:
    """Write one file below `root` as a new inode (also from worker processes); returns its digest."""
    target = _inside(root, rel)
    temp = target.with_name(target.name + ".tmp-briefing")
    try:
        temp.write_bytes(data)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(data)
    os.replace(temp, target)
    return digest(data)


class OutputTree:
    """One build's output: bring the spare folder up to date, then `commit` swaps it in."""

    def __init__(self, output: Path):
        self.output = output
        self.old = read_manifest(output) if output.is_dir() else {}
        self.files: dict[str, str] = {}
        self.fresh: Path | None = None
        self.spare_files: dict[str, str] = {}

    @property
    def spare(self) -> Path:
        return self.output.parent / SPARE_DIR / f"{self.output.name}.spare"

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
        (spare / MARKER).unlink(missing_ok=True)  # it is "unknown" until commit
        self.fresh = spare
        return spare

    def start_in_place(self) -> Path:
        """Update the live folder itself (the preview server, whose requests wait for builds)."""
        self.fresh = self.output
        self.spare_files = dict(self.old)
        return self.output

    def place(self, rel: str, data: bytes) -> str:
        """Put a rendered file in the folder being filled, writing only if its bytes changed.

        Safe in worker processes: it touches only this file.
        """
        assert self.fresh is not None
        file_hash = digest(data)
        if self.spare_files.get(rel) == file_hash:
            return file_hash
        if self.fresh != self.output and self.old.get(rel) == file_hash:
            target = _inside(self.fresh, rel)
            temp = target.with_name(target.name + ".tmp-briefing")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(self.output / rel, temp)
                os.replace(temp, target)
                return file_hash
            except OSError:
                pass
        return write_file(self.fresh, rel, data)

    def claim(self, rel: str) -> None:
        if rel in self.files or rel == MARKER:
            raise OutputError(f"two pages would write the same file {rel}")
        self.files[rel] = ""

    def record(self, rel: str, file_hash: str) -> None:
        self.files[rel] = file_hash

    def write(self, rel: str, data: bytes) -> None:
        assert self.fresh is not None
        self.claim(rel)
        self.files[rel] = write_file(self.fresh, rel, data)

    def copy(self, source: Path, rel: str, file_hash: str) -> None:
        assert self.fresh is not None
        self.claim(rel)
        if self.spare_files.get(rel) != file_hash:
            target = _inside(self.fresh, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(target.name + ".tmp-briefing")
            shutil.copyfile(source, temp)
            os.replace(temp, target)
        self.files[rel] = file_hash

    def reuse(self, rel: str, file_hash: str) -> bool:
        """Keep an unchanged file: already in the spare, or linked from the live site."""
        assert self.fresh is not None
        if self.spare_files.get(rel) == file_hash:
            self.files[rel] = file_hash
            return True
        if self.old.get(rel) != file_hash:
            return False
        target = _inside(self.fresh, rel)
        temp = target.with_name(target.name + ".tmp-briefing")
        try:
            try:
                os.link(self.output / rel, temp)
            except FileNotFoundError:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(self.output / rel, temp)
            os.replace(temp, target)
        except OSError:
            return False
        self.files[rel] = file_hash
        return True

    def unchanged(self, planned: dict[str, str]) -> bool:
        """True when `planned` (rel -> digest) is exactly the previous output."""
        return bool(self.old) and planned == self.old

    def commit(self) -> WriteResult:
        assert self.fresh is not None
        for rel in self.spare_files:
            if rel not in self.files:
                (self.fresh / rel).unlink(missing_ok=True)
        (self.fresh / MARKER).write_text(
            json.dumps({"generator": f"briefing {__version__}", "files": dict(sorted(self.files.items()))},
                       indent=0, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        changed = sum(1 for rel, h in self.files.items() if self.old.get(rel) != h)
        removed = sum(1 for rel in self.old if rel not in self.files)
        _swap(self.fresh, self.output)
        self.fresh = None
        return WriteResult(len(self.files), changed, removed, swapped=True)

    def abort(self) -> None:
        """Leave the live site alone; the spare stays marked unknown."""
        self.fresh = None


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if root.resolve() not in target.parents:
        raise OutputError(f"refusing to write outside the output folder: {rel}")
    return target


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
