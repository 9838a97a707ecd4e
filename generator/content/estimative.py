"""Estimative language in analyst notes: likelihood words outside the desk's scale, and
sentences that state likelihood and confidence together (which ICD 203 keeps apart).

`scan` runs where a note's body is read (content/load.py parse_source) and finds every
likelihood expression and every sentence that mixes the two, whatever the scale: what it
finds travels with the document through the cache. `report` turns those findings into
warnings for the site's scale (`site.yml` `estimative: icd203|phia`). Nothing is rewritten.
A line `<!-- estimative: ignore -->` silences the paragraph that follows it; code is skipped.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from generator.diagnostics import Diagnostics

# Each scale: its terms, in order, each with the synonyms the scale itself accepts.
SCALES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "icd203": (
        ("almost no chance", ("remote chance",)),
        ("very unlikely", ("highly improbable",)),
        ("unlikely", ("improbable", "improbably")),
        ("roughly even chance", ("roughly even odds",)),
        ("likely", ("probable", "probably")),
        ("very likely", ("highly probable",)),
        ("almost certain", ("almost certainly", "nearly certain")),
    ),
    "phia": (  # the UK Professional Head of Intelligence Assessment's probability yardstick
        ("remote chance", ()),
        ("highly unlikely", ()),
        ("unlikely", ()),
        ("realistic possibility", ()),
        ("likely", ("probably", "probable")),
        ("highly likely", ()),
        ("almost certain", ("almost certainly",)),
    ),
}
DEFAULT_SCALE = "icd203"

# Likelihood expressions no scale defines: what analysts write instead of a scale's words.
_LOOSE = (
    "a good chance", "a fair chance", "a strong chance", "a slight chance", "a real chance",
    "a real possibility", "a distinct possibility", "a strong possibility", "a serious possibility",
    "fairly likely", "quite likely", "rather likely", "somewhat likely", "more likely than not",
    "extremely likely", "most likely", "fairly unlikely", "quite unlikely", "somewhat unlikely",
    "extremely unlikely", "could well", "may well", "might well", "in all likelihood",
    "in all probability", "chances are", "odds are", "conceivably", "presumably",
    "it is possible that", "possibly", "perhaps", "very probably", "highly unlikely",
    "highly likely", "realistic possibility", "remote chance", "almost no chance",
    "very unlikely", "roughly even chance", "roughly even odds", "even chance",
    "fifty-fifty", "almost certain", "almost certainly", "nearly certain", "virtually certain",
    "highly improbable", "highly probable", "very likely", "improbable",
    "improbably", "probable", "probably", "unlikely", "likely",
)
_TERMS = sorted({t for scale in SCALES.values() for term, syn in scale for t in (term, *syn)} | set(_LOOSE),
                key=lambda t: (-len(t), t))
_LIKELIHOOD = re.compile(r"(?<![\w-])(" + "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in _TERMS) + r")(?![\w-])",
                         re.IGNORECASE)
_CONFIDENCE = re.compile(r"(?<![\w-])(?:high|moderate|medium|low)(?:\s+|-)(?:level\s+of\s+)?confidence(?![\w-])",
                         re.IGNORECASE)
_IGNORE = re.compile(r"^\s*<!--\s*estimative:\s*ignore\s*-->\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


class Finding(NamedTuple):
    line: int  # in the file
    kind: str  # "term": a likelihood expression; "mixed": a sentence with likelihood and confidence
    text: str  # the expression as written (one space between words), or the confidence phrase


def _paragraphs(body: str, first_line: int) -> list[tuple[int, list[tuple[int, str]]]]:
    """The body's prose paragraphs as (line of the paragraph, [(line, text)]), without fenced
    code, indented code, or a paragraph after an ignore marker."""
    out: list[tuple[int, list[tuple[int, str]]]] = []
    current: list[tuple[int, str]] = []
    fence, ignore_next = "", False

    def close() -> None:
        nonlocal current, ignore_next
        if current:
            if not ignore_next:
                out.append((current[0][0], current))
            ignore_next = False
        current = []

    for offset, text in enumerate(body.split("\n")):
        line = first_line + offset
        opened = _FENCE.match(text)
        if fence:
            if opened and opened.group(1) == fence:
                fence = ""
            continue
        if opened:
            close()
            fence = opened.group(1)
            continue
        if _IGNORE.match(text):
            close()
            ignore_next = True
            continue
        if not text.strip():
            close()
            continue
        if text.startswith(("    ", "\t")) and not current:
            continue  # indented code
        current.append((line, text))
    close()
    return out


def scan(body: str, first_line: int) -> tuple[Finding, ...]:
    """Every likelihood expression of a note's body and every sentence that states a
    likelihood and a confidence together, with their lines in the file."""
    findings: list[Finding] = []
    for _, lines in _paragraphs(body, first_line):
        text = "\n".join(t for _, t in lines)
        starts = [0]
        for t in lines[:-1]:
            starts.append(starts[-1] + len(t[1]) + 1)

        def line_at(index: int) -> int:
            n = 0
            while n + 1 < len(starts) and starts[n + 1] <= index:
                n += 1
            return lines[n][0]

        for match in _LIKELIHOOD.finditer(text):
            findings.append(Finding(line_at(match.start()), "term", " ".join(match.group(1).lower().split())))
        at = 0
        for sentence in _SENTENCE_END.split(text):
            at = text.find(sentence, at)
            confidence = _CONFIDENCE.search(sentence)
            if confidence and _LIKELIHOOD.search(sentence):
                findings.append(Finding(line_at(at + confidence.start()), "mixed",
                                        " ".join(confidence.group(0).lower().split())))
            at += len(sentence)
    findings.sort(key=lambda f: (f.line, f.kind))
    return tuple(findings)


def allowed(scale: str) -> frozenset[str]:
    return frozenset(t for term, syn in SCALES[scale] for t in (term, *syn))


def report(rel: str, findings: tuple[Finding, ...], scale: str, diags: Diagnostics) -> None:
    """Warnings at file:line for the findings that the scale does not allow."""
    if not findings:
        return
    ok = allowed(scale)
    terms = ", ".join(term for term, _ in SCALES[scale])
    for f in findings:
        if f.kind == "term" and f.text not in ok:
            diags.warning(rel, f.line, f"estimative language: \"{f.text}\" is not on the {_NAMES[scale]} scale; "
                                       f"use one of its terms ({terms}) or mark the paragraph "
                                       "<!-- estimative: ignore -->")
        elif f.kind == "mixed":
            diags.warning(rel, f.line, f"estimative language: this sentence states a likelihood and \"{f.text}\" "
                                       "together; ICD 203 keeps them apart (say how likely in one sentence, "
                                       "how confident and why in another)")


_NAMES = {"icd203": "ICD 203", "phia": "PHIA yardstick"}
