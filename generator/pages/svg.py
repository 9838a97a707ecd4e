"""Drawings made at build time: an actor's link graph, the actor–place network, maps.

Pure functions from plain values (nodes, counts, coordinates) to SVG text with
a deterministic layout, so two builds give the same bytes and no picture needs
JavaScript. Every SVG is `role="img"` (`role="document"` when it holds links: see
_named) with a <title> and a <desc> that says in words what it shows, and the pages list the same facts as text beside it.
Each node and dot has its name as a tooltip; map dots and their names link to
the place's page (out of the tab order: the text lists beside link to every page).
A place that is a country of the outline data is drawn as that country's shape,
shaded by weight, rather than as a dot (see Node.area).

Map names are placed at build time so that none overlaps another or a dot
(beside the dot, else on a leader line, else as a numbered key entry).
/graph/ is drawn twice, wide and for a phone, and a <style> in the drawing shows one
by the width of the screen (see responsive_network).
Maps use an equirectangular projection over the bounding box of the places,
with x scaled by the cosine of the middle latitude, on a simplified outline of
the region from Natural Earth (public domain), vendored in theme/data/region.json.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

REGION = Path(__file__).parent.parent / "theme" / "data" / "region.json"
EGO_LIMIT = 12  # co-actors drawn around an actor (affiliations are added on top)
EGO_AFFILIATION_LIMIT = 6
NETWORK_SIDE_LIMIT = 20  # actors, and places, on /graph/
NETWORK_EDGE_LIMIT = 160


Box = tuple[float, float, float, float]  # left, top, right, bottom
Point = tuple[float, float]  # x, y


@dataclass(frozen=True)
class Node:
    key: str  # unique within one drawing: "actor/kataib-hezbollah"
    label: str
    weight: int  # documents (or documents in common)
    kind: str  # "actor" | "place"
    href: str = ""  # its page, when the drawing links to it
    area: str = ""  # on maps: the country of the outline data (see outline_name) drawn for it, instead of a dot


def _num(x: float) -> str:
    text = f"{x:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _svg_open(ident: str, width: float, height: float, css: str, title: str, desc: str,
              extra: str = "", left: float = 0.0, top: float = 0.0) -> list[str]:
    """The <svg> start tag with its title and description. It has a viewBox and no fixed size:
    the stylesheet makes it as wide as its column (and no wider), with the height that follows."""
    return [
        f'<svg class="{css}" viewBox="{_num(left)} {_num(top)} {_num(width)} {_num(height)}"{extra} '
        f'role="img" aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{_esc(title)}</title>',
        f'<desc id="{ident}-desc">{_esc(desc)}</desc>',
    ]


def _named(svg: str) -> str:
    """A drawing with links in it is a document, not an image: an image's children are
    presentational, so links inside one would be controls nested in a control (axe)."""
    if "<a " in svg:
        return svg.replace(' role="img" ', ' role="document" ', 1)
    return svg


def _dot(node: Node, circle: str, note: str = "") -> str:
    """A node's circle with its name (and `note`) as a tooltip; `circle` is an unclosed <circle ...> tag."""
    tip = node.label + (f": {note}" if note else "")
    return f"{circle}><title>{_esc(tip)}</title></circle>"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"



# --------------------------------------------------------------------------- typed relations

# A relation's line on the graphs: one style per family of types (a site's own types are "own").
# family -> (its line in words, for the legend), and the built-in types in each.
RELATION_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "control": ("solid purple", ("member-of", "front-for", "commands")),
    "support": ("long green dashes", ("supported-by",)),
    "tie": ("blue dots", ("affiliated-with",)),
    "hostile": ("red dash-dots", ("rival-of", "targets")),
    "place": ("short dark dashes", ("located-at",)),
    "own": ("dark dash-dot-dots", ()),
}
_FAMILY_OF = {name: family for family, (_, names) in RELATION_FAMILIES.items() for name in names}
_REL_STYLE = (
    ".g-rel{fill:none;stroke-width:1.8}.g-rel-control{stroke:var(--actor)}"
    ".g-rel-support{stroke:var(--place);stroke-dasharray:7 3}"
    ".g-rel-tie{stroke:var(--accent);stroke-width:2.2;stroke-dasharray:.1 4;stroke-linecap:round}"
    ".g-rel-hostile{stroke:#b3261e;stroke-dasharray:8 2.5 2 2.5}.g-rel-place{stroke:var(--ink);stroke-dasharray:3 2.5}"
    ".g-rel-own{stroke:var(--ink);stroke-dasharray:8 2.5 1.5 2.5 1.5 2.5}"
    ".g-arrow-control{fill:var(--actor)}.g-arrow-support{fill:var(--place)}.g-arrow-tie{fill:var(--accent)}"
    ".g-arrow-hostile{fill:#b3261e}.g-arrow-place,.g-arrow-own{fill:var(--ink)}"
    "@media (prefers-color-scheme:dark){:root:not([data-theme=light]) .g-rel-hostile{stroke:#f28b82}"
    ":root:not([data-theme=light]) .g-arrow-hostile{fill:#f28b82}}"
    ":root[data-theme=dark] .g-rel-hostile{stroke:#f28b82}:root[data-theme=dark] .g-arrow-hostile{fill:#f28b82}"
)


def relation_family(type_name: str) -> str:
    """The family whose line style a relation type is drawn in."""
    return _FAMILY_OF.get(type_name, "own")


@dataclass(frozen=True)
class RelationEdge:
    """A relation drawn between two nodes: from `source` to `target` (keys), in the style of
    its `family`, with an arrowhead at the target when `directed`; `wording` as a profile says it."""

    source: str
    target: str
    family: str
    directed: bool
    wording: str


def _rel_defs(ident: str, edges: Sequence[RelationEdge]) -> list[str]:
    """The relation styles and an arrowhead per family drawn: the markers of this drawing."""
    families = sorted({e.family for e in edges if e.directed})
    out = [f"<style>{_REL_STYLE}</style>"]
    if families:
        out.append("<defs>" + "".join(
            f'<marker id="{ident}-arrow-{f}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="4.5" '
            f'markerHeight="4.5" orient="auto"><path class="g-arrow-{f}" d="M0 0L10 5L0 10z"/></marker>'
            for f in families) + "</defs>")
    return out


