"""What the resident sees: the API's response models, built from stored rows, held credentials and the registry.

Display only. Decisions (what matches, what is flagged) are made in ``services`` with
``tsunagu.dcql`` and ``tsunagu.trust``; this module puts them into words and values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tsunagu.claims_path import ClaimsPath, format_claims_path, select_claim_paths
from tsunagu.errors import ClaimsPathNotFound
from tsunagu.purposes import PURPOSES
from tsunagu.trust import TrustRegistry

from .schemas import (
    AccessView,
    Candidate,
    ClaimValue,
    ConsentEventView,
    ConsentView,
    CredentialQueryView,
    CredentialSetView,
    CredentialTypeView,
    CredentialView,
    DeletionView,
    ExcludedCandidate,
    FlagView,
    IssuerView,
    LocalizedText,
    NotificationView,
    PresentationRequestView,
    PresentationView,
    PurposeView,
    RequestedClaim,
    ResidentPublic,
    RetentionView,
    VerifierView,
)
from .services.accounts import Resident
from .services.holdings import Held, claim_name
from .services.matching import Matching
from .services.notifying import NotificationState
from .services.requests import Assessment, query_of
from .services.status import StatusState
from .status_views import local_date, status_check_view, status_text
from tsunagu.service.database import utc
from .tables import (
    WalletConsent,
    WalletConsentEvent,
    WalletDeletionAck,
    WalletPresentation,
    WalletPresentationRequest,
)

__all__ = ["resident_view", "credential_view", "request_view", "consent_view", "presentation_view"]


def resident_view(resident: Resident) -> ResidentPublic:
    return ResidentPublic(id=resident.id, username=resident.username, display_name=resident.display_name,
                          preferred_language=resident.preferred_language, created_at=resident.created_at)


def _text(value: Mapping[str, str]) -> LocalizedText:
    return LocalizedText(en=value["en"], ja=value["ja"])


def _issuer(held: Held, registry: TrustRegistry | None) -> IssuerView:
    entry = registry.find_issuer(held.row.iss) if registry is not None else None
    name = LocalizedText(en=entry.name.en, ja=entry.name.ja) if entry else _text(held.display["issuer"])
    return IssuerView(id=held.row.credential_issuer, iss=held.row.iss, name=name, registered=entry is not None,
                      trusted_for_type=entry is not None and held.row.vct in entry.vcts)


def _type(held: Held) -> CredentialTypeView:
    return CredentialTypeView(vct=held.row.vct, configuration_id=held.row.credential_configuration_id,
                              name=_text(held.display["credential"]))


def _claim_values(held: Held, paths: list[ClaimsPath] | None = None) -> list[ClaimValue]:
    """The resident's values: every claim (top level), or those ``paths`` select (concrete paths)."""
    if paths is None:
        return [ClaimValue(path=[name], name=_text(claim_name(held.display, (name,))), value=value)
                for name, value in held.claims.items()]
    out: list[ClaimValue] = []
    for path in paths:
        try:
            selected = select_claim_paths(held.decoded.claims, path)
        except ClaimsPathNotFound:
            continue
        for concrete, value in selected:
            out.append(ClaimValue(path=list(concrete), name=_text(claim_name(held.display, path)), value=value))
    return out


def credential_view(held: Held, state: StatusState, registry: TrustRegistry | None) -> CredentialView:
    row = held.row
    issuer = _issuer(held, registry)
    expires_at = utc(row.exp) if row.exp else None
    return CredentialView(
        id=row.id, type=_type(held), issuer=issuer, claims=_claim_values(held),
        issued_at=utc(row.iat) if row.iat else None, expires_at=expires_at, status=state.status,
        status_date=state.since, status_text=status_text(state, issuer.name, expires_at),
        status_check=status_check_view(state), valid=state.presentable, copies=held.copies,
        copies_left=held.copies_left, received_at=utc(row.received_at),
    )


def _verifier(client_id: str, name_en: str, name_ja: str, registry: TrustRegistry | None) -> VerifierView:
    registered = registry is not None and registry.find_verifier(client_id) is not None
    return VerifierView(client_id=client_id, name=LocalizedText(en=name_en, ja=name_ja), registered=registered)


def _purpose(code: str | None, text_en: str | None, text_ja: str | None, registered: bool) -> PurposeView | None:
    if code is None:
        return None
    known = PURPOSES.get(code)
    name = LocalizedText(en=known.name_en, ja=known.name_ja) if known else LocalizedText(en=code, ja=code)
    description = (LocalizedText(en=known.description_en, ja=known.description_ja) if known
                   else LocalizedText(en="", ja=""))
    return PurposeView(code=code, name=name, description=description,
                       text=LocalizedText(en=text_en or "", ja=text_ja or ""), registered=registered)


