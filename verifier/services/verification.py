"""Verifying a ``vp_token`` (OpenID4VP 1.0 §8.6) and explaining the decision, one check at a time.

For each presentation, in this order (a failure skips what follows, and says so):

``format``           it is an SD-JWT VC we can read at all;
``issuer_trusted``   the trust registry lets its ``iss`` issue its ``vct`` — decided before anything
                     is fetched, so an untrusted credential cannot make us fetch from its issuer;
``issuer_key``       the issuer's keys, from its JWT VC Issuer Metadata at its registered origin;
``issuer_signature`` the issuer-signed JWT verifies with one of them;
``validity_period``  ``nbf``/``exp``;
``disclosures``      every disclosure is one the issuer signed a digest of (RFC 9901 §7.1);
``holder_binding``   the KB-JWT: signed by the ``cnf`` key, our ``nonce``, ``aud`` = our full
                     ``client_id``, ``sd_hash``, fresh ``iat`` (§8.6, §14.1.2);
``status``           the status list entry, when the credential has one: "revoked by <issuer> on
                     <date>" or "suspended by <issuer>" (the issuer's decision), or, when the list
                     cannot be fetched, "status could not be established: <issuer>'s status list
                     unreachable since <time>" (the issuer's infrastructure), a failure or, under
                     ``unreachable_status_policy = "warn"``, a warning (``tsunagu.explain``).

Issuer keys and status lists come from the process-wide ``IssuerDocuments`` (cached and shared by
concurrent verifications), which reads time from the same app clock as ``now``.

Then ``query``: the presentations that passed answer the DCQL query (``dcql.check_vp_token``).
A presentation that fails any check is discarded (§8.6) and the decision is ``rejected``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from tsunagu import jose
from tsunagu.dcql import DcqlQuery, PresentedCredential, check_vp_token
from tsunagu.errors import (
    CredentialExpired,
    CredentialNotYetValid,
    IssuerKeyNotFound,
    IssuerMismatch,
    IssuerSignatureInvalid,
    JoseError,
    JwkError,
    KbJwtError,
    TsunaguError,
)
from tsunagu.explain import (
    Check,
    Decision,
    check_failed,
    check_passed,
    check_revoked,
    check_skipped,
    check_status_unreachable,
    check_suspended,
    decide,
)
from tsunagu.kb_jwt import KbExpectation
from tsunagu.sd_jwt.compact import parse_sd_jwt
from tsunagu.sd_jwt.verifier import VerifyPolicy
from tsunagu.sd_jwt_vc import TYP_DC_SD_JWT, VerifiedCredential, issuer_key_resolver, verify_sd_jwt_vc
from tsunagu.service.issuer_documents import IssuerDocuments, StatusListUnreachable
from tsunagu.status_list import INVALID, SUSPENDED, VALID, parse_status_claim
from tsunagu.trust import IssuerEntry, TrustError, TrustRegistry, TrustRegistryExpired

__all__ = ["VerificationContext", "VerificationResult", "verify_vp_token", "CHECK_ORDER"]

CHECK_ORDER: Final = ("format", "issuer_trusted", "issuer_key", "issuer_signature", "validity_period", "disclosures",
                      "holder_binding", "status")
# What a passed check says, in English and Japanese.
_PASSED: Final[Mapping[str, tuple[str, str]]] = {
    "format": ("The presentation is a readable SD-JWT VC.", "提示は読み取り可能なSD-JWT VCです。"),
    "issuer_key": ("The issuer's public keys were obtained from its published metadata.",
                   "発行者が公開している鍵を取得しました。"),
    "issuer_signature": ("The issuer's signature is valid.", "発行者の署名は有効です。"),
    "validity_period": ("The credential is within its validity period.", "証明書は有効期間内です。"),
    "disclosures": ("Every disclosed claim is one the issuer signed.", "開示された項目はすべて発行者が署名したものです。"),
    "holder_binding": ("The credential's holder made this presentation for this request (nonce, audience, time).",
                       "証明書の所持者が、この依頼のために提示しました（nonce・宛先・時刻を確認）。"),
    "status": ("The issuer's status list says the credential is valid.", "発行者の失効リストでは有効です。"),
    "query": ("The presentations answer everything the request asked for.", "提示内容は依頼したすべての項目を満たしています。"),
}
_NOT_CHECKED: Final = ("Not checked, because an earlier check failed.", "前の確認に失敗したため、確認していません。")


@dataclass(frozen=True, slots=True)
class VerificationContext:
    """What the verifier asked, and how it checks."""

    query: DcqlQuery
    client_id: str
    nonce: str
    registry: TrustRegistry | None
    policy: VerifyPolicy
    #: What a status list that cannot be fetched does: reject, or only warn (``VerifierSettings``).
    unreachable_status_policy: Literal["reject", "warn"] = "reject"


@dataclass(frozen=True, slots=True)
class VerificationResult:
    decision: Decision
    #: The disclosed claims of every presentation that passed all its checks, by Credential Query id.
    claims: dict[str, list[dict[str, Any]]]


class _Failed(Exception):
    """Internal: stops one presentation's pipeline after its failed check was recorded."""