def _rel_path(ident: str, edge: RelationEdge, labels: dict[str, str], x1: float, y1: float, qx: float, qy: float,
              x2: float, y2: float, end_gap: float) -> str:
    """A relation as a quadratic curve through (qx, qy), with the relation in words as its
    tooltip; its end stops `end_gap` short, so that the arrowhead shows beside the target's
    dot rather than under it."""
    dx, dy = x2 - qx, y2 - qy
    length = math.hypot(dx, dy) or 1.0
    ex, ey = x2 - dx / length * end_gap, y2 - dy / length * end_gap
    marker = f' marker-end="url(#{ident}-arrow-{edge.family})"' if edge.directed else ""
    tip = f"{labels[edge.source]}: {edge.wording} {labels[edge.target]}"
    return (f'<path class="g-rel g-rel-{edge.family}"{marker} d="M{_num(x1)} {_num(y1)}Q{_num(qx)} {_num(qy)} '
            f'{_num(ex)} {_num(ey)}"><title>{_esc(tip)}</title></path>')


def relation_legend(edges: Sequence[RelationEdge]) -> str:
    """The key to the relation lines of a drawing, as HTML for beside it (styled by the
    drawing's own <style>): for each family drawn, a sample of its line (with its arrowhead)
    and what it is in words, with the wordings it stands for."""
    wordings: dict[str, dict[str, None]] = {}
    directed: dict[str, bool] = {}
    for edge in edges:
        wordings.setdefault(edge.family, {})[edge.wording] = None
        directed[edge.family] = directed.get(edge.family, False) or edge.directed
    if not wordings:
        return ""
    items = []
    for family in RELATION_FAMILIES:
        if family not in wordings:
            continue
        arrow = f'<path class="g-arrow-{family}" d="M25 1L33 5L25 9z"/>' if directed[family] else ""
        sample = (f'<svg class="rel-swatch" width="34" height="10" viewBox="0 0 34 10" aria-hidden="true" '
                  f'focusable="false" style="vertical-align:middle;margin:0 .25rem 0 .6rem">'
                  f'<line class="g-rel g-rel-{family}" x1="1" y1="5" x2="{26 if arrow else 33}" y2="5"/>{arrow}</svg>')
        items.append(f'<span class="rel-key">{sample}{_esc(RELATION_FAMILIES[family][0])}: '
                     f'{_esc(", ".join(wordings[family]))}</span>')
    return (f'<p class="legend relation-legend hint">Relations stated in profiles, '
            f'with an arrow towards the target where they have a direction: {" ".join(items)}</p>')


# --------------------------------------------------------------------------- an actor's graph


def ego_graph(centre: Node, ring: Sequence[tuple[Node, int, bool]], ident: str = "graph",
              relations: Sequence[RelationEdge] = ()) -> str:
    """`centre` with the actors around it: (node, documents in common, affiliated), strongest first.

    Radial layout: the strongest tie at the top, then clockwise; node size and
    line width grow with the documents in common; affiliations from profiles
    are dashed curves, so a pair that is both affiliated and seen together
    shows both lines. `relations` between the centre and ring nodes are curves
    on the other side, in the style of their family (see relation_legend).
    """
    radius = max(112.0, 9.0 * len(ring))  # more actors, a wider ring: their names keep apart
    most = max((n for _, n, _ in ring), default=0) or 1
    together = [(node, n) for node, n, _ in ring if n]
    affiliated = [node for node, _, aff in ring if aff]
    desc = f"{centre.label} appears in documents with {_plural(len(together), 'actor')}"
    desc += (": " + "; ".join(f"{node.label} ({_plural(n, 'document')})" for node, n in together) + ".") if together else "."
    if affiliated:
        desc += " Affiliations from the profiles (dashed): " + ", ".join(node.label for node in affiliated) + "."
    labels = {centre.key: centre.label, **{node.key: node.label for node, _, _ in ring}}
    relations = [e for e in relations if e.source in labels and e.target in labels]
    if relations:
        desc += " Relations from the profiles: " + "; ".join(
            f"{labels[e.source]}: {e.wording} {labels[e.target]}" for e in relations) + "."

    def draw(cx: float, cy: float) -> tuple[list[str], list[Box]]:
        """The picture with its centre at (cx, cy), and the boxes of its names."""
        placed = []
        for i, (node, n, aff) in enumerate(ring):
            angle = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
            r = 5 + 9 * math.sqrt(n / most) if n else 4.5
            x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            placed.append((node, n, aff, angle, r, x, y))
        body: list[str] = []
        for node, n, aff, angle, r, x, y in placed:
            if n:
                body.append(f'<line class="g-edge" x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" '
                            f'stroke-width="{_num(1 + 4 * n / most)}"/>')
            if aff:
                mx, my = (cx + x) / 2, (cy + y) / 2
                qx, qy = mx - 22 * math.sin(angle), my + 22 * math.cos(angle)
                body.append(f'<path class="g-aff" d="M{_num(cx)} {_num(cy)}Q{_num(qx)} {_num(qy)} {_num(x)} {_num(y)}"/>')
        at = {node.key: (angle, r, x, y) for node, n, aff, angle, r, x, y in placed}
        drawn: dict[str, int] = {}
        for edge in relations:  # bowed the other way from an affiliation, a little further for each more
            other = edge.target if edge.source == centre.key else edge.source
            angle, r, x, y = at[other]
            bow = 26 + 14 * drawn.get(other, 0)
            drawn[other] = drawn.get(other, 0) + 1
            qx, qy = (cx + x) / 2 + bow * math.sin(angle), (cy + y) / 2 - bow * math.cos(angle)
            ends = ((cx, cy), (x, y)) if edge.source == centre.key else ((x, y), (cx, cy))
            gap = (r if edge.source == centre.key else 15.0) + 1.5
            body.append(_rel_path(ident, edge, labels, *ends[0], qx, qy, *ends[1], gap))
        for node, n, aff, angle, r, x, y in placed:
            note = ", ".join(filter(None, [_plural(n, "document") + " in common" if n else "", "affiliated" if aff else ""]))
            body.append(_dot(node, f'<circle class="g-node g-{node.kind}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}"', note))
        size, line = 12.0, 14.0
        boxes: list[Box] = [(cx - 16, cy - 16, cx + 16, cy + 16)]
        for node, n, aff, angle, r, x, y in placed:  # outside the ring, away from the centre, whole
            cos, sin = math.cos(angle), math.sin(angle)
            lines = _wrap(node.label, 20)
            wide = max(_text_width(t, size) for t in lines)
            anchor = "start" if cos > 0.25 else "end" if cos < -0.25 else "middle"
            for push in range(0, 60, 6):  # outwards until clear of the names before it
                lx, ly = x + (r + 6 + push) * cos, y + (r + 6 + push) * sin
                if anchor == "middle":
                    ly += -4 - line * (len(lines) - 1) if sin < 0 else 12
                else:
                    ly += 4 - line * (len(lines) - 1) / 2
                left = lx if anchor == "start" else lx - wide if anchor == "end" else lx - wide / 2
                box = (left, ly - ASCENT * size, left + wide, ly + line * (len(lines) - 1) + DESCENT * size)
                if not any(_overlaps(box, b) for b in boxes[1:]):
                    break
            boxes.append(box)
            body.append(_text_lines("g-label", lx, ly, anchor, lines, line))
        body.append(_dot(centre, f'<circle class="g-node g-centre" cx="{_num(cx)}" cy="{_num(cy)}" r="15"'))
        centre_lines = _wrap(centre.label, 28)
        wide = max(_text_width(t, size) for t in centre_lines)
        boxes.append((cx - wide / 2, cy + 31 - ASCENT * size, cx + wide / 2, cy + 31 + line * (len(centre_lines) - 1) + DESCENT * size))
        body.append(_text_lines("g-label g-centre-label", cx, cy + 31, "middle", centre_lines, line))
        return body, boxes

    _, boxes = draw(0.0, 0.0)  # first find how far the names reach, then frame them from (0, 0)
    left = min(min(b[0] for b in boxes), -radius - 20) - 8
    right = max(max(b[2] for b in boxes), radius + 20) + 8
    top = min(min(b[1] for b in boxes), -radius - 20) - 6
    bottom = max(max(b[3] for b in boxes), radius + 20) + 6
    half = max(right, -left, 260.0)  # centred, and not narrower than a column of text
    body, _ = draw(half, -top)
    out = _svg_open(ident, 2 * half, bottom - top, "figure-svg graph", f"{centre.label}: who it appears with", desc)
    if relations:
        out += _rel_defs(ident, relations)
    out += body
    out.append("</svg>")
    return _named("\n".join(out))


