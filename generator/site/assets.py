"""Which content assets a build publishes: not those that only held-back documents use.

An image or file that a TLP:AMBER note or a draft points at, and nothing published does,
would tell a reader of the CLEAR site what the held-back note holds: it is held back too.
"Points at" is decided on the local paths a body links to (content.load.local_refs), by
path suffix, so that `/images/x.svg`, `../images/x.svg`, `/briefing/images/x.svg` and
`x.svg` all count as using `images/x.svg`. The match is generous on purpose: a held-back
document that may use an asset holds it back unless something published may use it too.
Assets no document points at (a logo the layouts use, a file linked from the home page's
configuration) are published, as before.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from generator.content.load import Asset


def _uses(refs: Iterable[str], dest: str) -> bool:
    return any(ref == dest or ref.endswith("/" + dest) or dest.endswith("/" + ref) for ref in refs)


def split_assets(assets: Sequence[Asset], published_refs: Iterable[tuple[str, ...]],
                 held_refs: Iterable[tuple[str, ...]]) -> tuple[tuple[Asset, ...], tuple[Asset, ...]]:
    """(assets to publish, assets held back) given the `refs` of every published document and
    profile and of every held-back document. Costs nothing when no held-back document points
    at a local file (the usual case); else one pass over the published refs."""
    held = {ref for refs in held_refs for ref in refs}
    if not held or not assets:
        return tuple(assets), ()
    suspects = [a for a in assets if _uses(held, a.dest)]
    if not suspects:
        return tuple(assets), ()
    # only the refs that can name a suspect matter: those with a suspect's file name
    names = {a.dest.rsplit("/", 1)[-1] for a in suspects}
    shown = {ref for refs in published_refs for ref in refs if ref.rsplit("/", 1)[-1] in names}
    kept = {a.rel for a in suspects if not _uses(shown, a.dest)}
    return tuple(a for a in assets if a.rel not in kept), tuple(a for a in assets if a.rel in kept)
