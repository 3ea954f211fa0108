"""Calendar dates as the site writes them (2021-03-05, 2021/3/5, 2021年3月5日), for every stage."""

from __future__ import annotations

import datetime as dt
import re

DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def find_date(text: str | None) -> dt.date | None:
    """The first valid date in ``text``; None when there is none (or it is impossible, 2021-02-30)."""
    m = DATE.search(text or "")
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