def _wrap(label: str, limit: int) -> list[str]:
    """A name on one line, or on two broken at the space nearest its middle when longer than `limit`."""
    if len(label) <= limit or " " not in label:
        return [label]
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    cut = min(spaces, key=lambda i: (abs(i - len(label) / 2), i))
    return [label[:cut], label[cut + 1:]]


def _text_lines(css: str, x: float, y: float, anchor: str, lines: Sequence[str], line: float) -> str:
    if len(lines) == 1:
        return f'<text class="{css}" x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}">{_esc(lines[0])}</text>'
    spans = "".join(f'<tspan x="{_num(x)}" dy="{0 if i == 0 else _num(line)}">{_esc(t)}</tspan>' for i, t in enumerate(lines))
    return f'<text class="{css}" x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}">{spans}</text>'


# --------------------------------------------------------------------------- the whole network


NARROW_BELOW = "40rem"  # /graph/: the narrow drawing below this width of the screen, the wide one from it
NARROW_WRAP = 16  # characters on a line of a name in the narrow drawing
NARROW_GAP = 110.0  # between its two columns of dots, at least: wider when the names leave room
NARROW_WIDTH = 380.0  # the narrow drawing's width in user units, when its names allow
NARROW_MAX = "28rem"  # and no wider than this: on a screen just under NARROW_BELOW, names of about 14 px


def responsive_network(
    actors: Sequence[Node],
    places: Sequence[Node],
    edges: Sequence[tuple[str, str, int]],
    affiliations: Sequence[tuple[str, str]],
    relations: Sequence[RelationEdge] = (),
) -> str:
    """The network drawn twice: wide (id `network`), and narrow for a phone (`network-narrow`),
    with names at a size a phone can read; a <style> in the narrow one shows one of them,
    by the width of the screen (the other is `display:none`, so out of the accessibility tree too)."""
    wide = network(actors, places, edges, affiliations, relations=relations)
    narrow = network(actors, places, edges, affiliations, ident="network-narrow", relations=relations, narrow=True)
    swap = (f"<style>@media (min-width:{NARROW_BELOW}){{svg.figure-svg.network-narrow{{display:none}}}}"
            f"@media not all and (min-width:{NARROW_BELOW}){{svg.figure-svg.network{{display:none}}}}</style>")
    opening, title, desc, rest = narrow.split("\n", 3)
    return "\n".join((wide, opening, title, desc, swap, rest))


