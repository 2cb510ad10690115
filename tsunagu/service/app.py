"""Building a service app: state, limits and the one place where errors become wire responses.

Each service's ``create_app(settings)`` calls :func:`build_service_app` and adds its routers.
Routes raise typed errors; the handlers here translate them once (STYLE.md §2):

* :class:`~tsunagu.errors.ProtocolError` → its own HTTP status and ``{"error", "error_description"}``;
* any other :class:`~tsunagu.errors.TsunaguError` → via the service's ``core_to_wire`` table, else
  400 ``invalid_request``;
* Authlib's ``OAuth2Error`` (token endpoint) → its status, error and headers;
* FastAPI's request validation → 400 ``invalid_request`` (never 422);
* anything else is a bug: logged with its traceback, answered 500 ``server_error``.

Every error response carries ``Cache-Control: no-store`` (RFC 6749 §5.1, OpenID4VCI §8.3.1).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager


import httpx
from authlib.oauth2.base import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ProtocolError, TsunaguError
from ..oid4vci import safe_description
from ..settings import BaseServiceSettings
from .clock import Clock, utc_now
from .database import create_db_engine
from .registry import load_registry
from .schema import ServiceSchema, migrate

__all__ = ["build_service_app", "install_error_handlers", "error_response", "BodySizeLimitMiddleware"]

log = logging.getLogger("tsunagu.service")

_NO_STORE = {"Cache-Control": "no-store"}


def build_service_app(
    *,
    title: str,
    description: str,
    settings: BaseServiceSettings,
    schema: ServiceSchema | None,
    http: httpx.AsyncClient | None = None,
    clock: Clock | None = None,
    core_to_wire: Mapping[type[TsunaguError], type[ProtocolError]] | None = None,
) -> FastAPI:
    """A FastAPI app with settings, engine, clock, outbound client and trust registry in ``app.state``.

    The database is brought to the newest schema here (``schema.migrate``), not at import, so a
    test's ``tmp_path`` database is ready as soon as ``create_app`` returns; ``None`` has no tables.
    An outbound client passed in (a test routing to other apps in the same process) is the caller's
    to close; one made here is closed at shutdown.
    """
    owned_client = http is None
    client = http if http is not None else httpx.AsyncClient(timeout=settings.http_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned_client:
                await client.aclose()
            app.state.engine.dispose()

    app = FastAPI(title=title, description=description, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = create_db_engine(settings.database_url)
    app.state.clock = clock or utc_now
    app.state.http = client
    app.state.registry = load_registry(settings, now=app.state.clock())
    if schema is not None:
        migrated = migrate(app.state.engine, schema)
        if migrated.action != "up_to_date":
            log.info("%s database schema %s: %s -> %s", migrated.service, migrated.action, migrated.before, migrated.after)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_error_handlers(app, core_to_wire=core_to_wire or {})
    return app


def error_response(status: int, error: str, description: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    # RFC 6749 §5.2 allows only printable ASCII without '"' and '\\' in error_description, and a
    # reason may quote attacker-controlled input: clean it here, once, for every service.
    return JSONResponse(
        {"error": error, "error_description": safe_description(description)},
        status_code=status,
        headers={**_NO_STORE, **(headers or {})},
    )


def install_error_handlers(
    app: FastAPI, *, core_to_wire: Mapping[type[TsunaguError], type[ProtocolError]]
) -> None:
    async def on_tsunagu_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TsunaguError)
        wire = exc if isinstance(exc, ProtocolError) else _translate(exc, core_to_wire)
        log.info("%s %s refused: %s (%s)", request.method, request.url.path, exc.code, exc.reason)
        return error_response(wire.status_code, wire.error, wire.reason, wire.headers())

    async def on_oauth2_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OAuth2Error)
        log.info("%s %s refused: oauth2.%s", request.method, request.url.path, exc.error)
        headers = dict(exc.get_headers())
        headers.pop("Content-Type", None)
        return error_response(exc.status_code or 400, exc.error or "invalid_request", exc.description or "", headers)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, "invalid_request", _describe_validation(exc))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        return error_response(exc.status_code, error, str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
        return error_response(500, "server_error", "the service failed unexpectedly; the failure was logged")

    app.add_exception_handler(TsunaguError, on_tsunagu_error)
    app.add_exception_handler(OAuth2Error, on_oauth2_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def _translate(exc: TsunaguError, table: Mapping[type[TsunaguError], type[ProtocolError]]) -> ProtocolError:
    for cls in type(exc).__mro__:
        wire_cls = table.get(cls)
        if wire_cls is not None:
            return wire_cls(exc.reason, **exc.details)
    return ProtocolError(exc.reason, **exc.details)


def _describe_validation(exc: RequestValidationError) -> str:
    # Name the field and the problem, never echo the submitted value (it may be a secret).
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "form"))
        parts.append(f"{location or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is malformed"


class BodySizeLimitMiddleware:
    """Refuse request bodies above ``max_bytes`` with 413, before any parser sees them.

    ``Content-Length`` is checked first; a chunked body is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now, then tell the app the client left: whatever it does next
                    # (a parse error, a disconnect exception) is not sent and not reported.
                    refused = True
                    await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "invalid_request", f"the request body is larger than {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


