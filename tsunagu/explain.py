"""Explainable verification results: a decision and one entry per check, in English and Japanese.

DESIGN.md asks that every decision list each check, why it passed or failed, and which party a
failure belongs to, so that an issuer's mistake is never blamed on the resident. A failed check
carries the error's ``code``, its English ``reason`` (the error's own sentence, with the specifics)
and a fixed Japanese sentence for that code from :data:`ERROR_EXPLANATIONS`.

Outcomes: ``passed``, ``failed``, ``skipped`` (not checked, with the reason why), and ``warning``:
the check could not be made, and the verifier's published policy lets the decision go on without
it (an unreachable status list under ``unreachable_status_policy = "warn"``). A warning never makes a
decision ``rejected``; it is listed with its party and code like a failure, so the reader sees it.

Parties: ``issuer`` (the credential or its status as the issuer made it, and the issuer's own
infrastructure: a status list it fails to serve), ``resident`` (what the wallet presented: holder
binding, choice of claims), ``verifier`` (its own configuration or request), ``network`` (another
document that could not be fetched, such as the issuer's metadata).

A credential's status (Token Status List) has sentences of its own, built by
:func:`check_revoked`, :func:`check_suspended` and :func:`check_status_unreachable`: they name the
issuer, and the date of a revocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Literal

from .errors import TsunaguError
from .local_time import japan_date, japan_date_ja, japan_time, japan_time_ja
from .trust import LocalizedText

__all__ = [
    "Outcome",
    "Party",
    "Check",
    "Decision",
    "ErrorExplanation",
    "ERROR_EXPLANATIONS",
    "explain_error",
    "check_passed",
    "check_failed",
    "check_skipped",
    "check_warning",
    "check_revoked",
    "check_suspended",
    "check_status_unreachable",
    "CODE_REVOKED",
    "CODE_SUSPENDED",
    "CODE_STATUS_UNREACHABLE",
    "decide",
]

Outcome = Literal["passed", "failed", "skipped", "warning"]
Party = Literal["issuer", "resident", "verifier", "network"]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    outcome: Outcome
    reason_en: str
    reason_ja: str
    party: Party | None = None
    #: The error code of a failed check (``kb_jwt.nonce_mismatch``); ``None`` otherwise.
    code: str | None = None
    #: The DCQL Credential Query id the check is about; ``None`` for checks of the whole response.
    credential: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": self.outcome,
            "reason": {"en": self.reason_en, "ja": self.reason_ja},
            "party": self.party,
            "code": self.code,
            "credential": self.credential,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Check:
        return cls(id=obj["id"], outcome=obj["outcome"], reason_en=obj["reason"]["en"], reason_ja=obj["reason"]["ja"],
                   party=obj.get("party"), code=obj.get("code"), credential=obj.get("credential"))


@dataclass(frozen=True, slots=True)
class Decision:
    """``accepted`` exactly when no check failed and at least one passed."""

    outcome: Literal["accepted", "rejected"]
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.outcome == "failed")

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.outcome == "warning")

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.outcome, "checks": [check.to_json() for check in self.checks]}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Decision:
        return cls(outcome=obj["decision"], checks=tuple(Check.from_json(c) for c in obj["checks"]))


def decide(checks: Iterable[Check]) -> Decision:
    """``accepted`` when no check failed and at least one passed; warnings and skipped checks do not count."""
    checks = tuple(checks)
    ok = any(c.outcome == "passed" for c in checks) and not any(c.outcome == "failed" for c in checks)
    return Decision("accepted" if ok else "rejected", checks)


def check_passed(check_id: str, reason_en: str, reason_ja: str, *, credential: str | None = None) -> Check:
    return Check(check_id, "passed", reason_en, reason_ja, credential=credential)


def check_skipped(check_id: str, reason_en: str, reason_ja: str, *, credential: str | None = None) -> Check:
    return Check(check_id, "skipped", reason_en, reason_ja, credential=credential)


def check_failed(check_id: str, error: TsunaguError, *, credential: str | None = None) -> Check:
    explanation = explain_error(error)
    return Check(check_id, "failed", error.reason, explanation.ja, explanation.party, error.code, credential)


def check_warning(check_id: str, reason_en: str, reason_ja: str, *, party: Party, code: str,
                  credential: str | None = None) -> Check:
    """A check that could not be made and that policy lets pass: it does not reject the decision."""
    return Check(check_id, "warning", reason_en, reason_ja, party, code, credential)


# --- a credential's status (draft-ietf-oauth-status-list §7.1) -------------------------------------------

#: Codes of the status check's own outcomes (the status list said so; not errors of ours).
CODE_REVOKED: Final = "credential_status.revoked"
CODE_SUSPENDED: Final = "credential_status.suspended"
CODE_STATUS_UNREACHABLE: Final = "status_list.unreachable"


def check_revoked(issuer: LocalizedText, *, published: datetime, credential: str | None = None) -> Check:
    """"Revoked by <issuer> on <date>", the issuer's decision (status ``INVALID``, §7.1).

    ``published`` is the ``iat`` of the status list token that says so: the time the issuer
    published the list carrying the revocation. A list does not record when an entry changed, so
    this is the latest the revocation can have happened (the same day, for an issuer that publishes
    on every change); the date is the calendar date in Japan, as the wallet words it too.
    """
    return Check(
        "status", "failed",
        f"Revoked by {issuer.en} on {japan_date(published)} (the date of the status list in which the issuer "
        "published it).",
        f"{issuer.ja}が{japan_date_ja(published)}にこの証明書を失効させました（発行者が公表した失効リストの日付）。",
        "issuer", CODE_REVOKED, credential)


def check_suspended(issuer: LocalizedText, *, credential: str | None = None) -> Check:
    """"Suspended by <issuer>" (status ``SUSPENDED``, §7.1): the issuer's decision, which it may undo."""
    return Check(
        "status", "failed",
        f"Suspended by {issuer.en}: the issuer has put this credential on hold and may reinstate it.",
        f"{issuer.ja}がこの証明書を一時停止しています。発行者が再開する可能性があります。",
        "issuer", CODE_SUSPENDED, credential)


