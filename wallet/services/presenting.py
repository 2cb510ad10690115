"""Answering a presentation request: consent first, then the presentation, then ``direct_post``.

Approval (DESIGN.md flows 3-4, OpenID4VP 1.0 §8.1, §8.2):

1. the resident's choice (a credential per Credential Query, optionally a ``claim_sets`` option) is
   checked against the DCQL query, and every claim it would disclose against the verifier's
   registration for the stated purpose: a claim outside it is refused;
2. in one transaction the request is claimed (one conditional UPDATE, so it is answered once), an
   unused copy of each credential is claimed the same way, and the consent record is written; the
   transaction commits before anything is built;
3. the presentations are built with only the approved disclosures and a KB-JWT over the request's
   ``nonce`` and the full ``client_id`` (§14.1.2), and posted as ``vp_token`` with ``state``;
4. the presentation is recorded with the verifier's answer; if sending fails it is recorded as
   failed, and the consent stays (the resident sees both).

Issue #5: the consent is written ``active`` with its end (``expires_at``), first history entry and a
signed consent receipt. The transaction that sends starts with ``use_consent`` (one UPDATE that
matches only an active consent), holds it while the presentation is posted, and ends by marking the
one-time consent ``fulfilled`` (an ongoing one stays ``active``: the verifier refreshes it with
``services/refreshing.py`` until it ends): a revoke that commits first makes the send not happen; a revoke that
comes during the send waits for it (PostgreSQL row lock, SQLite database lock), so once a revoke has
returned nothing more leaves under that consent. The receipt travels beside ``vp_token`` and
``state`` as the form parameter ``consent_receipt`` (verifiers ignore unknown parameters, §8.1).
Every step is written to the resident's access log.

Declining posts ``error=access_denied`` with ``state`` (§8.5) and records that too.

Purposes (issue #5): a claim outside the verifier's registered purpose is refused by default. The
resident may decline such a request "because it asks too much" (``reason=outside_registered_purpose``):
the ``error_description`` then names the claims outside the registered purpose, so the verifier learns
why. A deployment may let the resident (never the verifier: the flag exists only in her authenticated
approval) override the refusal; the consent then records the claims shared beyond the purpose.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import update
from sqlmodel import Session, col

from tsunagu.claims_path import ClaimsPath, format_claims_path
from tsunagu.dcql import CandidateMatch, ClaimsOption, CredentialQuery, DcqlQuery, PresentedCredential, check_vp_token
from tsunagu.errors import DcqlNotSatisfied, TsunaguError
from tsunagu.kb_jwt import KeyBindingRequest
from tsunagu.local_time import japan_date
from tsunagu.oid4vci.errors import safe_description
from tsunagu.oid4vp import build_authorization_error_form, build_authorization_response_form
from tsunagu.oid4vp.form import encode_form
from tsunagu.sd_jwt.holder import decode_sd_jwt, present_sd_jwt
from tsunagu.service.http import FetchError, exchange_bounded
from tsunagu.trust import TrustRegistry

from ..errors import (
    CredentialExpired,
    CredentialNotPresentable,
    CredentialRevoked,
    CredentialSuspended,
    InvalidChoice,
    InvalidResidentRequest,
    OutsideRegisteredPurpose,
    RequestAlreadyAnswered,
)
from ..settings import WalletSettings
from ..tables import WalletConsent, WalletPresentation, WalletPresentationRequest
from . import consents, history
from .holdings import claim_unused_copy, encode_paths, open_copy
from .receipts import sign_receipt
from .matching import Excluded, Matching, match_held
from .registry import require_registry
from .requests import Assessment, assess, check_open, own_request, query_of

from tsunagu.service.database import utc

__all__ = ["Approval", "approve", "decline", "CONSENT_RECEIPT_PARAMETER", "OUTSIDE_REGISTERED_PURPOSE"]

#: The resident's reason for declining a request that asks for claims outside the registered purpose.
OUTSIDE_REGISTERED_PURPOSE = "outside_registered_purpose"

#: The form parameter carrying the signed consent receipt beside ``vp_token`` (docs/consent.md).
CONSENT_RECEIPT_PARAMETER = "consent_receipt"

_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
#: A verifier's answer to direct_post is a small JSON object (§8.2); more is not read.
_MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Approval:
    #: Credential Query id → held credential id; ``None``: the wallet's default selection.
    credentials: Mapping[str, str] | None = None
    #: Index into the ``claim_sets`` of each chosen query that has them.
    claim_set: int | None = None
    #: The resident shares flagged claims anyway; honoured only with ``allow_resident_purpose_override``.
    override_purpose_limits: bool = False


@dataclass(frozen=True, slots=True)
class _Chosen:
    query: CredentialQuery
    candidate: CandidateMatch
    option: ClaimsOption


def _choose(query: DcqlQuery, matching: Matching, approval: Approval) -> dict[str, _Chosen]:
    """The resident's choice, checked against what the query asks and what each credential can answer.

    Raises:
        InvalidChoice; CredentialRevoked, CredentialSuspended, CredentialExpired (a credential left out by its status).
    """
    result = matching.result
    if approval.credentials is None:
        if not result.satisfied:
            for unanswered in (q for q in query.credentials if q.id in result.mismatches):
                left_out = matching.excluded_for(unanswered.vct_values)
                if left_out:  # the resident holds one, but it is no longer in force: say so, not "no credential"
                    raise _not_presentable(left_out[0])
            reasons = "; ".join(m.reason for m in result.mismatches.values())
            raise InvalidChoice(f"your credentials do not answer this request: {reasons}")
        picks = {qid: candidates[0].credential_id for qid, candidates in result.selection.items()}
    else:
        picks = dict(approval.credentials)
    if not picks:
        raise InvalidChoice("choose at least one credential to present")
    by_id = {q.id: q for q in query.credentials}
    chosen: dict[str, _Chosen] = {}
    for qid, credential_id in picks.items():
        q = by_id.get(qid)
        if q is None:
            raise InvalidChoice(f"the request has no credential query {qid!r}")
        if credential_id in matching.excluded:
            raise _not_presentable(matching.excluded[credential_id])
        candidate = next((c for c in result.candidates.get(qid, ()) if c.credential_id == credential_id), None)
        if candidate is None:
            raise InvalidChoice(f"you hold no usable credential {credential_id!r} that answers {qid!r}")
        chosen[qid] = _Chosen(q, candidate, _option(q, candidate, approval.claim_set))
    if approval.claim_set is not None and not any(c.query.claim_sets for c in chosen.values()):
        raise InvalidChoice("this request offers no claim sets to choose from")
    return chosen


def _not_presentable(excluded: Excluded) -> CredentialNotPresentable:
    state, name = excluded.state, excluded.held.display["credential"]["en"]
    day = japan_date(state.since) if state.since is not None else None
    details = {"credential_id": excluded.held.row.id, "status": state.status}
    if state.status == "revoked":
        listed = f" (status list of {day})" if day else ""
        return CredentialRevoked(f"your {name} was revoked by its issuer{listed}; it can no longer be presented",
                                 **details)
    if state.status == "suspended":
        return CredentialSuspended(f"your {name} is suspended by its issuer; it cannot be presented until the "
                                   "issuer lifts the suspension", **details)
    return CredentialExpired(f"your {name} expired{f' on {day}' if day else ''}; ask its issuer for a new one",
                             **details)


def _option(q: CredentialQuery, candidate: CandidateMatch, claim_set: int | None) -> ClaimsOption:
    if claim_set is None or not q.claim_sets:
        return candidate.options[0]  # the verifier's preferred option this credential can satisfy
    if claim_set >= len(q.claim_sets):
        raise InvalidChoice(f"the query {q.id!r} has {len(q.claim_sets)} claim sets; there is no set {claim_set}")
    wanted = q.claim_sets[claim_set]
    option = next((o for o in candidate.options if o.claim_ids == wanted), None)
    if option is None:
        raise InvalidChoice(f"the chosen credential cannot answer claim set {claim_set} of {q.id!r}")
    return option


def _asked_paths(chosen: _Chosen) -> list[ClaimsPath]:
    """The query's own claim paths behind the chosen option (as the registry flags name them)."""
    claims = chosen.query.claims or ()
    if chosen.option.claim_ids is None:
        return [c.path for c in claims]
    return [c.path for c in claims if c.id in chosen.option.claim_ids]


