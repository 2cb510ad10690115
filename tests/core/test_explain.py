"""Explainable decisions: every check has a reason in English and Japanese, and every failure a party."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tsunagu import consent, errors, oid4vp, trust
from tsunagu.errors import CredentialExpired, KbNonceMismatch, TsunaguError
from tsunagu.explain import (
    CODE_REVOKED,
    CODE_STATUS_UNREACHABLE,
    CODE_SUSPENDED,
    ERROR_EXPLANATIONS,
    Check,
    Decision,
    check_failed,
    check_passed,
    check_revoked,
    check_skipped,
    check_status_unreachable,
    check_suspended,
    check_warning,
    decide,
    explain_error,
)
from tsunagu.service import http, issuer_documents
from tsunagu.service.issuer_documents import StatusListUnreachable
from tsunagu.trust import LocalizedText

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# What a verifier's checks can raise: the presentation's formats, its status, the query, the registry,
# the fetches the verifier makes, and the response endpoint's refusals.
VERIFICATION_FAMILIES = (
    errors.EncodingError, errors.JoseError, errors.JwkError, errors.SdJwtError, errors.KbJwtError,
    errors.SdJwtVcError, errors.StatusListError, errors.DcqlError, trust.TrustError, http.FetchError,
    consent.ConsentError,  # the consent receipt check
)
VERIFIER_RESPONSE_ERRORS = (oid4vp.InvalidAuthorizationResponse, oid4vp.UnknownState, oid4vp.ResponseReplayed,
                            oid4vp.AccessDenied)


def _verification_error_classes() -> list[type[TsunaguError]]:
    classes: list[type[TsunaguError]] = []
    for module in (errors, trust, http, issuer_documents, consent):
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


# --- warnings and a credential's status ----------------------------------------------------------------------

EMPLOYER = LocalizedText("Sakura Logistics", "さくら物流")
# 23:30 UTC on the 20th is already the 21st in Tokyo, where everyone reading the reasons is.
LATE_EVENING = datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc)


def test_a_warning_is_listed_but_does_not_reject() -> None:
    warned = check_warning("status", "could not check", "確認できません", party="issuer", code=CODE_STATUS_UNREACHABLE)
    passed = check_passed("issuer_signature", "valid", "有効")
    decision = decide([passed, warned])
    assert decision.outcome == "accepted"
    assert (decision.warnings, decision.failed) == ((warned,), ())
    assert decide([warned]).outcome == "rejected"  # nothing passed
    assert Decision.from_json(decision.to_json()) == decision
    assert decision.to_json()["checks"][1]["outcome"] == "warning"


def test_revoked_names_the_issuer_and_the_date_it_published_the_list() -> None:
    check = check_revoked(EMPLOYER, published=LATE_EVENING, credential="employment")
    assert (check.id, check.outcome, check.party, check.code, check.credential) == (
        "status", "failed", "issuer", CODE_REVOKED, "employment")
    assert check.reason_en == ("Revoked by Sakura Logistics on 2026-11-21 "
                               "(the date of the status list in which the issuer published it).")
    assert check.reason_ja == "さくら物流が2026年11月21日にこの証明書を失効させました（発行者が公表した失効リストの日付）。"
    tokyo = LATE_EVENING.astimezone(timezone(timedelta(hours=9)))
    assert check_revoked(EMPLOYER, published=tokyo) == check_revoked(EMPLOYER, published=LATE_EVENING)


def test_suspended_names_the_issuer_and_blames_no_one_else() -> None:
    check = check_suspended(EMPLOYER)
    assert (check.outcome, check.party, check.code) == ("failed", "issuer", CODE_SUSPENDED)
    assert check.reason_en.startswith("Suspended by Sakura Logistics")
    assert check.reason_ja.startswith("さくら物流がこの証明書を一時停止しています")


@pytest.mark.parametrize(("warn", "outcome"), [(False, "failed"), (True, "warning")])
def test_an_unreachable_status_list_is_the_issuers_infrastructure_never_the_resident(warn: bool, outcome: str) -> None:
    cause = http.FetchTimeout("https://issuer.test/employer/status-lists/1 did not answer within 5 seconds")
    check = check_status_unreachable(EMPLOYER, since=LATE_EVENING, cause=cause, warn=warn, credential="employment")
    assert (check.id, check.outcome, check.party, check.code) == ("status", outcome, "issuer", CODE_STATUS_UNREACHABLE)
    assert check.reason_en.startswith(
        "Status could not be established: Sakura Logistics's status list unreachable since 2026-11-21 08:30:00 JST "
        "(https://issuer.test/employer/status-lists/1 did not answer within 5 seconds). "
        "This is a failure of the issuer's infrastructure, not of the resident.")
    assert check.reason_ja.startswith("失効状態を確認できませんでした。さくら物流の失効リストを2026年11月21日 08:30:00（日本時間）から")
    assert "相手のサーバーが時間内に応答しませんでした" in check.reason_ja
    assert ("policy allows" in check.reason_en) is warn
    assert ("方針により" in check.reason_ja) is warn


def test_the_unreachable_error_is_explained_as_the_issuers() -> None:
    error = StatusListUnreachable("unreachable", iss="https://issuer.test/employer", uri="https://issuer.test/s/1",
                                  since=LATE_EVENING, cause=http.FetchBadStatus("503"))
    assert explain_error(error) == ERROR_EXPLANATIONS[CODE_STATUS_UNREACHABLE]
    assert explain_error(error).party == "issuer"
