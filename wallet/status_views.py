"""The status of a credential and the resident's history, in plain English and Japanese.

Display only: what the status is, and when, is decided in ``services.status``. Dates in sentences
are calendar dates in Japan (``tsunagu.local_time``), as the verifier words them too; the API's
timestamps stay in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tsunagu.encoding import json_loads
from tsunagu.local_time import japan_date
from tsunagu.service.database import utc
from tsunagu.trust import TrustRegistry

from .schemas import EventView, LocalizedText, StatusCheckView
from .services import history
from .services.status import StatusState
from .tables import WalletEvent

__all__ = ["status_text", "status_check_view", "event_view", "local_date", "detail_time"]


def local_date(moment: datetime | None) -> str:
    return japan_date(moment) if moment is not None else "?"


def status_text(state: StatusState, issuer: LocalizedText, expires_at: datetime | None) -> LocalizedText:
    """The status in one sentence: what it is, who decided it, and the date of the list that said so."""
    en, ja, day = issuer.en, issuer.ja, local_date(state.since)
    match state.status:
        case "revoked":
            return LocalizedText(en=f"Revoked by {en} (status list of {day}).",
                                 ja=f"{ja}により失効しました（{day}付のステータスリスト）。")
        case "suspended":
            return LocalizedText(
                en=f"Suspended by {en} (status list of {day}). Only {en} can lift the suspension; "
                   "until then it cannot be presented.",
                ja=f"{ja}により一時停止されています（{day}付のステータスリスト）。停止を解除できるのは{ja}だけで、"
                   "解除されるまで提示できません。")
        case "expired":
            return LocalizedText(en=f"Expired on {day}.", ja=f"{day}に有効期限が切れました。")
        case "valid" if not state.checkable:
            until_en = f"; it is valid until {local_date(expires_at)}" if expires_at else "; it does not expire"
            until_ja = f"{local_date(expires_at)}まで有効です。" if expires_at else "有効期限はありません。"
            return LocalizedText(en=f"{en} publishes no status for this credential, so it cannot be revoked{until_en}.",
                                 ja=f"{ja}はこの証明書の状態を公開していないため、失効されることはありません。{until_ja}")
        case "valid":
            as_of = local_date(state.as_of)
            return LocalizedText(en=f"Valid: {en} lists it as in force (status list of {as_of}).",
                                 ja=f"有効です：{ja}のステータスリスト（{as_of}付）で有効とされています。")
        case _ if state.status_value is not None:
            value = f"0x{state.status_value:02X}"
            return LocalizedText(
                en=f"{en} gives it a status this wallet does not know ({value}, status list of {day}); "
                   "a verifier may not accept it.",
                ja=f"{ja}はこの証明書に、このウォレットが解釈できない状態（{value}、{day}付のステータスリスト）を"
                   "設定しています。検証者に受け入れられない可能性があります。")
        case _:
            return LocalizedText(en=f"Not checked yet: the wallet has not yet read {en}'s status list.",
                                 ja=f"未確認です：{ja}のステータスリストをまだ確認できていません。")


def status_check_view(state: StatusState) -> StatusCheckView:
    failed = state.check_error is not None and state.status != "expired"
    note = None
    if failed:
        if state.checked_at is not None:
            last = local_date(state.checked_at)
            note = LocalizedText(
                en=f"The status could not be checked just now. Shown is the status last confirmed, on {last}.",
                ja=f"現在、状態を確認できませんでした。{last}に確認した状態を表示しています。")
        else:
            note = LocalizedText(en="The status could not be checked: the issuer's status list could not be read.",
                                 ja="状態を確認できませんでした：発行者のステータスリストを読み取れませんでした。")
    return StatusCheckView(checkable=state.checkable, checked_at=state.checked_at, status_list_issued_at=state.as_of,
                           failed=failed, attempted_at=state.attempted_at, note=note,
                           error=state.check_error if failed else None)


def _names(details: Mapping[str, Any], registry: TrustRegistry | None) -> tuple[LocalizedText, LocalizedText]:
    iss = details.get("iss")
    entry = registry.find_issuer(iss) if registry is not None and isinstance(iss, str) else None

    def text(value: object, fallback: str) -> LocalizedText:
        if isinstance(value, Mapping) and isinstance(value.get("en"), str) and isinstance(value.get("ja"), str):
            return LocalizedText(en=value["en"], ja=value["ja"])
        return LocalizedText(en=fallback, ja=fallback)

    issuer = (LocalizedText(en=entry.name.en, ja=entry.name.ja) if entry is not None
              else text(details.get("issuer_name"), str(iss or "the issuer")))
    return issuer, text(details.get("credential_name"), str(details.get("vct") or "a credential"))


def detail_time(value: object) -> datetime | None:
    """A time stored in an event's details (ISO 8601), or None."""
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def event_view(row: WalletEvent, registry: TrustRegistry | None) -> EventView:
    details: dict[str, Any] = json_loads(row.details)
    issuer, credential = _names(details, registry)
    day = local_date(detail_time(details.get("status_list_iat")))
    match row.kind:
        case history.CREDENTIAL_REVOKED:
            summary = LocalizedText(en=f"{issuer.en} revoked your {credential.en} (status list of {day}).",
                                    ja=f"{issuer.ja}が{credential.ja}を失効させました（{day}付のステータスリスト）。")
        case history.CREDENTIAL_SUSPENDED:
            summary = LocalizedText(en=f"{issuer.en} suspended your {credential.en} (status list of {day}).",
                                    ja=f"{issuer.ja}が{credential.ja}を一時停止しました（{day}付のステータスリスト）。")
        case history.CREDENTIAL_REINSTATED:
            summary = LocalizedText(en=f"Your {credential.en} from {issuer.en} is valid again (status list of {day}).",
                                    ja=f"{issuer.ja}の{credential.ja}が再び有効になりました（{day}付のステータスリスト）。")
        case history.CREDENTIAL_EXPIRED:
            expired = local_date(detail_time(details.get("exp")))
            summary = LocalizedText(en=f"Your {credential.en} from {issuer.en} expired on {expired}.",
                                    ja=f"{issuer.ja}の{credential.ja}は{expired}に有効期限が切れました。")
        case _:
            summary = LocalizedText(en=f"{issuer.en} gave your {credential.en} a status this wallet does not know.",
                                    ja=f"{issuer.ja}が{credential.ja}に、このウォレットが解釈できない状態を設定しました。")
    return EventView(id=row.id, occurred_at=utc(row.occurred_at),
                     kind=row.kind, credential_id=row.credential_id, summary=summary, details=details)