def _check_registration(row: WalletPresentationRequest, assessment: Assessment, chosen: Mapping[str, _Chosen],
                        matching: Matching, *, override: bool) -> dict[str, list[ClaimsPath]]:
    """Disclosing outside the verifier's registered purpose is refused, unless the resident overrides it.

    The override covers flagged claims only: an unregistered verifier or a retention longer than registered
    is refused regardless. Returns the flagged paths the override lets through (query id → paths).

    Raises:
        OutsideRegisteredPurpose.
    """
    if assessment.verifier is None:
        raise OutsideRegisteredPurpose(f"{row.client_id} is no longer in the trust registry")
    if assessment.retention_exceeded and assessment.registration is not None:
        raise OutsideRegisteredPurpose(
            f"{assessment.verifier.name.en} would keep your data for {row.retention_days} days, longer than the "
            f"{assessment.registration.max_retention_days} days it is registered for")
    if assessment.access_exceeded and assessment.registration is not None:
        raise OutsideRegisteredPurpose(
            f"{assessment.verifier.name.en} asks to refresh your data for {row.access_period_days} days; "
            f"{_registered_access(assessment)}", access_period_days=row.access_period_days)
    beyond: dict[str, list[ClaimsPath]] = {}
    for qid, c in chosen.items():
        vct = matching.held[c.candidate.credential_id].row.vct
        for path in _asked_paths(c):
            flag = next((f for f in assessment.flagged if f.credential_query_id == qid and f.path == path
                         and f.vct in (vct, None)), None)
            if flag is not None and not override:
                raise OutsideRegisteredPurpose(
                    f"{format_claims_path(path)} is not yours to share here: {flag.reason_en}", path=list(path))
            if flag is not None:
                beyond.setdefault(qid, []).append(path)
    return beyond