def request_view(row: WalletPresentationRequest, assessment: Assessment, matching: Matching,
                 registry: TrustRegistry | None, *, now: datetime) -> PresentationRequestView:
    query = query_of(row)
    result = matching.result
    flags = [FlagView(credential_query_id=f.credential_query_id, vct=f.vct, path=list(f.path),
                      reason=LocalizedText(en=f.reason_en, ja=f.reason_ja)) for f in assessment.flagged]
    queries = []
    for q in query.credentials:
        candidates = [matching.held[c.credential_id] for c in result.candidates.get(q.id, ())]
        example = candidates[0] if candidates else None
        requested = []
        for claim in q.claims or ():
            flag = next((f for f in assessment.flagged if f.credential_query_id == q.id and f.path == claim.path
                         and (example is None or f.vct in (example.row.vct, None))), None)
            name = claim_name(example.display, claim.path) if example else _path_name(claim.path)
            requested.append(RequestedClaim(
                path=list(claim.path), id=claim.id, name=_text(name), flagged=flag is not None,
                flag_reason=LocalizedText(en=flag.reason_en, ja=flag.reason_ja) if flag else None))
        asked = [c.path for c in q.claims or ()]
        candidate_views = []
        for match in result.candidates.get(q.id, ()):
            held = matching.held[match.credential_id]
            options = [i for i, s in enumerate(q.claim_sets or ()) if any(o.claim_ids == s for o in match.options)]
            candidate_views.append(Candidate(
                credential_id=held.row.id, type=_type(held), issuer=_issuer(held, registry),
                copies_left=held.copies_left, claims=_claim_values(held, asked), claim_set_options=options))
        mismatch = result.mismatches.get(q.id)
        not_offered = []
        for left_out in matching.excluded_for(q.vct_values):
            issuer = _issuer(left_out.held, registry)
            expires_at = utc(left_out.held.row.exp) if left_out.held.row.exp else None
            not_offered.append(ExcludedCandidate(
                credential_id=left_out.held.row.id, type=_type(left_out.held), issuer=issuer,
                status=left_out.state.status, status_text=status_text(left_out.state, issuer.name, expires_at)))
        queries.append(CredentialQueryView(
            id=q.id, vct_values=list(q.vct_values), claims=requested,
            claim_sets=[list(s) for s in q.claim_sets] if q.claim_sets else None,
            candidates=candidate_views, not_offered=not_offered, mismatch=mismatch.reason if mismatch else None))
    registration = assessment.registration
    retention = None
    if row.retention_days is not None:
        retention = RetentionView(days=row.retention_days,
                                  max_registered_days=registration.max_retention_days if registration else None,
                                  exceeded=assessment.retention_exceeded)
    sets = ([CredentialSetView(options=[list(o) for o in s.options], required=s.required)
             for s in query.credential_sets] if query.credential_sets else None)
    status = row.status
    if status == "pending" and utc(row.expires_at) <= utc(now):
        status = "expired"
    return PresentationRequestView(
        id=row.id, status=status, created_at=utc(row.created_at), expires_at=utc(row.expires_at),
        verifier=_verifier(row.client_id, row.verifier_name_en, row.verifier_name_ja, registry),
        purpose=_purpose(row.purpose, row.purpose_text_en, row.purpose_text_ja, registration is not None),
        retention=retention, credential_queries=queries, credential_sets=sets, flags=flags,
        satisfiable=result.satisfied, within_registration=assessment.within_registration,
        access=AccessView(type="ongoing" if row.access_type == "ongoing" else "one-time",
                          period_days=row.access_period_days,
                          max_registered_days=registration.max_access_period_days if registration else None,
                          exceeded=assessment.access_exceeded),
    )


def _path_name(path: ClaimsPath) -> dict[str, str]:
    shown = format_claims_path(path)
    return {"en": shown, "ja": shown}


def _paths(text: str) -> dict[str, list[list[str | int | None]]]:
    loaded: dict[str, Any] = json.loads(text)
    return {k: [list(p) for p in v] for k, v in loaded.items()}


def _consent_status_text(row: WalletConsent) -> LocalizedText:
    name_en, name_ja = row.verifier_name_en, row.verifier_name_ja
    until = local_date(utc(row.expires_at)) if row.expires_at else "?"
    changed = local_date(utc(row.status_changed_at)) if row.status_changed_at else "?"
    match row.status:
        case "active":
            return LocalizedText(en=f"Active until {until}.", ja=f"{until}まで有効です。")
        case "fulfilled":
            return LocalizedText(en=f"Used: your answer was sent to {name_en}, which may keep it until {until}.",
                                 ja=f"使用済み：{name_ja}に送信しました。{name_ja}は{until}まで保存できます。")
        case "revoked":
            return LocalizedText(en=f"Revoked by you on {changed}.", ja=f"{changed}にあなたが撤回しました。")
        case _:
            return LocalizedText(en=f"Expired on {changed}.", ja=f"{changed}に期限切れになりました。")