def network(
    actors: Sequence[Node],
    places: Sequence[Node],
    edges: Sequence[tuple[str, str, int]],
    affiliations: Sequence[tuple[str, str]],
    ident: str = "network",
    relations: Sequence[RelationEdge] = (),
    narrow: bool = False,
) -> str:
    """Actors on the left, places on the right, strongest at the middle of each side.

    `edges` are (key, key, documents in common) between drawn nodes, actor–place
    or actor–actor; `affiliations` (actor key, actor key) are dashed arcs;
    `relations` between drawn nodes are wider arcs (or bowed curves across) in
    the style of their family, with an arrowhead at the target where directed.
    `narrow`: for a phone (class `network-narrow`): straight columns at least NARROW_GAP
    apart, names on up to two lines outside them, arcs kept between the columns; about
    NARROW_WIDTH units wide, so that its 12-unit names are 11 px on a 390 px screen.
    """
    row = 32.0 if narrow else 24.0
    size, line = (12.0, 13.0) if narrow else (11.0, 0.0)
    rows = max(len(actors), len(places), 1)
    height = rows * row + 40
    cy = height / 2
    most = max((n.weight for n in (*actors, *places)), default=0) or 1
    radii = {node.key: 3 + 7 * math.sqrt(node.weight / most) for node in (*actors, *places)}
    names = {n.key: _wrap(n.label, NARROW_WRAP) if narrow else [n.label] for n in (*actors, *places)}
    reach_of = {k: max(_text_width(t, size) for t in lines) for k, lines in names.items()}
    if narrow:  # the columns where the longest names end, as far apart as NARROW_WIDTH allows
        left_x = max([reach_of[n.key] + radii[n.key] + 10 for n in actors], default=100.0)
        right_part = max([reach_of[n.key] + radii[n.key] + 10 for n in places], default=100.0)
        gap = max(NARROW_GAP, NARROW_WIDTH - left_x - right_part)
        width, right_x = left_x + gap + right_part, left_x + gap
    else:
        gap, left_x, width = 0.0, 230.0, 780.0
        right_x = width - 230
    bend = 0.0 if narrow else 70.0
    pos: dict[str, tuple[float, float, str]] = {}
    for side, nodes in (("left", actors), ("right", places)):
        for i, node in enumerate(_middle_out(nodes)):
            y = cy + (i - (len(nodes) - 1) / 2) * row
            t = (y - cy) / (height / 2)
            x = left_x + bend * t * t if side == "left" else right_x - bend * t * t
            pos[node.key] = (x, y, side)
    cap = gap * 0.8 if narrow else math.inf  # how far an arc may bow towards the other column
    heaviest = max((w for _, _, w in edges), default=0) or 1
    desc = (f"The {_plural(len(actors), 'actor')} and {_plural(len(places), 'place')} with the most documents, "
            f"linked when they appear in the same documents (thicker lines: more documents in common)"
            + ("; dashed lines are affiliations from actor profiles" if affiliations else "")
            + ("; patterned lines are the relations profiles state" if relations else "") + ".")
    reach = [pos[n.key][0] - radii[n.key] - 6 - reach_of[n.key] for n in actors]  # names whole:
    reach += [pos[n.key][0] + radii[n.key] + 6 + reach_of[n.key] for n in places]  # the picture grows
    left, right = min([4.0, *reach]) - 4, max([width - 4, *reach]) + 4
    relations = [e for e in relations if e.source in pos and e.target in pos]
    labels = {n.key: n.label for n in (*actors, *places)}
    if relations:
        desc += " Relations: " + "; ".join(f"{labels[e.source]}: {e.wording} {labels[e.target]}" for e in relations) + "."
    css = "figure-svg network-narrow" if narrow else "figure-svg network"
    out = _svg_open(ident, right - left, height, css, "Network of actors and places", desc, left=left,
                    extra=f' style="max-width:{NARROW_MAX}"' if narrow else "")
    if relations:
        out += _rel_defs(ident, relations)
    for a, b, w in edges:
        (x1, y1, s1), (x2, y2, s2) = pos[a], pos[b]
        stroke = f'stroke-width="{_num(0.75 + 4 * w / heaviest)}"'
        if s1 != s2:
            dx = (x2 - x1) / 2
            out.append(f'<path class="g-edge" {stroke} d="M{_num(x1)} {_num(y1)}C{_num(x1 + dx)} {_num(y1)} {_num(x2 - dx)} {_num(y2)} {_num(x2)} {_num(y2)}"/>')
        else:
            out.append(f'<path class="g-edge" {stroke} d="{_arc(x1, y1, x2, y2, s1, 40, cap)}"/>')
    for a, b in affiliations:
        (x1, y1, s1), (x2, y2, _) = pos[a], pos[b]
        out.append(f'<path class="g-aff" d="{_arc(x1, y1, x2, y2, s1, 70, cap)}"/>')
    for edge in relations:
        (x1, y1, s1), (x2, y2, s2) = pos[edge.source], pos[edge.target]
        if s1 == s2:  # within a column: an arc bowing further than the affiliations'
            push = min(100 + 0.35 * abs(y2 - y1), cap)
            qx, qy = (max(x1, x2) + push) if s1 == "left" else (min(x1, x2) - push), (y1 + y2) / 2
        else:  # across: bowed off the straight line, clear of the co-occurrence curve
            qx, qy = (x1 + x2) / 2, (y1 + y2) / 2 - 36
        out.append(_rel_path(ident, edge, labels, x1, y1, qx, qy, x2, y2, radii[edge.target] + 1.5))
    for node in (*actors, *places):
        x, y, side = pos[node.key]
        r = radii[node.key]
        out.append(_dot(node, f'<circle class="g-node g-{node.kind}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}"',
                         _plural(node.weight, "document")))
        lx, anchor = (x - r - 6, "end") if side == "left" else (x + r + 6, "start")
        lines = names[node.key]
        out.append(_text_lines("g-label", lx, y + 4 - line * (len(lines) - 1) / 2, anchor, lines, line))
    out.append("</svg>")
    return _named("\n".join(out))


def _middle_out(nodes: Sequence[Node]) -> list[Node]:
    """Order for a column: the heaviest node in the middle, lighter ones towards both ends."""
    column: list[Node] = []
    for i, node in enumerate(nodes):
        if i % 2:
            column.insert(0, node)
        else:
            column.append(node)
    return column


def _arc(x1: float, y1: float, x2: float, y2: float, side: str, bulge: float, cap: float = math.inf) -> str:
    """A curve between two nodes of one column, bowing towards the middle of the drawing (at most `cap`)."""
    push = min(bulge + 0.35 * abs(y2 - y1), cap)
    qx = max(x1, x2) + push if side == "left" else min(x1, x2) - push
    return f"M{_num(x1)} {_num(y1)}Q{_num(qx)} {_num((y1 + y2) / 2)} {_num(x2)} {_num(y2)}"


