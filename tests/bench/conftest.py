"""The API fixtures (app on the test store, client, login), for the bench's check of its triage bodies."""

from tests.api.conftest import app, client, login  # noqa: F401 - fixtures, used by name
