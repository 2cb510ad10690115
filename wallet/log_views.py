"""The resident's access log in plain English and Japanese: who asked, what, why, and what happened.

Display only: events are written by ``services`` (``services.history``); this module turns one into
an :class:`EventView` with the verifier, credentials, claim paths and purpose pulled out of its
details, and a one-sentence summary. Credential status events keep their wording from
``status_views``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tsunagu.claims_path import format_claims_path
from tsunagu.encoding import json_loads
from tsunagu.purposes import PURPOSES
from tsunagu.trust import TrustRegistry

from .schemas import EventView, LocalizedText, PurposeView, VerifierView
from .services import history
from .status_views import detail_time, local_date
from .status_views import event_view as credential_event_view
from .tables import WalletEvent

__all__ = ["log_event_view"]

Paths = list[list[str | int | None]]


def _text(value: object) -> LocalizedText | None:
    if isinstance(value, Mapping) and isinstance(value.get("en"), str) and isinstance(value.get("ja"), str):
        return LocalizedText(en=value["en"], ja=value["ja"])
    return None


def _verifier(row: WalletEvent, details: Mapping[str, Any], registry: TrustRegistry | None) -> VerifierView | None:
    if row.client_id is None:
        return None
    entry = registry.find_verifier(row.client_id) if registry is not None else None
    name = _text(details.get("verifier_name"))
    if name is None:
        name = LocalizedText(en=entry.name.en, ja=entry.name.ja) if entry else LocalizedText(en=row.client_id,
                                                                                                ja=row.client_id)
    return VerifierView(client_id=row.client_id, name=name, registered=entry is not None)


def _purpose(details: Mapping[str, Any], verifier: VerifierView | None,
             registry: TrustRegistry | None) -> PurposeView | None:
    code = details.get("purpose")
    if not isinstance(code, str):
        return None
    known = PURPOSES.get(code)
    entry = registry.find_verifier(verifier.client_id) if registry is not None and verifier is not None else None
    own = _text(details.get("purpose_text")) or LocalizedText(en="", ja="")
    return PurposeView(
        code=code, name=LocalizedText(en=known.name_en, ja=known.name_ja) if known else LocalizedText(en=code, ja=code),
        description=(LocalizedText(en=known.description_en, ja=known.description_ja) if known
                     else LocalizedText(en="", ja="")),
        text=LocalizedText(en=own.en or "", ja=own.ja or ""),
        registered=entry is not None and any(p.purpose == code for p in entry.purposes))


def _claims(details: Mapping[str, Any]) -> dict[str, Paths]:
    """Credential id → paths (for a request not answered yet: credential query id → paths asked)."""
    claims, credentials = details.get("claims"), details.get("credentials")
    out: dict[str, Paths] = {}
    if isinstance(claims, Mapping) and isinstance(credentials, Mapping):
        for qid, paths in claims.items():
            cid = credentials.get(qid)
            if isinstance(cid, str) and isinstance(paths, list):
                out.setdefault(cid, []).extend(list(p) for p in paths if isinstance(p, list))
    asked = details.get("asked")
    if isinstance(asked, Mapping):
        for qid, query in asked.items():
            if isinstance(query, Mapping) and isinstance(query.get("paths"), list):
                out[qid] = [list(p) for p in query["paths"] if isinstance(p, list)]
    return out


def _as_paths(value: object) -> dict[str, Paths]:
    """``{credential query id: [path, ...]}`` from an event's details, whatever was stored."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): [list(p) for p in v if isinstance(p, list)] for k, v in value.items() if isinstance(v, list)}


def _listed(claims: Mapping[str, Paths]) -> str:
    shown = [format_claims_path(tuple(p)) for paths in claims.values() for p in paths]
    return ", ".join(shown) if shown else "-"


