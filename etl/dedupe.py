"""Content keys that fold one document posted at several URLs into one notice.

The same plan is often posted in two columns (a department's ``gkml/ghjh`` and the municipal
``zdgk/ghjh/jhmb``) under two notice ids, and mirror hosts keep copies: the page frame,
breadcrumbs, column name and even the posting date differ, the title and main text do not.
``text_key`` hashes what is the document's own: the title and the parsed main text, NFKC-folded
(full-width punctuation, digits and letters as ASCII: captured copies show ``，（）：`` as
``,():``) with every whitespace character and the posting-date header line removed.

The warehouse stores the key as ``notice.text_sha256`` (migration 0011 (notice_url) computed it for
older rows with this function): changing the normalisation needs a migration that recomputes it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# A body shorter than this (after normalisation, title excluded) is no evidence of identity:
# "详见附件" pages of two different documents must not fold into one.
MIN_TEXT_CHARS = 30
_SPACE = re.compile(r"\s+")
# Header debris a text capture may start with: the posting date may differ between copies.
_HEADER = re.compile(r"^(?:青岛政务网)?(?:发布日期:\d{4}-\d{1,2}-\d{1,2})?")


def normalise_text(text: str) -> str:
    """NFKC-folded text without whitespace (the comparison form; never shown to anyone)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def text_key(title: str | None, body_text: str | None) -> str | None:
    """SHA-256 (hex) of the normalised title and main text; None when the body is too short to
    tell two documents apart."""
    body = _HEADER.sub("", normalise_text(body_text or ""), count=1)
    if len(body) < MIN_TEXT_CHARS:
        return None
    title_n = normalise_text(title or "")
    return hashlib.sha256(f"{title_n}\n{body}".encode()).hexdigest()