class _Pipeline:
    def __init__(self, credential: str) -> None:
        self.credential = credential
        self.checks: list[Check] = []

    def passed(self, check_id: str, en: str | None = None, ja: str | None = None) -> None:
        default_en, default_ja = _PASSED.get(check_id, ("", ""))
        self.checks.append(check_passed(check_id, en or default_en, ja or default_ja, credential=self.credential))

    def skipped(self, check_id: str, en: str, ja: str) -> None:
        self.checks.append(check_skipped(check_id, en, ja, credential=self.credential))

    def fail(self, check_id: str, error: TsunaguError) -> _Failed:
        self.checks.append(check_failed(check_id, error, credential=self.credential))
        return _Failed()

    def record(self, check: Check) -> None:
        self.checks.append(check)

    def fail_with(self, check: Check) -> _Failed:
        self.checks.append(check)
        return _Failed()

    def finish(self) -> list[Check]:
        done = {check.id for check in self.checks}
        for check_id in CHECK_ORDER:
            if check_id not in done:
                self.skipped(check_id, *_NOT_CHECKED)
        order = {check_id: n for n, check_id in enumerate(CHECK_ORDER)}
        return sorted(self.checks, key=lambda c: order[c.id])


async def verify_vp_token(
    vp_token: Mapping[str, tuple[str, ...]], context: VerificationContext, documents: IssuerDocuments, *, now: datetime
) -> VerificationResult:
    checks: list[Check] = []
    presented: dict[str, list[PresentedCredential]] = {}
    claims: dict[str, list[dict[str, Any]]] = {}
    all_passed = True
    queries = {q.id: q for q in context.query.credentials}
    for query_id, presentations in vp_token.items():
        for n, presentation in enumerate(presentations):
            label = query_id if len(presentations) == 1 else f"{query_id}[{n}]"
            query = queries.get(query_id)
            binding_required = query.require_cryptographic_holder_binding if query is not None else True
            pipeline = _Pipeline(label)
            try:
                verified = await _verify_one(presentation, context, documents, pipeline, binding_required, now=now)
            except _Failed:
                all_passed = False
            else:
                presented.setdefault(query_id, []).append(
                    PresentedCredential(vct=verified.vct, claims=verified.claims,
                                        holder_bound=verified.key_binding is not None))
                claims.setdefault(query_id, []).append(verified.claims)
            checks.extend(pipeline.finish())
    if all_passed:
        try:
            check_vp_token(context.query, presented)
        except TsunaguError as error:
            checks.append(check_failed("query", error))
        else:
            checks.append(check_passed("query", *_PASSED["query"]))
    else:
        checks.append(check_skipped("query", "Not checked, because a presentation failed its checks and was discarded.",
                                    "提示のいずれかが確認に失敗して破棄されたため、確認していません。"))
    decision = decide(checks)
    return VerificationResult(decision, claims if decision.outcome == "accepted" else {})


