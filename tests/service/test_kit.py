"""The service kit as a client sees it: error shapes, size limits, admin auth, bounded fetching."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path
from typing import ClassVar

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from tsunagu.errors import ProtocolError, TsunaguError
from tsunagu.service.app import build_service_app
from tsunagu.service.auth import AdminKeyDep
from tsunagu.service.http import (
    FetchBadContentType,
    FetchBadStatus,
    FetchTimeout,
    FetchTooLarge,
    FetchUnreachable,
    fetch_bounded,
)
from tsunagu.settings import BaseServiceSettings, load_settings
from wallet.settings import WalletSettings

MASTER_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


class InvalidGrantForTest(ProtocolError):
    code = "test.invalid_grant"
    error = "invalid_grant"


class CoreFailureForTest(TsunaguError):
    code = "test.core_failure"


class MappedWire(ProtocolError):
    code = "test.mapped"
    error = "invalid_proof"
    status_code: ClassVar[int] = 400


class Body(BaseModel):
    count: int


def make_app(tmp_path: Path, **overrides: object) -> FastAPI:
    settings = BaseServiceSettings(
        public_url="http://127.0.0.1:9000",
        database_url=f"sqlite:///{tmp_path}/kit.db",
        master_key=MASTER_KEY,
        admin_api_key="s3cret-admin-key",
        max_body_bytes=1024,
        **overrides,  # type: ignore[arg-type]
    )
    app = build_service_app(
        title="kit", description="", settings=settings, schema=None, core_to_wire={CoreFailureForTest: MappedWire}
    )

    @app.post("/protocol")
    def protocol() -> None:
        raise InvalidGrantForTest("the pre-authorized code was already used")

    @app.post("/core")
    def core() -> None:
        raise CoreFailureForTest("a core check failed")

    @app.post("/validated")
    def validated(body: Body) -> dict[str, int]:
        return {"count": body.count}

    @app.get("/admin")
    def admin(_: AdminKeyDep) -> dict[str, bool]:
        return {"ok": True}

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("boom")

    return app


def client_for(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app, raise_app_exceptions=raise_app_exceptions), base_url="http://kit.test"
    )


@pytest.mark.anyio
async def test_protocol_error_is_the_spec_error_body(tmp_path: Path) -> None:
    async with client_for(make_app(tmp_path)) as client:
        response = await client.post("/protocol")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "the pre-authorized code was already used"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_core_error_is_translated_through_the_services_table(tmp_path: Path) -> None:
    async with client_for(make_app(tmp_path)) as client:
        response = await client.post("/core")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_proof")


@pytest.mark.anyio
@pytest.mark.parametrize("body", [b"{", b'{"count": "many"}', b"[]"])
async def test_malformed_body_is_400_invalid_request_never_422(tmp_path: Path, body: bytes) -> None:
    async with client_for(make_app(tmp_path)) as client:
        response = await client.post("/validated", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.anyio
async def test_oversized_body_is_refused_before_parsing(tmp_path: Path) -> None:
    big = b'{"count": 1, "pad": "' + b"x" * 4096 + b'"}'

    async def chunked() -> object:
        for i in range(0, len(big), 512):
            yield big[i : i + 512]

    async with client_for(make_app(tmp_path)) as client:
        declared = await client.post("/validated", content=big, headers={"content-type": "application/json"})
        streamed = await client.post("/validated", content=chunked(), headers={"content-type": "application/json"})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"] == "invalid_request"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic czNjcmV0LWFkbWluLWtleQ=="}],
    ids=["missing", "wrong-key", "wrong-scheme"],
)
async def test_admin_api_needs_the_key(tmp_path: Path, headers: dict[str, str]) -> None:
    async with client_for(make_app(tmp_path)) as client:
        response = await client.get("/admin", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.anyio
async def test_admin_api_accepts_the_key(tmp_path: Path) -> None:
    async with client_for(make_app(tmp_path)) as client:
        response = await client.get("/admin", headers={"Authorization": "Bearer s3cret-admin-key"})
    assert response.json() == {"ok": True}


@pytest.mark.anyio
async def test_unexpected_failure_is_500_server_error_without_details(tmp_path: Path) -> None:
    async with client_for(make_app(tmp_path), raise_app_exceptions=False) as client:
        response = await client.get("/bug")
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "boom" not in response.text


@pytest.mark.anyio
async def test_unknown_route_is_json_not_found(tmp_path: Path) -> None:
    async with client_for(make_app(tmp_path)) as client:
        response = await client.get("/nowhere")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")


def test_sqlite_database_is_in_wal_mode(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.state.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("public_url", "http://issuer.example.com"),
        ("public_url", "ftp://127.0.0.1"),
        ("master_key", "c2hvcnQ"),
    ],
    ids=["plain-http-off-loopback", "not-http", "short-master-key"],
)
def test_settings_refuse_unsafe_values(tmp_path: Path, field: str, value: str) -> None:
    values = {"public_url": "https://issuer.example.com", "database_url": "sqlite://", "master_key": MASTER_KEY}
    values[field] = value
    with pytest.raises(ValidationError):
        BaseServiceSettings(**values)  # type: ignore[arg-type]


def test_settings_file_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "issuer.toml"
    config.parent.mkdir()
    config.write_text(
        f'public_url = "https://issuer.example.com/"\ndatabase_url = "sqlite://"\nmaster_key = "{MASTER_KEY}"\n'
        'trust_registry_path = "registry.jwt"\ntrust_registry_jwk_path = "registry.jwk"\n'
    )
    settings = load_settings(BaseServiceSettings, config)
    assert settings.public_url == "https://issuer.example.com"
    assert settings.trust_registry_path == tmp_path / "conf" / "registry.jwt"


def test_the_environment_wins_over_the_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/operations.md: a setting in the environment overrides the same setting in the TOML file."""
    config = tmp_path / "wallet.toml"
    config.write_text(f'public_url = "https://wallet.example.com"\ndatabase_url = "sqlite:///in-the-file.db"\n'
                      f'master_key = "{MASTER_KEY}"\nstatus_refresh_seconds = 3600\n')
    monkeypatch.setenv("TSUNAGU_WALLET_DATABASE_URL", "postgresql+psycopg://tsunagu@db.internal/tsunagu_wallet")
    monkeypatch.setenv("TSUNAGU_WALLET_STATUS_REFRESH_SECONDS", "60")
    settings = load_settings(WalletSettings, config)
    assert (settings.database_url, settings.status_refresh_seconds, settings.public_url) == (
        "postgresql+psycopg://tsunagu@db.internal/tsunagu_wallet", 60, "https://wallet.example.com")
    assert load_settings(WalletSettings, config, status_refresh_seconds=0).status_refresh_seconds == 0


