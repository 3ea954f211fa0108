"""The warehouse: engine factory, Alembic migrations and the reads/writes other stages share.

``get_engine`` opens SQLite (the embedded default) or PostgreSQL with the settings each needs;
``upgrade``/``downgrade`` run the Alembic migrations in ``migrations/`` programmatically (the
schema is migrated, never recreated); ``current_plan_items``/``replace_item_links`` serve the
year-over-year compare stage.  Table definitions live in ``schema.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..departments import DEPARTMENTS
from ..records import PLAN_DOC_TYPES, ItemLink
from . import schema

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The analyst layer lives at the repository root (sql/), beside the package.
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Frozen view SQL of each migration that creates views: migrations/views/<revision>/<view>.sql.
FROZEN_VIEWS_DIR = MIGRATIONS_DIR / "views"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _sqlite_setup(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the sqlite3 module, open transactions: otherwise reads run outside
        # the transaction and DDL commits implicitly (no atomic migrations).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # readers (analysts) do not block the loader
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL is still crash-safe for commits
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front so a read-then-write batch cannot hit SQLITE_BUSY
        # half way through; plain readers keep a deferred transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("qdp_write") else "BEGIN")


def json_dumps(value: Any) -> str:
    """JSON as stored in the warehouse: Chinese text as characters, not \\u escapes, so that
    ``aliases LIKE '%市教育局%'`` finds what it should."""
    return json.dumps(value, ensure_ascii=False)


def get_engine(url: str | sa.URL) -> Engine:
    """Engine for a warehouse URL (cached per URL). SQLite files get their parent dir created."""
    url_obj = sa.make_url(url)
    key = url_obj.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        if url_obj.get_backend_name() == "sqlite":
            if url_obj.database and url_obj.database != ":memory:":
                Path(url_obj.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url_obj, json_serializer=json_dumps)
            _sqlite_setup(engine)
        else:
            engine = sa.create_engine(url_obj, pool_pre_ping=True, json_serializer=json_dumps)
        _engines[key] = engine
        return engine


def dispose_engine(url: str | sa.URL) -> None:
    """Close and forget a cached engine (tests dropping their schema/database)."""
    key = sa.make_url(url).render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.pop(key, None)
    if engine is not None:
        engine.dispose()


def _as_engine(url_or_engine: str | sa.URL | Engine) -> Engine:
    return url_or_engine if isinstance(url_or_engine, Engine) else get_engine(url_or_engine)


def write_connection(engine: Engine) -> sa.Connection:
    """A connection whose transactions take the write lock at once (SQLite; no-op elsewhere)."""
    return engine.connect().execution_options(qdp_write=True)


# --------------------------------------------------------------------------- migrations


def _alembic_config(connection: sa.Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


@contextlib.contextmanager
def exclusive(url_or_engine: str | sa.URL | Engine, name: str) -> Iterator[None]:
    """Hold the warehouse-wide lock ``name`` (e.g. "migrate", "write") for the block; wait for it.

    PostgreSQL: a session advisory lock keyed by name and schema, on a connection of its own (a
    killed process drops its session, and with it the lock). SQLite: an OS file lock beside the
    database file (released by the kernel when the process dies). In-memory SQLite: no lock.
    """
    engine = _as_engine(url_or_engine)
    if engine.dialect.name == "postgresql":
        key = sa.text("SELECT hashtextextended('qdp:' || :name || ':' || current_schema(), 0)")
        with engine.connect() as conn:
            lock_id = conn.execute(key, {"name": name}).scalar_one()
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_id})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    from filelock import FileLock

    with FileLock(f"{Path(database).expanduser()}.{name}.lock"):
        yield


def _sqlite_foreign_keys(conn: sa.Connection, on: bool) -> None:
    # Table rebuilds (batch migrations) drop and re-create tables other tables refer to: SQLite
    # needs foreign keys off for that, set outside any transaction (a no-op inside one).
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade(url_or_engine: str | sa.URL | Engine, revision: str = "head") -> None:
    """Migrate the warehouse up to ``revision`` (default: the newest), then seed departments.

    Serialised by the "migrate" lock: runs started together wait for the first to migrate.
    """
    from alembic import command

    engine = _as_engine(url_or_engine)
    with exclusive(engine, "migrate"):
        with write_connection(engine) as conn:
            _sqlite_foreign_keys(conn, False)
            try:
                command.upgrade(_alembic_config(conn), revision)
                conn.commit()
                if conn.dialect.name == "sqlite":
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    conn.commit()
                    if broken:
                        raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
            finally:
                _sqlite_foreign_keys(conn, True)
        at = current_revision(engine)
        if at is not None:
            ensure_departments(engine, refresh_curated=True)
        if at == head_revision():  # the dictionary describes the newest schema only
            apply_comments(engine)


def apply_comments(engine: Engine) -> None:
    """``COMMENT ON`` every table, view and column (PostgreSQL), from the data dictionary's source,
    so psql's ``\\d+`` says what ``docs/data-dictionary.md`` says. A no-op on SQLite."""
    if engine.dialect.name != "postgresql":
        return
    from .dictionary import comment_statements

    with engine.begin() as conn:
        for _relation, statement in comment_statements():
            conn.exec_driver_sql(statement.replace("%", "%%"))  # psycopg2 paramstyle


