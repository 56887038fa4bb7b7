"""The API fixtures (app, client, login per role, a seeded patient) for the reliability tests."""

from tests.api.conftest import app, client, login, seeded

__all__ = ["app", "client", "login", "seeded"]
