"""``python -m medspeak.api [--host H] [--port P] [--workers N]``: serve the API with uvicorn (127.0.0.1:8000)."""

from __future__ import annotations

import argparse

from medspeak.api.app import DEFAULT_HOST, DEFAULT_PORT, serve


def main(argv: list[str] | None = None) -> None:
    """Parse the host, port and process count, then serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m medspeak.api", description="Serve the medspeak REST API.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (loopback by default)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--workers", type=int, default=None, help="server processes (default: MEDSPEAK_API_WORKERS, else one a core)"
    )
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be 1 or more")
    try:
        serve(args.host, args.port, args.workers)
    except ValueError as exc:  # settings refused: no key, or the public default outside development mode
        parser.exit(2, f"error: {exc}\n")


if __name__ == "__main__":
    main()
