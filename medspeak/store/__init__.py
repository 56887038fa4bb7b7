"""The store: tables, transactions, migrations, original files and the audit trail."""

from medspeak.store.db import Store

__all__ = ["Store"]
