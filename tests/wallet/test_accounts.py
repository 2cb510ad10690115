"""Resident accounts: created by an admin, argon2id passwords, expiring sessions, and the login lock."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from .conftest import PASSWORD, Alone, admin, assert_error, new_resident

pytestmark = pytest.mark.anyio


def _rows(app: Any, sql: str) -> list[dict[str, Any]]:
    with app.state.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


async def test_admin_creates_a_resident_who_logs_in(wallet_only: Alone) -> None:
    client = wallet_only.client
    created = await client.post("/admin/residents", headers=admin("wallet"), json={
        "username": "Mai.Nguyen", "password": PASSWORD, "display_name": "Nguyen Thi Mai", "preferred_language": "ja"})
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("username", "display_name", "preferred_language")} == {
        "username": "mai.nguyen", "display_name": "Nguyen Thi Mai", "preferred_language": "ja"}

    login = await client.post("/session", json={"username": "MAI.nguyen", "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert login.json()["token_type"] == "Bearer" and login.json()["expires_in"] == 3600
    assert login.headers["cache-control"] == "no-store"
    me = await client.get("/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["id"] == created.json()["id"]

    # Stored: an argon2id hash (never the password) and the session token's hash (never the token).
    (row,) = _rows(wallet_only.app, "SELECT password_hash FROM wallet_resident")
    assert row["password_hash"].startswith("$argon2id$") and PASSWORD not in row["password_hash"]
    (session_row,) = _rows(wallet_only.app, "SELECT token_hash FROM wallet_session")
    assert login.json()["access_token"] not in session_row["token_hash"]


@pytest.mark.parametrize(("headers", "body", "status", "error"), [
    ({}, {"username": "mai", "password": PASSWORD, "display_name": "Mai"}, 401, "invalid_token"),
    ({"Authorization": "Bearer not-the-key"}, {"username": "mai", "password": PASSWORD, "display_name": "Mai"},
     401, "invalid_token"),
    (None, {"username": "mai", "password": "short", "display_name": "Mai"}, 400, "invalid_request"),
    (None, {"username": "no spaces", "password": PASSWORD, "display_name": "Mai"}, 400, "invalid_request"),
    (None, {"username": "mai", "password": PASSWORD, "display_name": "Mai", "preferred_language": "fr"},
     400, "invalid_request"),
    (None, {"username": "mai", "password": PASSWORD, "display_name": "Mai", "role": "admin"}, 400, "invalid_request"),
])
async def test_admin_api_refuses(wallet_only: Alone, headers: dict[str, str] | None, body: dict[str, Any],
                                 status: int, error: str) -> None:
    response = await wallet_only.client.post("/admin/residents", headers=admin("wallet") if headers is None else headers,
                                             json=body)
    assert_error(response, status, error)
    assert _rows(wallet_only.app, "SELECT id FROM wallet_resident") == []


async def test_usernames_are_unique(wallet_only: Alone) -> None:
    await new_resident(wallet_only.client, "mai")
    again = await wallet_only.client.post("/admin/residents", headers=admin("wallet"), json={
        "username": "MAI", "password": PASSWORD, "display_name": "Another Mai"})
    assert_error(again, 409, "username_taken")


async def test_wrong_password_and_unknown_user_get_the_same_answer(wallet_only: Alone) -> None:
    await new_resident(wallet_only.client, "mai")
    wrong = await wallet_only.client.post("/session", json={"username": "mai", "password": "not the password"})
    unknown = await wallet_only.client.post("/session", json={"username": "nobody", "password": PASSWORD})
    assert assert_error(wrong, 401, "invalid_grant") == assert_error(unknown, 401, "invalid_grant")


async def test_account_locks_after_repeated_failures(wallet_only: Alone) -> None:
    client, clock = wallet_only.client, wallet_only.clock
    await new_resident(client, "mai")  # login_max_failures=3, login_lock_seconds=600 in this fixture
    for _ in range(2):
        assert_error(await client.post("/session", json={"username": "mai", "password": "guess"}), 401, "invalid_grant")
    locked = await client.post("/session", json={"username": "mai", "password": "guess"})
    body = assert_error(locked, 429, "account_locked")
    assert "locked until 2026-11-23 18:10 JST" in body["error_description"]
    assert int(locked.headers["retry-after"]) == 601
    # While locked, even the right password is refused, and nothing is checked.
    assert_error(await client.post("/session", json={"username": "mai", "password": PASSWORD}), 429, "account_locked")
    # Another resident is not affected.
    await new_resident(client, "ken")

    clock.advance(seconds=601)
    assert (await client.post("/session", json={"username": "mai", "password": PASSWORD})).status_code == 200
    # A success resets the count: two more failures do not lock.
    for _ in range(2):
        assert_error(await client.post("/session", json={"username": "mai", "password": "guess"}), 401, "invalid_grant")
    assert (await client.post("/session", json={"username": "mai", "password": PASSWORD})).status_code == 200


async def test_sessions_expire_and_end_at_logout(wallet_only: Alone) -> None:
    client, clock = wallet_only.client, wallet_only.clock
    mai = await new_resident(client, "mai")
    assert (await client.get("/credentials", headers=mai)).json() == []
    assert (await client.delete("/session", headers=mai)).status_code == 204
    assert_error(await client.get("/credentials", headers=mai), 401, "invalid_token")

    mai = await new_resident(client, "ken")
    clock.advance(seconds=3601)
    refused = await client.get("/credentials", headers=mai)
    assert_error(refused, 401, "invalid_token")
    assert refused.headers["www-authenticate"] == 'Bearer realm="wallet", error="invalid_token"'


@pytest.mark.parametrize("authorization", [None, "Basic bWFpOnBhc3M=", "Bearer ", "Bearer forged-token"])
async def test_every_resident_endpoint_needs_a_session(wallet_only: Alone, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in [("GET", "/credentials"), ("GET", "/credentials/x"), ("POST", "/offers"),
                         ("GET", "/presentation-requests"), ("POST", "/presentation-requests"),
                         ("POST", "/presentation-requests/x/approve"), ("POST", "/presentation-requests/x/decline"),
                         ("GET", "/consents"), ("GET", "/presentations"), ("GET", "/me")]:
        response = await wallet_only.client.request(method, path, headers=headers,
                                                    json={} if method == "POST" else None)
        assert_error(response, 401, "invalid_token")
        assert response.headers["www-authenticate"].startswith('Bearer realm="wallet"')


async def test_presentation_requests_need_a_trust_registry(wallet_only: Alone) -> None:
    mai = await new_resident(wallet_only.client, "mai")
    response = await wallet_only.client.post("/presentation-requests", headers=mai, json={
        "uri": "openid4vp://?client_id=x509_san_dns%3Abank.example&request_uri=https%3A%2F%2Fbank.example%2Fr"})
    assert_error(response, 503, "server_error")