# --------------------------------------------------------------------------- maps


@dataclass(frozen=True)
class Frame:
    """The part of the world a map shows, in degrees, and its width in pixels."""

    west: float
    south: float
    east: float
    north: float
    width: float = 640.0

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]], width: float = 640.0,
               min_span: tuple[float, float] = (4.0, 5.0)) -> "Frame | None":
        """A frame around (lat, lon) points with a margin, at least `min_span` (degrees of
        latitude, longitude) across; None when there are none."""
        pts = list(points)
        if not pts:
            return None
        south, north = min(p[0] for p in pts), max(p[0] for p in pts)
        west, east = min(p[1] for p in pts), max(p[1] for p in pts)
        min_lat, min_lon = min_span
        pad_lat = max((north - south) * 0.12, min_lat / 4)
        pad_lon = max((east - west) * 0.12, min_lon / 5)
        south, north, west, east = south - pad_lat, north + pad_lat, west - pad_lon, east + pad_lon
        south, north = _widen(south, north, min_lat)
        west, east = _widen(west, east, min_lon)
        k = math.cos(math.radians((south + north) / 2))
        ratio = (north - south) / ((east - west) * k)
        if ratio < 0.55:
            south, north = _widen(south, north, 0.55 * (east - west) * k)
        elif ratio > 0.9:
            west, east = _widen(west, east, (north - south) / (0.9 * k))
        south, north = max(south, -85.0), min(north, 85.0)
        return cls(round(west, 3), round(south, 3), round(east, 3), round(north, 3), width)

    @property
    def scale(self) -> float:
        return self.width / ((self.east - self.west) * math.cos(math.radians((self.south + self.north) / 2)))

    @property
    def height(self) -> float:
        return round((self.north - self.south) * self.scale, 1)

    @property
    def font_size(self) -> float:
        """Lettering in user units: a 28th of the width, so it is readable when the
        map is shrunk to a phone's width or a side column (340 units shown at 300 px: 10.7 px type)."""
        return round(max(11.0, self.width / 28), 1)

    @property
    def bounds(self) -> str:
        """west south east north, in degrees: what `data-bounds` says of a map."""
        return " ".join(_num3(v) for v in (self.west, self.south, self.east, self.north))

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        k = math.cos(math.radians((self.south + self.north) / 2))
        return (lon - self.west) * k * self.scale, (self.north - lat) * self.scale

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


def _num3(x: float) -> str:
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _widen(lo: float, hi: float, span: float) -> tuple[float, float]:
    if hi - lo >= span:
        return lo, hi
    mid = (lo + hi) / 2
    return mid - span / 2, mid + span / 2


@lru_cache(maxsize=1)
def _region() -> tuple[tuple[str, tuple[tuple[tuple[float, float], ...], ...], tuple[float, float] | None], ...]:
    data = json.loads(REGION.read_text(encoding="utf-8"))
    return tuple(
        (c["name"], tuple(tuple((lon, lat) for lon, lat in ring) for ring in c["rings"]),
         tuple(c["label"]) if "label" in c else None)
        for c in data["countries"]
    )


def _country_spots(frame: Frame) -> list[tuple[str, float, float]]:
    """(NAME, x, y) of the country names whose label point is well inside the frame."""
    spots = []
    for name, _, label in _region():
        if label and frame.contains(label[1], label[0]):
            x, y = frame.project(label[1], label[0])
            if 30 < x < frame.width - 30 and 12 < y < frame.height - 6:
                spots.append((name.upper(), x, y))
    return spots


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    return {name.casefold(): name for name, _, _ in _region()}


def outline_name(names: Iterable[str]) -> str:
    """The country of the outline data that one of `names` (a place's name and aliases) names,
    compared without case; "" when none does."""
    countries = _country_names()
    return next((countries[n.casefold()] for n in names if n.casefold() in countries), "")


def _rings_path(frame: Frame, rings: tuple[tuple[tuple[float, float], ...], ...]) -> str:
    """The `d` of a country's rings projected on the frame (the rings that reach into it)."""
    parts = []
    for ring in rings:
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        if max(lons) < frame.west or min(lons) > frame.east or max(lats) < frame.south or min(lats) > frame.north:
            continue
        points: list[str] = []
        for lon, lat in ring:
            x, y = frame.project(lat, lon)
            point = f"{_num(x)} {_num(y)}"
            if not points or points[-1] != point:
                points.append(point)
        parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)


def outline_corners(name: str) -> tuple[tuple[float, float], ...]:
    """The south-west and north-east corners (lat, lon) of the outline data's country `name`
    (what a map must take in to show it whole); () when it has no such country."""
    for country, rings, _ in _region():
        if country == name:
            lons, lats = [p[0] for r in rings for p in r], [p[1] for r in rings for p in r]
            return (min(lats), min(lons)), (max(lats), max(lons))
    return ()


@lru_cache(maxsize=256)
def _country_rings(frame: Frame, name: str) -> tuple[tuple[Point, ...], ...]:
    """The outline data's country `name` projected on the frame, ring by ring."""
    return next((tuple(tuple(frame.project(lat, lon) for lon, lat in ring) for ring in rings)
                 for country, rings, _ in _region() if country == name), ())


@lru_cache(maxsize=256)
def _country_path(frame: Frame, name: str) -> str:
    """The `d` of the outline data's country `name` on the frame; "" when it is not in view."""
    return next((_rings_path(frame, rings) for country, rings, _ in _region() if country == name), "")


@lru_cache(maxsize=64)
def land(frame: Frame, labels: bool = True) -> str:
    """The outline layer of a frame: one path per country, with their names where there is room
    (`labels`; maps with places place the names themselves, clear of the places' labels)."""
    out = [f'<rect class="map-sea" width="{_num(frame.width)}" height="{_num(frame.height)}"/>']
    for name, rings, label in _region():
        d = _rings_path(frame, rings)
        if d:
            out.append(f'<path class="map-land" d="{d}"/>')
    if labels:
        out += [f'<text class="map-country" x="{_num(x)}" y="{_num(y)}" text-anchor="middle">{_esc(name)}</text>'
                for name, x, y in _country_spots(frame)]
    return _named("\n".join(out))