def _registered_access(assessment: Assessment) -> str:
    allowed = assessment.registration.max_access_period_days if assessment.registration is not None else None
    if allowed is None:
        return "it is registered for one-time access only"
    return f"it is registered for ongoing access of at most {allowed} days"


def _check_answers_query(query: DcqlQuery, chosen: Mapping[str, _Chosen], matching: Matching) -> None:
    """What would be disclosed (without key binding yet) must answer the query (§6.4).

    Raises:
        InvalidChoice.
    """
    presented = {}
    for qid, c in chosen.items():
        held = matching.held[c.candidate.credential_id]
        disclosed = decode_sd_jwt(present_sd_jwt(held.decoded, c.option.paths)).claims
        presented[qid] = [PresentedCredential(vct=held.row.vct, claims=disclosed, holder_bound=True)]
    try:
        check_vp_token(query, presented)
    except DcqlNotSatisfied as exc:
        raise InvalidChoice(f"this choice does not answer the request: {exc.reason}") from None


def _claim_request(session: Session, row: WalletPresentationRequest, status: str, *, now: datetime) -> None:
    """pending → ``status``, atomically, so a request is answered once across workers. The caller commits.

    Raises:
        RequestAlreadyAnswered.
    """
    claimed = session.execute(
        update(WalletPresentationRequest)
        .where(col(WalletPresentationRequest.id) == row.id, col(WalletPresentationRequest.status) == "pending")
        .values(status=status, answered_at=utc(now))
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise RequestAlreadyAnswered("this request has already been answered; a request is answered once")


async def approve(
    session: Session, settings: WalletSettings, http: httpx.AsyncClient, registry: TrustRegistry | None,
    resident_id: str, request_id: str, approval: Approval, *, now: datetime,
) -> WalletPresentation:
    """Record the consent, then build and send the presentation; the recorded presentation.

    Raises:
        NotFound, RequestAlreadyAnswered, RequestExpired, TrustRegistryMissing,
        InvalidChoice, OutsideRegisteredPurpose, NoUnusedCopy,
        CredentialRevoked, CredentialSuspended, CredentialExpired: a chosen credential is no longer in force.
    """
    row = own_request(session, resident_id, request_id)
    check_open(session, row, now=now)
    registry = require_registry(registry)
    query = query_of(row)
    matching = match_held(session, settings, resident_id, query, now=now)
    chosen = _choose(query, matching, approval)
    try:
        if approval.override_purpose_limits and not settings.allow_resident_purpose_override:
            raise OutsideRegisteredPurpose("this wallet does not let you share claims beyond a verifier's "
                                           "registered purpose", override="not_allowed")
        beyond = _check_registration(row, assess(registry, row, query), chosen, matching,
                                     override=approval.override_purpose_limits)
    except OutsideRegisteredPurpose as exc:
        _log_refusal(session, row, exc, chosen, now=now)
        raise
    _check_answers_query(query, chosen, matching)

    # One transaction: the request is claimed, a copy of each credential is claimed, the consent is written.
    _claim_request(session, row, "answering", now=now)
    try:
        copies = {qid: claim_unused_copy(session, resident_id, c.candidate.credential_id, row.id, now=now)
                  for qid, c in chosen.items()}
    except BaseException:
        session.rollback()
        raise
    paths = {qid: list(c.option.paths) for qid, c in chosen.items()}
    credentials = {qid: c.candidate.credential_id for qid, c in chosen.items()}
    # An ongoing consent lasts the access period the verifier asked for (checked against its registration
    # above); a one-time consent lasts the verifier's retention, the time it may keep what it received.
    access_type = "ongoing" if row.access_type == "ongoing" and row.access_period_days is not None else "one-time"
    days = (row.access_period_days if access_type == "ongoing" and row.access_period_days is not None
            else row.retention_days or settings.consent_default_retention_days)
    consent = WalletConsent(
        id=secrets.token_hex(16), resident_id=resident_id, request_id=row.id, client_id=row.client_id,
        verifier_name_en=row.verifier_name_en, verifier_name_ja=row.verifier_name_ja, purpose=row.purpose,
        purpose_text_en=row.purpose_text_en, purpose_text_ja=row.purpose_text_ja, retention_days=row.retention_days,
        registry_iss=row.registry_iss, claims=encode_paths(paths), credentials=json.dumps(credentials),
        granted_at=utc(now), legal_basis="consent", access_type=access_type, status=consents.ACTIVE,
        status_changed_at=utc(now), expires_at=utc(now + timedelta(days=days)),
        beyond_purpose=encode_paths(beyond) if beyond else None,
    )
    vcts = {qid: matching.held[c.candidate.credential_id].row.vct for qid, c in chosen.items()}
    try:
        consent.receipt = sign_receipt(session, settings, consent, vcts, now=now)
        session.add(consent)
        consents.record_grant(session, consent, now=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    consent_id, receipt = consent.id, consent.receipt

    # Only now, with the consent on record, is anything built and sent.
    record = _record(row, resident_id, kind="presentation", consent_id=consent_id, claims=consent.claims,
                     credentials=consent.credentials, now=now)
    try:
        vp_token: dict[str, list[str]] = {}
        for qid, c in chosen.items():
            credential, holder_key = open_copy(settings, copies[qid])
            binding = KeyBindingRequest(holder_key=holder_key, aud=row.client_id, nonce=row.nonce, iat=now)
            vp_token[qid] = [present_sd_jwt(decode_sd_jwt(credential), c.option.paths, key_binding=binding)]
    except TsunaguError as exc:
        record.status, record.error = "failed", f"the presentation could not be built: {exc.reason}"
    else:
        # The transaction that sends: it holds the consent (checked active) until the answer is recorded.
        if not consents.use_consent(session, consent_id, now=now):
            session.rollback()
            record.status, record.error = "failed", "the consent was revoked before the presentation was sent"
        else:
            form = build_authorization_response_form(vp_token, state=row.state)
            if receipt is not None:
                form += "&" + encode_form({CONSENT_RECEIPT_PARAMETER: receipt})
            await _send(http, settings, record, form)
            if record.status == "sent" and access_type == "one-time":
                # An ongoing consent stays active: the verifier refreshes under it until it ends.
                held = session.get(WalletConsent, consent_id)
                assert held is not None
                consents.change_status(session, held, consents.FULFILLED, by=consents.SYSTEM,
                                       note="its one presentation was sent", now=now)
    return _finish(session, row, record, success_status="presented")


async def decline(
    session: Session, settings: WalletSettings, http: httpx.AsyncClient, registry: TrustRegistry | None,
    resident_id: str, request_id: str, *, reason: str | None = None, now: datetime,
) -> WalletPresentation:
    """Tell the verifier the resident declined (``access_denied``, §8.5) and record it.

    With ``reason`` :data:`OUTSIDE_REGISTERED_PURPOSE` (only for a request the wallet flagged), the
    ``error_description`` names the claims outside the verifier's registered purpose (printable ASCII,
    §8.5 / RFC 6749 §4.1.2.1) and the log records a ``request_refused_outside_purpose``.

    Raises:
        NotFound, RequestAlreadyAnswered, RequestExpired, TrustRegistryMissing,
        InvalidResidentRequest: that reason for a request nothing of which is outside the registered purpose.
    """
    row = own_request(session, resident_id, request_id)
    check_open(session, row, now=now)
    description, kind = "The resident declined the request.", history.REQUEST_DECLINED
    extra: dict[str, object] = {}
    if reason == OUTSIDE_REGISTERED_PURPOSE:
        description, extra = _refusal(row, assess(require_registry(registry), row, query_of(row)))
        kind = history.REQUEST_REFUSED_OUTSIDE_PURPOSE
    _claim_request(session, row, "declined", now=now)
    session.commit()
    record = _record(row, resident_id, kind="decline", consent_id=None, claims="{}", credentials="{}", now=now)
    form = build_authorization_error_form("access_denied", description=safe_description(description),
                                          state=row.state)
    await _send(http, settings, record, form)
    return _finish(session, row, record, success_status="declined", declined_kind=kind,
                   extra={**extra, "error_description": safe_description(description)} if extra else None)


def _refusal(row: WalletPresentationRequest, assessment: Assessment) -> tuple[str, dict[str, object]]:
    """What the verifier is told, and the log records, when the resident refuses an over-asking request.

    Raises:
        InvalidResidentRequest: the request is within the verifier's registration.
    """
    purpose = row.purpose or "(none stated)"
    if assessment.verifier is None:
        return (f"the wallet refuses: {row.client_id} is not in its trust registry",
                {"refusal": OUTSIDE_REGISTERED_PURPOSE, "beyond_purpose": {}})
    beyond: dict[str, list[list[str | int | None]]] = {}
    for flag in assessment.flagged:
        beyond.setdefault(flag.credential_query_id, []).append(list(flag.path))
    parts = []
    if beyond:
        names = ", ".join(dict.fromkeys(format_claims_path(f.path) for f in assessment.flagged))
        parts.append(f"the wallet refuses to disclose {names}: not registered for the purpose {purpose}")
    if assessment.retention_exceeded and assessment.registration is not None:
        parts.append(f"the wallet refuses a retention of {row.retention_days} days: the purpose {purpose} is "
                     f"registered for at most {assessment.registration.max_retention_days} days")
    if assessment.access_exceeded and assessment.registration is not None:
        allowed = assessment.registration.max_access_period_days
        limit = (f"at most {allowed} days" if allowed is not None else "one-time access only")
        parts.append(f"the wallet refuses ongoing access of {row.access_period_days} days: the purpose {purpose} "
                     f"is registered for {limit}")
    if not parts:
        raise InvalidResidentRequest("this request asks for nothing outside the verifier's registered purpose; "
                                     "decline it without a reason")
    return "; ".join(parts), {"refusal": OUTSIDE_REGISTERED_PURPOSE, "beyond_purpose": beyond}


def _record(row: WalletPresentationRequest, resident_id: str, *, kind: str, consent_id: str | None, claims: str,
            credentials: str, now: datetime) -> WalletPresentation:
    return WalletPresentation(
        id=secrets.token_hex(16), resident_id=resident_id, request_id=row.id, consent_id=consent_id, kind=kind,
        client_id=row.client_id, verifier_name_en=row.verifier_name_en, verifier_name_ja=row.verifier_name_ja,
        response_uri=row.response_uri, claims=claims, credentials=credentials, status="failed", sent_at=utc(now),
    )


async def _send(http: httpx.AsyncClient, settings: WalletSettings, record: WalletPresentation, form: str) -> None:
    """POST to the ``response_uri`` (checked https, or loopback http, when the request was verified)."""
    try:
        answer = await exchange_bounded(http, "POST", record.response_uri, max_bytes=_MAX_ANSWER_BYTES,
                                        timeout=settings.http_timeout_seconds, content=form, headers=_FORM)
    except FetchError as exc:
        record.status, record.error = "failed", f"the verifier could not be reached: {exc.reason}"
        return
    record.verifier_status = answer.status
    record.verifier_answer = answer.body[: settings.max_recorded_answer_bytes].decode("utf-8", "replace")
    if answer.ok:
        record.status = "sent"
    else:
        record.status, record.error = "failed", f"the verifier refused the answer with HTTP {answer.status}"


def _log_refusal(session: Session, row: WalletPresentationRequest, exc: OutsideRegisteredPurpose,
                 chosen: Mapping[str, _Chosen], *, now: datetime) -> None:
    """The wallet refused to disclose outside the verifier's registration: the resident's log says so."""
    history.record_event(
        session, row.resident_id, history.REQUEST_REFUSED,
        credential_ids=[c.candidate.credential_id for c in chosen.values()], client_id=row.client_id,
        details={**_request_details(row), "reason": exc.reason, "refusal": "outside_registered_purpose",
                 **({"path": exc.details["path"]} if "path" in exc.details else {})},
        now=now)
    session.commit()


def _request_details(row: WalletPresentationRequest) -> dict[str, object]:
    return {"request_id": row.id, "client_id": row.client_id,
            "verifier_name": {"en": row.verifier_name_en, "ja": row.verifier_name_ja}, "purpose": row.purpose,
            "purpose_text": {"en": row.purpose_text_en, "ja": row.purpose_text_ja},
            "retention_days": row.retention_days}


def _finish(session: Session, row: WalletPresentationRequest, record: WalletPresentation, *,
            success_status: str, declined_kind: str = history.REQUEST_DECLINED,
            extra: Mapping[str, object] | None = None) -> WalletPresentation:
    session.add(record)
    credentials: dict[str, str] = json.loads(record.credentials)
    details = {**_request_details(row), "presentation_id": record.id, "consent_id": record.consent_id,
               "claims": json.loads(record.claims), "credentials": credentials, "status": record.status,
               "error": record.error, "verifier_status": record.verifier_status, **(extra or {})}
    if success_status == "presented":
        kind = history.PRESENTATION_SENT if record.status == "sent" else history.PRESENTATION_FAILED
    else:
        kind = declined_kind
    history.record_event(session, row.resident_id, kind, credential_ids=list(credentials.values()),
                         client_id=row.client_id, details=details, now=record.sent_at)
    if success_status == "presented":
        session.execute(update(WalletPresentationRequest).where(col(WalletPresentationRequest.id) == row.id)
                        .values(status="presented" if record.status == "sent" else "failed"))
    session.commit()
    session.refresh(record)
    return record
