"""Slugs and name keys: the one definition of "the same name".

Names are matched case-, accent- and punctuation-insensitively, so
`Kata'ib Ḥizballah`, `kataib hizballah` and `KATAIB-HIZBALLAH` share one key.
Slugs are keys made safe for a URL path segment (never `.`, `..` or empty).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = re.compile(r"['’‘ʼʻ`´]")
_NON_WORD = re.compile(r"[^\w]+|_+")


@lru_cache(maxsize=65536)  # tags repeat across thousands of documents
def name_key(name: str) -> str:
    """The matching key of a name: lower-case letters and digits joined by '-'."""
    if name.isascii():  # NFKD leaves ASCII as it is, with nothing combining to drop
        stripped = name
    else:
        decomposed = unicodedata.normalize("NFKD", name)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = _APOSTROPHES.sub("", stripped.casefold())
    return _NON_WORD.sub("-", stripped).strip("-")


def slugify(name: str) -> str:
    """A URL path segment for `name`; never empty and never a path trick."""
    key = name_key(name)[:80].strip("-")
    if not key:
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
        return f"x-{digest}"
    return key
