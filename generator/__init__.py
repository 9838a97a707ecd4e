"""briefing: a static briefing-site generator.

The pipeline is load -> graph (model) -> markdown -> render -> write, orchestrated
by :mod:`generator.engine.build`. Only :mod:`generator.commands.cli` prints or exits.
"""

__version__ = "0.1.0"


def code_version() -> str:
    """The version plus a digest of the package's code and theme, computed once.

    Cache keys and page fingerprints include it, so that a changed generator
    (an upgrade, or a developer's edit) never serves pages rendered by the old one.
    """
    global _CODE_VERSION
    if _CODE_VERSION is None:
        import hashlib
        from pathlib import Path

        digest = hashlib.blake2b(digest_size=8)
        package = Path(__file__).parent
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
        _CODE_VERSION = f"{__version__}+{digest.hexdigest()}"
    return _CODE_VERSION


_CODE_VERSION: str | None = None