def _summary(kind: str, details: Mapping[str, Any], verifier: VerifierView | None, purpose: PurposeView | None,
             claims: Mapping[str, Paths]) -> LocalizedText:
    who = verifier.name if verifier is not None else LocalizedText(en="A verifier", ja="検証者")
    why = purpose.name if purpose is not None else LocalizedText(en="an unstated purpose", ja="目的の記載なし")
    what = _listed(claims)
    match kind:
        case history.REQUEST_RECEIVED:
            return LocalizedText(en=f"{who.en} asked to see {what} for {why.en}.",
                                 ja=f"{who.ja}が「{why.ja}」のため、{what}の提示を求めました。")
        case history.REQUEST_REFUSED if details.get("refusal") == "unknown_verifier":
            client = str(details.get("client_id", "?"))
            return LocalizedText(
                en=f"The wallet refused a request from {client}: it is not in the trust registry.",
                ja=f"信頼レジストリに登録されていない{client}からの要求を、ウォレットが拒否しました。")
        case history.REQUEST_REFUSED:
            return LocalizedText(
                en=f"The wallet refused to share with {who.en}: {details.get('reason', 'outside its registration')}.",
                ja=f"{who.ja}への提供をウォレットが拒否しました：登録された目的（{why.ja}）の範囲外です。")
        case history.REQUEST_REFUSED_OUTSIDE_PURPOSE:
            beyond = _listed(_as_paths(details.get("beyond_purpose")))
            return LocalizedText(
                en=f"You refused {who.en}'s request ({why.en}): it asked for {beyond}, outside its registered purpose.",
                ja=f"{who.ja}の要求（{why.ja}）を拒否しました：登録された目的の範囲外の{beyond}を求めていました。")
        case history.REQUEST_DECLINED:
            return LocalizedText(en=f"You declined {who.en}'s request ({why.en}).",
                                 ja=f"{who.ja}の要求（{why.ja}）を断りました。")
        case history.CONSENT_GRANTED:
            days = details.get("retention_days")
            keep_en = f", to be kept at most {days} days" if isinstance(days, int) else ""
            keep_ja = f"（保存期間は最長{days}日）" if isinstance(days, int) else ""
            if details.get("purpose_override"):
                beyond = _listed(_as_paths(details.get("beyond_purpose")))
                keep_en += f" (your override: {beyond} is beyond its registered purpose)"
                keep_ja += f"（ご本人の判断により、登録された目的の範囲外の{beyond}を含みます）"
            return LocalizedText(en=f"You agreed to share {what} with {who.en} for {why.en}{keep_en}.",
                                 ja=f"{who.ja}に「{why.ja}」のため{what}を提供することに同意しました{keep_ja}。")
        case history.PRESENTATION_SENT:
            return LocalizedText(en=f"{who.en} received {what} for {why.en}.",
                                 ja=f"{who.ja}が「{why.ja}」のため{what}を受け取りました。")
        case history.PRESENTATION_FAILED:
            return LocalizedText(en=f"Sending {what} to {who.en} failed: {details.get('error') or 'no answer'}.",
                                 ja=f"{who.ja}への{what}の送信に失敗しました。")
        case history.CONSENT_REVOKED:
            return LocalizedText(en=f"You revoked your consent for {who.en} ({why.en}); nothing more is shared "
                                    "under it.",
                                 ja=f"{who.ja}への同意（{why.ja}）を撤回しました。以後、この同意で提供されることはありません。")
        case history.CONSENT_EXPIRED:
            return LocalizedText(en=f"Your consent for {who.en} ({why.en}) has ended.",
                                 ja=f"{who.ja}への同意（{why.ja}）は期限切れになりました。")
        case history.CONSENT_REFRESHED:
            return LocalizedText(en=f"{who.en} re-checked {what} under your ongoing consent ({why.en}).",
                                 ja=f"{who.ja}が継続的な同意（{why.ja}）に基づき{what}を再確認しました。")
        case history.REFRESH_REFUSED:
            return LocalizedText(en=f"The wallet refused {who.en}'s re-check: {details.get('reason', '')}",
                                 ja=f"{who.ja}による再確認をウォレットが拒否しました（{details.get('refusal', '')}）。")
        case history.NOTIFICATION_DELIVERED:
            return LocalizedText(en=f"{who.en} was told your consent ended and acknowledged it.",
                                 ja=f"{who.ja}に同意の終了を通知し、受領の確認を受けました。")
        case history.NOTIFICATION_ABANDONED:
            return LocalizedText(en=f"{who.en} could not be reached to be told your consent ended; the wallet "
                                    "stopped trying.",
                                 ja=f"{who.ja}に同意の終了を通知できず、ウォレットは再送を終了しました。")
        case history.NOTIFICATION_UNDELIVERABLE:
            return LocalizedText(en=f"{who.en} could not be told your consent ended: the trust registry gives it "
                                    "no address for that.",
                                 ja=f"{who.ja}に同意の終了を通知できませんでした（信頼レジストリに通知先がありません）。")
        case history.DELETION_ACKNOWLEDGED if details.get("outcome") == "retained":
            until = local_date(detail_time(details.get("retain_until")))
            basis = str(details.get("legal_basis") or "?")
            return LocalizedText(en=f"{who.en} says it keeps your data until {until}, as required by {basis}.",
                                 ja=f"{who.ja}は{basis}に基づき、{until}までデータを保管すると回答しました。")
        case history.DELETION_ACKNOWLEDGED:
            return LocalizedText(en=f"{who.en} confirmed it deleted your data.",
                                 ja=f"{who.ja}がデータの削除を確認しました。")
        case _:
            return LocalizedText(en=f"{kind}.", ja=f"{kind}。")


def log_event_view(row: WalletEvent, registry: TrustRegistry | None,
                   credential_ids: list[str] | None = None) -> EventView:
    """One entry of the access log; ``credential_ids``: every credential linked to it (else its own one)."""
    ids = credential_ids if credential_ids is not None else ([row.credential_id] if row.credential_id else [])
    if row.kind in history.CREDENTIAL_EVENT_KINDS:
        return credential_event_view(row, registry).model_copy(update={"credential_ids": ids})
    details: dict[str, Any] = json_loads(row.details)
    verifier = _verifier(row, details, registry)
    purpose = _purpose(details, verifier, registry)
    claims = _claims(details)
    base = credential_event_view(row, registry)
    return base.model_copy(update={
        "summary": _summary(row.kind, details, verifier, purpose, claims), "verifier": verifier,
        "credential_ids": ids, "claims": claims, "purpose": purpose})

