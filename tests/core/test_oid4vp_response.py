"""OpenID4VP 1.0 §8: ``direct_post`` Authorization Responses, error responses, and the spec's own examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tsunagu.oid4vp import (
    AuthorizationErrorResponse,
    AuthorizationResponse,
    ClientIdError,
    InvalidAuthorizationResponse,
    build_authorization_error_form,
    build_authorization_request_uri,
    build_authorization_response_form,
    parse_authorization_request_uri,
    parse_authorization_response,
    parse_client_id,
    parse_request_uri_post,
    request_object_claims,
    response_endpoint_answer,
)

VECTORS = Path(__file__).parents[1] / "vectors" / "oid4vp"


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def test_the_wallets_form_is_read_back_by_the_verifier() -> None:
    presentation = "eyJhbGciOiJFUzI1NiJ9.e30.sig~WyJzYWx0IiwibmFtZSIsIuWxseeUsCJd~kb.jwt.sig"
    body = build_authorization_response_form({"employment": [presentation]}, state="s-1")
    response = parse_authorization_response(body.encode())
    assert response == AuthorizationResponse(vp_token={"employment": (presentation,)}, state="s-1")


def test_a_declined_request_is_an_error_response() -> None:
    body = build_authorization_error_form("access_denied", description="the resident declined", state="s-1")
    assert parse_authorization_response(body) == AuthorizationErrorResponse("access_denied", "the resident declined", "s-1")


HOSTILE = [
    ("empty body", b""),
    ("neither vp_token nor error", b"state=s-1"),
    ("vp_token twice", b"vp_token=%7B%22a%22%3A%5B%22x%22%5D%7D&vp_token=%7B%22b%22%3A%5B%22y%22%5D%7D"),
    ("state twice", b"vp_token=%7B%22a%22%3A%5B%22x%22%5D%7D&state=a&state=b"),
    ("error and vp_token", b"error=access_denied&vp_token=%7B%22a%22%3A%5B%22x%22%5D%7D"),
    ("vp_token not JSON", b"vp_token=eyJhbGci...QMA"),
    ("vp_token an array", b"vp_token=%5B%22x%22%5D"),
    ("vp_token with an empty array", b"vp_token=%7B%22a%22%3A%5B%5D%7D"),
    ("vp_token with duplicate keys", b"vp_token=%7B%22a%22%3A%5B%22x%22%5D%2C%22a%22%3A%5B%22y%22%5D%7D"),
    ("encrypted response (direct_post.jwt)", b"response=eyJhbGciOiJFQ0RILUVTIn0..a.b.c"),
    ("state not URL-safe", b"vp_token=%7B%22a%22%3A%5B%22x%22%5D%7D&state=%3Cscript%3E"),
    ("error with a quote", b"error=access%22denied"),
    ("not UTF-8", b"vp_token=%FF%FE"),
    ("malformed form", b"vp_token"),
]


@pytest.mark.parametrize("body", [b for _, b in HOSTILE], ids=[n for n, _ in HOSTILE])
def test_hostile_authorization_response_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidAuthorizationResponse) as raised:
        parse_authorization_response(body)
    assert raised.value.error == "invalid_request"


def test_an_oversized_vp_token_is_refused_before_parsing() -> None:
    body = "vp_token=" + "%7B" + "a" * (600 * 1024)
    with pytest.raises(InvalidAuthorizationResponse, match="larger"):
        parse_authorization_response(body)


# --- the spec's examples (tests/vectors/oid4vp, see SOURCE.md) ----------------------------------------


def test_spec_example_request_by_reference() -> None:
    case = load("authorization_request_by_reference.json")
    reference = parse_authorization_request_uri(case["request"])
    expected = case["expected"]
    assert (reference.client_id, reference.request_uri, reference.request_uri_method) == (
        expected["client_id"], expected["request_uri"], expected["request_uri_method"])
    again = build_authorization_request_uri(client_id=reference.client_id, request_uri=expected["request_uri"],
                                            request_uri_method="post", authorization_endpoint="/authorize")
    assert again == case["request"]


def test_spec_example_request_uri_post() -> None:
    case = load("request_uri_post_body.json")
    posted = parse_request_uri_post(case["body"])
    assert posted.wallet_nonce == case["expected"]["wallet_nonce"]
    assert posted.wallet_metadata == case["expected"]["wallet_metadata"]


@pytest.mark.parametrize("name", ["request_object_request_uri_response.json", "request_object_direct_post.json"])
def test_our_request_object_has_every_parameter_of_the_spec_examples(name: str) -> None:
    example = load(name)["payload"]
    ours = request_object_claims(
        client_id="x509_san_dns:client.example.org", response_uri="https://client.example.org/post",
        nonce="n-0S6_WzA2Mj", state="eyJhb...6-sVA", wallet_nonce=example.get("wallet_nonce"),
        dcql_query={"credentials": [{"id": "c", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:x"]}}]},
        iat=jose_time(), exp=jose_time(600),
    )
    assert set(example) <= set(ours)
    for name_ in ("response_uri", "response_type", "response_mode", "nonce", "state", "wallet_nonce"):
        if name_ in example:
            assert ours[name_] == example[name_], name_


def jose_time(offset: int = 0) -> Any:
    from datetime import datetime, timedelta, timezone

    return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=offset)


@pytest.mark.parametrize("name", ["authorization_response_direct_post.json", "authorization_response_multiple.json"])
def test_spec_example_authorization_responses(name: str) -> None:
    case = load(name)
    response = parse_authorization_response(case["body"].encode())
    assert isinstance(response, AuthorizationResponse)
    assert {k: list(v) for k, v in response.vp_token.items()} == case["expected"]["vp_token"]
    assert response.state == case["expected"]["state"]


def test_spec_example_error_response() -> None:
    case = load("authorization_error_response.json")
    response = parse_authorization_response(case["body"].encode())
    assert response == AuthorizationErrorResponse(**case["expected"])


def test_spec_example_response_endpoint_answer() -> None:
    case = load("response_endpoint_answer.json")
    assert response_endpoint_answer(case["redirect_uri"]) == case["expected"]
    assert response_endpoint_answer() == {}


def test_spec_example_client_identifiers() -> None:
    case = load("client_identifiers.json")
    for client_id, (prefix, value) in case["accepted"].items():
        assert parse_client_id(client_id) == (prefix, value)
    for client_id in case["refused"]:
        with pytest.raises(ClientIdError):
            parse_client_id(client_id)

