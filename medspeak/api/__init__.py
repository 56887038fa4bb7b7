"""The REST API over the same services as the pages (FastAPI); see ``create_app`` and ``serve``."""

from medspeak.api.app import create_app, serve

__all__ = ["create_app", "serve"]
