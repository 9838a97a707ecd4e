"""Progress of the long steps of a build, for a person watching a terminal.

The build calls a `Progress` with (step, done, total) as files are read and pages
written; the command line shows it as one line rewritten in place, on a terminal
only, so logs and pipes get just the final report.
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

Progress = Callable[[str, int, int], None]


class Meter:
    """`reading Markdown 4,200/10,000` on one line of a terminal, at most `per_second` times a second."""

    def __init__(self, stream: TextIO, per_second: float = 10.0):
        self.stream = stream
        self.interval = 1.0 / per_second
        self._last = float("-inf")
        self._shown = False

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        self.stream.write(f"\r\x1b[K{step} {done:,}/{total:,}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the line before the build's report is printed."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
