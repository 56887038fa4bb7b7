"""The REST API over the same services as the pages (FastAPI); see ``create_app`` and ``serve``.

``app`` is the ASGI application for the usual ``uvicorn medspeak.api:app`` (built on the server's first event,
not at import); ``python -m medspeak.api`` is the documented way to serve it (several processes, balanced).
"""

from medspeak.api.app import FirstUseApp, create_app, serve

app = FirstUseApp()  # replaces the ``app`` submodule's attribute here: import the submodule by its full name

__all__ = ["app", "create_app", "serve"]
