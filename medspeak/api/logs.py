"""Server logs without patient data: the access log keeps the path, never the query string.

A query carries what was searched (``GET /patients?q=Moreau``): a patient's name. Route paths hold
ids only, so the path alone is safe to log. The filter rewrites uvicorn's access-log record in place.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Final

from uvicorn.config import LOGGING_CONFIG

from medspeak.errors import ScrubTracebacks

__all__ = ["DropQueryString", "log_config"]

_PATH_ARG: Final = 2  # uvicorn: (client_addr, method, path_with_query, http_version, status)


class DropQueryString(logging.Filter):
    """Cut ``?...`` from the request path of access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG and isinstance(args[_PATH_ARG], str):
            path = args[_PATH_ARG]
            if "?" in path:
                record.args = (*args[:_PATH_ARG], path.split("?", 1)[0] + "?[query omitted]", *args[_PATH_ARG + 1 :])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the access log's query strings dropped."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query"] = {"()": DropQueryString}
    config["filters"]["scrub"] = {"()": ScrubTracebacks}  # Starlette re-raises a 500's exception to uvicorn
    config["handlers"]["access"]["filters"] = ["drop_query", "scrub"]
    config["handlers"]["default"]["filters"] = ["scrub"]
    return config
