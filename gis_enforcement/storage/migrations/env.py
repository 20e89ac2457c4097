"""Alembic environment: runs on a connection handed in by ``storage.migrate`` or on ``sqlalchemy.url``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from gis_enforcement.errors import NotConfigured
from gis_enforcement.storage.tables import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise NotConfigured("no database to migrate: hand a connection in (storage.migrate.upgrade) or set "
                            "sqlalchemy.url (storage.migrate.alembic_config(url))", field="sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
