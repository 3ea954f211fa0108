"""Where ``QDP_DATA_DIR`` lives: a local folder or an object store, behind one small API.

``QDP_DATA_DIR`` is a path (``/srv/qdp``, ``data``) or an fsspec URL (``s3://bucket/prefix``,
``gs://…``, ``memory://…`` in tests). With CeleryExecutor the crawl, parse, validate and load tasks
of one run may execute on different hosts; an object store is then the landing zone and the
staging area they share. Everything that reads or writes under the data directory goes through a
``Location``: the landing zone, the crawler's channel state and robots.txt cache, the staging files,
the offline Data Docs and the HTML reports.

What differs between the two kinds, and why:

- Atomic writes. A local file is written to a temporary name beside it and renamed into place, so a
  reader never sees half a file. On S3 one PUT is atomic (an object appears whole or not at all), so
  a remote object is written with a single ``pipe`` and no rename (S3 has none).
- Appends. S3 has no append; the landing manifest writes whole segment objects instead (see
  ``etl.crawl.landing``). Nothing else appends.
- Directories. Object stores have none: ``mkdir`` is a no-op there, and listing is by prefix.
- Listings are read fresh (the fsspec listing cache is dropped first): another host may have added
  objects since this process last looked.

Connection settings are the store's own: for S3, botocore's standard ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` (MinIO, moto) and ``AWS_DEFAULT_REGION``, so the
same variables serve the AWS CLI, ``mc`` and this code; ``QDP_STORAGE_OPTIONS`` (JSON) passes
anything else to the fsspec filesystem (for example ``{"client_kwargs": {"verify": false}}``).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

LOCAL_PROTOCOLS = ("file", "local")


def is_url(value: object) -> bool:
    """True for ``scheme://…`` strings (any fsspec protocol, ``file://`` included)."""
    return isinstance(value, str) and "://" in value and not value.startswith("/")


def split_url(url: str) -> tuple[str, str]:
    """``(protocol, path)`` of an fsspec URL; the path keeps the bucket, loses trailing slashes."""
    protocol, _, rest = url.partition("://")
    return protocol.lower(), rest.rstrip("/")


def _filesystem(protocol: str, options: Mapping[str, Any] | None):
    import fsspec

    opts = dict(options or {})
    if protocol in ("s3", "s3a") and "endpoint_url" not in opts and os.environ.get("AWS_ENDPOINT_URL"):
        # botocore reads AWS_ENDPOINT_URL itself only from 1.31 on; say it explicitly (MinIO, moto).
        opts["endpoint_url"] = os.environ["AWS_ENDPOINT_URL"]
    return fsspec.filesystem(protocol, **opts)


