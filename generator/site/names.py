"""Near misses: a tag that matches no profile but is probably meant for one.

`Kataib Hezbolah` matches no profile, so it makes an actor of its own next to the
profile `Kataib Hezbollah`; :class:`NearNames` finds the profile it was meant for.
Two names are close when, on their name keys (generator/content/text.py):

1. they are equal once *folded* (:func:`folded`): transliteration variants,
   doubled letters, articles and connective words do not count;
2. or they have the same folded words in another order;
3. or they are a few typing mistakes apart (Damerau-Levenshtein, letters and digits
   only): none below 5 characters (acronyms: `KH` and `KSS` are different groups),
   1 up to 11, 2 from 12 (:func:`allowed_edits`);

and in every case they have the same numbers (`APT28` and `APT29`, `Brigade 30` and
`Brigade 40` are never close). A tag is only compared with profiles' names, and only
when it matches none: a real group with a near name gets a profile, and no warning.
The folding rules are the small table below (FOLDS, then doubled letters, vowels and
DROPPED_WORDS): a rule belongs there only if the spellings it joins are far more often one
name than two. Two names a desk tells apart may still be close (`Curium`, `Cerium`): a
profile for each ends the warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, Iterable, TypeVar

from generator.content.text import name_key

# (what, becomes): applied in this order to a name key (its articles and connectives left out).
FOLDS: tuple[tuple[str, str], ...] = (
    ("ou", "u"),  # Nouri / Nuri, Shouhada / Shuhada
    ("ee", "i"),  # Zeinab / Zinab
    ("oo", "u"),  # Mahmood / Mahmud
    ("ph", "f"),  # Phalange / Falange
    ("ck", "k"),  # Blackwater / Blakwater
    ("q", "k"),  # Quds / Kuds, Iraq / Irak
    ("z", "s"),  # mobilization / mobilisation, Hezbollah / Hesbollah
)
# Then: doubled letters as one (Hezbollah / Hezbolah, Sayyid / Sayid), and, in words of
# 5 letters or more, no vowels after the first letter (hizballah, hezbollah, hizbullah;
# kataib, ketaib): vowels are where transliterations differ most.
VOWELS = frozenset("aeiouy")
LONG_WORD = 5
# Words left out: Arabic articles (al-Asad / el-Asad / Asad) and connectives
# (Islamic Resistance of Iraq / in Iraq).
DROPPED_WORDS = frozenset({"al", "el", "ul", "of", "in", "for", "and", "the", "on", "at", "de", "wa"})

_DIGITS = re.compile(r"\d+")
_DOUBLED = re.compile(r"(.)\1+")

Target = TypeVar("Target")
_NOT_VOWELS = str.maketrans("", "", "".join(VOWELS))


@lru_cache(maxsize=65536)  # a tag is looked up once, a profile's name once per kind
def folded_words(name: str) -> tuple[str, ...]:
    """The folded words of a name, articles and connectives left out (the rules above, applied
    to the whole key at once: none of them reaches across a word's end)."""
    key = "-".join(w for w in name_key(name).split("-") if w and w not in DROPPED_WORDS)
    for what, becomes in FOLDS:
        if what in key:
            key = key.replace(what, becomes)
    key = _DOUBLED.sub(r"\1", key)
    words = [w if len(w) < LONG_WORD else w[0] + w[1:].translate(_NOT_VOWELS) for w in key.split("-")]
    return tuple(_DOUBLED.sub(r"\1", "-".join(words)).split("-")) if key else ()


def folded(name: str) -> str:
    """The key under which transliterations of one name meet: `Kata'ib Hizballah`,
    `Kataib Hezbollah` and `ketaib hizbullah` share one."""
    return "-".join(folded_words(name))


def compact(name: str) -> str:
    """The name key's letters and digits only: what the edit distance compares."""
    return name_key(name).replace("-", "")


def allowed_edits(length: int) -> int:
    """How many typing mistakes two names of this (shorter) compact length may be apart."""
    return 0 if length < 5 else 1 if length < 12 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: an adjacent swap is one edit),
    or limit + 1 when it is more than `limit`. Only the band of cells within `limit` of the
    diagonal is worked out: a path outside it costs more than `limit` already."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    m, big = len(b), limit + 1
    before: list[int] | None = None
    row = [j if j <= limit else big for j in range(m + 1)]
    for i in range(1, len(a) + 1):
        current = [big] * (m + 1)
        if i <= limit:
            current[0] = i
        best, here = current[0], a[i - 1]
        for j in range(max(1, i - limit), min(m, i + limit) + 1):
            value = row[j - 1] + (here != b[j - 1])
            if row[j] + 1 < value:
                value = row[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if before is not None and j > 1 and here == b[j - 2] and a[i - 2] == b[j - 1] and before[j - 2] + 1 < value:
                value = before[j - 2] + 1
            current[j] = value if value < big else big
            if value < best:
                best = value
        if best > limit:
            return big
        before, row = row, current
    return min(row[m], big)


def bigrams(key: str) -> frozenset[str]:
    """The key's pairs of letters as a set in which a pair seen before is told apart by a count
    (`ab`, `ab2`): a multiset, whose intersections are then made in C."""
    pairs = [key[i : i + 2] for i in range(len(key) - 1)]
    unique = frozenset(pairs)
    if len(unique) == len(pairs):
        return unique
    seen: dict[str, int] = {}
    for pair in pairs:
        seen[pair] = seen.get(pair, 0) + 1
    return frozenset(pair + (str(n) if n > 1 else "") for pair, count in seen.items() for n in range(1, count + 1))


@lru_cache(maxsize=1024)
def _pieces(length: int, edits: int) -> tuple[tuple[int, int], ...]:
    """(start, size) of the pieces a name of this length is cut into for the edit index:
    2 * edits + 1 of them, so that one is left intact by `edits` edits even when each is
    a swap across the border of two pieces (pigeonhole)."""
    count = min(2 * edits + 1, length)
    return tuple((length * i // count, length * (i + 1) // count - length * i // count) for i in range(count))


@lru_cache(maxsize=64)
def _shifts(difference: int, edits: int) -> tuple[int, ...]:
    """How far a piece may have moved, in a name `difference` characters longer (or shorter) and
    within `edits` edits: s insertions or deletions before it and difference - s after it."""
    return tuple(s for s in range(-edits, edits + 1) if abs(s) + abs(difference - s) <= edits)


@dataclass(frozen=True)
class Near(Generic[Target]):
    """A profile name close to a tag: the name as the profile writes it, what it names."""

    name: str
    target: Target
    how: str  # "folded", "word order" or "edits"


class NearNames(Generic[Target]):
    """The names of the profiles of one kind, indexed for :meth:`near`.

    Three indexes, so that a tag is compared with a handful of names, not all of them:
    by folded key, by folded words in order, and by pieces of the compact key at their
    place (a name within k edits of another holds one of its 2k + 1 pieces, moved by at
    most k: see `_pieces`), checked by edit distance. Built in O(names); a look-up costs
    some 100 dictionary probes and a few bounded edit distances.
    """

    def __init__(self, names: Iterable[tuple[str, Target]]):
        self._names: list[tuple[str, Target, str, str]] = []  # name, target, compact key, its digits
        self._bigrams: dict[int, frozenset[str]] = {}  # made when first needed
        self._folded: dict[str, list[int]] = {}
        self._words: dict[str, list[int]] = {}
        self._pieces: dict[tuple[int, int, str], list[int]] = {}
        seen: set[tuple[str, Target]] = set()
        for name, target in names:  # (targets are hashable: refs)
            key = compact(name)
            if not key or (key, target) in seen:
                continue
            seen.add((key, target))
            at = len(self._names)
            self._names.append((name, target, key, ",".join(_DIGITS.findall(key))))
            words = folded_words(name)
            if words:
                self._folded.setdefault("-".join(words), []).append(at)
                self._words.setdefault("-".join(sorted(words)), []).append(at)
            edits = allowed_edits(len(key))
            if edits:
                for i, (start, size) in enumerate(_pieces(len(key), edits)):
                    self._pieces.setdefault((len(key), i, key[start : start + size]), []).append(at)

    def near(self, name: str) -> list[Near[Target]]:
        """The profile names closest to `name` (a tag that matches none of them exactly), by the
        first rule that finds any (folded, word order, fewest edits), one per target, in the
        order the names were given."""
        key = compact(name)
        if not key:
            return []
        digits = ",".join(_DIGITS.findall(key))
        words = folded_words(name)
        if words:
            for how, index, probe in (("folded", self._folded, "-".join(words)),
                                      ("word order", self._words, "-".join(sorted(words)))):
                found = [at for at in index.get(probe, ()) if self._names[at][3] == digits]
                if found:
                    return self._named(found, how)
        by_distance: dict[int, list[int]] = {}
        pairs = bigrams(key)
        for at in sorted(self._edit_candidates(key)):
            other, other_digits = self._names[at][2], self._names[at][3]
            if other_digits != digits:
                continue
            limit = allowed_edits(min(len(key), len(other)))
            # an edit changes at most 2 pairs of letters, a swap 3: a cheap test first, in C
            theirs = self._bigrams.get(at)
            if theirs is None:
                theirs = self._bigrams[at] = bigrams(other)
            if len(pairs & theirs) < max(len(key), len(other)) - 1 - 3 * limit:
                continue
            distance = edit_distance(key, other, limit)
            if distance <= limit:
                by_distance.setdefault(distance, []).append(at)
        return self._named(by_distance[min(by_distance)], "edits") if by_distance else []

    def _edit_candidates(self, key: str) -> set[int]:
        length = len(key)
        found: set[int] = set()
        pieces = self._pieces
        for other in range(length - 2, length + 3):
            edits = allowed_edits(other)
            within = allowed_edits(min(length, other))  # what the distance will allow
            if not edits or not within or abs(other - length) > within:
                continue
            for i, (start, size) in enumerate(_pieces(other, edits)):
                for shift in _shifts(length - other, within):
                    at = start + shift
                    if 0 <= at and at + size <= length:
                        hit = pieces.get((other, i, key[at : at + size]))
                        if hit:
                            found.update(hit)
        return found

    def _named(self, found: Iterable[int], how: str) -> list[Near[Target]]:
        out: list[Near[Target]] = []
        targets: list[Target] = []
        for at in sorted(found):
            name, target, _, _ = self._names[at]
            if target not in targets:
                targets.append(target)
                out.append(Near(name, target, how))
        return out
