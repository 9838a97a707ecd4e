"""`python -m generator` is the same as the `briefing` command."""

from generator.cli import run

run()
