"""Watch folders for changes: Linux inotify through ctypes, polling elsewhere.

`Watcher.wait(timeout)` returns the set of changed paths, gathered until the
file system has been quiet for `settle` seconds, so that a burst of saves
(an editor's swap files, `git checkout` of 200 files) is one change, not 200.
Editor droppings never count as changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import time
from pathlib import Path
from typing import Iterable

_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_ISDIR = 0x400, 0x800, 0x4000, 0x40000000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
         | _IN_DELETE_SELF | _IN_MOVE_SELF)
_EVENT = struct.Struct("iIII")


def ignored(name: str) -> bool:
    """Editor swap, backup and lock files, and hidden files."""
    return (name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".swo", ".tmp", ".bak", ".tmp-briefing"))
            or name == "4913")  # vim's write test


class Watcher:
    def __init__(self, folders: Iterable[Path], files: Iterable[Path] = (), settle: float = 0.03, poll: float = 0.25):
        self.folders = list(folders)  # a folder that does not exist yet is watched for once it does
        self.files = {f.resolve() for f in files}
        self.settle, self.poll = settle, poll
        self._fd = -1
        self._dirs: dict[int, Path] = {}
        self._libc = _inotify()
        if self._libc is not None:
            self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd >= 0:
            for folder in self.folders:
                if folder.is_dir():
                    self._add_tree(folder)
            for parent in {f.parent for f in self.files} | {f.parent for f in self.folders}:
                if parent.is_dir() and parent not in self._dirs.values():
                    self._add(parent)
        else:
            self._snapshot = self._scan()

    @property
    def uses_inotify(self) -> bool:
        return self._fd >= 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def wait(self, timeout: float | None = None) -> set[Path]:
        """Block until something changed (or timeout); returns the changed paths."""
        deadline = None if timeout is None else time.monotonic() + timeout
        changed = self._next(deadline)
        if not changed:
            return set()
        quiet_until = time.monotonic() + self.settle
        hard_stop = time.monotonic() + 2.0  # a never-ending stream of writes still builds
        while time.monotonic() < min(quiet_until, hard_stop):
            more = self._next(quiet_until)
            if more:
                changed |= more
                quiet_until = time.monotonic() + self.settle
        return changed

    # ------------------------------------------------------------------ inotify
    def _add(self, folder: Path) -> None:
        assert self._libc is not None
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _MASK)
        if wd >= 0:
            self._dirs[wd] = folder

    def _add_tree(self, folder: Path) -> None:
        self._add(folder)
        for dirpath, dirnames, _ in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for d in dirnames:
                self._add(Path(dirpath) / d)

    def _next(self, deadline: float | None) -> set[Path]:
        if self._fd < 0:
            return self._poll_next(deadline)
        wait_ms = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        if not poller.poll(wait_ms):
            return set()
        try:
            data = os.read(self._fd, 1 << 16)
        except BlockingIOError:
            return set()
        changed: set[Path] = set()
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0").decode("utf-8", "replace")
            offset += _EVENT.size + length
            folder = self._dirs.get(wd)
            if mask & _IN_Q_OVERFLOW:
                changed.update(self.folders)
                continue
            if folder is None or (name and ignored(name)):
                continue
            path = folder / name if name else folder
            if mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO) and self._in_folders(path):
                self._add_tree(path)
            if self._wanted(path):
                changed.add(path)
        return changed

    def _in_folders(self, path: Path) -> bool:
        return any(path == f or f in path.parents for f in self.folders)

    def _wanted(self, path: Path) -> bool:
        return self._in_folders(path) or path.resolve() in self.files

    # ------------------------------------------------------------------ polling
    def _scan(self) -> dict[Path, tuple[int, int]]:
        found: dict[Path, tuple[int, int]] = {}
        for folder in self.folders:
            for dirpath, dirnames, filenames in os.walk(folder):  # nothing when it does not exist
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                for name in filenames:
                    if not ignored(name):
                        self._stat_into(found, Path(dirpath) / name)
        for file in self.files:
            self._stat_into(found, file)
        return found

    @staticmethod
    def _stat_into(found: dict[Path, tuple[int, int]], path: Path) -> None:
        try:
            stat = path.stat()
        except OSError:
            return
        found[path] = (stat.st_mtime_ns, stat.st_size)

    def _poll_next(self, deadline: float | None) -> set[Path]:
        while True:
            now = self._scan()
            changed = {p for p in now.keys() | self._snapshot.keys() if now.get(p) != self._snapshot.get(p)}
            self._snapshot = now
            if changed:
                return changed
            if deadline is not None and time.monotonic() >= deadline:
                return set()
            time.sleep(self.poll if deadline is None else max(0.0, min(self.poll, deadline - time.monotonic())))


def _inotify():  # type: ignore[no-untyped-def]
    if not hasattr(os, "O_CLOEXEC"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - probe for the symbol
    except (OSError, AttributeError):
        return None
    return libc
