"""Drawings made at build time: an actor's link graph, the actor–place network, maps.

Pure functions from plain values (nodes, counts, coordinates) to SVG text with
a deterministic layout, so two builds give the same bytes and no picture needs
JavaScript. Every SVG is `role="img"` with a <title> and a <desc> that says in
words what it shows, and the pages list the same facts as text beside it.
Nodes and dots are not links (an image has no interactive parts); each has
its name as a tooltip, and the text lists beside link to every page.

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
from typing import Iterable, Sequence

REGION = Path(__file__).parent.parent / "theme" / "data" / "region.json"
EGO_LIMIT = 12  # co-actors drawn around an actor (affiliations are added on top)
EGO_AFFILIATION_LIMIT = 6
NETWORK_SIDE_LIMIT = 20  # actors, and places, on /graph/
NETWORK_EDGE_LIMIT = 160


@dataclass(frozen=True)
class Node:
    key: str  # unique within one drawing: "actor/kataib-hezbollah"
    label: str
    weight: int  # documents (or documents in common)
    kind: str  # "actor" | "place"


def _num(x: float) -> str:
    text = f"{x:.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return "0" if text == "-0" else text


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _svg_open(ident: str, width: float, height: float, css: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="{css}" viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" height="{_num(height)}" '
        f'role="img" aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{_esc(title)}</title>',
        f'<desc id="{ident}-desc">{_esc(desc)}</desc>',
    ]


def _dot(node: Node, circle: str, note: str = "") -> str:
    """A node's circle with its name (and `note`) as a tooltip; `circle` is an unclosed <circle ...> tag."""
    tip = node.label + (f": {note}" if note else "")
    return f"{circle}><title>{_esc(tip)}</title></circle>"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --------------------------------------------------------------------------- an actor's graph


def ego_graph(centre: Node, ring: Sequence[tuple[Node, int, bool]], ident: str = "graph") -> str:
    """`centre` with the actors around it: (node, documents in common, affiliated), strongest first.

    Radial layout: the strongest tie at the top, then clockwise; node size and
    line width grow with the documents in common; affiliations from profiles
    are dashed curves, so a pair that is both affiliated and seen together
    shows both lines.
    """
    width, height, cx, cy, radius = 640.0, 340.0, 320.0, 164.0, 112.0
    most = max((n for _, n, _ in ring), default=0) or 1
    together = [(node, n) for node, n, _ in ring if n]
    affiliated = [node for node, _, aff in ring if aff]
    desc = f"{centre.label} appears in documents with {_plural(len(together), 'actor')}"
    desc += (": " + "; ".join(f"{node.label} ({_plural(n, 'document')})" for node, n in together) + ".") if together else "."
    if affiliated:
        desc += " Affiliations from the profiles (dashed): " + ", ".join(node.label for node in affiliated) + "."
    out = _svg_open(ident, width, height, "figure-svg graph", f"{centre.label}: who it appears with", desc)
    placed = []
    for i, (node, n, aff) in enumerate(ring):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
        r = 5 + 9 * math.sqrt(n / most) if n else 4.5
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        placed.append((node, n, aff, angle, r, x, y))
    for node, n, aff, angle, r, x, y in placed:
        if n:
            out.append(f'<line class="g-edge" x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" '
                       f'stroke-width="{_num(1 + 4 * n / most)}"/>')
        if aff:
            mx, my = (cx + x) / 2, (cy + y) / 2
            qx, qy = mx - 22 * math.sin(angle), my + 22 * math.cos(angle)
            out.append(f'<path class="g-aff" d="M{_num(cx)} {_num(cy)}Q{_num(qx)} {_num(qy)} {_num(x)} {_num(y)}"/>')
    for node, n, aff, angle, r, x, y in placed:
        note = ", ".join(filter(None, [_plural(n, "document") + " in common" if n else "", "affiliated" if aff else ""]))
        out.append(_dot(node, f'<circle class="g-node g-{node.kind}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}"', note))
    for node, n, aff, angle, r, x, y in placed:
        cos, sin = math.cos(angle), math.sin(angle)
        lx, ly = x + (r + 6) * cos, y + (r + 6) * sin
        anchor = "start" if cos > 0.25 else "end" if cos < -0.25 else "middle"
        ly += (-3 if sin < 0 else 12) if anchor == "middle" else 4
        out.append(f'<text class="g-label" x="{_num(lx)}" y="{_num(ly)}" text-anchor="{anchor}">{_esc(_short(node.label))}</text>')
    out.append(_dot(centre, f'<circle class="g-node g-centre" cx="{_num(cx)}" cy="{_num(cy)}" r="15"'))
    out.append(f'<text class="g-label g-centre-label" x="{_num(cx)}" y="{_num(cy + 31)}" text-anchor="middle">{_esc(_short(centre.label, 30))}</text>')
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- the whole network


