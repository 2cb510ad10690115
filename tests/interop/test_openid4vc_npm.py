"""Interop with the npm OpenID4VC packages: their wallet against our issuer and our verifier.

Issue 3's evidence: the npm ``@openid4vc/openid4vci`` client obtains a credential from our issuer,
and the npm ``@openid4vc/openid4vp`` library, acting as a wallet, presents it to our verifier and
gets ``accepted``. Both services run over HTTP on 127.0.0.1 (``openid4vc_deployment.deploy``); the
npm side runs as ``js/oid4vci_client.mjs`` and ``js/oid4vp_wallet.mjs`` (pinned 0.4.6, with
``@sd-jwt/sd-jwt-vc`` 0.19.0 building the presentation).

What the packages check on our side, and so what these tests hold us to:

- issuance: the offer by reference and its grant; credential issuer metadata at the path-inserted
  well-known URL, with ``credential_metadata`` (how the package tells 1.0 from drafts) and a
  ``nonce_endpoint``; authorization server metadata whose ``issuer`` equals the credential issuer;
  the token response; the nonce response; a credential request by ``credential_configuration_id``
  with plural ``proofs`` (1.0 §8.2) within ``batch_size``; the credential response shape (§8.3);
  Bearer and DPoP (RFC 9449, with the package's nonce retry);
- presentation: the ``openid4vp://`` link, the request object by reference (content, ``typ``
  ``oauth-authz-req+jwt``, signature by the ``x5c`` leaf), the ``client_id`` prefix rules (for
  ``x509_san_dns`` the ``response_uri`` host must be the certificate's DNS name; for ``x509_hash``
  the hash of the leaf), ``exp``, ``response_mode`` ``direct_post`` with ``response_uri``, the shape
  of ``client_metadata``, ``dcql_query`` and ``verifier_info`` (1.0 §5.1); then our verifier checks
  the npm presentation (KB-JWT ``aud`` = full client_id, ``nonce``, ``sd_hash``).

The packages refuse http URLs unless told otherwise; the scripts turn on their ``allowInsecureUrls``
(``allow_http``) because the test servers are plain http on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tsunagu.jwk import generate_key, parse_jwks, parse_public_jwk
from tsunagu.sd_jwt_vc import VerifiedCredential, issuer_key_resolver, verify_sd_jwt_vc
from tsunagu.x509 import certificate_to_pem, create_root_ca

from .node import run_node
from .openid4vc_deployment import EMPLOYMENT, EMPLOYMENT_CLAIMS, Deployment, deploy

pytestmark = pytest.mark.interop

CLIENT = "oid4vci_client.mjs"
WALLET = "oid4vp_wallet.mjs"

#: What each hosted verifier asks, under a purpose it is registered for (verifier/demo.py).
ASKS: dict[str, tuple[str, list[str]]] = {
    "landlord": ("rental_screening", ["employer_name", "employment_type", "job_title", "annual_income"]),
    "bank": ("account_opening_kyc", ["employer_name", "employment_type", "job_title"]),
}


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with deploy(tmp_path) as running:
        yield running


def obtain(deployment: Deployment, offer: dict[str, Any], **options: Any) -> dict[str, Any]:
    """Run the npm client on an offer link; fail with its own explanation if a step is refused."""
    answer = run_node(CLIENT, {"offer_uri": offer["offer_uri"], "tx_code": offer["tx_code"], "allow_http": True,
                               **options})
    assert "error" not in answer, f"npm client refused at {answer.get('step')}: {answer.get('error')}"
    return answer


def verify_issued(deployment: Deployment, credential: str) -> VerifiedCredential:
    """What a verifier sees in the credential: our core, with the keys the issuer publishes."""
    keys = parse_jwks(deployment.issuer_jwks())
    return verify_sd_jwt_vc(credential, issuer_key=issuer_key_resolver(deployment.credential_issuer(), keys),
                            kb=None, now=datetime.now(timezone.utc))


def personal(claims: dict[str, Any]) -> dict[str, Any]:
    """The resident's claims, without iss, vct, cnf, status and the validity period."""
    return {name: value for name, value in claims.items() if name in EMPLOYMENT_CLAIMS}


