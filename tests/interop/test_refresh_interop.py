"""A refresh under an ongoing consent is a standard SD-JWT presentation: the PyPI ``sd-jwt`` reference
verifier accepts what the wallet answers to a guarantor's refresh request, bound to that request's
``nonce`` and the verifier's ``client_id``, and finds exactly the consented claims in it."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from tests.e2e.test_consent import guarantor_consent, refresh_directly
from tests.e2e.worlds import open_world
from tsunagu.cli.demo_story import EMPLOYMENT_CLAIMS

pytestmark = [pytest.mark.interop, pytest.mark.anyio]


async def test_the_reference_verifier_accepts_a_refresh_with_exactly_the_consented_claims(tmp_path: Path) -> None:
    urls = {name: f"sqlite:///{tmp_path}/{name}.db" for name in ("issuer", "wallet", "verifier")}
    async with open_world(tmp_path, urls) as world:
        token = await world.mai_with_employment()
        _, consent = await guarantor_consent(world, token)
        nonce = secrets.token_urlsafe(16)
        answered = await refresh_directly(world, consent["id"], nonce=nonce)
        assert answered.status_code == 200, answered.text
        (presentation,) = answered.json()["vp_token"]["employment"]
        metadata = (await world.issuer.get("/.well-known/jwt-vc-issuer/employer")).json()
        client_id = world.deployment.verifiers[1].registry_entry.client_id

    keys = {key["kid"]: JWK(**key) for key in metadata["jwks"]["keys"]}

    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        assert iss == metadata["issuer"]
        return keys[header["kid"]]

    payload = SDJWTVerifier(presentation, issuer_key, expected_aud=client_id,
                            expected_nonce=nonce).get_verified_payload()
    registered = {"iss", "iat", "exp", "nbf", "cnf", "vct", "status", "_sd_alg"}
    disclosed = {name: value for name, value in payload.items() if name not in registered}
    assert disclosed == {name: EMPLOYMENT_CLAIMS[name] for name in ("employer_name", "employment_type",
                                                                    "annual_income")}
    # Bound to this refresh: the reference refuses it for another nonce.
    with pytest.raises(ValueError, match="nonce"):
        SDJWTVerifier(presentation, issuer_key, expected_aud=client_id, expected_nonce="another").get_verified_payload()
