"""One settings object for every stage, read from ``QDP_*`` environment variables.

Inside Airflow the connections ``qdp_site`` and ``qdp_warehouse`` may supply the site URL and the
warehouse URL instead (see ``Settings.from_airflow``); everything else stays an environment
variable so that ``qdp run``, the DAGs and docker-compose share one vocabulary.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .storage import Location

LIVE_HOST = "www.qingdao.gov.cn"
LIVE_SITE_URL = f"https://{LIVE_HOST}"
USER_AGENT = "qingdao-plans/0.1 (+https://github.com/qingdao-plans/qingdao-plans; open-data ETL)"

# Every variable the code reads. docker-compose and the docs are checked against this list.
ENV_VARS: dict[str, str] = {
    "QDP_SITE_URL": "Base URL of the site to crawl (default: the live site).",
    "QDP_DATA_DIR": ("Landing zone, staging files, Data Docs, reports and the default SQLite warehouse: a path, "
                     "or an object-storage URL such as s3://bucket/prefix shared by workers on several hosts."),
    "QDP_STORAGE_OPTIONS": ("JSON object of extra fsspec options for an object-storage QDP_DATA_DIR "
                            "(credentials and endpoint normally come from AWS_* variables)."),
    "QDP_WAREHOUSE_URL": "SQLAlchemy URL of the warehouse (default: SQLite under QDP_DATA_DIR).",
    "QDP_EXPECTATIONS_DIR": "Folder of the Great Expectations suites (default: expectations/ of the source tree).",
    "QDP_CHANNELS_FILE": "YAML file listing the channels to watch (default: the packaged one).",
    "QDP_ALLOWED_HOSTS": "Comma-separated extra hosts the crawler may follow links to.",
    "QDP_RATE_LIMIT": "Requests per second per host; 0 disables the limit (default 1).",
    "QDP_MAX_PAGES": "List pages per channel read at most in one crawl (default 50).",
    "QDP_TIMEOUT": "Read timeout in seconds for one HTTP request (default 20).",
    "QDP_CONNECT_TIMEOUT": "Connect timeout in seconds (default 5).",
    "QDP_RETRIES": "Retries per request on connection errors, 5xx and 429 (default 5).",
    "QDP_MAX_BODY_BYTES": "Largest body accepted from the site (default 5 MB).",
    "QDP_ATTACHMENT_MAX_BYTES": "Largest attachment (PDF, Word, OFD) fetched from a notice page (default 20 MB).",
    "QDP_RESPECT_ROBOTS": "Honour robots.txt (default true).",
    "QDP_REQUEST_DEADLINE": "Total seconds one HTTP request may take: connect, headers and body (default 60).",
    "QDP_RETRY_BACKOFF": "Seconds before a failed or rejected notice is retried, doubling per attempt (default 300).",
    "QDP_FOLDER_RECHECK_HOURS": "Folder lists (smhd years): hours after which a department sub-folder whose entry "
                                "on the year page shows no date is re-read on a watch run (default 24; 0: every run).",
    "QDP_PAGE_SIGNATURES": "YAML file of page signatures for the acceptance gate (default: the packaged one).",
    "QDP_TASK_RETRIES": "Retries of each Airflow task (default 2; read when the DAG file is parsed).",
    "QDP_ALERT_URLS": "Apprise URLs that receive new-notice alerts, space or comma separated.",
    "QDP_LIBRARY_LOG_LEVEL": "Log level of chatty libraries such as Great Expectations (default WARNING).",
    "QDP_ALERT_DOC_TYPES": "Comma-separated doc types that trigger alerts to QDP_ALERT_URLS (default: all).",
    "QDP_SUBSCRIPTIONS_FILE": "YAML rules: which destinations hear about which departments, doc types, keywords.",
    "QDP_OPS_ALERT_URLS": "Apprise URLs of the engineers: one failure message per failed or degraded run.",
    "QDP_ALERT_MAX_NOTICES": "Notices listed in one alert message; the rest are counted (default 20).",
    "QDP_ALERT_MAX_AGE_HOURS": "An undelivered alert older than this is marked expired (default 72).",
    "QDP_ALERT_RETRY_SECONDS": "First retry delay of a failed delivery, doubled per attempt (default 300).",
    "QDP_STATSD_HOST": "StatsD host that receives the pipeline's counts per run (default: none, no metrics sent).",
    "QDP_STATSD_PORT": "UDP port of QDP_STATSD_HOST (default 8125; the compose stack's exporter listens on 9125).",
    "QDP_STATSD_PREFIX": "Prefix of the pipeline's metric names (default qdp).",
    "QDP_ALERT_BASELINE": "first-load (default): a channel's first load is recorded, not announced; off: announce it.",
}


def absolute_path(value: str | os.PathLike[str]) -> Path:
    """``value`` as an absolute, normalised path (``~`` expanded; symlinks kept as given).

    Paths are fixed when settings are read, so a relative ``QDP_DATA_DIR`` means the same folder
    in every stage and library that receives it (Great Expectations rejects relative folders).
    """
    return Path(os.path.abspath(os.path.expanduser(os.fspath(value))))


_SECRET_KEY = re.compile(r"secret|password|token|key|credential", re.IGNORECASE)


def mask_options(options: Mapping[str, object]) -> dict[str, object]:
    """Storage options safe to print: values under secret-looking keys replaced by ``***``."""
    return {k: ("***" if _SECRET_KEY.search(str(k)) and v else
                mask_options(v) if isinstance(v, Mapping) else v) for k, v in options.items()}


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for logs and output.

    SQLAlchemy URLs go through ``render_as_string(hide_password=True)``; anything else that looks
    like ``scheme://user:secret@host`` (Apprise, HTTP) has the part after the colon masked.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^/:@\s]*:)[^/@\s]+@", r"\1***@", url)


def data_location(value: str | os.PathLike[str] | Location, options: Mapping[str, object] | None = None,
                  ) -> Path | Location:
    """``QDP_DATA_DIR`` as given: an absolute ``Path`` for a path or ``file://`` URL, an
    ``etl.storage.Location`` for an object-storage URL (``s3://bucket/prefix``, ``memory://``)."""
    from .storage import Location, is_url

    if isinstance(value, Location):
        return value.local_path if value.is_local else Location(value.protocol, value.path, options or value.options)
    if is_url(str(value)):
        loc = Location.of(str(value), options)
        return loc.local_path if loc.is_local else loc
    return absolute_path(value)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _split(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.replace(",", " ").split() if p)


@dataclass(frozen=True, slots=True)
class Settings:
    site_url: str = LIVE_SITE_URL
    # A local Path, or an etl.storage.Location for an object-storage URL (s3://bucket/prefix).
    data_dir: Path | Location = field(default_factory=lambda: Path("data"))
    warehouse_url_override: str | None = None
    channels_file: Path | None = None
    allowed_hosts: tuple[str, ...] = ()
    rate_limit: float = 1.0
    max_list_pages: int = 50
    timeout: float = 20.0
    connect_timeout: float = 5.0
    retries: int = 5
    max_body_bytes: int = 5 * 1024 * 1024
    attachment_max_bytes: int = 20 * 1024 * 1024  # scanned PDFs run to megabytes: a cap of their own
    respect_robots: bool = True
    request_deadline: float = 60.0
    retry_backoff: float = 300.0
    folder_recheck_hours: float = 24.0
    page_signatures_file: Path | None = None
    alert_urls: tuple[str, ...] = ()
    alert_doc_types: tuple[str, ...] = ()
    subscriptions_file: Path | None = None
    ops_alert_urls: tuple[str, ...] = ()
    alert_max_notices: int = 20
    alert_max_age_hours: float = 72.0
    alert_retry_seconds: float = 300.0
    alert_baseline: str = "first-load"
    user_agent: str = USER_AGENT
    storage_options: dict[str, object] = field(default_factory=dict, hash=False)
    statsd_host: str | None = None
    statsd_port: int = 8125
    statsd_prefix: str = "qdp"

    def __post_init__(self) -> None:
        # Frozen dataclass: fix the paths once, whatever the caller passed.
        object.__setattr__(self, "data_dir", data_location(self.data_dir, self.storage_options))
        if self.channels_file is not None:
            object.__setattr__(self, "channels_file", absolute_path(self.channels_file))

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={self.masked(f.name)!r}" for f in dataclasses.fields(self))
        return f"Settings({fields})"

    def masked(self, name: str) -> object:
        """The value of setting ``name`` safe to print (URLs with their passwords masked)."""
        value = getattr(self, name)
        if name == "warehouse_url_override" and value:
            return mask_url(value)
        if name in ("alert_urls", "ops_alert_urls"):
            return tuple(mask_url(u) for u in value)
        if name == "storage_options":
            return mask_options(value)
        if name == "data_dir":
            return mask_url(str(value))
        return value

    @property
    def data_is_remote(self) -> bool:
        """True when QDP_DATA_DIR is object storage (not the local disk)."""
        return not isinstance(self.data_dir, Path)

    @property
    def warehouse_url_masked(self) -> str:
        try:
            return mask_url(self.warehouse_url)
        except ValueError as exc:
            return f"(none: {exc})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        unknown = sorted(k for k in env if k.startswith("QDP_") and k not in ENV_VARS and
                         not k.startswith("QDP_TEST_"))
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(ENV_VARS)}")
        kw: dict[str, object] = {}
        if v := env.get("QDP_SITE_URL"):
            kw["site_url"] = v.rstrip("/")
        if v := env.get("QDP_DATA_DIR"):
            kw["data_dir"] = v
        if v := env.get("QDP_STORAGE_OPTIONS"):
            try:
                options = json.loads(v)
            except ValueError as exc:
                raise ValueError(f"QDP_STORAGE_OPTIONS is not JSON: {exc}") from None
            if not isinstance(options, dict):
                raise ValueError("QDP_STORAGE_OPTIONS must be a JSON object")
            kw["storage_options"] = options
        if v := env.get("QDP_WAREHOUSE_URL"):
            kw["warehouse_url_override"] = v
        if v := env.get("QDP_CHANNELS_FILE"):
            kw["channels_file"] = Path(v)
        if v := env.get("QDP_ALLOWED_HOSTS"):
            kw["allowed_hosts"] = _split(v)
        if v := env.get("QDP_RATE_LIMIT"):
            kw["rate_limit"] = float(v)
        if v := env.get("QDP_MAX_PAGES"):
            kw["max_list_pages"] = int(v)
        if v := env.get("QDP_TIMEOUT"):
            kw["timeout"] = float(v)
        if v := env.get("QDP_CONNECT_TIMEOUT"):
            kw["connect_timeout"] = float(v)
        if v := env.get("QDP_RETRIES"):
            kw["retries"] = int(v)
        if v := env.get("QDP_MAX_BODY_BYTES"):
            kw["max_body_bytes"] = int(v)
        if v := env.get("QDP_ATTACHMENT_MAX_BYTES"):
            kw["attachment_max_bytes"] = int(v)
        if v := env.get("QDP_RESPECT_ROBOTS"):
            kw["respect_robots"] = _bool(v)
        if v := env.get("QDP_REQUEST_DEADLINE"):
            kw["request_deadline"] = float(v)
        if v := env.get("QDP_RETRY_BACKOFF"):
            kw["retry_backoff"] = float(v)
        if v := env.get("QDP_FOLDER_RECHECK_HOURS"):
            kw["folder_recheck_hours"] = float(v)
        if v := env.get("QDP_PAGE_SIGNATURES"):
            kw["page_signatures_file"] = Path(v)
        if v := env.get("QDP_ALERT_URLS"):
            kw["alert_urls"] = _split(v)
        if v := env.get("QDP_ALERT_DOC_TYPES"):
            kw["alert_doc_types"] = _split(v)
        if v := env.get("QDP_SUBSCRIPTIONS_FILE"):
            kw["subscriptions_file"] = Path(v)
        if v := env.get("QDP_OPS_ALERT_URLS"):
            kw["ops_alert_urls"] = _split(v)
        if v := env.get("QDP_ALERT_MAX_NOTICES"):
            kw["alert_max_notices"] = int(v)
        if v := env.get("QDP_ALERT_MAX_AGE_HOURS"):
            kw["alert_max_age_hours"] = float(v)
        if v := env.get("QDP_ALERT_RETRY_SECONDS"):
            kw["alert_retry_seconds"] = float(v)
        if v := env.get("QDP_STATSD_HOST"):
            kw["statsd_host"] = v
        if v := env.get("QDP_STATSD_PORT"):
            kw["statsd_port"] = int(v)
        if v := env.get("QDP_STATSD_PREFIX"):
            kw["statsd_prefix"] = v
        if v := env.get("QDP_ALERT_BASELINE"):
            if v not in ("first-load", "off"):
                raise ValueError(f"QDP_ALERT_BASELINE must be first-load or off, not {v!r}")
            kw["alert_baseline"] = v
        return cls(**kw)  # type: ignore[arg-type]

    @classmethod
    def from_airflow(cls) -> Settings:
        """Environment settings, with the Airflow connections ``qdp_site``/``qdp_warehouse`` on top.

        A missing connection is normal (the environment variables then apply); only call this
        from inside a running Airflow task.
        """
        settings = cls.from_env()
        from airflow.sdk import Connection  # imported lazily: etl/ must work without Airflow

        updates: dict[str, object] = {}
        for conn_id, attr in (("qdp_site", "site_url"), ("qdp_warehouse", "warehouse_url_override")):
            try:
                conn = Connection.get(conn_id)
            except Exception:  # AirflowNotFoundException and friends: fall back to env
                continue
            uri = conn.host if attr == "site_url" and conn.host and "://" in conn.host else conn.get_uri()
            if attr == "warehouse_url_override":
                # Airflow spells the scheme "postgres"; SQLAlchemy wants "postgresql".
                uri = uri.replace("postgres://", "postgresql://", 1)
            updates[attr] = uri.rstrip("/")
        return dataclasses.replace(settings, **updates) if updates else settings

    # ----------------------------------------------------------------- derived locations
    @property
    def warehouse_url(self) -> str:
        if self.warehouse_url_override:
            return self.warehouse_url_override
        if self.data_is_remote:
            # SQLite needs a local file (and its locks need a local filesystem): no default here.
            raise ValueError(f"QDP_DATA_DIR is object storage ({mask_url(str(self.data_dir))}); "
                             "set QDP_WAREHOUSE_URL, the SQLite default lives on local disk only")
        return f"sqlite:///{self.data_dir / 'warehouse.sqlite'}"

    @property
    def landing_dir(self) -> Path | Location:
        return self.data_dir / "landing"

    @property
    def staging_dir(self) -> Path | Location:
        return self.data_dir / "staging"

    @property
    def data_docs_dir(self) -> Path | Location:
        return self.data_dir / "data_docs"

    @property
    def reports_dir(self) -> Path | Location:
        return self.data_dir / "reports"

    def location(self, *parts: str) -> Location:
        """A file or folder under the data directory as an ``etl.storage.Location`` (local or remote)."""
        from .storage import Location

        loc = Location.of(self.data_dir, self.storage_options)
        for part in parts:
            loc = loc / part
        return loc

    @property
    def site_host(self) -> str:
        """Host that pages under ``site_url`` are attributed to.

        The sample site and mirrors stand in for the live host, so notices are keyed and their
        URLs stored as the live site's; the warehouse does not change with the sample site's port.
        """
        return LIVE_HOST