def employment_query(claims: list[str], *, optional: Sequence[str] = ()) -> dict[str, Any]:
    """A DCQL query for an employment certificate; with ``optional``, a second claim set without those."""
    query: dict[str, Any] = {"id": "employment", "format": "dc+sd-jwt", "meta": {"vct_values": [EMPLOYMENT.vct]},
                             "claims": [{"id": name, "path": [name]} for name in claims]}
    if optional:
        query["claim_sets"] = [claims, [name for name in claims if name not in optional]]
    return {"credentials": [query]}


def present(deployment: Deployment, created: dict[str, Any], issued: dict[str, Any], *,
            disclose: list[str]) -> dict[str, Any]:
    answer = run_node(WALLET, {
        "authorization_request_uri": created["authorization_request_uri"], "credential": issued["credential"],
        "holder_private_jwk": issued["holder_private_jwk"], "trusted_root_pem": deployment.root_pem,
        "disclose": disclose, "allow_http": True,
    })
    assert "error" not in answer, f"npm wallet refused at {answer.get('step')}: {answer.get('error')}"
    return answer


def assert_accepted(deployment: Deployment, tenant: str, created: dict[str, Any], claims: dict[str, Any]) -> None:
    result = deployment.result(tenant, created["request_id"])
    failed = [check for check in (result["result"] or {}).get("checks", []) if check["outcome"] == "failed"]
    assert (result["status"], result["result"]["decision"]) == ("completed", "accepted"), failed
    assert [personal(received) for received in result["claims"]["employment"]] == [claims]


# --- issuance: @openid4vc/openid4vci against the issuer ---------------------------------------------


@pytest.mark.parametrize(("tx_code", "dpop"), [(True, False), (False, True)], ids=["tx_code-bearer", "dpop"])
def test_npm_client_obtains_an_employment_certificate(deployment: Deployment, tx_code: bool, dpop: bool) -> None:
    offer = deployment.offer(tx_code=tx_code)
    assert (offer["tx_code"] is not None) == tx_code

    answer = obtain(deployment, offer, dpop=dpop, notify=True)

    assert answer["openid4vci_version"] == "V1"  # the package read our metadata as OpenID4VCI 1.0 final
    assert answer["credential_offer"]["credential_issuer"] == deployment.credential_issuer()
    assert answer["token_type"] == ("DPoP" if dpop else "Bearer")
    assert answer["notification"] == {"status": 204}
    verified = verify_issued(deployment, answer["credential"])
    assert verified.iss == deployment.credential_issuer()
    assert verified.vct == EMPLOYMENT.vct
    assert personal(verified.claims) == EMPLOYMENT_CLAIMS
    # Bound to the key the npm client proved possession of, and to nothing else.
    holder = parse_public_jwk({k: v for k, v in answer["holder_private_jwk"].items() if k != "d"})
    assert verified.holder_key is not None and verified.holder_key.thumbprint() == holder.thumbprint()
    status = deployment.offer_status(offer["offer_id"])
    assert (status["status"], status["credentials_issued"]) == ("redeemed", 1)


def test_npm_client_batch_gets_one_credential_per_key(deployment: Deployment) -> None:
    answer = obtain(deployment, deployment.offer(), batch=3)

    assert len(answer["credentials"]) == 3
    bound = [verify_issued(deployment, credential).holder_key for credential in answer["credentials"]]
    proved = [parse_public_jwk({k: v for k, v in jwk.items() if k != "d"}) for jwk in answer["holder_private_jwks"]]
    # One credential per proof, each bound to its proof's key (OpenID4VCI 1.0 §8.3 sets no order).
    assert sorted(key.thumbprint() if key else "" for key in bound) == sorted(key.thumbprint() for key in proved)
    assert len({key.thumbprint() for key in proved}) == 3  # unlinkable: three distinct holder keys


def test_npm_client_with_wrong_tx_code_gets_invalid_grant(deployment: Deployment) -> None:
    offer = deployment.offer(tx_code=True)
    wrong = "".join("1" if digit == "0" else "0" for digit in offer["tx_code"])

    answer = run_node(CLIENT, {"offer_uri": offer["offer_uri"], "tx_code": wrong, "allow_http": True})

    assert answer.get("step") == "token", answer
    assert (answer["error"].get("status"), answer["error"].get("body", {}).get("error")) == (400, "invalid_grant")
    assert deployment.offer_status(offer["offer_id"])["credentials_issued"] == 0


# --- presentation: @openid4vc/openid4vp as the wallet, against the verifier -------------------------