def downgrade(url_or_engine: str | sa.URL | Engine, revision: str) -> None:
    """Migrate the warehouse down to ``revision`` ("base" drops everything)."""
    from alembic import command

    engine = _as_engine(url_or_engine)
    with exclusive(engine, "migrate"), write_connection(engine) as conn:
        _sqlite_foreign_keys(conn, False)
        try:
            command.downgrade(_alembic_config(conn), revision)
            conn.commit()
        finally:
            _sqlite_foreign_keys(conn, True)


def current_revision(url_or_engine: str | sa.URL | Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with _as_engine(url_or_engine).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    return ScriptDirectory.from_config(cfg).get_current_head()


# --------------------------------------------------------------------------- shared writes/reads


def _insert(conn: sa.Connection, table: sa.Table):
    """Dialect insert that supports ON CONFLICT (PostgreSQL and SQLite share the syntax)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"warehouse backend {conn.dialect.name!r} is not supported")
    return insert(table)


def ensure_departments_conn(
    conn: sa.Connection,
    names: Iterable[str],
    *,
    refresh_curated: bool = False,
) -> dict[str, int]:
    """Make sure the curated departments and ``names`` exist; return name -> department_id.

    ``refresh_curated`` also rewrites code and aliases of the curated list (after a migration),
    so adding a department or an alias to etl/departments.py needs no schema migration.
    """
    d = schema.department
    curated = [
        {"name": dep.name, "code": dep.code, "aliases": list(dep.aliases), "is_known": True}
        for dep in DEPARTMENTS
    ]
    known = {dep.name for dep in DEPARTMENTS}
    existing = dict(conn.execute(sa.select(d.c.name, d.c.department_id)).all())
    if refresh_curated:
        stmt = _insert(conn, d)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[d.c.name],
                set_={
                    "code": stmt.excluded.code,
                    "aliases": stmt.excluded.aliases,
                    "is_known": stmt.excluded.is_known,
                },
            ),
            curated,
        )
    missing = [r for r in curated if r["name"] not in existing and not refresh_curated]
    missing += [
        {"name": n, "code": None, "aliases": [], "is_known": False}
        for n in sorted(set(names) - known - set(existing))
        if n
    ]
    if missing:
        # DO NOTHING: a concurrent loader may have added the same name; ids are re-read below.
        conn.execute(_insert(conn, d).on_conflict_do_nothing(), missing)
    if missing or refresh_curated:
        existing = dict(conn.execute(sa.select(d.c.name, d.c.department_id)).all())
    return existing


def ensure_departments(
    engine: Engine,
    names: Iterable[str] = (),
    *,
    refresh_curated: bool = False,
) -> dict[str, int]:
    with write_connection(engine) as conn, conn.begin():
        return ensure_departments_conn(conn, names, refresh_curated=refresh_curated)


def current_plan_items(engine: Engine, *, department: str | None = None) -> list[dict[str, Any]]:
    """Items of the current revision of every plan notice (work_plan / action_plan), with the
    title of their section (the comparer's section prior)."""
    n, i, d, s = schema.notice, schema.plan_item, schema.department, schema.plan_section
    query = (
        sa.select(
            i.c.item_uid,
            n.c.host,
            n.c.notice_id,
            d.c.name.label("department"),
            n.c.plan_year,
            n.c.doc_type,
            n.c.published,
            i.c.section,
            s.c.title.label("section_title"),
            i.c.ordinal,
            i.c.marker,
            i.c.headline,
            i.c.text,
        )
        .select_from(
            i.join(n, n.c.notice_rev_id == i.c.notice_rev_id)
            .outerjoin(d, d.c.department_id == n.c.department_id)
            .outerjoin(s, (s.c.notice_rev_id == i.c.notice_rev_id) & (s.c.section == i.c.section))
        )
        .where(n.c.is_current, n.c.doc_type.in_(sorted(PLAN_DOC_TYPES)))
        .order_by(n.c.host, n.c.notice_id, i.c.section, i.c.ordinal)
    )
    if department is not None:
        query = query.where(d.c.name == department)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        # ISO text: the same value on both backends, and sortable next to "" for missing dates.
        row["published"] = row["published"].isoformat() if row["published"] else None
    return rows


def replace_item_links(
    engine: Engine, links: list[ItemLink], *, computed_at: dt.datetime | None = None
) -> int:
    """Replace every link of each (department, plan_year) present in ``links``, in one transaction."""
    computed_at = computed_at or dt.datetime.now(dt.UTC)
    groups = sorted({(lk.department, lk.plan_year) for lk in links})
    rows = [
        {
            "department": lk.department,
            "plan_year": lk.plan_year,
            "status": lk.status,
            "item_uid": lk.item_uid,
            "previous_item_uid": lk.previous_item_uid,
            "similarity": lk.similarity,
            "computed_at": computed_at,
            "previous_plan_year": lk.previous_plan_year,
            "notice_id": lk.notice_id,
            "previous_notice_id": lk.previous_notice_id,
        }
        for lk in links
    ]
    t = schema.plan_item_link
    with write_connection(engine) as conn, conn.begin():
        ensure_departments_conn(conn, {g[0] for g in groups})
        for dept, year in groups:
            conn.execute(t.delete().where(t.c.department == dept, t.c.plan_year == year))
        if rows:
            conn.execute(t.insert(), rows)
    return len(rows)


# --------------------------------------------------------------------------- analyst SQL


def render_view_sql(template: str, backend: str) -> str:
    """A view file rendered for one backend. View files are Jinja templates whose only variable is
    ``backend`` ("sqlite" or "postgresql"), for the few spots where the dialects differ (arrays,
    durations); everything else is plain SQL both run."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(template).render(backend=backend).strip().rstrip(";")


def view_sql(name: str, backend: str = "sqlite") -> str:
    """``CREATE VIEW`` statement of the current definition of a view, from sql/views/<name>.sql.

    Migrations never call this: each carries its own frozen copy (``frozen_view_sql``), so that
    changing a view file cannot change what an old migration does."""
    return render_view_sql((SQL_DIR / "views" / f"{name}.sql").read_text(encoding="utf-8"), backend)


def frozen_view_sql(revision: str, name: str, backend: str) -> str:
    """``CREATE VIEW`` statement of ``name`` as migration ``revision`` froze it."""
    path = FROZEN_VIEWS_DIR / revision / f"{name}.sql"
    return render_view_sql(path.read_text(encoding="utf-8"), backend)


def _strip_comments(sql: str) -> str:
    # Header comments name the parameters (":since"); text() must not take those for binds.
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()


def saved_query(name: str) -> sa.TextClause:
    """A saved query from sql/queries/<name>.sql; parameters use ``:name`` binds."""
    return sa.text(
        _strip_comments((SQL_DIR / "queries" / f"{name}.sql").read_text(encoding="utf-8")).rstrip(";")
    )


def run_saved_query(engine: Engine, name: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a saved query. Datetime parameters are bound as timestamps so that comparisons
    behave the same on SQLite (text storage) and PostgreSQL."""
    query = saved_query(name)
    typed = []
    for key, value in params.items():
        if isinstance(value, dt.datetime):
            typed.append(sa.bindparam(key, type_=sa.DateTime(timezone=True)))
            params[key] = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        elif isinstance(value, dt.date):
            typed.append(sa.bindparam(key, type_=sa.Date))
    if typed:
        query = query.bindparams(*typed)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query, params)]


__all__ = [
    "SQL_DIR",
    "apply_comments",
    "current_plan_items",
    "current_revision",
    "downgrade",
    "ensure_departments",
    "exclusive",
    "frozen_view_sql",
    "get_engine",
    "head_revision",
    "json_dumps",
    "render_view_sql",
    "replace_item_links",
    "run_saved_query",
    "saved_query",
    "schema",
    "upgrade",
    "view_sql",
]
