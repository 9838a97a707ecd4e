"""The only writer of the output folder.

A build is written into a fresh sibling folder and swapped into place only when
complete: on Linux with renameat2(RENAME_EXCHANGE), so the output path always
holds either the whole old site or the whole new one; elsewhere with two
renames. Every destination is checked to stay inside the folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from generator import __version__
from generator.urls import output_file

MARKER = ".briefing"  # proves a folder was written by this tool, so it may be replaced


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


def read_manifest(output: Path) -> dict[str, str]:
    try:
        data = json.loads((output / MARKER).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return files if isinstance(files, dict) else {}
    except (OSError, ValueError):
        return {}


def write_site(output: Path, pages: Mapping[str, bytes], copies: Iterable[tuple[Path, str]]) -> WriteResult:
    """Write pages (site path -> bytes) and copies (source file, output-relative path), then swap.

    When the new site is byte-identical to the one in `output`, nothing is written.
    """
    files: dict[str, bytes | Path] = {}
    for site_path, data in pages.items():
        _claim(files, output_file(site_path), data)
    for source, dest in copies:
        _claim(files, output_file(dest), source)
    manifest = {rel: digest(v if isinstance(v, bytes) else v.read_bytes()) for rel, v in sorted(files.items())}
    old = read_manifest(output) if output.is_dir() else {}
    changed = sum(1 for rel, h in manifest.items() if old.get(rel) != h)
    removed = sum(1 for rel in old if rel not in manifest)
    if old and not changed and not removed and _intact(output, manifest):
        return WriteResult(len(manifest), 0, 0, swapped=False)

    output.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    try:
        for rel, value in files.items():
            target = _inside(fresh, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            old_file = output / rel
            if not isinstance(value, bytes):
                shutil.copyfile(value, target)
            elif old.get(rel) == manifest[rel] and old_file.is_file():
                _link_or_copy(old_file, target)  # unchanged: no need to write the bytes again
            else:
                target.write_bytes(value)
        (fresh / MARKER).write_text(
            json.dumps({"generator": f"briefing {__version__}", "files": manifest}, indent=0, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        _swap(fresh, output)
    finally:
        if fresh.exists():
            shutil.rmtree(fresh, ignore_errors=True)
    return WriteResult(len(manifest), changed, removed, swapped=True)


def _claim(files: dict[str, bytes | Path], rel: str, value: bytes | Path) -> None:
    if rel in files or rel == MARKER:
        raise OutputError(f"two pages would write the same file {rel}")
    files[rel] = value


def _inside(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if root.resolve() not in target.parents:
        raise OutputError(f"refusing to write outside the output folder: {rel}")
    return target


def _intact(output: Path, manifest: Mapping[str, str]) -> bool:
    """Cheap check that nobody deleted files from the previous output."""
    return all((output / rel).is_file() for rel in manifest)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if os.name == "posix" else None


def _swap(fresh: Path, output: Path) -> None:
    """Put `fresh` at `output`; the previous folder (if any) ends up at `fresh`."""
    if output.exists() and _libc is not None and hasattr(_libc, "renameat2"):
        at_fdcwd = -100
        result = _libc.renameat2(at_fdcwd, os.fsencode(fresh), at_fdcwd, os.fsencode(output), _RENAME_EXCHANGE)
        if result == 0:
            shutil.rmtree(fresh, ignore_errors=True)
            return
        if ctypes.get_errno() not in (errno.EINVAL, errno.ENOSYS, errno.EXDEV):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(output))
    if output.exists():
        trash = output.with_name(f".{output.name}.old-{os.getpid()}")
        os.rename(output, trash)
        os.rename(fresh, output)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(fresh, output)
