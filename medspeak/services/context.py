"""One application context: the settings, the store, the reading runner and the models of one app, API or command.

The Streamlit app (``components.runtime``), the API (``medspeak.api.app``) and the CLI each build one context
when they start and hand it to the services; a test builds its own. Nothing here is a process-wide registry:
two contexts share no store, runner or model, so a test, a worker or an embedding program never sees another's
state, and closing a context stops its readers and frees its connections.

A service takes the context when it needs more than the database (a model, or the runner that reads uploaded
documents): ``triage.assess``, ``stays.predict_stay``, ``beds.forecast_occupancy``, ``documents.upload``,
``samples.upload_sample``, ``demo.reset``, the archive indexer and the rationale. The others take
``ctx.store``: the database is all they use.

The data files the code reads (lexicons, rules, catalogues) are cached where they are read: they are constants
of the installed package, not state.
"""

from __future__ import annotations

import threading

from medspeak.config import Settings, load_settings
from medspeak.services.models import Models
from medspeak.services.reading import Runner, new_runner
from medspeak.store.db import Store

__all__ = ["AppContext", "Models"]


class AppContext:
    """What one running app, API or command works with; see the module's text."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        """A context over ``settings``; ``store``: an open store to share (its owner disposes it), else its own."""
        self.settings = settings
        self._owns_store = store is None
        self.store = store if store is not None else Store(settings)
        self.models = Models(settings)
        self._runner: Runner | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings | None = None, *, migrate: bool = False) -> AppContext:
        """A context over the environment's settings (or ``settings``); ``migrate`` creates or upgrades the schema.

        Raises:
            pydantic.ValidationError: the configuration is refused.
            StoreUnavailable: ``migrate`` and the database cannot be reached or upgraded.
        """
        ctx = cls(settings if settings is not None else load_settings())
        if migrate:
            ctx.store.migrate()
        return ctx

    def use_runner(self, runner: Runner) -> None:
        """Read uploaded documents with ``runner`` instead (tests; a program embedding medspeak); before first use."""
        with self._lock:
            if self._runner is not None:
                raise RuntimeError("This context's runner has started: give another one before the first upload.")
            self._runner = runner

    @property
    def runner(self) -> Runner:
        """Where uploaded documents go to be read: threads here, or the task engine with ``MEDSPEAK_QUEUE_URL``.

        Started on first use, which resumes the jobs a previous process left.
        """
        with self._lock:
            if self._runner is None:
                self._runner = new_runner(self.store, self.models)
                self._runner.resume_pending()
            return self._runner

    def close(self) -> None:
        """Stop the readers (waiting for the documents in progress), close the model connections and its own store."""
        with self._lock:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.shutdown()
        self.models.close()
        if self._owns_store:
            self.store.dispose()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
