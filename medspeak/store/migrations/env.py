"""Alembic environment: runs on the engine the Store hands over, or on the settings' URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from medspeak.config import load_settings
from medspeak.store.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    return engine if engine is not None else create_engine(load_settings().sqlalchemy_url, hide_parameters=True)


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