# --- bounded fetching -----------------------------------------------------------------------


def remote_app() -> FastAPI:
    app = FastAPI()

    @app.get("/json")
    def json_doc() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/huge")
    def huge() -> Response:
        return Response(b"x" * 10_000, media_type="application/json")

    @app.get("/html")
    def html() -> Response:
        return Response(b"<html>busy</html>", media_type="text/html")

    @app.get("/unavailable")
    def unavailable() -> Response:
        return Response(b"", status_code=503)

    @app.get("/hang")
    async def hang() -> Response:
        await anyio.sleep(30)
        return Response(b"{}")

    return app


@pytest.fixture
def remote() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(remote_app()))


@pytest.mark.anyio
async def test_fetch_returns_the_document(remote: httpx.AsyncClient) -> None:
    doc = await fetch_bounded(remote, "http://remote.test/json", max_bytes=1000, timeout=2)
    assert (doc.status, doc.content_type, doc.body) == (200, "application/json", b'{"ok":"yes"}')


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/huge", FetchTooLarge),
        ("/html", FetchBadContentType),
        ("/unavailable", FetchBadStatus),
        ("/hang", FetchTimeout),
    ],
)
async def test_fetch_refuses(remote: httpx.AsyncClient, path: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        await fetch_bounded(
            remote,
            f"http://remote.test{path}",
            max_bytes=1000,
            timeout=0.5,
            content_types=frozenset({"application/json"}),
        )


@pytest.mark.anyio
async def test_fetch_from_a_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with httpx.AsyncClient() as client:
        with pytest.raises(FetchUnreachable):
            await fetch_bounded(client, f"http://127.0.0.1:{port}/", max_bytes=100, timeout=2)


def test_service_database_on_each_backend_keeps_data(database_url: str) -> None:
    from sqlalchemy import text

    from tsunagu.service.database import create_db_engine

    engine = create_db_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE kit_probe (id INTEGER PRIMARY KEY, note TEXT)"))
        connection.execute(text("INSERT INTO kit_probe (id, note) VALUES (1, 'kept')"))
    engine.dispose()
    again = create_db_engine(database_url)
    with again.connect() as connection:
        assert connection.execute(text("SELECT note FROM kit_probe WHERE id = 1")).scalar() == "kept"
    again.dispose()


@pytest.mark.anyio
async def test_a_periodic_job_keeps_running_after_a_failed_run_and_stops_with_the_app(tmp_path: Path) -> None:
    from asgi_lifespan import LifespanManager

    from tsunagu.service.schedule import install_periodic_job

    app = make_app(tmp_path)
    runs: list[str] = []

    async def job(_app: FastAPI) -> None:
        runs.append("run")
        if len(runs) == 1:
            raise RuntimeError("the database is down")

    install_periodic_job(app, job, interval=0.01, name="test job")
    async with LifespanManager(app):
        with anyio.fail_after(5):
            while len(runs) < 3:
                await anyio.sleep(0.01)
    stopped_at = len(runs)
    await anyio.sleep(0.05)
    assert len(runs) == stopped_at


def test_a_periodic_job_with_interval_zero_is_never_installed(tmp_path: Path) -> None:
    from tsunagu.service.schedule import install_periodic_job

    app = make_app(tmp_path)
    before = app.router.lifespan_context

    async def job(_app: FastAPI) -> None:
        raise AssertionError("must not run")

    install_periodic_job(app, job, interval=0, name="never")
    assert app.router.lifespan_context is before