_BASE_STYLE = (
    ".map-sea{fill:#dfeaf3}.map-land{fill:#f3f0e8;stroke:#a39e92;stroke-width:.8;stroke-linejoin:round}"
    ".map-backdrop{fill:#6f7a85;fill-opacity:.55}"
    "@media (prefers-color-scheme:dark){.map-sea{fill:#1b2a36}.map-land{fill:#2a2f35;stroke:#5b636c}}"
)


def base_map(frame: Frame, points: Iterable[tuple[float, float]]) -> str:
    """A standalone SVG file: the outline with every known place as a small dot.

    Actor maps draw it as an <image> under their own dots, so the outline is
    downloaded once rather than repeated in hundreds of pages. It has no
    lettering: the maps drawn over it place the country names clear of their own.
    """
    dots = "".join(f'<circle class="map-backdrop" cx="{_num(x)}" cy="{_num(y)}" r="{_num(BACKDROP_R)}"/>'
                   for x, y in (frame.project(lat, lon) for lat, lon in sorted(set(points))))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(frame.width)} {_num(frame.height)}" '
            f'width="{_num(frame.width)}" height="{_num(frame.height)}">\n<style>{_BASE_STYLE}</style>\n'
            f"{land(frame, labels=False)}\n{dots}\n</svg>\n")


BACKDROP_R = 2.0


def map_svg(
    frame: Frame,
    dots: Sequence[tuple[Node, float, float]],
    title: str,
    desc: str,
    ident: str = "map",
    here: str = "",
    base_href: str = "",
    backdrop: Iterable[tuple[float, float]] = (),
    max_width: str = "",
) -> str:
    """Places as dots sized by weight on the outline; `here` (a node key) is marked.

    A place with an `area` in view is drawn as that country's shape instead, shaded
    darker the more its weight, and named at its point (its coordinates) where the
    name fits. Every place is named: beside its dot where its name fits (see
    :func:`_place_labels`), else at the end of a leader line, else by a number listed
    in a key under the map. A place with an `href` links to it (its dot or shape, and
    its name). With `base_href` the outline is the :func:`base_map` file at that
    address (whose `backdrop` dots the names keep clear of), else it is drawn inline.
    `data-bounds` on the <svg> gives the degrees shown (west south east north).
    """
    size = frame.font_size
    most = max((n.weight for n, _, _ in dots), default=0) or 1
    ranked = sorted(dots, key=lambda d: (d[0].key != here, -d[0].weight, d[0].label.casefold(), d[0].key))
    unit = frame.width / 640
    spots, shapes, rings = [], {}, {}  # spot index -> the `d` of its country, and its rings projected
    for node, lat, lon in ranked:
        x, y = frame.project(lat, lon)
        shape = _country_path(frame, node.area) if node.area else ""
        if shape:
            shapes[len(spots)], rings[len(spots)] = shape, _country_rings(frame, node.area)
            r = 0.0  # a point, not a dot: names may go over the shape, and its own name on the point
        elif node.key == here:
            r = max(6.0, 9.0 * unit)
        else:
            r = max(2.5, (3 + 8 * math.sqrt(node.weight / most)) * unit * 1.2)
        spots.append((node, x, y, r))
    obstacles = [(x, y, r) for i, (_, x, y, r) in enumerate(spots) if i not in shapes]
    obstacles += [(x, y, BACKDROP_R) for x, y in (frame.project(lat, lon) for lat, lon in sorted(set(backdrop)))
                  if 0 <= x <= frame.width and 0 <= y <= frame.height]
    layout = _place_labels(frame.width, frame.height, [(node.label, x, y, r) for node, x, y, r in spots], obstacles, size,
                           areas=rings)
    named = {text.casefold() for text, *_ in layout.labels} | {spots[i][0].area.casefold() for i in shapes}
    countries = _country_labels(frame, size * 0.85, layout.boxes, obstacles, named)
    key_rows, key_height = _key(frame.width, frame.height, [(n, spots[i][0].label) for i, n in layout.numbered], size)
    height = frame.height + key_height
    out = _svg_open(ident, frame.width, height, "figure-svg map", title, desc,
                    extra=f' data-bounds="{frame.bounds}"' + (f' style="max-width:{max_width}"' if max_width else ""))
    out.append(f"<style>svg.figure-svg.map text.map-label,svg.figure-svg.map text.map-num,"
               f"svg.figure-svg.map text.map-key{{font-size:{_num(size)}px!important}}"
               f"svg.figure-svg.map text.map-country{{font-size:{_num(size * 0.85)}px!important}}"
               f"svg.figure-svg.map text.map-num{{font-weight:700}}"
               f".map-leader{{stroke:#2b3138;stroke-width:{_num(max(1.2, unit * 1.5))}}}"
               + (f".map-area{{fill:var(--place);stroke:var(--place);stroke-width:{_num(max(1.0, unit * 1.4))};"
                  f"stroke-linejoin:round}}.map-area:hover{{stroke-width:{_num(max(2.0, unit * 2.8))}}}"
                  f".map-area.map-area-here{{fill:#c62828;stroke:#c62828;stroke-width:{_num(max(2.0, unit * 2.8))}}}"
                  # dark: the light place colour, fainter, so that the dots on a shape stand out
                  ":root[data-theme=dark] .map-area{opacity:.6}"
                  "@media (prefers-color-scheme:dark){:root:not([data-theme=light]) .map-area{opacity:.6}}"
                  if shapes else "")
               + "@media (prefers-color-scheme:dark){.map-leader{stroke:#c9d1d9}}</style>")
    if base_href:
        out.append(f'<image href="{_esc(base_href)}" width="{_num(frame.width)}" height="{_num(frame.height)}"/>')
    else:
        out.append(land(frame, labels=False))
    for i, shape in sorted(shapes.items(), key=lambda item: (spots[item[0]][0].key == here, item[0])):
        node = spots[i][0]  # under everything else, the marked place's last: its border on top
        css = "map-area map-area-here" if node.key == here else "map-area"
        shade = 0.2 if node.key == here else 0.14 + 0.36 * math.sqrt(node.weight / most)
        tip = node.label + ("" if node.key == here else f": {_plural(node.weight, 'document')}")
        out.append(_link(node, f'<path class="{css}" fill-opacity="{shade:.2f}" d="{shape}">'
                               f'<title>{_esc(tip)}</title></path>'))
    out.extend(countries)
    for x1, y1, x2, y2 in layout.leaders:
        out.append(f'<line class="map-leader" x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"/>')
    drawn = [s for i, s in enumerate(spots) if i not in shapes and s[0].key != here]
    drawn += [s for i, s in enumerate(spots) if i not in shapes and s[0].key == here]
    for node, x, y, r in drawn:  # heaviest first, so small dots stay on top; the marked place last of all
        css = "map-dot map-here" if node.key == here else "map-dot"
        dot = _dot(node, f'<circle class="{css}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}"',
                   _plural(node.weight, "document") if node.key != here else "")
        out.append(_link(node, dot))
    for i, (text, lx, ly, anchor, css) in enumerate(layout.labels):
        node = spots[layout.owner[i]][0]
        out.append(_link(node, f'<text class="{css}" x="{_num(lx)}" y="{_num(ly)}" text-anchor="{anchor}">{_esc(text)}</text>'))
    out.extend(key_rows)
    out.append("</svg>")
    return _named("\n".join(out))


