"""Turn a page body into text without producing mojibake.

Order of trust: a byte-order mark, then strict UTF-8, then the HTTP charset, then the page's own
``<meta charset>``, then GB18030.  UTF-8 goes first because Chinese text in a legacy encoding
practically never forms valid UTF-8, while UTF-8 bytes often *do* decode as GB18030 (into
mojibake): the site and its mirrors sometimes declare GB2312 for UTF-8 pages and vice versa.
GB2312/GBK declarations are read as GB18030, their superset, as browsers do.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
              "gb_2312-80": "gb18030", "ascii": "utf-8", "us-ascii": "utf-8", "iso-8859-1": "cp1252"}


def normalise_charset(name: str | None) -> str | None:
    """Python codec name for a declared charset, or None if unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*([^\s;]+)", content_type, re.I)
    return normalise_charset(m.group(1)) if m else None


def meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:4096])
    return normalise_charset(m.group(1).decode("ascii", "ignore")) if m else None


def decode_body(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode ``body``; ``declared`` is the HTTP charset (or a Content-Type header).

    Returns ``(text, codec)``. Never raises: as a last resort bytes that fit no candidate are
    replaced with U+FFFD, which the parser reports as mojibake instead of hiding it.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace"), "utf-16"
    http = charset_from_content_type(declared) if declared and "=" in declared else normalise_charset(declared)
    candidates = [c for c in ("utf-8", http, meta_charset(body), "gb18030") if c]
    seen: set[str] = set()
    for codec in candidates:
        if codec in seen:
            continue
        seen.add(codec)
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    # Nothing decodes cleanly: pick the candidate with the fewest errors.
    best = min(seen, key=lambda c: body.decode(c, "replace").count("\ufffd"))
    return body.decode(best, "replace"), best
