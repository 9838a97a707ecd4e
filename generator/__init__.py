"""briefing: a static briefing-site generator.

The pipeline is load -> graph (model) -> markdown -> render -> write, orchestrated
by :mod:`generator.build`. Only :mod:`generator.cli` prints or exits.
"""

__version__ = "0.1.0"