def _link(node: Node, inner: str) -> str:
    """`inner` as a link to the node's page; out of the tab order: the list beside the map links to it too."""
    return f'<a href="{_esc(node.href)}" tabindex="-1">{inner}</a>' if node.href else inner


ASCENT, DESCENT = 0.96, 0.3  # a line's box above and below its baseline, in ems (what getBBox reports)


def _text_width(text: str, size: float, spacing: float = 0.0) -> float:
    """A generous estimate of a line's width in a sans-serif face (DejaVu Sans is among the widest)."""
    total = 0.0
    for ch in text:
        if ch in "iljI.,:;'|!":
            total += 0.32
        elif ch in "frt-()/ ":
            total += 0.42
        elif ch in "mwMW":
            total += 0.95
        elif ch.isupper() or ch.isdigit():
            total += 0.76
        else:
            total += 0.64
    return (total + spacing * len(text)) * size


def _overlaps(a: Box, b: Box, gap: float = 1.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _hits_circle(box: Box, x: float, y: float, r: float) -> bool:
    nx, ny = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])
    return (nx - x) ** 2 + (ny - y) ** 2 < (r + 1.0) ** 2


def _crosses(segment: tuple[float, float, float, float], box: Box) -> bool:
    x1, y1, x2, y2 = segment
    return any(box[0] <= x1 + (x2 - x1) * t / 12 <= box[2] and box[1] <= y1 + (y2 - y1) * t / 12 <= box[3]
               for t in range(1, 12))


@dataclass(frozen=True)
class _Layout:
    labels: tuple[tuple[str, float, float, str, str], ...]  # text, x, y, anchor, css class
    owner: tuple[int, ...]  # for each label, the index of its dot
    boxes: tuple[Box, ...]
    leaders: tuple[tuple[float, float, float, float], ...]
    numbered: tuple[tuple[int, int], ...]  # (dot index, its number in the key)


def _candidates(x: float, y: float, r: float, width: float, size: float, far: bool):
    """Where a label of `width` may go for a dot: (anchor, text x, baseline y, box, leader or None),
    best first: beside the dot (right, left, above, below, the diagonals), or with `far`
    at the end of a leader line, nearer spots first."""
    asc, desc, gap = ASCENT * size, DESCENT * size, 2.5
    mid = (asc - desc) / 2

    def at(anchor: str, lx: float, ly: float, leader=None):
        left = lx if anchor == "start" else lx - width if anchor == "end" else lx - width / 2
        return anchor, lx, ly, (left, ly - asc, left + width, ly + desc), leader

    if not far:
        d = r * 0.7
        yield at("start", x + r + gap, y + mid)
        yield at("end", x - r - gap, y + mid)
        yield at("middle", x, y - r - gap - desc)
        yield at("middle", x, y + r + gap + asc)
        yield at("start", x + d + gap, y - d - desc)
        yield at("start", x + d + gap, y + d + asc)
        yield at("end", x - d - gap, y - d - desc)
        yield at("end", x - d - gap, y + d + asc)
        return
    angles = (0, 180, -30, 30, 150, -150, -60, 60, -120, 120, -90, 90, -15, 15, 165, -165, -45, 45, -135, 135)
    for reach in (1.2, 2.2, 3.4, 5.0):  # in ems; further than that, a number and the key read better
        for degrees in angles:
            a = math.radians(degrees)
            cos, sin = math.cos(a), math.sin(a)
            px, py = x + (r + reach * size) * cos, y + (r + reach * size) * sin
            leader = (x + r * cos, y + r * sin, px, py)
            if cos > 0.3:
                yield at("start", px + 1.5, py + mid, leader)
            elif cos < -0.3:
                yield at("end", px - 1.5, py + mid, leader)
            elif sin < 0:
                yield at("middle", px, py - desc - 1, leader)
            else:
                yield at("middle", px, py + asc + 1, leader)


_AREA_STEPS = sorted(((dx, dy) for dx in range(-6, 7) for dy in range(-6, 7)),
                     key=lambda s: (math.hypot(s[0] * 1.2, s[1] * 0.7), s))  # (in 1.2 and 0.7 ems) nearest first


def _area_candidates(x: float, y: float, width: float, size: float, far: bool, rings: Sequence[Sequence[Point]]):
    """Where the name of a country drawn as a shape may go: centred on its point (x, y), else
    on points near it inside the shape (`rings`, projected), nearer first; with `far`, at the
    end of a leader line from its point (when there is no room left on the shape)."""
    if far:
        yield from _candidates(x, y, 0.0, width, size, True)
        return
    asc, desc = ASCENT * size, DESCENT * size
    mid = (asc - desc) / 2
    for dx, dy in _AREA_STEPS:
        cx, cy = x + dx * 1.2 * size, y + dy * 0.7 * size
        if (dx, dy) == (0, 0) or _inside(cx, cy, rings):
            yield "middle", cx, cy + mid, (cx - width / 2, cy + mid - asc, cx + width / 2, cy + mid + desc), None


