"""What a build tells the edge about its memory, so that the edge sets the collector's policy.

The stages never touch the garbage collector: they say when a build starts and ends, when
everything made so far will live until the end (`settled`), and when they unpickle a large
state (`bulk`). `commands/policy.py` decides what to do then; `BuildPolicy()` does nothing.
"""

from __future__ import annotations

import contextlib
from typing import Iterator


class BuildPolicy:
    def started(self) -> None:
        """A build begins."""

    def settled(self) -> None:
        """Every object made so far lives until the build ends (the model, the plan)."""

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Many long-lived objects are made at once (a saved state unpickled); settled after."""
        yield
        self.settled()

    def ended(self) -> None:
        """The build is over: what it kept is the caller's again."""
