"""Which of the preview server's files changed: `watchfiles` watches, this module picks.

watchfiles (the Rust `notify` crate: inotify, FSEvents, ReadDirectoryChangesW, or polling)
does the watching. What the preview server needs on top of it:
- armed on return: a `RustNotify` (watchfiles' documented Rust backend) has added its OS
  watches when it is made, so the first build, which runs after, misses no save. Each is
  drained by its own thread with no timeout: an event never falls between two calls;
- the wanted folders recursively, their parents and the files' folders only at their top
  level (an editor may save a file by renaming another over it): never the whole site, whose
  output folder and `.git` can hold thousands of folders. A folder made later (`layouts/`,
  or one deleted and made again) is watched from then on and reported as changed, so the
  rebuild reads whatever was written into it before its watch was armed;
- editor droppings never count (`is_dropping`); a save by rename reports its target;
- a burst (`git checkout` of 200 files, over several folders) is one change: `wait` returns
  once nothing new came for `settle` seconds, or after 2 s of unbroken writes.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path, PurePath
from typing import Iterable

from watchfiles import Change
from watchfiles._rust_notify import RustNotify

_DROPPING = re.compile(r"~$|\.(sw[a-px]|bak|orig|tmp|tmp-briefing|crswap)$|^4913$")  # 4913: vim's probe
_BURST_MS = 2000  # a never-ending stream of writes still builds


def is_dropping(rel: PurePath) -> bool:
    """An editor's swap, backup, lock or probe file, or anything hidden or `#`-named (`.git/`,
    emacs' `#x#` and `.#x`): what the loader skips, and never a change."""
    return any(part.startswith((".", "#")) for part in rel.parts) or bool(_DROPPING.search(rel.name))


class Watcher:
    """Changes below `folders` (which need not exist yet) and to `files`."""

    def __init__(self, folders: Iterable[Path], files: Iterable[Path] = (), settle: float = 0.03) -> None:
        self.folders = [Path(f).absolute() for f in folders]
        self.files = {Path(f).absolute() for f in files}
        self.settle = settle
        self._lock = threading.Condition()
        self._changed: set[Path] = set()
        self._error: Exception | None = None
        self._stops: dict[tuple[Path, bool], threading.Event] = {}  # (folder, recursive): its thread's stop
        self._threads: list[threading.Thread] = []
        with self._lock:
            self._arm()

    def wait(self, timeout: float | None = None) -> set[Path]:
        """Block until something changed (or timeout); returns the changed paths."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._changed or self._error, timeout):
                return set()
            hard_stop = time.monotonic() + _BURST_MS / 1000
            while self._error is None and time.monotonic() < hard_stop:
                seen = len(self._changed)
                self._lock.wait(self.settle)
                if len(self._changed) == seen:
                    break
            if self._error is not None:
                raise self._error
            changed, self._changed = self._changed, set()
            return changed

    def close(self) -> None:
        with self._lock:
            stops, self._stops = list(self._stops.values()), {}
        for stop in stops:
            stop.set()
        for thread in self._threads:
            thread.join()  # each returns within one step

    def _arm(self, made: frozenset[Path] = frozenset(), report: bool = False) -> None:
        """Watch what exists of the wanted paths and is not watched yet, and again what is at or
        below a folder in `made` (just created: a watch of the folder it replaced is dead); again
        until nothing is left, since a folder may be made meanwhile. Called with the lock held."""
        gone: set[tuple[Path, bool]] = set()
        while todo := sorted(key for key in self._needed() - gone
                             if key not in self._stops or any(m == key[0] or m in key[0].parents for m in made)):
            for key in todo:
                path, recursive = key
                try:
                    notify = RustNotify([str(path)], False, False, 300, recursive, False)
                except FileNotFoundError:
                    gone.add(key)  # gone again: its parent's watch sees it come back
                    continue
                if key in self._stops:
                    self._stops[key].set()
                if report:  # the rebuild reads what was written before this watch was armed
                    self._changed.update([path] if recursive else (p for p in self.files if p.parent == path))
                stop = self._stops[key] = threading.Event()
                thread = threading.Thread(target=self._drain, args=(notify, stop), name=f"watch {path}", daemon=True)
                self._threads.append(thread)
                thread.start()
            made, report = frozenset(), True

    def _needed(self) -> set[tuple[Path, bool]]:
        """(folder, recursive) for each watch the wanted paths need now."""
        return ({(f, True) for f in self.folders if f.is_dir()}
                | {(_existing(p.parent), False) for p in [*self.files, *self.folders]})

    def _drain(self, notify: RustNotify, stop: threading.Event) -> None:
        step = max(1, round(self.settle * 500))  # how often it looks; `wait` settles the burst
        try:
            while (raw := notify.watch(_BURST_MS, step, 0, stop)) != "stop":
                if isinstance(raw, set):  # not 'signal' (only the main thread gets those) nor 'timeout' (none)
                    self._take(raw)
        except Exception as exc:  # the watching broke: `wait` raises it rather than going quiet
            with self._lock:
                self._error = exc
                self._lock.notify_all()
        finally:
            notify.close()

    def _take(self, raw: set[tuple[int, str]]) -> None:
        paths = {Path(p) for _, p in raw}
        added = (Path(p) for c, p in raw if c == Change.added)
        made = frozenset(p for p in added if any(p == f or p in f.parents for f in self.folders) and p.is_dir())
        with self._lock:
            if not self._stops:
                return  # closed
            if made:
                self._arm(made, report=True)
            self._changed.update(p for p in paths if self._wanted(p))
            self._lock.notify_all()

    def _wanted(self, path: Path) -> bool:
        if path in self.files:
            return True
        return any((path == f or f in path.parents) and not is_dropping(path.relative_to(f)) for f in self.folders)


def _existing(path: Path) -> Path:
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path
