"""Issue 19, low finding: the session cookie is Secure whenever the app is reached over HTTPS.

Before: it never was, so a page ever loaded over plain HTTP (a redirect, a mistyped URL) sent it in clear.
It stays readable by the page's scripts: the cookie component writes it from the browser (documented).
"""

from __future__ import annotations

import pytest

from components.session_cookie import served_over_https


@pytest.mark.parametrize(
    ("url", "headers", "secure"),
    [
        ("https://medspeak.hospital.example/", {}, True),
        ("http://127.0.0.1:8501/", {"X-Forwarded-Proto": "https"}, True),  # behind a TLS proxy
        ("http://127.0.0.1:8501/", {}, False),  # loopback, no TLS: a Secure cookie would not be kept
        (None, {}, False),
    ],
)
def test_the_cookie_is_secure_over_https(url: str | None, headers: dict[str, str], secure: bool) -> None:
    assert served_over_https(url, headers) is secure
