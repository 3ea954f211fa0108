"""The raw landing zone: every fetched body stored once, plus a manifest row per fetch.

Layout under the root (``settings.landing_dir``)::

    objects/ab/<sha256>.gz        gzip of a body, named by the sha256 of the *uncompressed* bytes
    manifest/<writer>.jsonl       manifest rows (FetchRecord as JSON), one file per writer
    robots/<host>.txt             cached robots.txt (see etl.crawl)

The root is a local folder or a folder of an object store (``QDP_DATA_DIR=s3://bucket/prefix``,
see ``etl.storage``). Local objects are written to a temporary file in the same directory and
renamed into place, so a reader never sees half an object and two processes storing the same body
race harmlessly; in an object store one PUT is atomic by itself, with the same effect.

Manifest concurrency: each ``LandingZone`` instance appends to its *own* file
(``<host>-<pid>-<random>.jsonl``), and readers merge all files. Several Celery workers crawling
different channels into one landing zone therefore never write to the same file, which stays
correct on network filesystems where ``O_APPEND`` is not atomic (NFS), needs no lock, and
confines a crash's torn last line to that writer's file. Readers skip an undecodable line with a
warning and keep every other row.

Object stores have no append: there a writer buffers its rows and writes them as whole segment
objects, ``manifest/<writer>-<seq>.jsonl`` (every ``REMOTE_FLUSH_ROWS`` rows, after
``REMOTE_FLUSH_SECONDS``, and on ``close``). Readers list and merge them like local files. A crash
loses at most the unflushed rows of that writer; their bodies are stored, and the notices are
simply fetched again by the next crawl (no ETag is known for them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..records import FetchRecord
from ..storage import Location, read_many

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = {f.name for f in dataclasses.fields(FetchRecord)}
REMOTE_FLUSH_ROWS = 100  # object stores: rows per manifest segment at most
REMOTE_FLUSH_SECONDS = 10.0  # ... and the longest a row waits in memory before it is written


class LandingError(RuntimeError):
    """A stored object is missing or does not match its name."""


def _record_to_json(record: FetchRecord, extra: dict[str, Any] | None) -> str:
    row = record.to_dict()
    if extra:
        row.update(extra)
    # One line per row: ensure_ascii keeps it free of any byte that could look like a newline.
    return json.dumps(row, ensure_ascii=True, separators=(",", ":"), sort_keys=True)


def _record_from_row(row: dict[str, Any]) -> FetchRecord:
    kw = {k: v for k, v in row.items() if k in _FIELDS}
    if kw.get("reason") is None and row.get("error"):
        kw["reason"] = row["error"]  # manifests written before FetchRecord.reason existed
    kw["fetched_at"] = dt.datetime.fromisoformat(row["fetched_at"])
    if kw.get("list_date"):
        kw["list_date"] = dt.date.fromisoformat(kw["list_date"])
    kw["notice_id"] = int(kw["notice_id"])
    return FetchRecord(**kw)


class LandingZone:
    """Content-addressed body store and fetch manifest under ``root`` (created on first write).

    ``root``: a local path, or an ``etl.storage.Location`` / fsspec URL of an object-store folder.
    """

    def __init__(self, root: Path | str | Location):
        loc = Location.of(root)
        self._loc = loc
        # Local roots stay Paths (callers use pathlib on them); remote ones are Locations.
        self.root: Path | Location = loc.local_path if loc.is_local else loc
        self.objects_dir = self.root / "objects"
        self.manifest_dir = self.root / "manifest"
        self._writer_path: Path | None = None
        self._writer: Any = None
        self._writer_name: str | None = None
        self._pending: list[str] = []  # remote: rows not yet written as a segment
        self._pending_since = 0.0
        self._segment = 0
        self._stored: set[str] = set()  # objects this instance stored or saw: no second look

    def __repr__(self) -> str:
        return f"LandingZone({str(self.root)!r})"

    @property
    def is_local(self) -> bool:
        return self._loc.is_local

    # ----------------------------------------------------------------- objects
    def object_path(self, sha256: str) -> Path | Location:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.objects_dir / sha256[:2] / f"{sha256}.gz"

    def has(self, sha256: str) -> bool:
        return self.object_path(sha256).is_file()

    def put(self, body: bytes) -> str:
        """Store ``body`` once; return its sha256 hex digest."""
        sha = hashlib.sha256(body).hexdigest()
        path = self.object_path(sha)
        if sha in self._stored or path.is_file():
            self._stored.add(sha)
            return sha
        # mtime=0: the same body always compresses to the same bytes.
        data = gzip.compress(body, compresslevel=6, mtime=0)
        if isinstance(path, Location):
            path.write_bytes(data)  # one PUT: atomic in an object store
            self._stored.add(sha)
            return sha
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{sha[:12]}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stored.add(sha)
        return sha

    def get(self, sha256: str) -> bytes:
        path = self.object_path(sha256)
        try:
            body = gzip.decompress(path.read_bytes())
        except FileNotFoundError:
            raise LandingError(f"landing zone {self.root} has no object {sha256}") from None
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise LandingError(f"landing object {path} is corrupt: {exc}") from exc
        if hashlib.sha256(body).hexdigest() != sha256:
            raise LandingError(f"landing object {path} does not match its sha256 name")
        return body

    # ----------------------------------------------------------------- manifest
    def _new_writer_name(self) -> str:
        host = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"
        return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{host}-{os.getpid()}-{secrets.token_hex(4)}"

    def _open_writer(self) -> Any:
        if self._writer is None or self._writer.closed:
            self.manifest_dir.mkdir(parents=True, exist_ok=True)
            self._writer_path = self.manifest_dir / f"{self._new_writer_name()}.jsonl"
            # "x": a writer never shares a file, not even by accident.
            self._writer = open(self._writer_path, "x", encoding="ascii", buffering=1)  # noqa: SIM115
        return self._writer

    def append(self, record: FetchRecord, **extra: Any) -> None:
        """Add a manifest row (also for 304s, rejections and failures). ``extra`` keys are kept in
        the file for people reading it; ``records()`` returns the FetchRecord."""
        if record.sha256 is not None and record.sha256 not in self._stored and not self.has(record.sha256):
            raise LandingError(f"manifest row for {record.url} names object {record.sha256}, which is not stored")
        line = _record_to_json(record, extra) + "\n"
        if not self.is_local:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(line)
            if (len(self._pending) >= REMOTE_FLUSH_ROWS
                    or time.monotonic() - self._pending_since >= REMOTE_FLUSH_SECONDS):
                self.flush()
            return
        writer = self._open_writer()
        writer.write(line)
        writer.flush()

    def flush(self) -> None:
        """Object stores: write the buffered rows as this writer's next segment (no-op locally,
        where every row is written as it comes)."""
        if self.is_local or not self._pending:
            return
        if self._writer_name is None:
            self._writer_name = self._new_writer_name()
        self._segment += 1
        segment = self.manifest_dir / f"{self._writer_name}-{self._segment:06d}.jsonl"
        segment.write_bytes("".join(self._pending).encode("ascii"))
        self._pending = []

    def close(self) -> None:
        self.flush()
        if self._writer is not None and not self._writer.closed:
            os.fsync(self._writer.fileno())
            self._writer.close()

    def __enter__(self) -> LandingZone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def manifest_files(self) -> list[Path] | list[Location]:
        """Manifest files (local) or segment objects (object store), sorted by name."""
        if isinstance(self.manifest_dir, Location):
            return [p for p in self.manifest_dir.glob("*.jsonl") if p.name.endswith(".jsonl")]
        if not self.manifest_dir.is_dir():
            return []
        return sorted(self.manifest_dir.glob("*.jsonl"))

    def rows(self) -> Iterator[dict[str, Any]]:
        """Raw manifest rows (with their extra keys), file by file.

        A line that is not valid JSON (a torn last line after a crash, or a line another process
        is still writing) is skipped with a warning.
        """
        files = self.manifest_files()
        # Object stores: every segment fetched concurrently (one GET each, not one after another).
        fetched = None if self.is_local else read_many(files)
        for path in files:
            try:
                data = path.read_bytes() if fetched is None else fetched[path]
            except (FileNotFoundError, KeyError):  # removed between listing and reading
                continue
            lines = data.split(b"\n")
            for lineno, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("not an object")
                except ValueError:
                    where = "torn last line" if lineno == len(lines) else "undecodable line"
                    log.warning("landing manifest %s:%d: %s skipped (%d bytes)", path, lineno, where, len(line))
                    continue
                yield row

    def records(self) -> Iterator[FetchRecord]:
        """Every manifest row as a FetchRecord, oldest fetch first."""
        out = []
        for row in self.rows():
            try:
                out.append(_record_from_row(row))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("landing manifest row skipped, not a fetch record (%s): %.200s", exc, row)
        out.sort(key=lambda r: r.fetched_at)
        return iter(out)

    def latest(self) -> dict[tuple[str, int], FetchRecord]:
        """The latest *stored* version (an accepted body) per (host, notice_id). Rejected bodies
        are kept for inspection but are never a version; attachment rows are not page versions."""
        return self.index()[0]

    def index(self) -> tuple[dict[tuple[str, int], FetchRecord], dict[tuple[str, int, str], AttachmentState]]:
        """``latest()`` and ``attachment_index()`` from one read of the manifest (on an object store
        every segment is a GET, so the crawler and the parse stage read it once, not twice)."""
        latest: dict[tuple[str, int], FetchRecord] = {}
        attachments: dict[tuple[str, int, str], AttachmentState] = {}
        for rec in self.records():  # sorted by fetch time: later wins
            if rec.kind == "attachment":
                st = attachments.setdefault((rec.host, rec.notice_id, rec.url), AttachmentState())
                st.last = rec
                if rec.outcome == "stored" and rec.sha256:
                    st.stored = rec
            elif rec.sha256 is not None and rec.outcome == "stored" and rec.kind == "page":
                latest[(rec.host, rec.notice_id)] = rec
        return latest, attachments

    def versions(self, host: str, notice_id: int) -> list[FetchRecord]:
        """Stored versions of a notice, oldest first: the first fetch of each body that differs
        from the one before it (a body that changes back is a version again)."""
        out: list[FetchRecord] = []
        for rec in self.records():
            if (rec.host == host and rec.notice_id == notice_id and rec.sha256 and rec.outcome == "stored"
                    and rec.kind == "page" and (not out or out[-1].sha256 != rec.sha256)):
                out.append(rec)
        return out

    def attachment_index(self) -> dict[tuple[str, int, str], AttachmentState]:
        """What the manifest knows of each attachment, by (host, notice_id of the linking notice, URL)."""
        return self.index()[1]


# HTTP statuses after which an attachment is not waited for: the document is gone, not late.
GONE_STATUSES = frozenset({404, 410})


@dataclasses.dataclass(slots=True)
class AttachmentState:
    """The fetches of one attachment of one notice: its latest accepted body, and its latest fetch."""

    stored: FetchRecord | None = None  # the latest accepted body (kept when a later fetch fails)
    last: FetchRecord | None = None  # the latest fetch of any outcome

    @property
    def resolved(self) -> bool:
        """True when the notice need not wait for this attachment: a body is at hand, or the
        document is gone for good (HTTP 404/410) or refused by policy (robots, size, host)."""
        if self.stored is not None:
            return True
        last = self.last
        return last is not None and (last.outcome == "refused"
                                     or (last.outcome == "failed" and last.http_status in GONE_STATUSES))
