"""Reproducible fault injection for the sample site.

Whether the n-th request for a path fails, and how, is a pure function of (seed, path, n): the
same seed gives the same fault sequence on every run, and a retry of a path (n+1) is decided
afresh, so a client that retries eventually gets through.
"""

from __future__ import annotations

import hashlib
import threading

FAULT_KINDS: tuple[str, ...] = ("500", "503", "429", "slow", "reset", "truncate", "wrong_charset")


def decide(seed: int, path: str, n: int, rate: float) -> str | None:
    """The fault for the ``n``-th (0-based) request of ``path``, or None for a clean response."""
    if rate <= 0:
        return None
    digest = hashlib.sha256(f"{seed}\x00{path}\x00{n}".encode()).digest()
    roll = int.from_bytes(digest[:8], "big") / 2**64
    if roll >= rate:
        return None
    return FAULT_KINDS[int.from_bytes(digest[8:12], "big") % len(FAULT_KINDS)]


class FaultPlan:
    """Counts requests per path and decides each one's fault (thread-safe)."""

    def __init__(self, rate: float = 0.0, seed: int = 0):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {rate}")
        self.rate = rate
        self.seed = seed
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, path: str) -> str | None:
        with self._lock:
            n = self._seen.get(path, 0)
            self._seen[path] = n + 1
        return decide(self.seed, path, n, self.rate)

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
