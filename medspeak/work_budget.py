"""A time budget for the work on one document, with the user's cancel, checked from inside loops.

Work on user input must end: each loop over a document's facts or words calls :meth:`WorkBudget.check`,
which raises once the budget is spent or a cancel is seen, so a single huge page stops as promptly as a
long document does between pages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

from medspeak.errors import BudgetExceeded, Cancelled
from medspeak.i18n import N_

__all__ = ["WorkBudget"]

_POLL_EVERY_S: Final = 0.5  # how often ``poll`` (a database read) may run; ``check`` itself costs ~0.1 µs


class WorkBudget:
    """``seconds`` of work from now (on ``clock``); ``cancel`` or ``poll()`` returning True stops it too."""

    def __init__(
        self,
        seconds: float,
        *,
        cancel: threading.Event | None = None,
        poll: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.cancel = cancel or threading.Event()
        self._poll = poll
        self._clock = clock
        self._deadline = clock() + seconds
        self._next_poll = clock()

    def check(self) -> None:
        """Raise ``Cancelled`` after a cancel, ``BudgetExceeded`` past the deadline; else return at once."""
        now = self._clock()
        if self._poll is not None and now >= self._next_poll:
            self._next_poll = now + _POLL_EVERY_S
            if self._poll():
                self.cancel.set()
        if self.cancel.is_set():
            raise Cancelled(N_("Cancelled by the user."))
        if now > self._deadline:
            raise BudgetExceeded(
                N_(
                    "Reading stopped: the document took longer than its budget of {seconds:g} s. Its text is "
                    "kept; split it into smaller documents to have its facts extracted."
                ),
                seconds=self.seconds,
            )
