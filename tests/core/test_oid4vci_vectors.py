"""OpenID4VCI 1.0's own example messages, read by our parsers (tests/vectors/oid4vci/SOURCE.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

import tsunagu
from tsunagu import oid4vci
from tsunagu.encoding import b64url_decode, json_loads

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "oid4vci"
FILES = sorted(VECTORS.glob("*.json"))


def load(kind: str) -> list[Path]:
    return [p for p in FILES if json.loads(p.read_text())["kind"] == kind]


def test_every_vector_is_tested() -> None:
    kinds = {json.loads(p.read_text())["kind"] for p in FILES}
    assert kinds == {
        "credential_offer",
        "credential_offer_uri",
        "issuer_metadata",
        "issuer_metadata_jwt",
        "credential_request",
        "credential_response",
        "token_request",
        "token_response",
        "nonce_response",
        "notification_request",
        "error_response",
        "proof_jwt",
    }


def offer_summary(offer: oid4vci.CredentialOffer) -> dict[str, Any]:
    pre = offer.pre_authorized_code
    summary: dict[str, Any] = {
        "credential_issuer": offer.credential_issuer,
        "credential_configuration_ids": list(offer.credential_configuration_ids),
        "pre-authorized_code": pre.pre_authorized_code if pre else None,
    }
    if pre is not None and pre.tx_code is not None:
        summary["tx_code"] = {
            "input_mode": pre.tx_code.input_mode,
            "length": pre.tx_code.length,
            "description": pre.tx_code.description,
        }
    if offer.authorization_code is not None:
        summary["issuer_state"] = offer.authorization_code.issuer_state
    return summary


@pytest.mark.parametrize("vector", load("credential_offer"), ids=lambda p: p.stem)
def test_credential_offer_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    offer = oid4vci.parse_credential_offer(case["message"])
    assert offer_summary(offer) == case["expected"]
    # What we serialise, we read back the same.
    assert oid4vci.parse_credential_offer(offer.to_json()) == offer


@pytest.mark.parametrize("vector", load("credential_offer_uri"), ids=lambda p: p.stem)
def test_credential_offer_uri_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    reference = oid4vci.parse_credential_offer_uri(case["message"])
    if "credential_offer_uri" in case["expected"]:
        assert reference.offer is None
        assert reference.offer_uri == case["expected"]["credential_offer_uri"]
    else:
        assert reference.offer_uri is None
        assert reference.offer is not None
        assert offer_summary(reference.offer) == case["expected"]


def metadata_summary(metadata: oid4vci.CredentialIssuerMetadata) -> dict[str, Any]:
    return {
        "credential_endpoint": metadata.credential_endpoint,
        "authorization_server": metadata.authorization_server,
        "nonce_endpoint": metadata.nonce_endpoint,
        "notification_endpoint": metadata.notification_endpoint,
        "batch_size": metadata.batch_size,
        "request_encryption_required": metadata.request_encryption_required,
        "response_encryption_required": metadata.response_encryption_required,
        "configurations": {
            config_id: {
                "format": config.format,
                "vct": config.vct,
                "proof_types": {k: list(v) for k, v in config.proof_types.items()},
                "claim_count": len(config.claims),
                "display_names": [d.name for d in config.display],
                "claim_names_de": {str(path[0]): name for path, name in config.claim_names("de").items()},
            }
            for config_id, config in metadata.credential_configurations.items()
        },
    }


@pytest.mark.parametrize("vector", load("issuer_metadata") + load("issuer_metadata_jwt"), ids=lambda p: p.stem)
def test_issuer_metadata_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    document = case["message"]
    if case["kind"] == "issuer_metadata_jwt":
        document = json_loads(b64url_decode(document.split(".")[1]))
    metadata = oid4vci.parse_credential_issuer_metadata(document, expected_issuer="https://credential-issuer.example.com")
    assert metadata_summary(metadata) == case["expected"]


@pytest.mark.parametrize("vector", load("issuer_metadata"), ids=lambda p: p.stem)
def test_issuer_metadata_for_another_issuer_is_not_used(vector: Path) -> None:
    document = json.loads(vector.read_text())["message"]
    with pytest.raises(oid4vci.InvalidCredentialIssuerMetadata):
        oid4vci.parse_credential_issuer_metadata(document, expected_issuer="https://credential-issuer.example.com/other")


@pytest.mark.parametrize("vector", load("credential_request"), ids=lambda p: p.stem)
def test_credential_request_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    if "error" in case["expected"]:
        with pytest.raises(oid4vci.Oid4vciError) as caught:
            oid4vci.parse_credential_request(case["message"], max_proofs=10)
        assert caught.value.error == case["expected"]["error"]
        return
    request = oid4vci.parse_credential_request(case["message"], max_proofs=10)
    assert {
        "credential_configuration_id": request.credential_configuration_id,
        "credential_identifier": request.credential_identifier,
        "proof_count": len(request.proofs),
    } == case["expected"]
    assert request.proofs == tuple(case["message"]["proofs"]["jwt"])


@pytest.mark.parametrize("vector", load("credential_response"), ids=lambda p: p.stem)
def test_credential_response_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    response = oid4vci.parse_credential_response(case["message"])
    expected = case["expected"]
    assert len(response.credentials) == expected["credential_count"]
    assert response.notification_id == expected["notification_id"]
    assert response.transaction_id == expected["transaction_id"]
    if "decoded_claims" in expected:
        decoded = tsunagu.decode_sd_jwt(str(response.credentials[0]))
        assert {k: decoded.claims[k] for k in expected["decoded_claims"]} == expected["decoded_claims"]
        assert decoded.payload["vct"] == expected["vct"]
    assert response.to_json() == case["message"]


@pytest.mark.parametrize("vector", load("token_request"), ids=lambda p: p.stem)
def test_token_request_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    form: dict[str, list[str]] = {}
    for name, value in parse_qsl(case["message"], keep_blank_values=True):
        form.setdefault(name, []).append(value)
    if "error" in case["expected"]:
        with pytest.raises(oid4vci.TokenEndpointError) as caught:
            oid4vci.parse_token_request(form)
        assert caught.value.error == case["expected"]["error"]
        return
    request = oid4vci.parse_token_request(form)
    assert {"pre-authorized_code": request.pre_authorized_code, "tx_code": request.tx_code} == case["expected"]


def test_token_response_vector() -> None:
    (vector,) = load("token_response")
    case = json.loads(vector.read_text())
    response = oid4vci.parse_token_response(case["message"])
    assert response.token_type == case["expected"]["token_type"]
    assert response.expires_in == case["expected"]["expires_in"]
    assert {k: list(v) for k, v in response.credential_identifiers.items()} == case["expected"]["credential_identifiers"]
    assert response.to_json() == case["message"]


def test_nonce_response_vector() -> None:
    (vector,) = load("nonce_response")
    case = json.loads(vector.read_text())
    assert oid4vci.parse_nonce_response(case["message"]).to_json() == case["expected"]


@pytest.mark.parametrize("vector", load("notification_request"), ids=lambda p: p.stem)
def test_notification_request_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    request = oid4vci.parse_notification_request(case["message"])
    assert {
        "notification_id": request.notification_id,
        "event": request.event,
        "event_description": request.event_description,
    } == case["expected"]


@pytest.mark.parametrize("vector", load("error_response"), ids=lambda p: p.stem)
def test_error_response_vector(vector: Path) -> None:
    case = json.loads(vector.read_text())
    error = oid4vci.error_from_response(case["status"], case["message"])
    assert type(error).__name__ == case["expected"]["error_class"]


def test_proof_jwt_vector_verifies() -> None:
    (vector,) = load("proof_jwt")
    case = json.loads(vector.read_text())
    expected = case["expected"]
    issued = datetime.fromtimestamp(expected["iat"], timezone.utc)
    proof = oid4vci.verify_proof_jwt(
        case["message"], oid4vci.ProofExpectation(audience=expected["audience"]), now=issued + timedelta(seconds=30)
    )
    assert proof.nonce == expected["nonce"]
    assert proof.iat == issued
    assert proof.holder_key.to_jwk() == {**expected["jwk"], "alg": "ES256"}
