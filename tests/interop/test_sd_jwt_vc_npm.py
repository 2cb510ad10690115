"""Interop with the npm SD-JWT VC implementation ``@sd-jwt/sd-jwt-vc`` (pinned in package.json).

Both directions, on an EmploymentCertificate (JAPAN-CONTEXT.md), each over ES256 and EdDSA keys:

- tsunagu issues an SD-JWT VC and presents a subset with a KB-JWT → the npm verifier (key binding
  required, nonce and aud expected, clock at ``now``) sees exactly those claims;
- npm issues (``typ`` ``dc+sd-jwt``, ``vct``, ``cnf``, nested and array disclosures, decoys) and presents
  with a KB-JWT → ``verify_sd_jwt_vc`` accepts and yields the same claims;
- each holder also presents what the other side issued;
- a tampered presentation from one side is rejected by the other.

Claims are compared as whole dicts, without normalization: both sides drop ``_sd`` and the top-level
``_sd_alg`` and keep every other payload member.

The npm side runs through ``js/sd_jwt_vc.mjs``. What to know about the package (0.19.0):

- it checks the KB-JWT's signature, ``nonce`` and ``sd_hash`` but not its ``aud``; the script compares
  ``aud`` itself, so the replay-to-another-verifier case below tests the script, not the package;
- its holder addresses array elements by their position in the *issued* array, decoy digests included; a
  tsunagu credential puts array decoys at random positions, so the npm holder selects array elements of a
  tsunagu credential only when it was issued without decoys;
- 0.20.0 is the registry's latest, but it cannot be installed: it requires
  ``@owf/token-status-list@^0.1.0-alpha-20260312123226`` and the registry holds only 0.3.0-alpha.
  0.19.0 is the newest installable release, the same release line as the pinned ``@sd-jwt/jwt-status-list``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tsunagu.claims_path import ClaimsPath
from tsunagu.errors import (
    DisclosureNotReferenced,
    DuplicateDisclosure,
    IssuerSignatureInvalid,
    KbAudienceMismatch,
    KbJwtMissing,
    KbNonceMismatch,
    KbSdHashMismatch,
    TsunaguError,
)
from tsunagu.jwk import Algorithm, PrivateJwk, generate_key
from tsunagu.kb_jwt import KbExpectation, KeyBindingRequest
from tsunagu.sd_jwt.holder import present_sd_jwt
from tsunagu.sd_jwt_vc import (
    TYP_DC_SD_JWT,
    VerifiedCredential,
    issue_sd_jwt_vc,
    verify_sd_jwt_vc,
)

from .employment_certificate import ADDRESS, AUD, DUTIES, EMPLOYMENT, ISSUER, VCT
from .node import run_node
from .tampering import (
    Mutation,
    add_withheld_disclosure,
    drop_disclosure,
    duplicate_disclosure,
    extend_validity,
    inflate_salary,
    strip_key_binding,
)

pytestmark = pytest.mark.interop

SCRIPT = "sd_jwt_vc.mjs"
ALGORITHMS: list[Algorithm] = ["ES256", "EdDSA"]
NONCE = "q7Lr0v-guarantor-2026-11"
VERIFY_DELAY = timedelta(seconds=20)



def seconds(moment: datetime) -> int:
    return int(moment.timestamp())


# --- the npm side -----------------------------------------------------------------------------------


def npm_issue(
    claims: dict[str, Any], disclosure_frame: dict[str, Any], issuer: PrivateJwk, holder: PrivateJwk
) -> str:
    answer = run_node(
        SCRIPT,
        {
            "op": "issue",
            "claims": claims,
            "disclosure_frame": disclosure_frame,
            "issuer_jwk": issuer.to_jwk(include_private=True),
            "holder_jwk": holder.public.to_jwk(),
        },
    )
    credential: str = answer["credential"]
    return credential


def npm_present(credential: str, presentation_frame: dict[str, Any], holder: PrivateJwk, iat: datetime) -> str:
    answer = run_node(
        SCRIPT,
        {
            "op": "present",
            "credential": credential,
            "presentation_frame": presentation_frame,
            "holder_jwk": holder.to_jwk(include_private=True),
            "aud": AUD,
            "nonce": NONCE,
            "iat": seconds(iat),
        },
    )
    presentation: str = answer["presentation"]
    return presentation


def npm_verify(
    presentation: str, issuer: PrivateJwk, now: datetime, *, nonce: str = NONCE, aud: str = AUD
) -> dict[str, Any]:
    """The npm verifier with key binding required; ``{"claims", "header", "kb"}`` or ``{"error"}``."""
    return run_node(
        SCRIPT,
        {
            "op": "verify",
            "presentation": presentation,
            "issuer_jwk": issuer.public.to_jwk(),
            "aud": aud,
            "nonce": nonce,
            "require_kb": True,
            "now": seconds(now),
        },
    )


def npm_accepted(answer: dict[str, Any]) -> dict[str, Any]:
    """The npm verifier's answer, failing the test with the package's own reason if it refused."""
    assert "error" not in answer, f"the npm verifier rejected the presentation: {answer['error']}"
    return answer


def tsunagu_verify(presentation: str, issuer: PrivateJwk, now: datetime) -> VerifiedCredential:
    return verify_sd_jwt_vc(
        presentation, issuer_key=issuer.public, kb=KbExpectation(nonce=NONCE, aud=AUD), now=now + VERIFY_DELAY
    )


# --- 1. tsunagu issues and presents, npm verifies -----------------------------------------------------


def tsunagu_credential(issuer: PrivateJwk, holder: PrivateJwk, now: datetime, **kwargs: Any) -> str:
    """Every subject claim selectively disclosable, at every depth (the issuer service's default)."""
    return issue_sd_jwt_vc(
        EMPLOYMENT,
        vct=VCT,
        key=issuer,
        issuer=ISSUER,
        iat=now - timedelta(days=3),
        exp=now + timedelta(days=365),
        holder_key=holder.public,
        **kwargs,
    ).compact


def tsunagu_registered(holder: PrivateJwk, now: datetime) -> dict[str, Any]:
    return {
        "vct": VCT,
        "iss": ISSUER,
        "iat": seconds(now - timedelta(days=3)),
        "exp": seconds(now + timedelta(days=365)),
        "cnf": {"jwk": holder.public.to_jwk()},
    }


#: (purpose, what the resident discloses, the subject claims the verifier must then see)
PURPOSES: list[tuple[str, list[ClaimsPath], dict[str, Any]]] = [
    (
        "rental_screening",
        [("employee_name",), ("employer_name",), ("employment_type",), ("employment_start_date",),
         ("annual_salary",)],
        {
            "employee_name": "NGUYEN VAN AN",
            "employer_name": "株式会社さくら精機",
            "employment_type": "regular",
            "employment_start_date": "2021-04-01",
            "annual_salary": 5_400_000,
        },
    ),
    (
        "bank_kyc_occupation",
        [("employee_name",), ("employer_name",), ("job_title",), ("employer_address", "prefecture")],
        {
            "employee_name": "NGUYEN VAN AN",
            "employer_name": "株式会社さくら精機",
            "job_title": "ソフトウェアエンジニア",
            "employer_address": {"prefecture": "東京都"},
        },
    ),
    (
        "immigration_job_change",
        [("employee_name",), ("employer_address",), ("job_duties", 0), ("job_duties", 2),
         ("employment_start_date",), ("weekly_hours",)],
        {
            "employee_name": "NGUYEN VAN AN",
            "employer_address": ADDRESS,
            "job_duties": [DUTIES[0], DUTIES[2]],
            "employment_start_date": "2021-04-01",
            "weekly_hours": 40,
        },
    ),
    ("nothing_disclosed", [], {}),
]


@pytest.mark.parametrize("holder_alg", ALGORITHMS)
@pytest.mark.parametrize("issuer_alg", ALGORITHMS)
@pytest.mark.parametrize(("purpose", "disclose", "subject"), PURPOSES, ids=[p[0] for p in PURPOSES])
def test_npm_verifies_tsunagu_presentation(
    purpose: str, disclose: list[ClaimsPath], subject: dict[str, Any], issuer_alg: Algorithm, holder_alg: Algorithm,
    now: datetime,
) -> None:
    issuer, holder = generate_key(issuer_alg, kid="sakura-seiki-2026"), generate_key(holder_alg)
    credential = tsunagu_credential(issuer, holder, now, decoys=2)
    presentation = present_sd_jwt(
        credential, disclose, key_binding=KeyBindingRequest(holder_key=holder, aud=AUD, nonce=NONCE, iat=now)
    )

    answer = npm_accepted(npm_verify(presentation, issuer, now + VERIFY_DELAY))
    expected = {**tsunagu_registered(holder, now), **subject}
    assert answer["claims"] == expected
    assert answer["header"] == {"typ": TYP_DC_SD_JWT, "alg": issuer_alg, "kid": "sakura-seiki-2026"}
    assert answer["kb"]["header"] == {"typ": "kb+jwt", "alg": holder_alg}
    assert {k: answer["kb"]["payload"][k] for k in ("aud", "nonce", "iat")} == {
        "aud": AUD, "nonce": NONCE, "iat": seconds(now)
    }
    assert tsunagu_verify(presentation, issuer, now).claims == expected


@pytest.mark.parametrize("hash_alg", ["sha-384", "sha-512"])
def test_npm_verifies_tsunagu_presentation_with_other_digest_algorithms(hash_alg: str, now: datetime) -> None:
    issuer, holder = generate_key("ES256"), generate_key("ES256")
    credential = tsunagu_credential(issuer, holder, now, hash_alg=hash_alg, decoys=1)
    presentation = present_sd_jwt(
        credential,
        [("employer_name",), ("job_duties", 1)],
        key_binding=KeyBindingRequest(holder_key=holder, aud=AUD, nonce=NONCE, iat=now),
    )
    answer = npm_accepted(npm_verify(presentation, issuer, now + VERIFY_DELAY))
    assert answer["claims"] == {
        **tsunagu_registered(holder, now), "employer_name": "株式会社さくら精機", "job_duties": [DUTIES[1]]
    }


# --- 2. npm issues and presents, tsunagu verifies -----------------------------------------------------


def npm_claims(now: datetime) -> dict[str, Any]:
    return {
        "vct": VCT,
        "iss": ISSUER,
        "iat": seconds(now - timedelta(days=3)),
        "exp": seconds(now + timedelta(days=365)),
        **EMPLOYMENT,
    }


#: Nested (inside a disclosable employer_address), array elements, and decoys at each level.
NPM_DISCLOSURE_FRAME: dict[str, Any] = {
    "_sd": [
        "employee_name", "birthdate", "employer_address", "employment_type", "job_title", "department",
        "job_duties", "employment_start_date", "annual_salary",
    ],
    "_sd_decoy": 3,
    "employer_address": {"_sd": ["prefecture", "locality", "street_address"], "_sd_decoy": 1},
    "job_duties": {"_sd": [0, 1, 2], "_sd_decoy": 2},
}
#: A guarantor company's request: name, employer, tenure, how employed, income, one duty, the city.
NPM_PRESENTATION_FRAME: dict[str, Any] = {
    "employee_name": True,
    "employer_address": {"locality": True},
    "job_duties": {"1": True},
    "employment_type": True,
    "employment_start_date": True,
    "annual_salary": True,
}


def npm_expected(holder: PrivateJwk, now: datetime) -> dict[str, Any]:
    return {
        "vct": VCT,
        "iss": ISSUER,
        "iat": seconds(now - timedelta(days=3)),
        "exp": seconds(now + timedelta(days=365)),
        "cnf": {"jwk": holder.public.to_jwk()},
        # in the clear
        "employer_name": "株式会社さくら精機",
        "employer_corporate_number": "1010001123456",
        "weekly_hours": 40,
        "as_of_date": "2026-11-20",
        # disclosed
        "employee_name": "NGUYEN VAN AN",
        "employer_address": {"postal_code": "100-0005", "locality": "千代田区"},
        "job_duties": [DUTIES[1]],
        "employment_type": "regular",
        "employment_start_date": "2021-04-01",
        "annual_salary": 5_400_000,
    }


@pytest.mark.parametrize("holder_alg", ALGORITHMS)
@pytest.mark.parametrize("issuer_alg", ALGORITHMS)
def test_tsunagu_verifies_npm_presentation(issuer_alg: Algorithm, holder_alg: Algorithm, now: datetime) -> None:
    issuer, holder = generate_key(issuer_alg, kid="sakura-seiki-2026"), generate_key(holder_alg)
    credential = npm_issue(npm_claims(now), NPM_DISCLOSURE_FRAME, issuer, holder)
    presentation = npm_present(credential, NPM_PRESENTATION_FRAME, holder, iat=now)

    verified = tsunagu_verify(presentation, issuer, now)
    expected = npm_expected(holder, now)
    assert (verified.vct, verified.iss, verified.claims) == (VCT, ISSUER, expected)
    assert verified.sd_jwt.header == {"typ": TYP_DC_SD_JWT, "alg": issuer_alg, "kid": "sakura-seiki-2026"}
    assert verified.holder_key is not None and verified.holder_key.thumbprint() == holder.thumbprint()
    assert verified.key_binding is not None
    assert (verified.key_binding.aud, verified.key_binding.nonce, verified.key_binding.iat) == (AUD, NONCE, now)
    # The package's own verifier sees the same.
    assert npm_accepted(npm_verify(presentation, issuer, now + VERIFY_DELAY))["claims"] == expected


# --- 3. one side issues, the other side's holder presents ----------------------------------------------


def test_npm_holder_presents_tsunagu_credential(now: datetime) -> None:
    issuer, holder = generate_key("ES256"), generate_key("EdDSA")
    # No decoys: the npm holder counts decoy digests when it addresses array elements by position.
    credential = tsunagu_credential(issuer, holder, now)
    presentation = npm_present(credential, NPM_PRESENTATION_FRAME, holder, iat=now)

    expected = {
        **tsunagu_registered(holder, now),
        "employee_name": "NGUYEN VAN AN",
        "employer_address": {"locality": "千代田区"},
        "job_duties": [DUTIES[1]],
        "employment_type": "regular",
        "employment_start_date": "2021-04-01",
        "annual_salary": 5_400_000,
    }
    assert tsunagu_verify(presentation, issuer, now).claims == expected
    assert npm_accepted(npm_verify(presentation, issuer, now + VERIFY_DELAY))["claims"] == expected


def test_tsunagu_holder_presents_npm_credential(now: datetime) -> None:
    issuer, holder = generate_key("EdDSA"), generate_key("ES256")
    credential = npm_issue(npm_claims(now), NPM_DISCLOSURE_FRAME, issuer, holder)
    paths: list[ClaimsPath] = [
        ("employee_name",), ("employer_address", "locality"), ("job_duties", 1), ("employment_type",),
        ("employment_start_date",), ("annual_salary",),
    ]
    presentation = present_sd_jwt(
        credential, paths, key_binding=KeyBindingRequest(holder_key=holder, aud=AUD, nonce=NONCE, iat=now)
    )

    expected = npm_expected(holder, now)
    assert npm_accepted(npm_verify(presentation, issuer, now + VERIFY_DELAY))["claims"] == expected
    assert tsunagu_verify(presentation, issuer, now).claims == expected


# --- 4. tampering: each side rejects what was changed after the other side's holder signed ------------



#: (mutation, what tsunagu raises, the npm package's error message)
TAMPERING: list[tuple[Mutation, type[TsunaguError], str]] = [
    (drop_disclosure, KbSdHashMismatch, "Invalid sd_hash in Key Binding JWT"),
    (add_withheld_disclosure, KbSdHashMismatch, "Invalid sd_hash in Key Binding JWT"),
    (inflate_salary, DisclosureNotReferenced, "Invalid sd_hash in Key Binding JWT"),
    (duplicate_disclosure, DuplicateDisclosure, "Invalid sd_hash in Key Binding JWT"),
    (extend_validity, IssuerSignatureInvalid, "Verify Error: Invalid JWT Signature"),
    (strip_key_binding, KbJwtMissing, "Key Binding JWT not exist"),
]
TAMPERING_IDS = [m.__name__ for m, _, _ in TAMPERING]


@pytest.fixture
def npm_presentation(now: datetime) -> tuple[str, str, PrivateJwk]:
    issuer, holder = generate_key("ES256"), generate_key("ES256")
    credential = npm_issue(npm_claims(now), NPM_DISCLOSURE_FRAME, issuer, holder)
    return npm_present(credential, NPM_PRESENTATION_FRAME, holder, iat=now), credential, issuer


@pytest.fixture
def tsunagu_presentation(now: datetime) -> tuple[str, str, PrivateJwk]:
    issuer, holder = generate_key("ES256"), generate_key("ES256")
    credential = tsunagu_credential(issuer, holder, now, decoys=2)
    paths: list[ClaimsPath] = [("employee_name",), ("employment_type",), ("annual_salary",)]
    kb = KeyBindingRequest(holder_key=holder, aud=AUD, nonce=NONCE, iat=now)
    return present_sd_jwt(credential, paths, key_binding=kb), credential, issuer


def test_untampered_presentations_pass_both_verifiers(
    npm_presentation: tuple[str, str, PrivateJwk], tsunagu_presentation: tuple[str, str, PrivateJwk], now: datetime
) -> None:
    """The control for the tables below: both fixtures verify before anything is changed."""
    presentation, _, issuer = npm_presentation
    assert tsunagu_verify(presentation, issuer, now).claims["annual_salary"] == 5_400_000
    presentation, _, issuer = tsunagu_presentation
    answer = npm_accepted(npm_verify(presentation, issuer, now + VERIFY_DELAY))
    assert answer["claims"]["annual_salary"] == 5_400_000


@pytest.mark.parametrize(("mutate", "tsunagu_error"), [(m, t) for m, t, _ in TAMPERING], ids=TAMPERING_IDS)
def test_tsunagu_rejects_tampered_npm_presentation(
    npm_presentation: tuple[str, str, PrivateJwk], mutate: Mutation, tsunagu_error: type[TsunaguError],
    now: datetime,
) -> None:
    presentation, credential, issuer = npm_presentation
    with pytest.raises(tsunagu_error):
        tsunagu_verify(mutate(presentation, credential), issuer, now)


@pytest.mark.parametrize(("mutate", "npm_error"), [(m, e) for m, _, e in TAMPERING], ids=TAMPERING_IDS)
def test_npm_rejects_tampered_tsunagu_presentation(
    tsunagu_presentation: tuple[str, str, PrivateJwk], mutate: Mutation, npm_error: str, now: datetime
) -> None:
    presentation, credential, issuer = tsunagu_presentation
    assert npm_verify(mutate(presentation, credential), issuer, now + VERIFY_DELAY) == {"error": npm_error}


@pytest.mark.parametrize(
    ("expect", "error"),
    [
        (KbExpectation(nonce="another-request", aud=AUD), KbNonceMismatch),
        (KbExpectation(nonce=NONCE, aud="https://bank.example"), KbAudienceMismatch),
    ],
    ids=["replayed_to_other_request", "replayed_to_other_verifier"],
)
def test_tsunagu_rejects_npm_key_binding_for_another_request(
    npm_presentation: tuple[str, str, PrivateJwk], expect: KbExpectation, error: type[TsunaguError], now: datetime
) -> None:
    presentation, _, issuer = npm_presentation
    with pytest.raises(error):
        verify_sd_jwt_vc(presentation, issuer_key=issuer.public, kb=expect, now=now + VERIFY_DELAY)


@pytest.mark.parametrize(
    ("nonce", "aud", "npm_error"),
    [
        ("another-request", AUD, "Verify Error: Invalid Nonce"),
        # Checked by js/sd_jwt_vc.mjs: the package itself never looks at the KB-JWT's aud.
        (NONCE, "https://bank.example", f'KB-JWT aud "{AUD}" is not "https://bank.example"'),
    ],
    ids=["replayed_to_other_request", "replayed_to_other_verifier"],
)
def test_npm_rejects_tsunagu_key_binding_for_another_request(
    tsunagu_presentation: tuple[str, str, PrivateJwk], nonce: str, aud: str, npm_error: str, now: datetime
) -> None:
    presentation, _, issuer = tsunagu_presentation
    assert npm_verify(presentation, issuer, now + VERIFY_DELAY, nonce=nonce, aud=aud) == {"error": npm_error}
