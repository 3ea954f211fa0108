"""Alembic environment: runs on the connection ``etl.warehouse.upgrade``/``downgrade`` hand over.

Always online. The warehouse package opens the connection (with its SQLite pragmas and its
transaction) and passes it in ``config.attributes["connection"]``; plain ``alembic`` command-line
use with an ini file naming ``sqlalchemy.url`` opens that URL the same way.
"""

from __future__ import annotations

from alembic import context

from etl.warehouse.schema import metadata


def _run(connection) -> None:
    # transactional_ddl: SQLite and PostgreSQL both roll back a failed migration completely.
    context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from etl.warehouse import get_engine, write_connection

    with write_connection(get_engine(context.config.get_main_option("sqlalchemy.url"))) as conn:
        _run(conn)
        conn.commit()
