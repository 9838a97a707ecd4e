"""Ordered parallel map over forked worker processes.

Work is handed to workers by fork (copy-on-write), not by pickling: the parent
puts the function and the items in `_TASK` just before starting the pool, and
workers receive only indices. Results come back in input order, so the output
never depends on scheduling. Small jobs run inline: a fork costs more than it saves.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import multiprocessing.pool
import os
import signal
from typing import Any, Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

INLINE_BELOW = 48
_TASK: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def workers() -> int:
    """Worker count: BRIEFING_WORKERS, else the CPUs this process may use."""
    configured = os.environ.get("BRIEFING_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def ordered_map(fn: Callable[[T], R], items: Sequence[T], **options: Any) -> Iterator[R]:
    """Yield fn(item) for every item, in order, from forked workers; `options` are start's."""
    with contextlib.closing(start(fn, items, **options)) as results:
        yield from results


def start(
    fn: Callable[[T], R],
    items: Sequence[T],
    processes: int | None = None,
    initializer: Callable[[], None] | None = None,
    chunksize: int = 16,
    inline_below: int = INLINE_BELOW,
) -> Started[R]:
    """fn(item) for every item, in order, using up to `processes` forked workers (inline when
    there are fewer than `inline_below` items: a fork costs more than small jobs). The workers
    are at work from now on while the caller does something else; the results come in order
    from the returned iterator. Close it when done (ordered_map does)."""
    global _TASK
    processes = processes or workers()
    if processes <= 1 or len(items) < inline_below or "fork" not in multiprocessing.get_all_start_methods():
        return Started(map(fn, items), None)
    _TASK = (fn, items)
    try:
        pool = _Pool(processes, initializer=_worker_start, initargs=(initializer,),
                     context=multiprocessing.get_context("fork"))  # forks now
    finally:
        _TASK = None  # the workers have their copy
    return Started(pool.imap(_run, range(len(items)), chunksize=chunksize), pool)


class _Pool(multiprocessing.pool.Pool):
    """A Pool whose worker-maintenance thread sleeps until a worker exits or the pool's state
    changes. The stock one also wakes whenever a result is waiting in the pipe to the parent
    (CPython's Pool._get_sentinels, since 3.8), which keeps it looping through its checks while
    results stream in: 0.7 s of the parent's CPU in a cold build of 10,000 documents, taken
    from the workers' two cores. Our workers never retire (no maxtasksperchild), so the
    results have nothing to tell it."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


class Started(Iterator[R]):
    """The results of `start`, in order; closing it (or reaching the end) stops the workers."""

    def __init__(self, results: Iterator[R], pool: multiprocessing.pool.Pool | None):
        self._results, self._pool = results, pool

    def __next__(self) -> R:
        try:
            return next(self._results)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None


# A worker's garbage collector runs after 20,000 new objects rather than 700: Markdown
# and templates make tens of thousands of short-lived tokens, dicts and frames per
# document, nearly all freed before a collection would look at them (1.2 s less CPU at
# 10,000 documents; the few cycles they leave wait a little longer).
WORKER_GC = (20_000, 20, 20)


def _worker_start(initializer: Callable[[], None] | None) -> None:
    """Forget the parent's signal handling: a forked worker inherits asyncio's wakeup
    file descriptor (the preview server's), and the pool's SIGTERM at shutdown would
    otherwise reach the parent's loop as if the server itself had been asked to stop.
    Collect garbage less often (WORKER_GC)."""
    gc.set_threshold(*WORKER_GC)
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    if initializer is not None:
        initializer()


class Behind:
    """Work running in a forked child while this process goes on (see `behind`)."""

    def __init__(self, pid: int | None, reader: int | None, inline: str | None = None):
        self._pid, self._reader, self._outcome = pid, reader, inline

    def wait(self) -> str | None:
        """Wait for the child: None when the work was done, else what went wrong."""
        if self._pid is not None:
            assert self._reader is not None
            with os.fdopen(self._reader, "rb") as pipe:
                said = pipe.read()
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
            ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and said == b""
            self._outcome = None if ok else (said.decode("utf-8", "replace") or f"the child ended with status {status}")
        return self._outcome


def behind(fn: Callable[[], None]) -> Behind:
    """Run fn() in a forked child (copy-on-write: it sees this process's objects as they are now)
    while this process goes on; `wait()` on the result before relying on what it did. Inline
    where fork is missing. The child forgets the parent's signal handling, collects no garbage
    and ends with os._exit: nothing of the parent's is torn down twice."""
    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not on Linux
        try:
            fn()
        except Exception as exc:  # (reported by wait, as from a child)
            return Behind(None, None, f"{type(exc).__name__}: {exc}")
        return Behind(None, None)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(reader)
            gc.disable()
            with contextlib.suppress(ValueError):  # (forked from a thread other than the main one)
                signal.set_wakeup_fd(-1)
                for sig in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
            fn()
        except BaseException as exc:  # noqa: BLE001 - every failure is the parent's to hear
            code = 1
            with contextlib.suppress(BaseException):
                os.write(writer, f"{type(exc).__name__}: {exc}".encode("utf-8", "replace") or b"failed")
        finally:
            os._exit(code)
    os.close(writer)
    return Behind(pid, reader)


def _run(index: int) -> Any:
    assert _TASK is not None, "worker started without a task"
    fn, items = _TASK
    return fn(items[index])
