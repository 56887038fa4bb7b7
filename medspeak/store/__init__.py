"""The store: tables, transactions, migrations, original files and the audit trail."""

from medspeak.store.db import Store, get_store, reset_stores

__all__ = ["Store", "get_store", "reset_stores"]
