"""HTTP hardening: security headers on every response, CSRF and origin checks, client addresses."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "houqin_session"
LOGIN_CSRF_COOKIE = "houqin_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: No inline scripts or styles anywhere; every asset comes from this server.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware adding the security headers (and no-store for pages with personal data)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``send`` to add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for k, v in HEADERS:
                    if k not in present:
                        headers.append((k, v))
                if not is_static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts or scope.get("scheme") == "https":
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_address(request: Request) -> str:
    """The client's IP (uvicorn already applied X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else ""


def same_origin(request: Request, trust_forwarded_host: bool = False) -> bool:
    """False when the request carries an Origin (or Referer) of another site.

    Behind a trusted reverse proxy that rewrites ``Host``, its ``X-Forwarded-Host`` also counts.
    """
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return True  # old browsers and curl; the CSRF token still has to match
        origin = referer
    if origin == "null":
        return False
    netloc = urlsplit(origin).netloc
    if netloc == request.headers.get("host", ""):
        return True
    forwarded = request.headers.get("x-forwarded-host")
    return bool(trust_forwarded_host and forwarded and netloc == forwarded.split(",")[0].strip())


async def submitted_csrf(request: Request) -> str:
    """The CSRF token sent in the header, or in an urlencoded form body."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        form = await form_fields(request)
        return form.get(CSRF_FIELD, "")
    return ""


async def form_fields(request: Request) -> dict[str, str]:
    """An urlencoded form body as a dict (first value of each field); the body is cached by Starlette."""
    body = await request.body()
    if len(body) > 64 * 1024:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=50)
    return {k: v[0] for k, v in parsed.items()}


def tokens_match(expected: str, given: Iterable[str] | str) -> bool:
    """Constant-time comparison of a CSRF token."""
    if isinstance(given, str):
        given = (given,)
    return any(bool(expected) and hmac.compare_digest(expected.encode(), g.encode()) for g in given)
