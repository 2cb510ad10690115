"""The ``consent_receipt`` check: the resident's signed consent that came with a presentation (docs/consent.md).

A Tsunagu wallet adds ``consent_receipt`` to its ``direct_post`` form. The verifier fetches the
wallet's JWK Set from the receipt's ``iss`` + ``/.well-known/jwks.json`` (bounded, no redirects,
https only or http on loopback when this service runs there), verifies the receipt with
``aud`` = the tenant's ``client_id``, and checks that it describes this request and what was
actually disclosed: the same purpose and retention, and exactly the credentials and requested
claims that arrived. The outcome is one explained check:

- ``passed``: the receipt is stored with the request (``verifier_consent_receipt``);
- ``skipped``: no receipt came (or the presentation was rejected anyway);
- ``warning``: a receipt that is not valid or does not match, under the default policy: OpenID4VP
  defines no receipt, so its absence or a fault in it does not reject a presentation that passed;
- ``failed``: the same, or no receipt at all, with ``require_consent_receipt`` on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from tsunagu import jose
from tsunagu.claims_path import ClaimsPath, format_claims_path, select_claims
from tsunagu.consent import TYP_CONSENT_RECEIPT, ConsentReceipt, ConsentTokenInvalid, verify_consent_receipt
from tsunagu.dcql import DcqlQuery, requested_claims
from tsunagu.errors import JoseError, JwkError, TsunaguError
from tsunagu.explain import Check, Party, explain_error
from tsunagu.jwk import PublicJwk, parse_jwks
from tsunagu.local_time import japan_time, japan_time_ja
from tsunagu.service.http import FetchError, fetch_bounded
from tsunagu.settings import is_loopback_url

from ..errors import ConsentReceiptMismatch, ConsentReceiptMissing, ConsentReceiptProblem, WalletKeysLocationRefused
from ..settings import VerifierSettings
from ..tables import VerifierConsentReceipt, VerifierRequest

__all__ = ["CHECK_ID", "FORM_PARAMETER", "ReceiptCheck", "check_consent_receipt", "receipt_row", "wallet_jwks_url",
           "wallet_keys", "unverified_issuer"]

CHECK_ID: Final = "consent_receipt"
FORM_PARAMETER: Final = "consent_receipt"
_JWKS_TYPES: Final = frozenset({"application/json", "application/jwk-set+json"})

# tsunagu.explain's sentences for key errors speak of an issuer's keys; here the keys are the wallet's.
_WALLET_KEYS_JA: Final[Mapping[str, str]] = {
    "jwk.unsupported_kty": "ウォレットが公開している鍵の種類に対応していません。",
}
_WALLET_JWKS_INVALID_JA: Final = "ウォレットが公開している鍵一覧（JWKS）が正しくありません。"


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    check: Check
    #: The verified receipt and its JWS, when the check passed.
    receipt: ConsentReceipt | None = None
    token: str | None = None


def wallet_jwks_url(iss: str, settings: VerifierSettings) -> str:
    """``{iss}/.well-known/jwks.json``, when this verifier may fetch it.

    Raises:
        WalletKeysLocationRefused: not https (plain http only on loopback, and only when this service
            runs there), has a query or fragment, or is outside ``consent_wallet_origins``.
    """
    parts = urlsplit(iss)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and settings.allow_insecure_loopback and is_loopback_url(iss))
    if not secure or not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise WalletKeysLocationRefused(
            f"the receipt's issuer {iss!r} is not an https URL this verifier fetches keys from",
            "同意レシートの発行元（iss）が、鍵を取得できる https のURLではありません。", iss=iss)
    origin = f"{parts.scheme}://{parts.netloc}"
    if settings.consent_wallet_origins and origin not in settings.consent_wallet_origins:
        raise WalletKeysLocationRefused(
            f"receipts from the wallet at {origin} are not accepted by this verifier's settings",
            "この検証者の設定では、このウォレットの同意レシートを受け付けていません。", iss=iss)
    return iss.rstrip("/") + "/.well-known/jwks.json"


async def check_consent_receipt(
    token: str | None,
    *,
    row: VerifierRequest,
    query: DcqlQuery,
    accepted: bool,
    received: Mapping[str, Sequence[Mapping[str, Any]]],
    settings: VerifierSettings,
    http: httpx.AsyncClient,
    now: datetime,
) -> ReceiptCheck:
    """Verify the receipt posted with an answer to ``row``; ``received``: the disclosed claims by query id."""
    required = settings.require_consent_receipt
    if token is None:
        if required:
            return ReceiptCheck(_problem(ConsentReceiptMissing(
                "no consent receipt came with the presentation, and this verifier requires one",
                "提示に同意レシートが添付されていません。この検証者は同意レシートを必須としています。"), failed=True))
        return ReceiptCheck(Check(CHECK_ID, "skipped", "The wallet sent no consent receipt.",
                                  "ウォレットから同意レシートは送られていません。"))
    if not accepted:
        return ReceiptCheck(Check(CHECK_ID, "skipped", "Not checked, because the presentation was rejected.",
                                  "提示が受け付けられなかったため、同意レシートは確認していません。"))
    try:
        keys = await _wallet_keys(token, settings, http)
        receipt = verify_consent_receipt(token, keys=keys, expected_aud=row.client_id, now=now,
                                         clock_skew=timedelta(seconds=settings.clock_skew_seconds))
        _match(receipt, row, query, received)
    except ConsentReceiptProblem as problem:
        return ReceiptCheck(_problem(problem, failed=required))
    except TsunaguError as error:
        return ReceiptCheck(_error_check(error, failed=required))
    en = (f"The resident's consent {receipt.consent_id} (granted {japan_time(receipt.granted_at)}, "
          f"{receipt.access_type}) covers this purpose, retention and the claims received.")
    ja = (f"本人の同意（{receipt.consent_id}、{japan_time_ja(receipt.granted_at)}）は、"
          "この目的・保存期間・受け取った項目と一致しています。")
    return ReceiptCheck(Check(CHECK_ID, "passed", en, ja), receipt, token)


def check_refresh_within_consent(consent_id: str, consented: object, query: DcqlQuery,
                                 received: Mapping[str, Sequence[Mapping[str, Any]]], *, accepted: bool) -> Check:
    """The ``consent_receipt`` check of a refresh: it must carry nothing beyond what the stored receipt's
    ``claims`` (verified when it arrived) consent to. A refresh outside the consent is rejected and not kept."""
    if not accepted:
        return Check(CHECK_ID, "skipped", "Not checked, because the presentation was rejected.",
                     "提示が受け付けられなかったため、同意の範囲は確認していません。")
    allowed: dict[str, set[ClaimsPath]] = {}
    for entry in consented if isinstance(consented, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("credential_query_id"), str):
            paths = entry.get("paths")
            allowed[entry["credential_query_id"]] = {tuple(p) for p in paths if isinstance(p, list)} if isinstance(
                paths, list) else set()
    asked = requested_claims(query)
    for query_id, credentials in received.items():
        beyond = _unconsented(allowed.get(query_id, set()), asked.get(query_id, ()), credentials)
        if query_id not in allowed or beyond:
            names = ", ".join(format_claims_path(p) for p in beyond) or query_id
            return _problem(_mismatch(f"the refresh disclosed {names}, beyond the resident's consent {consent_id}",
                                      "更新された提示に、本人が同意していない項目が含まれています。"), failed=True)
    return Check(CHECK_ID, "passed", f"The refresh carries only claims of the resident's consent {consent_id}.",
                 f"更新された提示は、本人の同意（{consent_id}）の範囲内です。")


def receipt_row(check: ReceiptCheck, request_id: str, tenant: str, *, now: datetime) -> VerifierConsentReceipt | None:
    receipt, token = check.receipt, check.token
    if receipt is None or token is None:
        return None
    return VerifierConsentReceipt(
        request_id=request_id, tenant=tenant, consent_id=receipt.consent_id, wallet=receipt.wallet,
        subject=receipt.subject, purpose=receipt.purpose, access_type=receipt.access_type,
        retention_days=receipt.retention_days, granted_at=receipt.granted_at, expires_at=receipt.expires_at,
        received_at=now, receipt=token,
    )


async def wallet_keys(iss: str, settings: VerifierSettings, http: httpx.AsyncClient) -> tuple[PublicJwk, ...]:
    """The JWK Set of the wallet at ``iss`` (receipts, revocation events), fetched bounded.

    Raises:
        WalletKeysLocationRefused: ``iss`` is not a URL this verifier fetches keys from (``wallet_jwks_url``).
        FetchError: unreachable, too large, an error status or not a JWK Set media type.
        JwkError: the document is not a usable JWK Set.
    """
    document = await fetch_bounded(http, wallet_jwks_url(iss, settings), max_bytes=settings.max_wallet_jwks_bytes,
                                   timeout=settings.http_timeout_seconds, content_types=_JWKS_TYPES)
    return parse_jwks(document.json())


def unverified_issuer(token: str, typ: str) -> str:
    """The ``iss`` of a wallet's token, read before verification only to know where its keys are.

    Raises:
        ConsentTokenInvalid: not a JWS of that ``typ``, or no string ``iss``.
    """
    try:
        iss = jose.parse_compact(token, typ=typ).payload.get("iss")
    except JoseError as exc:
        raise ConsentTokenInvalid(f"the {typ} token is not acceptable: {exc.reason}") from None
    if not isinstance(iss, str):
        raise ConsentTokenInvalid(f"the {typ} token names no issuer (iss)")
    return iss


async def _wallet_keys(token: str, settings: VerifierSettings, http: httpx.AsyncClient) -> tuple[PublicJwk, ...]:
    # The issuer names where its keys are; read it (unverified) only to know where to fetch them.
    return await wallet_keys(unverified_issuer(token, TYP_CONSENT_RECEIPT), settings, http)


def _match(receipt: ConsentReceipt, row: VerifierRequest, query: DcqlQuery,
           received: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """The receipt must describe this request and exactly what arrived.

    Raises:
        ConsentReceiptMismatch: another purpose, access type or retention, a credential or claim that did not
            arrive or was not asked for, or a requested claim that arrived without consent.
    """
    if receipt.purpose != row.purpose:
        raise _mismatch(f"the receipt is for the purpose {receipt.purpose!r}, the request for {row.purpose!r}",
                        "同意レシートの目的が、依頼の目的と異なります。")
    if receipt.access_type != row.access_type:
        raise _mismatch(f"the receipt grants {receipt.access_type} access, the request asked for {row.access_type}",
                        "同意レシートのアクセスの種類（一回限り・継続）が、依頼と異なります。")
    if receipt.retention_days != row.retention_days:
        raise _mismatch(f"the receipt allows keeping the data {receipt.retention_days} days, the request stated "
                        f"{row.retention_days}", "同意レシートの保存期間が、依頼で示した保存期間と異なります。")
    consented = {c.credential_query_id: c for c in receipt.claims}
    if len(consented) != len(receipt.claims) or set(consented) != set(received):
        raise _mismatch(f"the receipt covers the credentials {sorted(consented)}, but {sorted(received)} arrived",
                        "同意レシートに記載された証明書が、受け取った証明書と一致しません。")
    asked = requested_claims(query)
    for query_id, entry in consented.items():
        credentials = received[query_id]
        if not any(c.get("vct") == entry.vct for c in credentials):
            raise _mismatch(f"the receipt names the credential type {entry.vct} for {query_id!r}, which did not arrive",
                            "同意レシートに記載された証明書の種類が、受け取ったものと異なります。")
        requested = asked.get(query_id, ())
        for path in entry.paths:
            if requested and path not in requested:
                raise _mismatch(f"the receipt consents to {format_claims_path(path)} of {query_id!r}, which this "
                                "request did not ask for", "同意レシートに、依頼していない項目が含まれています。")
            if not any(_present(c, path) for c in credentials):
                raise _mismatch(f"the receipt consents to {format_claims_path(path)} of {query_id!r}, which did "
                                "not arrive", "同意レシートに、受け取っていない項目が含まれています。")
        if beyond := _unconsented(entry.paths, requested, credentials):
            names = ", ".join(format_claims_path(p) for p in beyond)
            raise _mismatch(f"{names} of {query_id!r} arrived without the resident's consent in the receipt",
                            "受け取った項目の一部が、同意レシートに記載されていません。")


def _unconsented(consented: Collection[ClaimsPath], requested: Sequence[ClaimsPath],
                 credentials: Sequence[Mapping[str, Any]]) -> list[ClaimsPath]:
    """The requested claims that arrived although the consent does not name them."""
    return [path for path in requested if path not in consented and any(_present(c, path) for c in credentials)]


def _present(claims: Mapping[str, Any], path: ClaimsPath) -> bool:
    try:
        select_claims(claims, path)
    except TsunaguError:
        return False
    return True


def _mismatch(en: str, ja: str) -> ConsentReceiptMismatch:
    return ConsentReceiptMismatch(en, ja)


def _suffix(failed: bool) -> tuple[str, str]:
    if failed:
        return "", ""
    return (" The presentation is accepted without a consent receipt, as this verifier's policy allows.",
            "この検証者の方針により、同意レシートなしで提示を受け付けています。")


def _problem(problem: ConsentReceiptProblem, *, failed: bool) -> Check:
    en, ja = _suffix(failed)
    return Check(CHECK_ID, "failed" if failed else "warning", f"The consent receipt was not accepted: {problem.reason}.{en}",
                 problem.reason_ja + ja, "resident", problem.code)


def _error_check(error: TsunaguError, *, failed: bool) -> Check:
    party: Party = "network" if isinstance(error, FetchError) else "resident"
    if isinstance(error, JwkError):
        ja = _WALLET_KEYS_JA.get(error.code, _WALLET_JWKS_INVALID_JA)
    else:
        ja = explain_error(error).ja  # consent.* codes, and any subclass by its nearest ancestor's code
    en, ja_suffix = _suffix(failed)
    return Check(CHECK_ID, "failed" if failed else "warning",
                 f"The consent receipt was not accepted: {error.reason}.{en}", ja + ja_suffix, party, error.code)
