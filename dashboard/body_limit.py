"""Request bodies bounded while they are read: an ASGI middleware answering 413 past a route's limit.

Starlette reads a body whole before a handler sees it, so a check in the handler comes too late: one
300 MB POST to the public login form would sit in memory first. This middleware refuses a declared
``Content-Length`` over the limit before reading a byte, and counts the bytes of a streamed (chunked)
body as they arrive, stopping at the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Forms and small JSON bodies (a login, a visitor's registration, a note).
DEFAULT_LIMIT = 64 * 1024

_DETAIL = "request body too large"


class BodyTooLarge(HTTPException):
    """The body went past the route's limit (an HTTPException so FastAPI's body parsing passes it on)."""

    def __init__(self) -> None:
        super().__init__(413, _DETAIL)


class BodyLimit:
    """ASGI middleware bounding every HTTP request body: ``limits`` maps path prefixes to larger bounds."""

    def __init__(self, app: ASGIApp, default: int = DEFAULT_LIMIT, limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.limits = dict(limits or {})

    def limit_for(self, path: str) -> int:
        """The bound for ``path``: the longest matching prefix in ``limits``, else the default."""
        best, length = self.default, -1
        for prefix, limit in self.limits.items():
            if path.startswith(prefix) and len(prefix) > length:
                best, length = limit, len(prefix)
        return best

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared length over the limit at once; count a streamed one while it is read."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send) -> None:
    """A 413 that closes the connection (the rest of the body is never read)."""
    body = b'{"detail":"' + _DETAIL.encode() + b'"}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