async def _verify_one(
    presentation: str,
    context: VerificationContext,
    documents: IssuerDocuments,
    pipeline: _Pipeline,
    binding_required: bool,
    *,
    now: datetime,
) -> VerifiedCredential:
    # format: read iss and vct without trusting them yet, to decide whether to go any further.
    try:
        sd_jwt = parse_sd_jwt(presentation, max_bytes=context.policy.max_bytes,
                              max_disclosures=context.policy.max_disclosures)
        unverified = jose.parse_compact(sd_jwt.issuer_jwt, typ=TYP_DC_SD_JWT)
    except TsunaguError as error:
        raise pipeline.fail("format", error) from None
    iss, vct = unverified.payload.get("iss"), unverified.payload.get("vct")
    if not isinstance(vct, str) or not isinstance(iss, str):
        unnamed = IssuerMismatch("the credential does not name its issuer ('iss') and its type ('vct')")
        raise pipeline.fail("format", unnamed)
    pipeline.passed("format")

    # issuer_trusted
    try:
        if context.registry is None:
            raise TrustError("this verifier has no trust registry configured, so it trusts no issuer")
        if now > context.registry.exp:
            raise TrustRegistryExpired(f"the trust registry expired at {context.registry.exp.isoformat()}")
        issuer = context.registry.check_issuer(iss, vct)
    except TsunaguError as error:
        raise pipeline.fail("issuer_trusted", error) from None
    pipeline.passed("issuer_trusted", f"{issuer.name.en} is registered as an issuer of {vct}.",
                    f"{issuer.name.ja} は、この種類の証明書の発行者として登録されています。")

    # issuer_key (the header's kid only picks the key; one the cached keys lack refetches them: a rotation)
    kid = unverified.header.get("kid")
    try:
        keys = await documents.issuer_keys(iss, kid=kid if isinstance(kid, str) else None)
    except TsunaguError as error:
        raise pipeline.fail("issuer_key", error) from None
    pipeline.passed("issuer_key")

    # issuer_signature, validity_period, disclosures, holder_binding: one core call, its error names the check.
    kb = KbExpectation(nonce=context.nonce, aud=context.client_id) if binding_required else None
    try:
        verified = verify_sd_jwt_vc(sd_jwt, issuer_key=issuer_key_resolver(iss, keys), kb=kb, now=now,
                                    policy=context.policy)
    except TsunaguError as error:
        failed = _check_of(error)
        for check_id in _CORE_ORDER:  # the core made the checks before the failed one, and they held
            if check_id == failed:
                raise pipeline.fail(check_id, error) from None
            pipeline.passed(check_id)
        raise AssertionError(f"unknown check {failed}") from None
    for check_id in ("issuer_signature", "validity_period", "disclosures"):
        pipeline.passed(check_id)
    if verified.key_binding is None:
        pipeline.skipped("holder_binding", "The request did not require key binding for this credential.",
                         "この証明書については所持者の確認（キーバインディング）を求めていません。")
    else:
        pipeline.passed("holder_binding")

    # status
    if verified.status is None:
        pipeline.skipped("status", "The credential has no status list entry.", "この証明書には失効情報の参照がありません。")
        return verified
    try:
        reference = parse_status_claim(verified.status)
        lookup = await documents.status(iss, reference)
    except StatusListUnreachable as error:
        warn = context.unreachable_status_policy == "warn"
        unreachable = check_status_unreachable(issuer.name, since=error.since, cause=error.cause, warn=warn,
                                               credential=pipeline.credential)
        if not warn:
            raise pipeline.fail_with(unreachable) from None
        pipeline.record(unreachable)
        return verified
    except TsunaguError as error:
        raise pipeline.fail("status", error) from None
    if lookup.value != VALID:
        raise pipeline.fail_with(_status_failure(issuer, lookup.value, published=lookup.token.iat,
                                                 credential=pipeline.credential))
    pipeline.passed("status")
    return verified


def _status_failure(issuer: IssuerEntry, value: int, *, published: datetime, credential: str) -> Check:
    if value == INVALID:
        return check_revoked(issuer.name, published=published, credential=credential)
    if value == SUSPENDED:
        return check_suspended(issuer.name, credential=credential)
    # §7.1: 0x03 and 0x0C-0x0F are application specific, the rest reserved; neither is VALID.
    return Check("status", "failed", f"{issuer.name.en}'s status list gives the status value {value:#04x}, "
                 "which this verifier does not know, so the credential is not treated as valid.",
                 f"{issuer.name.ja}の失効リストに、この検証者が知らない状態値が記載されているため、有効とは扱いません。",
                 "issuer", "credential_status.unknown", credential)


# The order in which verify_sd_jwt_vc makes these checks (sd_jwt.verifier.verify_sd_jwt).
_CORE_ORDER: Final = ("issuer_signature", "validity_period", "disclosures", "holder_binding")


def _check_of(error: TsunaguError) -> str:
    if isinstance(error, KbJwtError):
        return "holder_binding"
    if isinstance(error, (CredentialExpired, CredentialNotYetValid)):
        return "validity_period"
    if isinstance(error, (IssuerSignatureInvalid, IssuerKeyNotFound, IssuerMismatch, JoseError, JwkError)):
        return "issuer_signature"
    return "disclosures"


def policy_from(settings_clock_skew: int, kb_max_age: int) -> VerifyPolicy:
    return VerifyPolicy(typ=(TYP_DC_SD_JWT,), clock_skew=timedelta(seconds=settings_clock_skew),
                        kb_max_age=timedelta(seconds=kb_max_age))
