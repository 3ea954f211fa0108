"""Parse stage: one page -> ``ParsedNotice``. ``page`` reads the document structure, ``normalize``
cleans text (Simplified, mojibake, pinyin), ``targets`` reads numeric targets from item text.
"""

from .page import parse_page

__all__ = ["parse_page"]
