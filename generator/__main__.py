"""`python -m generator` is the same as the `briefing` command."""

from generator.commands.cli import run

run()