def network(
    actors: Sequence[Node],
    places: Sequence[Node],
    edges: Sequence[tuple[str, str, int]],
    affiliations: Sequence[tuple[str, str]],
    ident: str = "network",
) -> str:
    """Actors on the left, places on the right, strongest at the middle of each side.

    `edges` are (key, key, documents in common) between drawn nodes, actor–place
    or actor–actor; `affiliations` (actor key, actor key) are dashed arcs.
    """
    row, width = 24.0, 780.0
    rows = max(len(actors), len(places), 1)
    height = rows * row + 40
    cy = height / 2
    pos: dict[str, tuple[float, float, str]] = {}
    most = max((n.weight for n in (*actors, *places)), default=0) or 1
    for side, nodes in (("left", actors), ("right", places)):
        for i, node in enumerate(_middle_out(nodes)):
            y = cy + (i - (len(nodes) - 1) / 2) * row
            t = (y - cy) / (height / 2)
            x = 230 + 70 * t * t if side == "left" else width - 230 - 70 * t * t
            pos[node.key] = (x, y, side)
    heaviest = max((w for _, _, w in edges), default=0) or 1
    desc = (f"The {_plural(len(actors), 'actor')} and {_plural(len(places), 'place')} with the most documents, "
            f"linked when they appear in the same documents (thicker lines: more documents in common)"
            + ("; dashed lines are affiliations from actor profiles." if affiliations else "."))
    out = _svg_open(ident, width, height, "figure-svg network", "Network of actors and places", desc)
    for a, b, w in edges:
        (x1, y1, s1), (x2, y2, s2) = pos[a], pos[b]
        stroke = f'stroke-width="{_num(0.75 + 4 * w / heaviest)}"'
        if s1 != s2:
            dx = (x2 - x1) / 2
            out.append(f'<path class="g-edge" {stroke} d="M{_num(x1)} {_num(y1)}C{_num(x1 + dx)} {_num(y1)} {_num(x2 - dx)} {_num(y2)} {_num(x2)} {_num(y2)}"/>')
        else:
            out.append(f'<path class="g-edge" {stroke} d="{_arc(x1, y1, x2, y2, s1, 40)}"/>')
    for a, b in affiliations:
        (x1, y1, s1), (x2, y2, _) = pos[a], pos[b]
        out.append(f'<path class="g-aff" d="{_arc(x1, y1, x2, y2, s1, 70)}"/>')
    for node in (*actors, *places):
        x, y, side = pos[node.key]
        r = 3 + 7 * math.sqrt(node.weight / most)
        out.append(_dot(node, f'<circle class="g-node g-{node.kind}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}"',
                         _plural(node.weight, "document")))
        lx, anchor = (x - r - 6, "end") if side == "left" else (x + r + 6, "start")
        out.append(f'<text class="g-label" x="{_num(lx)}" y="{_num(y + 4)}" text-anchor="{anchor}">{_esc(_short(node.label, 30))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _middle_out(nodes: Sequence[Node]) -> list[Node]:
    """Order for a column: the heaviest node in the middle, lighter ones towards both ends."""
    column: list[Node] = []
    for i, node in enumerate(nodes):
        if i % 2:
            column.insert(0, node)
        else:
            column.append(node)
    return column


def _arc(x1: float, y1: float, x2: float, y2: float, side: str, bulge: float) -> str:
    """A curve between two nodes of one column, bowing towards the middle of the drawing."""
    push = bulge + 0.35 * abs(y2 - y1)
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
    def around(cls, points: Iterable[tuple[float, float]], width: float = 640.0) -> "Frame | None":
        """A frame around (lat, lon) points with a margin; None when there are none."""
        pts = list(points)
        if not pts:
            return None
        south, north = min(p[0] for p in pts), max(p[0] for p in pts)
        west, east = min(p[1] for p in pts), max(p[1] for p in pts)
        pad_lat, pad_lon = max((north - south) * 0.12, 1.0), max((east - west) * 0.12, 1.0)
        south, north, west, east = south - pad_lat, north + pad_lat, west - pad_lon, east + pad_lon
        south, north = _widen(south, north, 4.0)
        west, east = _widen(west, east, 5.0)
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

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        k = math.cos(math.radians((self.south + self.north) / 2))
        return (lon - self.west) * k * self.scale, (self.north - lat) * self.scale

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


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


@lru_cache(maxsize=8)
def land(frame: Frame) -> str:
    """The outline layer of a frame: one path per country, names where there is room."""
    out = [f'<rect class="map-sea" width="{_num(frame.width)}" height="{_num(frame.height)}"/>']
    labels = []
    for name, rings, label in _region():
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
        if parts:
            out.append(f'<path class="map-land" d="{"".join(parts)}"/>')
        if label and frame.contains(label[1], label[0]):
            x, y = frame.project(label[1], label[0])
            if 30 < x < frame.width - 30 and 12 < y < frame.height - 6:
                labels.append(f'<text class="map-country" x="{_num(x)}" y="{_num(y)}" text-anchor="middle">{_esc(name.upper())}</text>')
    return "\n".join(out + labels)


_BASE_STYLE = (
    ".map-sea{fill:#dfeaf3}.map-land{fill:#f3f0e8;stroke:#a39e92;stroke-width:.8;stroke-linejoin:round}"
    ".map-country{font:10px system-ui,sans-serif;letter-spacing:.14em;fill:#7d776b}"
    ".map-backdrop{fill:#6f7a85;fill-opacity:.55}"
    "@media (prefers-color-scheme:dark){.map-sea{fill:#1b2a36}.map-land{fill:#2a2f35;stroke:#5b636c}"
    ".map-country{fill:#9aa3ad}}"
)


def base_map(frame: Frame, points: Iterable[tuple[float, float]]) -> str:
    """A standalone SVG file: the outline with every known place as a small dot.

    Maps on entity pages draw it as an <image> under their own dots, so the
    outline is downloaded once rather than repeated in hundreds of pages.
    """
    dots = "".join(f'<circle class="map-backdrop" cx="{_num(x)}" cy="{_num(y)}" r="2"/>'
                   for x, y in (frame.project(lat, lon) for lat, lon in sorted(set(points))))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(frame.width)} {_num(frame.height)}" '
            f'width="{_num(frame.width)}" height="{_num(frame.height)}">\n<style>{_BASE_STYLE}</style>\n'
            f"{land(frame)}\n{dots}\n</svg>\n")


