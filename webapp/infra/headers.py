"""Security headers on every response, and the per-response nonce that inline scripts carry."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

_NONCE_BYTES = 18


def csp_nonce() -> str:
    """This response's nonce (made on first use): put it on every inline script and style."""
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = secrets.token_urlsafe(_NONCE_BYTES)
        g.csp_nonce = nonce
    return nonce


def content_security_policy(nonce: str | None, *, img_sources: tuple[str, ...] = ()) -> str:
    """Same origin only: no third-party origin, no inline code without this response's nonce.

    `img_sources`: origins a page may load images from besides its own (a configured basemap).
    """
    inline = f" 'nonce-{nonce}'" if nonce else ""
    directives = {
        "default-src": "'none'",
        "script-src": f"'self'{inline}",
        "style-src": f"'self'{inline}",
        "img-src": " ".join(("'self'", *img_sources)),
        "font-src": "'self'",
        "connect-src": "'self'",
        "manifest-src": "'self'",
        "worker-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        g.get("csp_nonce"), img_sources=g.get("csp_img_sources", ())
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.endpoint != "static":
        # Pages and API answers describe the town as it is now, and the page's nonce is
        # single-use: neither may be replayed from a cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_security_headers)