def _with_notification(text: LocalizedText, row: WalletConsent, state: NotificationState | None) -> LocalizedText:
    """An ended consent whose verifier could not be told says so in its sentence."""
    if state is None or state.status not in ("undeliverable", "abandoned"):
        return text
    return LocalizedText(
        en=f"{text.en} {row.verifier_name_en} could not be told to delete your data.",
        ja=f"{text.ja}{row.verifier_name_ja}にデータ削除を依頼できませんでした。")


def _with_deletion(text: LocalizedText, row: WalletConsent, ack: WalletDeletionAck | None) -> LocalizedText:
    """The verifier's latest signed word on your data, so the sentence answers "have they deleted it?"."""
    if ack is None:
        return text
    name_en, name_ja, day = row.verifier_name_en, row.verifier_name_ja, local_date(utc(ack.received_at))
    if ack.outcome == "retained":
        until = local_date(utc(ack.retain_until)) if ack.retain_until else "?"
        basis = ack.legal_basis or "?"
        return LocalizedText(en=f"{text.en} {name_en} said on {day} that it keeps your data until {until}, as required "
                                f"by {basis}.",
                             ja=f"{text.ja}{name_ja}は{basis}に基づき{until}までデータを保管すると{day}に回答しました。")
    return LocalizedText(en=f"{text.en} {name_en} confirmed on {day} that it deleted your data.",
                         ja=f"{text.ja}{name_ja}は{day}にデータの削除を確認しました。")


def _notification(state: NotificationState | None) -> NotificationView | None:
    if state is None:
        return None
    return NotificationView(status=state.status, attempts=state.attempts,  # type: ignore[arg-type]
                            last_error=state.last_error, delivered_at=state.delivered_at)


def _deletion(ack: WalletDeletionAck | None) -> DeletionView | None:
    if ack is None:
        return None
    return DeletionView(outcome="retained" if ack.outcome == "retained" else "deleted",
                        acknowledged_at=utc(ack.received_at), legal_basis=ack.legal_basis,
                        retain_until=utc(ack.retain_until) if ack.retain_until else None)


def consent_view(row: WalletConsent, registry: TrustRegistry | None,
                 events: Sequence[WalletConsentEvent] = (), *, refresh_count: int = 0,
                 notification: NotificationState | None = None,
                 deletion: WalletDeletionAck | None = None) -> ConsentView:
    verifier = registry.find_verifier(row.client_id) if registry is not None else None
    registered = verifier is not None and row.purpose is not None and any(
        p.purpose == row.purpose for p in verifier.purposes)
    return ConsentView(
        id=row.id, request_id=row.request_id,
        verifier=_verifier(row.client_id, row.verifier_name_en, row.verifier_name_ja, registry),
        purpose=_purpose(row.purpose, row.purpose_text_en, row.purpose_text_ja, registered),
        retention_days=row.retention_days, registry=row.registry_iss, claims=_paths(row.claims),
        credentials=json.loads(row.credentials), granted_at=utc(row.granted_at),
        legal_basis=row.legal_basis, access_type="ongoing" if row.access_type == "ongoing" else "one-time",
        expires_at=utc(row.expires_at) if row.expires_at else None, status=row.status,  # type: ignore[arg-type]
        status_changed_at=utc(row.status_changed_at) if row.status_changed_at else None,
        status_text=_with_deletion(_with_notification(_consent_status_text(row), row, notification), row, deletion),
        has_receipt=row.receipt is not None,
        purpose_override=row.beyond_purpose is not None,
        beyond_purpose=_paths(row.beyond_purpose) if row.beyond_purpose is not None else {},
        history=[ConsentEventView(from_status=e.from_status, to_status=e.to_status, at=utc(e.at),  # type: ignore[arg-type]
                                  by="resident" if e.by == "resident" else "system", note=e.note) for e in events],
        refresh_count=refresh_count, notification=_notification(notification), deletion=_deletion(deletion),
    )


def presentation_view(row: WalletPresentation, registry: TrustRegistry | None) -> PresentationView:
    return PresentationView(
        id=row.id, request_id=row.request_id, consent_id=row.consent_id,
        kind="decline" if row.kind == "decline" else "presentation",
        verifier=_verifier(row.client_id, row.verifier_name_en, row.verifier_name_ja, registry),
        response_uri=row.response_uri, claims=_paths(row.claims), credentials=json.loads(row.credentials),
        status="sent" if row.status == "sent" else "failed", sent_at=utc(row.sent_at),
        verifier_status=row.verifier_status, verifier_answer=row.verifier_answer, error=row.error,
    )
