"""The whole pre-authorized flow as a wallet sees it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from tsunagu import oid4vci
from tsunagu.jwk import parse_jwks
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.sd_jwt_vc import issuer_key_resolver, jwt_vc_issuer_metadata_url, parse_issuer_metadata, verify_sd_jwt_vc

from .conftest import ADMIN, BASE, EMPLOYER, EMPLOYMENT_CLAIMS, Issuer, Wallet

pytestmark = pytest.mark.anyio


async def test_metadata_documents_are_what_a_wallet_expects(issuer: Issuer) -> None:
    url = oid4vci.credential_issuer_metadata_url(EMPLOYER)
    assert url == f"{BASE}/.well-known/openid-credential-issuer/employer"
    metadata = oid4vci.parse_credential_issuer_metadata((await issuer.client.get(url)).json(), expected_issuer=EMPLOYER)
    assert metadata.credential_endpoint == f"{EMPLOYER}/credential"
    assert metadata.nonce_endpoint == f"{EMPLOYER}/nonce"
    assert metadata.notification_endpoint == f"{EMPLOYER}/notification"
    assert metadata.batch_size == 10
    assert [(d.name, d.locale) for d in metadata.display] == [("Sakura Systems K.K.", "en"), ("さくらシステムズ株式会社", "ja")]
    (config,) = metadata.credential_configurations.values()
    assert (config.id, config.format, config.vct) == ("EmploymentCertificate", "dc+sd-jwt", "urn:tsunagu:vct:employment-certificate:1")
    assert config.cryptographic_binding_methods_supported == ("jwk",)
    assert config.proof_types == {"jwt": ("ES256", "EdDSA")}
    assert config.claim_names("ja")[("employer_name",)] == "勤務先"

    as_url = oid4vci.authorization_server_metadata_url(metadata.authorization_server)
    authorization = oid4vci.parse_authorization_server_metadata((await issuer.client.get(as_url)).json(), expected_issuer=EMPLOYER)
    assert authorization.token_endpoint == f"{EMPLOYER}/token"
    assert authorization.pre_authorized_grant_anonymous_access_supported is True
    assert authorization.grant_types_supported == (oid4vci.PRE_AUTHORIZED_CODE_GRANT,)
    assert authorization.dpop_signing_alg_values_supported == ("ES256", "EdDSA")

    jwt_vc = (await issuer.client.get(jwt_vc_issuer_metadata_url(EMPLOYER, allow_http_loopback=True))).json()
    keys = parse_issuer_metadata(jwt_vc, expected_issuer=EMPLOYER).jwks
    assert keys is not None and len(keys) == 1 and keys[0].alg == "ES256"


async def test_each_tenant_has_its_own_issuer_and_key(issuer: Issuer) -> None:
    kids = set()
    for tenant, vct in (("employer", "employment"), ("tax-office", "resident-tax"), ("immigration", "residence-card")):
        metadata = (await issuer.client.get(f"/.well-known/openid-credential-issuer/{tenant}")).json()
        assert metadata["credential_issuer"] == f"{BASE}/{tenant}"
        (config,) = metadata["credential_configurations_supported"].values()
        assert config["vct"] == f"urn:tsunagu:vct:{vct}{'-certificate' if tenant != 'immigration' else ''}:1"
        jwks = (await issuer.client.get(f"/.well-known/jwt-vc-issuer/{tenant}")).json()["jwks"]
        kids.add(jwks["keys"][0]["kid"])
    assert len(kids) == 3
    assert (await issuer.client.get("/.well-known/openid-credential-issuer/bank")).status_code == 404


async def test_pre_authorized_flow_with_tx_code_and_batch(issuer_any_db: Issuer) -> None:
    issuer = issuer_any_db
    wallet = Wallet(issuer)
    created = await issuer.offer(tx_code=True)
    assert created["tx_code"] is not None and len(created["tx_code"]) == 6 and created["tx_code"].isdigit()
    assert created["qr_svg"].startswith("data:image/svg+xml")

    # The wallet scans the QR code, fetches the offer by reference, and reads it.
    reference = oid4vci.parse_credential_offer_uri(created["offer_uri"])
    assert reference.offer_uri == created["credential_offer_uri"]
    fetched = await issuer.client.get(urlsplit(reference.offer_uri or "").path)
    assert fetched.headers["content-type"] == "application/json"
    offer = oid4vci.parse_credential_offer_json(fetched.content)
    assert offer.to_json() == created["credential_offer"]
    assert offer.pre_authorized_code is not None and offer.pre_authorized_code.tx_code is not None
    assert offer.pre_authorized_code.tx_code.length == 6
    assert created["tx_code"] not in fetched.text  # the code itself travels out of band, never in the offer

    await wallet.redeem(created, tx_code=created["tx_code"])
    assert wallet.token_type == "Bearer"
    nonce = await wallet.nonce()
    proofs = [wallet.proof(nonce) for _ in range(3)]
    response = await wallet.credential(
        oid4vci.build_credential_request(credential_configuration_id="EmploymentCertificate", proofs=proofs)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    issued = oid4vci.parse_credential_response(response.json())
    assert len(issued.credentials) == 3 and issued.notification_id

    jwt_vc = (await issuer.client.get("/.well-known/jwt-vc-issuer/employer")).json()
    resolver = issuer_key_resolver(EMPLOYER, parse_jwks(jwt_vc["jwks"]))
    holder_thumbprints = []
    for credential, holder_key in zip(issued.credentials, wallet.holder_keys, strict=True):
        assert isinstance(credential, str)
        verified = verify_sd_jwt_vc(credential, issuer_key=resolver, kb=None, now=issuer.clock.now)
        assert verified.iss == EMPLOYER
        assert verified.vct == "urn:tsunagu:vct:employment-certificate:1"
        assert {k: verified.claims[k] for k in EMPLOYMENT_CLAIMS} == EMPLOYMENT_CLAIMS
        assert set(verified.claims) - set(EMPLOYMENT_CLAIMS) == {"iss", "vct", "iat", "exp", "cnf", "status"}
        assert verified.holder_key is not None
        assert verified.holder_key.thumbprint() == holder_key.thumbprint()
        holder_thumbprints.append(verified.holder_key.thumbprint())
        payload = verified.sd_jwt.payload
        assert payload["exp"] - payload["iat"] == int(timedelta(days=365).total_seconds())
        # Every personal claim is selectively disclosable: none is in the signed payload in the clear.
        assert set(EMPLOYMENT_CLAIMS).isdisjoint(decode_sd_jwt(credential).payload)
    assert len(set(holder_thumbprints)) == 3

    assert (await wallet.notify({"notification_id": issued.notification_id, "event": "credential_accepted"})).status_code == 204
    assert (await wallet.notify({"notification_id": issued.notification_id, "event": "credential_accepted"})).status_code == 204

    status = (await issuer.client.get(f"/admin/employer/offers/{created['offer_id']}", headers=ADMIN)).json()
    assert (status["status"], status["credentials_issued"], status["tx_code_attempts"]) == ("redeemed", 3, 0)
    # Once redeemed, the offer is no longer served.
    assert (await issuer.client.get(urlsplit(reference.offer_uri or "").path)).status_code == 404


async def test_dpop_bound_flow(issuer_any_db: Issuer) -> None:
    from tsunagu.jwk import generate_key

    wallet = Wallet(issuer_any_db, dpop_key=generate_key("ES256"))
    created = await issuer_any_db.offer()
    await wallet.redeem(created)
    assert wallet.token_type == "DPoP"
    response = await wallet.credential(
        oid4vci.build_credential_request(credential_configuration_id="EmploymentCertificate", proofs=[wallet.proof(await wallet.nonce())])
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["credentials"]) == 1


async def test_openapi_documents_every_endpoint(issuer: Issuer) -> None:
    paths = set((await issuer.client.get("/openapi.json")).json()["paths"])
    assert {
        "/.well-known/openid-credential-issuer/{tenant}",
        "/.well-known/oauth-authorization-server/{tenant}",
        "/.well-known/jwt-vc-issuer/{tenant}",
        "/admin/{tenant}/offers",
        "/admin/{tenant}/offers/{offer_id}",
        "/{tenant}/credential-offers/{offer_id}",
        "/{tenant}/token",
        "/{tenant}/nonce",
        "/{tenant}/credential",
        "/{tenant}/notification",
        "/{tenant}/status-lists/{list_number}",
        "/admin/{tenant}/credentials",
        "/admin/{tenant}/credentials/{credential_id}",
        "/admin/{tenant}/credentials/{credential_id}/revoke",
        "/admin/{tenant}/credentials/{credential_id}/suspend",
        "/admin/{tenant}/credentials/{credential_id}/reinstate",
        "/admin/{tenant}/keys/rotate",
    } <= paths
    assert (await issuer.client.get("/docs")).status_code == 200


async def test_two_workers_share_codes_nonces_and_tokens(database_url: str) -> None:
    """Scaling out: whatever one worker hands out, another honours once and only once."""
    from .conftest import Clock, make_settings, running

    settings = make_settings(database_url)
    clock = Clock()
    async for first in running(settings, clock):
        async for second in running(settings, clock):
            created = await first.offer()
            wallet_a, wallet_b = Wallet(first), Wallet(second)
            await wallet_b.redeem(created)  # offered by one worker, redeemed at the other
            code = created["credential_offer"]["grants"][oid4vci.PRE_AUTHORIZED_CODE_GRANT]["pre-authorized_code"]
            assert (await wallet_a.token(code)).json()["error"] == "invalid_grant"
            nonce = await wallet_a.nonce()
            wallet_a.access_token, wallet_a.token_type = wallet_b.access_token, wallet_b.token_type
            body = oid4vci.build_credential_request(credential_configuration_id="EmploymentCertificate", proofs=[wallet_b.proof(nonce)])
            assert (await wallet_b.credential(body)).status_code == 200
            again = oid4vci.build_credential_request(credential_configuration_id="EmploymentCertificate", proofs=[wallet_a.proof(nonce)])
            assert (await wallet_a.credential(again)).json()["error"] == "invalid_nonce"
            # Both workers publish the same signing key: it was made once.
            keys_a = (await first.client.get("/.well-known/jwt-vc-issuer/employer")).json()
            keys_b = (await second.client.get("/.well-known/jwt-vc-issuer/employer")).json()
            assert keys_a == keys_b