def _inside(x: float, y: float, rings: Sequence[Sequence[Point]]) -> bool:
    """Whether (x, y) is inside the rings (even-odd: a crossing count)."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, [*ring[1:], ring[0]]):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


MAKE_ROOM_LIMIT = 24  # names still without a place that may move a neighbour's (a crowded map numbers the rest)


def _place_labels(width: float, height: float, dots: Sequence[tuple[str, float, float, float]],
                  obstacles: Sequence[tuple[float, float, float]], size: float,
                  areas: Mapping[int, Sequence[Sequence[Point]]] | None = None) -> _Layout:
    """Names for `dots` (label, x, y, r), most important first, where no name overlaps another
    name, a leader line or any dot (`obstacles`: x, y, r) and none leaves the picture. The
    `areas` (index -> projected rings) are countries drawn as shapes: each is named on its
    point or elsewhere inside its shape, else on a leader line, once every dot is named.

    Passes, so that a close pair does not push the second name far away before every dot
    has had its turn beside itself: names beside their dots; then names at the end of
    leader lines; then the shapes' names (on the shape, then on leaders); then, for a name
    still without a place, one nearby name moved to make room; then numbers (beside, else
    on a leader), listed in the key.
    """
    areas = areas or {}
    where: dict[int, tuple[Box, tuple[float, float, float, float] | None]] = {}  # a placed name's box and leader
    placed: dict[int, tuple[str, float, float, str, str]] = {}
    numbered: list[tuple[int, int]] = []

    def fits(box: Box, leader) -> bool:
        if box[0] < 1 or box[1] < 1 or box[2] > width - 1 or box[3] > height - 1:
            return False
        boxes = [b for b, _ in where.values()]
        if any(_overlaps(box, b) for b in boxes) or any(_hits_circle(box, *o) for o in obstacles):
            return False
        if any(_crosses(seg, box) for _, seg in where.values() if seg):
            return False
        return leader is None or not any(_crosses(leader, b) for b in boxes)

    def put(i: int, text: str, css: str, far: bool) -> bool:
        _, x, y, r = dots[i]
        wide = _text_width(text, size)
        spots = _area_candidates(x, y, wide, size, far, areas[i]) if i in areas else _candidates(x, y, r, wide, size, far)
        for anchor, lx, ly, box, leader in spots:
            if fits(box, leader):
                where[i] = (box, leader)
                placed[i] = (text, lx, ly, anchor, css)
                return True
        return False

    def anywhere(i: int, text: str, css: str = "map-label") -> bool:
        return put(i, text, css, False) or put(i, text, css, True)

    def make_room(i: int) -> bool:
        """Move the name of one of the nearest dots so that dot i's name fits, both named."""
        _, x, y, _ = dots[i]
        near = sorted(where, key=lambda j: (math.hypot(dots[j][1] - x, dots[j][2] - y), j))[:6]
        for j in near:
            kept = where.pop(j), placed.pop(j)
            if anywhere(i, dots[i][0]) and anywhere(j, kept[1][0], kept[1][4]):
                return True
            where.pop(i, None), placed.pop(i, None)
            where[j], placed[j] = kept
        return False

    turns = sorted(range(len(dots)), key=lambda i: i in areas)
    for shapes in (False, True):  # the dots first: a shape has room for its name elsewhere
        for far in (False, True):
            for i in turns:
                if i not in placed and (i in areas) == shapes:
                    put(i, dots[i][0], "map-label", far)
    for i in [i for i in turns if i not in placed][:MAKE_ROOM_LIMIT]:
        make_room(i)
    for i in turns:
        if i not in placed:
            number = len(numbered) + 1
            numbered.append((i, number))
            anywhere(i, str(number), "map-num")
    order = sorted(placed)
    boxes = tuple(where[i][0] for i in order)
    leaders = tuple(seg for i in order if (seg := where[i][1]))
    return _Layout(tuple(placed[i] for i in order), tuple(order), boxes, leaders, tuple(numbered))


def _country_labels(frame: Frame, size: float, boxes: Sequence[Box], obstacles: Sequence[tuple[float, float, float]],
                    named: set[str]) -> list[str]:
    """Country names at their label points where they overlap no place's name or dot (and
    are not a place's name already: the place "Iraq" is labelled as a place)."""
    out, taken = [], list(boxes)
    for name, x, y in _country_spots(frame):
        if name.casefold() in named:
            continue
        w = _text_width(name, size, spacing=0.14)
        for dy in (0.0, -1.2 * size, 1.2 * size):
            box = (x - w / 2, y + dy - ASCENT * size, x + w / 2, y + dy + DESCENT * size)
            inside = box[0] >= 1 and box[2] <= frame.width - 1 and box[1] >= 1 and box[3] <= frame.height - 1
            if inside and not any(_overlaps(box, b) for b in taken) and not any(_hits_circle(box, *o) for o in obstacles):
                taken.append(box)
                out.append(f'<text class="map-country" x="{_num(x)}" y="{_num(y + dy)}" text-anchor="middle">{_esc(name)}</text>')
                break
    return out


def _key(width: float, top: float, entries: Sequence[tuple[int, str]], size: float) -> tuple[list[str], float]:
    """The key under the map for numbered dots: ("3 Green Zone" texts, flowing in rows), and its height."""
    if not entries:
        return [], 0.0
    line = 1.4 * size
    x, y, out = 6.0, top + line, []
    for n, label in entries:
        text = f"{n} {label}"
        w = _text_width(text, size)
        if x > 6.0 and x + w > width - 6:
            x, y = 6.0, y + line
        out.append(f'<text class="map-key" x="{_num(x)}" y="{_num(y)}">{_esc(text)}</text>')
        x += w + size
    return out, y - top + 0.5 * size
