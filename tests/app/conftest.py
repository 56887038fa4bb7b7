"""AppTest fixtures: the real app script against a temporary store with one user per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.services.context import AppContext
from medspeak.store.db import Store
from tests.conftest import PASSWORD

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(params=["sqlite"])  # page tests need one backend; the services run on both
def ctx(request: pytest.FixtureRequest, ctx: AppContext) -> AppContext:
    return ctx


@pytest.fixture(autouse=True)
def _close_the_apps_contexts() -> Iterator[None]:
    """The pages build their own context (``components.runtime``): closed after each test, its readers finished."""
    yield
    from components import runtime

    runtime.close()


@pytest.fixture
def app(store: Store, actors: dict[str, Actor]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    return at


@pytest.fixture
def login(app: AppTest) -> Callable[[str, str], AppTest]:
    def _login(username: str, password: str = PASSWORD) -> AppTest:
        app.text_input(key="auth.username").input(username)
        app.text_input(key="auth.password").input(password)
        app.button[0].click()
        return app.run()

    return _login