def check_status_unreachable(issuer: LocalizedText, *, since: datetime, cause: TsunaguError, warn: bool = False,
                             credential: str | None = None) -> Check:
    """"Status could not be established: <issuer>'s status list unreachable since <time>".

    The party is the issuer: its infrastructure failed to serve the list, which says nothing about
    the resident or the credential. ``cause`` is the last attempt's error (a timeout, HTTP 503 ...),
    ``since`` the first failed attempt since the list was last fetched. ``warn``: the verifier's
    policy accepts without a status check (the outcome is ``warning``, not ``failed``).
    """
    en = (f"Status could not be established: {issuer.en}'s status list unreachable since "
          f"{japan_time(since, seconds=True)} ({cause.reason}). This is a failure of the issuer's infrastructure, "
          "not of the resident.")
    ja = (f"失効状態を確認できませんでした。{issuer.ja}の失効リストを{japan_time_ja(since, seconds=True)}から"
          f"取得できません（{explain_error(cause).ja.rstrip('。')}）。"
          "発行者側のシステムの問題であり、本人の問題ではありません。")
    if warn:
        en += " Accepted without a status check, as this verifier's policy allows."
        ja += "この検証者の方針により、失効状態を確認せずに受け付けています。"
    return Check("status", "warning" if warn else "failed", en, ja, "issuer", CODE_STATUS_UNREACHABLE, credential)


@dataclass(frozen=True, slots=True)
class ErrorExplanation:
    ja: str
    party: Party


def explain_error(error: TsunaguError) -> ErrorExplanation:
    """The Japanese sentence and party for ``error``: by its code, else its nearest ancestor's."""
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in ERROR_EXPLANATIONS:
            return ERROR_EXPLANATIONS[code]
    return _UNKNOWN


_UNKNOWN: Final = ErrorExplanation("検証中に想定外の問題が見つかりました。", "verifier")