@pytest.mark.parametrize(("tenant", "prefix"), [("landlord", "x509_hash"), ("bank", "x509_san_dns")],
                         ids=["x509_hash", "x509_san_dns"])
def test_npm_wallet_presents_to_verifier_and_is_accepted(deployment: Deployment, tenant: str, prefix: str) -> None:
    issued = obtain(deployment, deployment.offer(tx_code=True))
    purpose, asked = ASKS[tenant]
    created = deployment.presentation_request(tenant, purpose=purpose, dcql_query=employment_query(asked),
                                              retention_days=30)

    answer = present(deployment, created, issued, disclose=asked)

    request = answer["request"]
    assert request["client_id"] == created["client_id"]
    assert request["client_id_prefix"] == prefix
    assert request["response_uri"].startswith(deployment.verifier.url)
    assert (request["jar_typ"], request["jar_sent_by"], request["version"]) == ("oauth-authz-req+jwt", "reference", 100)
    assert answer["verifier_response"]["status"] == 200, answer["verifier_response"]
    assert_accepted(deployment, tenant, created, {name: EMPLOYMENT_CLAIMS[name] for name in asked})


def test_npm_wallet_shares_less_through_a_claim_set(deployment: Deployment) -> None:
    """DCQL claim_sets (OpenID4VP 1.0 §6.4.1): the resident keeps the income; the smaller set still satisfies."""
    issued = obtain(deployment, deployment.offer())
    purpose, asked = ASKS["landlord"]
    created = deployment.presentation_request(
        "landlord", purpose=purpose, dcql_query=employment_query(asked, optional=["annual_income"]), retention_days=30)
    shared = [name for name in asked if name != "annual_income"]

    answer = present(deployment, created, issued, disclose=shared)

    assert answer["disclosed"] == shared
    assert_accepted(deployment, "landlord", created, {name: EMPLOYMENT_CLAIMS[name] for name in shared})


def test_npm_wallet_refuses_a_verifier_outside_its_trust_anchor(deployment: Deployment) -> None:
    """The wallet's trust check bites: the same request, checked against another root, is refused."""
    other_root = create_root_ca(generate_key("ES256"), common_name="Some Other Root", now=datetime.now(timezone.utc),
                                valid_for=timedelta(days=1))
    issued = obtain(deployment, deployment.offer())
    purpose, asked = ASKS["landlord"]
    created = deployment.presentation_request("landlord", purpose=purpose, dcql_query=employment_query(asked),
                                              retention_days=30)

    answer = run_node(WALLET, {
        "authorization_request_uri": created["authorization_request_uri"], "credential": issued["credential"],
        "holder_private_jwk": issued["holder_private_jwk"], "trusted_root_pem": certificate_to_pem(other_root),
        "disclose": asked, "allow_http": True,
    })

    assert answer.get("step") == "resolve", answer
    assert "does not chain to the trusted root" in answer["error"]["message"]
    assert deployment.result("landlord", created["request_id"])["status"] == "pending"


def test_npm_wallet_refuses_x509_san_dns_when_response_uri_host_is_not_the_dns_name(tmp_path: Path) -> None:
    """OpenID4VP 1.0 §5.9.3: without other trust in the client_id, "the FQDN of the redirect_uri value MUST
    match the Client Identifier". A verifier service addressed as 127.0.0.1 gives the bank a certificate for
    bank.tsunagu.example (an IP address is no DNS name), so a strict wallet refuses its requests: why
    deployments that use x509_san_dns must be reached by the certificate's name (the demo: localhost)."""
    with deploy(tmp_path, verifier_host="127.0.0.1") as deployment:
        issued = obtain(deployment, deployment.offer())
        purpose, asked = ASKS["bank"]
        created = deployment.presentation_request("bank", purpose=purpose, dcql_query=employment_query(asked),
                                                  retention_days=30)

        answer = run_node(WALLET, {
            "authorization_request_uri": created["authorization_request_uri"], "credential": issued["credential"],
            "holder_private_jwk": issued["holder_private_jwk"], "trusted_root_pem": deployment.root_pem,
            "disclose": asked, "allow_http": True,
        })

        assert created["client_id"] == "x509_san_dns:bank.tsunagu.example"
        assert answer.get("step") == "resolve", answer
        assert "MUST match the Client Identifier" in answer["error"]["message"]