class Location:
    """A file or folder under the data directory: a local path or an object in a store.

    Immutable; ``loc / "name"`` makes a child. Local locations use the OS directly (atomic
    renames, fsync); remote ones use the fsspec filesystem of their protocol.
    """

    __slots__ = ("_fs", "options", "path", "protocol")

    def __init__(self, protocol: str, path: str, options: Mapping[str, Any] | None = None, _fs: Any = None):
        self.protocol = protocol
        self.path = path
        self.options = dict(options or {})
        self._fs = _fs

    # ----------------------------------------------------------------- construction
    @classmethod
    def of(cls, value: Location | os.PathLike[str] | str, options: Mapping[str, Any] | None = None) -> Location:
        """A Location for a path, a ``file://`` URL or any other fsspec URL."""
        if isinstance(value, Location):
            return value
        if is_url(value):
            protocol, path = split_url(str(value))
            if protocol in LOCAL_PROTOCOLS:
                return cls("file", os.path.abspath("/" + path.lstrip("/")))
            return cls(protocol, path, options)
        return cls("file", os.path.abspath(os.path.expanduser(os.fspath(value))))

    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    @property
    def fs(self):
        if self._fs is None:
            self._fs = _filesystem(self.protocol, self.options)
        return self._fs

    @property
    def local_path(self) -> Path:
        if not self.is_local:
            raise ValueError(f"{self} is not on the local disk")
        return Path(self.path)

    @property
    def url(self) -> str:
        return self.path if self.is_local else f"{self.protocol}://{self.path}"

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"Location({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and (self.protocol, self.path) == (other.protocol, other.path)

    def __hash__(self) -> int:
        return hash((self.protocol, self.path))

    def __truediv__(self, name: str) -> Location:
        path = posixpath.join(self.path, str(name)) if not self.is_local else os.path.join(self.path, str(name))
        return Location(self.protocol, path, self.options, self._fs)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.name)[0]

    @property
    def parent(self) -> Location:
        return Location(self.protocol, posixpath.dirname(self.path), self.options, self._fs)

    # ----------------------------------------------------------------- reading
    def exists(self) -> bool:
        if self.is_local:
            return os.path.exists(self.path)
        return bool(self.fs.exists(self.path))

    def is_file(self) -> bool:
        if self.is_local:
            return os.path.isfile(self.path)
        return bool(self.fs.isfile(self.path))

    def read_bytes(self) -> bytes:
        """The bytes stored here; ``FileNotFoundError`` when there are none."""
        if self.is_local:
            return Path(self.path).read_bytes()
        return self.fs.cat_file(self.path)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def mtime(self) -> float:
        """Last modification as a POSIX timestamp; ``FileNotFoundError`` when absent."""
        if self.is_local:
            return os.stat(self.path).st_mtime
        return self.fs.modified(self.path).timestamp()

    def glob(self, pattern: str) -> list[Location]:
        """Files and folders under this folder matching ``pattern`` (``*`` within one level), sorted."""
        if self.is_local:
            return [Location("file", str(p)) for p in sorted(Path(self.path).glob(pattern))]
        self.fs.invalidate_cache(self.path)  # another host may have written since we last listed
        found = self.fs.glob(posixpath.join(self.path, pattern))
        return [Location(self.protocol, p.rstrip("/"), self.options, self._fs) for p in sorted(found)]

    def iterdir(self) -> Iterator[Location]:
        return iter(self.glob("*"))

    # ----------------------------------------------------------------- writing
    def mkdir(self) -> None:
        """Create the folder (and parents) on local disk; object stores have no folders."""
        if self.is_local:
            os.makedirs(self.path, exist_ok=True)

    def write_bytes(self, data: bytes, *, fsync: bool = False) -> None:
        """Store ``data`` here atomically: a reader sees the old content or the new, never half."""
        if not self.is_local:
            self.fs.pipe_file(self.path, data)  # one PUT: an object appears whole or not at all
            return
        with self.open_write() as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())

    @contextlib.contextmanager
    def open_write(self) -> Iterator[BinaryIO]:
        """A binary file to stream into; it appears here whole when the block ends without error,
        and nothing appears (the old content stays) if the block raises. Locally: a temp file
        beside the target, renamed into place. Remotely: a temp file in ``TMPDIR``, uploaded
        when complete (S3 shows an upload only once it is complete) and then removed."""
        if not self.is_local:
            with tempfile.NamedTemporaryFile(prefix="qdp-upload-", suffix=".tmp") as fh:
                yield fh
                fh.flush()
                self.fs.put_file(fh.name, self.path)
            return
        folder = os.path.dirname(self.path)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.name[:40]}-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open_read(self) -> BinaryIO:
        """A binary file to stream from; ``FileNotFoundError`` when there is none."""
        if self.is_local:
            return open(self.path, "rb")
        return self.fs.open(self.path, "rb")

    def write_text(self, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(text.encode(encoding))

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            if self.is_local:
                os.unlink(self.path)
            else:
                self.fs.rm_file(self.path)
        except FileNotFoundError:
            if not missing_ok:
                raise

    def upload_tree(self, local_dir: os.PathLike[str] | str) -> int:
        """Copy every file under the local folder ``local_dir`` here, keeping relative paths, except
        files already here with the same size (static assets copied by an earlier run). Returns
        the number of files copied."""
        base = Path(local_dir)
        present: dict[str, int] = {}
        if not self.is_local:
            self.fs.invalidate_cache(self.path)
            found = self.fs.find(self.path, detail=True) if self.fs.exists(self.path) else {}
            present = {self.fs._strip_protocol(p): int(i.get("size") or 0) for p, i in found.items()}
        n = 0
        for src in sorted(p for p in base.rglob("*") if p.is_file()):
            target = self
            for part in src.relative_to(base).parts:
                target = target / part
            if present.get(self.fs._strip_protocol(target.path) if present else "") == src.stat().st_size:
                continue
            target.write_bytes(src.read_bytes())
            n += 1
        return n


def read_many(locations: list[Location]) -> dict[Location, bytes]:
    """The bytes of several files at once: object stores fetch them concurrently (fsspec's batched
    ``cat``), local files are read one by one. Files missing by the time they are read are left out."""
    out: dict[Location, bytes] = {}
    remote: dict[tuple[str, int], list[Location]] = {}
    for loc in locations:
        if loc.is_local:
            with contextlib.suppress(FileNotFoundError):
                out[loc] = loc.read_bytes()
        else:
            remote.setdefault((loc.protocol, id(loc.fs)), []).append(loc)
    for group in remote.values():
        fs = group[0].fs
        by_path = {fs._strip_protocol(loc.path): loc for loc in group}  # the form fsspec answers in
        for path, data in fs.cat(list(by_path), on_error="omit").items():
            loc = by_path.get(fs._strip_protocol(path))
            if loc is not None and isinstance(data, bytes):
                out[loc] = data
    return out


def location(value: Location | os.PathLike[str] | str, options: Mapping[str, Any] | None = None) -> Location:
    """Shorthand for ``Location.of``."""
    return Location.of(value, options)
