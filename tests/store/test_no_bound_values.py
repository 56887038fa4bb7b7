"""Issue 19, finding 5: a database error never carries the statement's bound values.

Before: an error's text held ``[parameters: (...)]``, the values of the failed statement (a chief complaint
naming a relative, vitals, the patient id), and every log or page that showed the error showed them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from medspeak.store.db import Store


def test_a_failed_statement_does_not_quote_its_values(store: Store) -> None:
    secret = "chest pain after a fight with her brother Paul Martin"
    with pytest.raises(StatementError) as info, store.transaction() as db:
        db.execute(text("INSERT INTO no_such_table (complaint) VALUES (:c)"), {"c": secret})
    assert secret not in str(info.value)
    assert "Paul" not in repr(info.value)