def map_svg(
    frame: Frame,
    dots: Sequence[tuple[Node, float, float]],
    title: str,
    desc: str,
    ident: str = "map",
    here: str = "",
    labelled: int = 10,
    base_href: str = "",
) -> str:
    """Places as dots sized by weight on the outline; `here` (a node key) is marked and labelled.

    The `labelled` heaviest dots carry their name; every dot has it as a tooltip.
    With `base_href` the outline is the :func:`base_map` file at that address,
    else it is drawn inline.
    """
    out = _svg_open(ident, frame.width, frame.height, "figure-svg map", title, desc)
    if base_href:
        out.append(f'<image href="{_esc(base_href)}" width="{_num(frame.width)}" height="{_num(frame.height)}"/>')
    else:
        out.append(land(frame))
    most = max((n.weight for n, _, _ in dots), default=0) or 1
    ranked = sorted(dots, key=lambda d: (d[0].key == here, -d[0].weight, d[0].label.casefold(), d[0].key))
    wanted = [d[0].key for d in ranked if d[0].key == here] + [d[0].key for d in ranked[:labelled] if d[0].key != here]
    spots: dict[str, tuple[float, float, float]] = {}
    for node, lat, lon in ranked:  # heaviest first so small dots stay on top; the marked place last
        x, y = frame.project(lat, lon)
        r = 9.0 if node.key == here else 3 + 8 * math.sqrt(node.weight / most)
        spots[node.key] = (x, y, r)
        css = "map-dot map-here" if node.key == here else "map-dot"
        out.append(_dot(node, f'<circle class="{css}" cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}"',
                         _plural(node.weight, "document") if node.key != here else ""))
    labels = {node.key: _short(node.label) for node, _, _ in dots}
    out.extend(_place_labels(frame, [(key, labels[key], *spots[key]) for key in wanted]))
    out.append("</svg>")
    return "\n".join(out)


def _place_labels(frame: Frame, wanted: Sequence[tuple[str, str, float, float, float]]) -> list[str]:
    """Labels beside their dots, in order of importance, each where it overlaps no earlier one (or left out)."""
    taken: list[tuple[float, float, float, float]] = []
    out = []
    for _, text, x, y, r in wanted:
        width = 6.3 * len(text)
        for anchor, lx, ly in (("start", x + r + 4, y + 4), ("end", x - r - 4, y + 4),
                               ("middle", x, y - r - 4), ("middle", x, y + r + 12)):
            left = lx if anchor == "start" else lx - width if anchor == "end" else lx - width / 2
            box = (left, ly - 10, left + width, ly + 3)
            inside = box[0] >= 2 and box[2] <= frame.width - 2 and box[1] >= 2 and box[3] <= frame.height - 2
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
                taken.append(box)
                out.append(f'<text class="map-label" x="{_num(lx)}" y="{_num(ly)}" text-anchor="{anchor}">{_esc(text)}</text>')
                break
    return out
