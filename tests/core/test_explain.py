"""Explainable decisions: every check has a reason in English and Japanese, and every failure a party."""

from __future__ import annotations

import re

import pytest

from tsunagu import errors, oid4vp, trust
from tsunagu.errors import CredentialExpired, KbNonceMismatch, TsunaguError
from tsunagu.explain import (
    ERROR_EXPLANATIONS,
    Check,
    Decision,
    check_failed,
    check_passed,
    check_skipped,
    decide,
    explain_error,
)
from tsunagu.service import http

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# What a verifier's checks can raise: the presentation's formats, its status, the query, the registry,
# the fetches the verifier makes, and the response endpoint's refusals.
VERIFICATION_FAMILIES = (
    errors.EncodingError, errors.JoseError, errors.JwkError, errors.SdJwtError, errors.KbJwtError,
    errors.SdJwtVcError, errors.StatusListError, errors.DcqlError, trust.TrustError, http.FetchError,
)
VERIFIER_RESPONSE_ERRORS = (oid4vp.InvalidAuthorizationResponse, oid4vp.UnknownState, oid4vp.ResponseReplayed,
                            oid4vp.AccessDenied)


def _verification_error_classes() -> list[type[TsunaguError]]:
    classes: list[type[TsunaguError]] = []
    for module in (errors, trust, http):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, VERIFICATION_FAMILIES):
                classes.append(obj)
    return classes + list(VERIFIER_RESPONSE_ERRORS)


@pytest.mark.parametrize("cls", _verification_error_classes(), ids=lambda c: c.code)
def test_every_verification_error_code_has_japanese_and_a_party(cls: type[TsunaguError]) -> None:
    assert cls.code in ERROR_EXPLANATIONS, f"{cls.__name__} ({cls.code}) has no explanation"
    explanation = ERROR_EXPLANATIONS[cls.code]
    assert JAPANESE.search(explanation.ja) and explanation.ja.endswith("。")
    assert explanation.party in ("issuer", "resident", "verifier", "network")


def test_the_table_explains_only_codes_that_exist() -> None:
    known = {cls.code for cls in _verification_error_classes()}
    assert set(ERROR_EXPLANATIONS) <= known


@pytest.mark.parametrize(("error", "party"), [
    (KbNonceMismatch("the presentation was made for a different request (nonce mismatch)"), "resident"),
    (CredentialExpired("the credential expired at 2026-01-01"), "issuer"),
    (trust.IssuerNotTrustedForVct("not for this vct"), "issuer"),
    (http.FetchTimeout("slow"), "network"),
])
def test_a_failed_check_carries_the_reason_the_japanese_text_and_the_party(error: TsunaguError, party: str) -> None:
    check = check_failed("holder_binding", error, credential="employment")
    assert (check.outcome, check.reason_en, check.party, check.code, check.credential) == (
        "failed", error.reason, party, error.code, "employment")
    assert check.reason_ja == ERROR_EXPLANATIONS[error.code].ja


def test_an_unlisted_subclass_is_explained_by_its_parent() -> None:
    class StrangeKbProblem(errors.KbJwtError):
        code = "kb_jwt.strange_problem_for_this_test"

    assert explain_error(StrangeKbProblem("?")) == ERROR_EXPLANATIONS["kb_jwt.invalid"]


def test_accepted_only_when_nothing_failed_and_something_passed() -> None:
    passed = check_passed("issuer_trusted", "trusted", "信頼済み")
    skipped = check_skipped("status", "no status", "失効情報なし")
    failed = check_failed("query", errors.DcqlNotSatisfied("missing annual_salary"))
    assert decide([passed, skipped]).outcome == "accepted"
    assert decide([passed, failed]).outcome == "rejected"
    assert decide([skipped]).outcome == "rejected"
    assert decide([]).outcome == "rejected"
    assert decide([passed, failed]).failed == (failed,)


def test_a_decision_survives_json() -> None:
    decision = decide([check_passed("issuer_trusted", "ok", "確認済み", credential="employment"),
                       check_failed("holder_binding", KbNonceMismatch("nonce"), credential="employment")])
    as_json = decision.to_json()
    assert as_json["decision"] == "rejected"
    assert as_json["checks"][1] == {"id": "holder_binding", "outcome": "failed",
                                    "reason": {"en": "nonce", "ja": ERROR_EXPLANATIONS["kb_jwt.nonce_mismatch"].ja},
                                    "party": "resident", "code": "kb_jwt.nonce_mismatch", "credential": "employment"}
    assert Decision.from_json(as_json) == decision
    assert Check.from_json(as_json["checks"][0]) == decision.checks[0]
