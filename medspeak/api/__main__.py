"""``python -m medspeak.api [--host H] [--port P]``: serve the API with uvicorn (127.0.0.1:8000 by default)."""

from __future__ import annotations

import argparse

from medspeak.api.app import DEFAULT_HOST, DEFAULT_PORT, serve


def main(argv: list[str] | None = None) -> None:
    """Parse the host and port, then serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m medspeak.api", description="Serve the medspeak REST API.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (loopback by default)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