_I: Final = "issuer"
_R: Final = "resident"
_V: Final = "verifier"
_N: Final = "network"
_TABLE: dict[str, tuple[str, Party]] = {
    # encoding, JOSE, keys
    "encoding.invalid": ("提示されたデータの形式が正しくありません。", _R),
    "jose.invalid": ("署名付きデータの形式が正しくありません。", _R),
    "jose.malformed": ("署名付きデータ（JWS）の形式が正しくありません。", _R),
    "jose.unsupported_alg": ("受け付けていない署名アルゴリズムが使われています。", _I),
    "jose.invalid_signature": ("署名を検証できませんでした。", _R),
    "jose.unexpected_typ": ("データの種類（typ）が想定と異なります。", _I),
    "jose.unsupported_crit": ("理解できない必須ヘッダー（crit）が含まれています。", _I),
    "jwk.error": ("鍵の形式が正しくありません。", _I),
    "jwk.invalid": ("鍵（JWK）が正しくありません。", _I),
    "jwk.unsupported_kty": ("受け付けていない種類の鍵が使われています。", _I),
    # SD-JWT (RFC 9901)
    "sd_jwt.invalid": ("証明書データ（SD-JWT）に問題があります。", _R),
    "sd_jwt.malformed": ("証明書データ（SD-JWT）の形式が正しくありません。", _R),
    "sd_jwt.too_large": ("証明書データが大きすぎます。", _R),
    "sd_jwt.malformed_disclosure": ("開示された項目（ディスクロージャー）の形式が正しくありません。", _R),
    "sd_jwt.disclosure_not_referenced": ("発行者が署名していない項目が開示に含まれています。", _R),
    "sd_jwt.duplicate_digest": ("同じ項目の参照が重複しています。", _I),
    "sd_jwt.duplicate_disclosure": ("同じ項目が二重に開示されています。", _R),
    "sd_jwt.reserved_claim_name": ("予約された項目名が開示に使われています。", _I),
    "sd_jwt.claim_name_collision": ("開示された項目名が既存の項目と重複しています。", _I),
    "sd_jwt.disclosure_type_mismatch": ("開示された項目の種類が、参照されている場所と合いません。", _R),
    "sd_jwt.unsupported_sd_alg": ("受け付けていないハッシュ関数が使われています。", _I),
    "sd_jwt.issuer_signature_invalid": ("発行者の署名を検証できません。証明書が改ざんされたか、この発行者のものではありません。", _R),
    "sd_jwt.claim_not_found": ("求められた項目が証明書にありません。", _R),
    "sd_jwt.claim_not_disclosable": ("この項目は選択的に開示できない項目です。", _I),
    "sd_jwt.not_yet_valid": ("証明書の有効期間がまだ始まっていません。", _I),
    "sd_jwt.expired": ("証明書の有効期限が切れています。発行者から新しい証明書を受け取る必要があります。", _I),
    # Key Binding JWT
    "kb_jwt.invalid": ("所持者の確認（キーバインディング）に失敗しました。", _R),
    "kb_jwt.missing": ("所持者であることの証明（キーバインディング）がありません。", _R),
    "kb_jwt.malformed": ("所持者の証明（キーバインディングJWT）の形式が正しくありません。", _R),
    "kb_jwt.holder_key_missing": ("証明書に所持者の鍵が記載されていないため、所持者を確認できません。", _I),
    "kb_jwt.invalid_signature": ("証明書に紐づいた鍵による署名ではありません。", _R),
    "kb_jwt.nonce_mismatch": ("別の依頼のために作られた提示です（nonceが一致しません）。", _R),
    "kb_jwt.aud_mismatch": ("別の相手に宛てた提示です（audが一致しません）。", _R),
    "kb_jwt.sd_hash_mismatch": ("所持者が署名した後に開示内容が変更されています。", _R),
    "kb_jwt.iat_out_of_window": ("提示の作成時刻が有効な範囲外です（古すぎるか未来の時刻です）。", _R),
    # SD-JWT VC
    "sd_jwt_vc.invalid": ("証明書がSD-JWT VCの規則に合っていません。", _I),
    "sd_jwt_vc.vct_missing": ("証明書の種類（vct）が記載されていません。", _I),
    "sd_jwt_vc.iss_missing": ("証明書の発行者（iss）が記載されていません。", _I),
    "sd_jwt_vc.iss_mismatch": ("証明書の発行者が、鍵を公開している発行者と一致しません。", _I),
    "sd_jwt_vc.claim_must_not_be_disclosable": ("常に公開すべき項目が選択的開示になっています。", _I),
    "sd_jwt_vc.invalid_issuer_metadata": ("発行者が公開している鍵情報（メタデータ）が正しくありません。", _I),
    "sd_jwt_vc.issuer_key_not_found": ("発行者が、この証明書の署名に使った鍵を公開していません。", _I),
    "sd_jwt_vc.invalid_status": ("証明書の失効情報の参照（status）が正しくありません。", _I),
    # Token Status List
    "status_list.invalid": ("失効リストに問題があります。", _I),
    "status_list.malformed": ("失効リストの形式が正しくありません。", _I),
    "status_list.too_large": ("失効リストが大きすぎます。", _I),
    "status_list.index_out_of_range": ("証明書の失効リスト上の位置がリストの範囲外です。", _I),
    "status_list.token_invalid": ("失効リストのトークンが正しくありません。", _I),
    "status_list.token_expired": ("失効リストの有効期限が切れています。", _I),
    "status_list.sub_mismatch": ("取得した失効リストが、証明書の参照するものと異なります。", _I),
    "status_list.value_out_of_range": ("失効リストの値が範囲外です。", _I),
    "status_list.invalid_signature": ("失効リストの署名を検証できません。", _I),
    # The issuer's infrastructure did not serve its status list (tsunagu.service.issuer_documents).
    "status_list.unreachable": ("発行者の失効リストを取得できないため、失効状態を確認できませんでした。発行者側のシステムの問題です。", _I),
    # DCQL
    "dcql.invalid": ("照会（DCQL）に問題があります。", _V),
    "dcql.invalid_query": ("検証者の照会（DCQL）の形式が正しくありません。", _V),
    "dcql.not_satisfied": ("提示された内容が、依頼された項目を満たしていません。", _R),
    "dcql.claims_path_not_found": ("依頼された項目が提示に含まれていません。", _R),
    "dcql.invalid_vp_token": ("提示（vp_token）の形式が正しくありません。", _R),
    # trust registry
    "trust.error": ("トラストレジストリの確認に失敗しました。", _V),
    "trust.registry_invalid": ("トラストレジストリの内容が正しくありません。", _V),
    "trust.registry_signature_invalid": ("トラストレジストリの署名を検証できません。", _V),
    "trust.registry_expired": ("トラストレジストリの有効期限が切れています。", _V),
    "trust.issuer_not_trusted": ("この発行者はトラストレジストリに登録されていません。", _I),
    "trust.issuer_not_trusted_for_vct": ("この発行者は、この種類の証明書の発行者として登録されていません。", _I),
    "trust.verifier_not_registered": ("この検証者はトラストレジストリに登録されていません。", _V),
    "trust.purpose_not_registered": ("この検証者は、この目的での利用を登録していません。", _V),
    # OpenID4VP responses
    "oid4vp.invalid_response": ("ウォレットからの応答の形式が正しくありません。", _R),
    "oid4vp.unknown_state": ("応答がどの依頼に対するものか分かりません（stateが不明です）。", _R),
    "oid4vp.response_replayed": ("この依頼にはすでに応答があります。同じ応答は受け付けません。", _R),
    "oid4vp.access_denied": ("本人が提示を断りました。", _R),
    # consent receipts (tsunagu.consent): the resident's wallet signed them
    "consent.invalid": ("同意に関するデータが正しくありません。", _R),
    "consent.token_invalid": ("同意レシートの形式が正しくありません。", _R),
    "consent.invalid_signature": ("同意レシートの署名を、ウォレットが公開している鍵で検証できません。", _R),
    "consent.key_not_found": ("同意レシートに署名した鍵が、ウォレットの公開鍵一覧にありません。", _R),
    "consent.aud_mismatch": ("同意レシートがこの検証者宛てではありません。", _R),
    "consent.iss_mismatch": ("同意レシートの発行元ウォレットが想定と異なります。", _R),
    "consent.token_expired": ("同意レシートの有効期限が切れています。", _R),
    "consent.token_not_yet_valid": ("同意レシートの作成時刻が未来になっています。", _R),
    "consent.invalid_data": ("同意の内容が正しくありません。", _R),
    "consent.transition_refused": ("この同意の状態は変更できません。", _R),
    "consent.certificate_invalid": ("署名した検証者の証明書を、信頼できる登録簿の証明書で確認できません。", _V),
    "consent.client_id_mismatch": ("署名した検証者が、証明書で確認できる検証者と一致しません。", _V),
    # fetching (tsunagu.service.http)
    "fetch.failed": ("必要な情報を取得できませんでした。", _N),
    "fetch.unreachable": ("相手のサーバーに接続できませんでした。", _N),
    "fetch.timeout": ("相手のサーバーが時間内に応答しませんでした。", _N),
    "fetch.too_large": ("取得した情報が大きすぎます。", _N),
    "fetch.bad_status": ("相手のサーバーがエラーを返しました。", _N),
    "fetch.bad_content_type": ("相手のサーバーが想定外の種類のデータを返しました。", _N),
}

#: Japanese sentence and responsible party for every code verification can report.
ERROR_EXPLANATIONS: Final[Mapping[str, ErrorExplanation]] = MappingProxyType(
    {code: ErrorExplanation(ja, party) for code, (ja, party) in _TABLE.items()}
)
