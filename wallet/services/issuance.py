"""Receiving credentials: the OpenID4VCI 1.0 Pre-Authorized Code flow, as a wallet (client) runs it.

Every message is built and parsed by ``tsunagu.oid4vci``; this module does the I/O, in the order
of the spec: offer (§4.1, by value or by reference) → Credential Issuer Metadata (§12.2) →
Authorization Server Metadata (§12.3, RFC 8414) → Token Request (§6, DPoP-bound when the server
supports it, RFC 9449) → Nonce (§7) → Credential Request with one ``jwt`` proof per fresh holder
key (§8, batch issuance when offered) → Notification ``credential_accepted`` (§11).

The offer is not authenticated (§13.5): every document is checked as if the wallet had started
the flow itself, and what the issuer sends back is verified (issuer signature from its JWT VC
Issuer Metadata, ``vct``, and that each credential is bound to one of the keys just generated)
before anything is stored.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import httpx
from sqlmodel import Session

from tsunagu import oid4vci
from tsunagu.dpop import build_dpop_proof
from tsunagu.encoding import json_loads
from tsunagu.errors import EncodingError, InvalidStatusReference, JwkError, TsunaguError
from tsunagu.jwk import Algorithm, PrivateJwk, PublicJwk, generate_key, parse_jwks, parse_public_jwk
from tsunagu.oid4vp import origin_of
from tsunagu.sd_jwt.holder import decode_sd_jwt
from tsunagu.sd_jwt_vc import issuer_key_resolver, jwt_vc_issuer_metadata_url, parse_issuer_metadata, verify_sd_jwt_vc
from tsunagu.service.http import FetchedDocument, FetchError, exchange_bounded
from tsunagu.status_list import parse_status_claim

from ..errors import (
    IssuedCredentialRejected,
    IssuerRefused,
    IssuerUnavailable,
    TxCodeRequired,
    UnsupportedOffer,
)
from ..settings import WalletSettings
from ..tables import WalletCredential
from .holdings import REGISTERED_CLAIMS, IssuedCopy, store_credential

__all__ = ["OfferAcceptance", "accept_offer"]

log = logging.getLogger("wallet.issuance")

#: Holder key algorithms in the order this wallet prefers them (all are on the core's allow-list).
_KEY_ALGORITHMS: tuple[Algorithm, ...] = ("ES256", "EdDSA", "ES384", "ES512")


@dataclass(frozen=True, slots=True)
class OfferAcceptance:
    offer_uri: str
    tx_code: str | None = None


class _Issuer:
    """One run of the flow against one Credential Issuer: its metadata, token and DPoP key."""

    def __init__(self, http: httpx.AsyncClient, settings: WalletSettings, credential_issuer: str, *,
                 now: datetime) -> None:
        self.http = http
        self.now = now
        self.settings = settings
        self.name = credential_issuer
        self.loopback = settings.allow_insecure_loopback
        self.dpop_key: PrivateJwk | None = None
        self.access_token: str | None = None
        self.token_type = "Bearer"

    async def get_json(self, url: str, what: str) -> object:
        return await _get_json(self.http, self.settings, url, who=self.name, what=what)

    def _dpop(self, url: str, *, with_token: bool) -> dict[str, str]:
        if self.dpop_key is None:
            return {}
        proof = build_dpop_proof(self.dpop_key, htm="POST", htu=url, iat=self.now,
                                 jti=secrets.token_urlsafe(16), access_token=self.access_token if with_token else None)
        return {"DPoP": proof}

    def authorization(self, url: str) -> dict[str, str]:
        assert self.access_token is not None
        return {"Authorization": f"{self.token_type} {self.access_token}", **self._dpop(url, with_token=True)}

    async def post(self, url: str, step: str, *, max_bytes: int | None = None, data: Mapping[str, str] | None = None,
                   json: Any = None, authorized: bool = False) -> FetchedDocument:
        headers = self.authorization(url) if authorized else self._dpop(url, with_token=False)
        try:
            return await exchange_bounded(self.http, "POST", url,
                                          max_bytes=max_bytes or self.settings.max_metadata_bytes,
                                          timeout=self.settings.http_timeout_seconds, data=data, json=json,
                                          headers=headers)
        except FetchError as exc:
            raise IssuerUnavailable(f"the {step} at {self.name} failed: {exc.reason}", issuer=self.name) from None

    def refused(self, answer: FetchedDocument, step: str) -> IssuerRefused | IssuerUnavailable:
        return _refusal(answer, who=self.name, step=step)


def _refusal(answer: FetchedDocument, *, who: str, step: str) -> IssuerRefused | IssuerUnavailable:
    """The typed error for an issuer's error answer, naming the issuer and its error code."""
    body = answer.json()
    if answer.status >= 500 or not isinstance(body, Mapping) or not isinstance(body.get("error"), str):
        return IssuerUnavailable(f"the {step} at {who} failed: HTTP {answer.status}", issuer=who, status=answer.status)
    code = oid4vci.safe_description(body["error"], limit=64)
    said = body.get("error_description")
    detail = f" ({oid4vci.safe_description(said)})" if isinstance(said, str) and said else ""
    return IssuerRefused(f"{who} refused the {step}: {code}{detail}", issuer=who, issuer_error=code, status=answer.status)


async def _get_json(http: httpx.AsyncClient, settings: WalletSettings, url: str, *, who: str, what: str) -> object:
    """A JSON document from an issuer; its error answer (a used or expired offer's 404) is passed on, not lost."""
    try:
        answer = await exchange_bounded(http, "GET", url, max_bytes=settings.max_metadata_bytes,
                                        timeout=settings.http_timeout_seconds)
    except FetchError as exc:
        raise IssuerUnavailable(f"could not get {what} from {who}: {exc.reason}", issuer=who) from None
    if not answer.ok:
        raise _refusal(answer, who=who, step=f"request for {what}")
    if answer.content_type != "application/json":
        raise IssuerUnavailable(f"{what} from {who} is {answer.content_type or 'untyped'}, not JSON", issuer=who)
    try:
        return json_loads(answer.body)
    except EncodingError as exc:
        raise IssuerUnavailable(f"{what} from {who} is not JSON: {exc.reason}", issuer=who) from None


async def accept_offer(
    session: Session, settings: WalletSettings, http: httpx.AsyncClient, resident_id: str,
    acceptance: OfferAcceptance, *, now: datetime,
) -> list[WalletCredential]:
    """Run the flow for one offer and store what was issued; the stored credentials, one per configuration.

    Raises:
        InvalidCredentialOffer (and the other ``tsunagu.oid4vci`` parse errors): a malformed offer or document.
        UnsupportedOffer, TxCodeRequired: an offer this wallet cannot act on as given.
        IssuerRefused: the issuer answered with an error (its code is in the reason).
        IssuerUnavailable: the issuer could not be reached or broke the protocol.
        IssuedCredentialRejected: what was issued does not verify.
    """
    loopback = settings.allow_insecure_loopback
    reference = oid4vci.parse_credential_offer_uri(acceptance.offer_uri, allow_http_loopback=loopback)
    if reference.offer is not None:
        offer = reference.offer
    else:
        assert reference.offer_uri is not None
        document = await _get_json(http, settings, reference.offer_uri, who=origin_of(reference.offer_uri),
                                   what="the credential offer")
        offer = oid4vci.parse_credential_offer(document, allow_http_loopback=loopback)
    grant = offer.pre_authorized_code
    if grant is None:
        raise UnsupportedOffer("this wallet accepts only offers with a pre-authorized code")
    if grant.tx_code is not None and not acceptance.tx_code:
        hint = f" ({grant.tx_code.description})" if grant.tx_code.description else ""
        length = f"{grant.tx_code.length}-character " if grant.tx_code.length else ""
        raise TxCodeRequired(f"{offer.credential_issuer} asks for the {length}transaction code it sent you "
                             f"separately{hint}; send it as tx_code")

    issuer = _Issuer(http, settings, offer.credential_issuer, now=now)
    metadata = oid4vci.parse_credential_issuer_metadata(
        await issuer.get_json(oid4vci.credential_issuer_metadata_url(offer.credential_issuer, allow_http_loopback=loopback),
                              "the credential issuer metadata"),
        expected_issuer=offer.credential_issuer, allow_http_loopback=loopback,
    )
    if metadata.request_encryption_required or metadata.response_encryption_required:
        raise UnsupportedOffer(f"{issuer.name} requires encrypted credential requests or responses, "
                               "which this wallet does not support")
    configurations = [_configuration(metadata, config_id) for config_id in offer.credential_configuration_ids]

    server = grant.authorization_server or metadata.authorization_server
    if grant.authorization_server is not None and grant.authorization_server not in metadata.authorization_servers:
        # §4.1.1: the offer's authorization_server MUST be one the issuer's metadata lists.
        raise oid4vci.InvalidCredentialOffer("the offer names an authorization server the issuer does not list")
    authorization = oid4vci.parse_authorization_server_metadata(
        await issuer.get_json(oid4vci.authorization_server_metadata_url(server, allow_http_loopback=loopback),
                              "the authorization server metadata"),
        expected_issuer=server, allow_http_loopback=loopback,
    )
    if oid4vci.PRE_AUTHORIZED_CODE_GRANT not in authorization.grant_types_supported:
        raise UnsupportedOffer(f"the authorization server of {issuer.name} does not accept pre-authorized codes")
    if "ES256" in authorization.dpop_signing_alg_values_supported:
        issuer.dpop_key = generate_key("ES256")  # RFC 9449: a token a thief cannot use without this key

    tx_code = acceptance.tx_code if grant.tx_code is not None else None  # §6.3: never send one not asked for
    answer = await issuer.post(authorization.token_endpoint, "token request",
                               data=oid4vci.build_token_request(grant.pre_authorized_code, tx_code=tx_code))
    if not answer.ok:
        raise issuer.refused(answer, "token request")
    try:
        token = oid4vci.parse_token_response(answer.json())
    except oid4vci.InvalidTokenResponse as exc:
        raise IssuerUnavailable(f"{issuer.name} answered the token request wrongly: {exc.reason}") from None
    issuer.access_token, issuer.token_type = token.access_token, token.token_type
    if token.token_type == "Bearer":
        issuer.dpop_key = None  # the server did not bind the token; proofs would be noise

    stored = []
    for config in configurations:
        copies, notification_id = await _request_credentials(issuer, metadata, config, token, now=now)
        try:
            row = await _verified_and_stored(session, settings, issuer, metadata, config, copies, resident_id, now=now)
        except IssuedCredentialRejected:
            await _notify(issuer, metadata, notification_id, "credential_failure")
            raise
        await _notify(issuer, metadata, notification_id, "credential_accepted")
        stored.append(row)
    return stored


def _configuration(metadata: oid4vci.CredentialIssuerMetadata, config_id: str) -> oid4vci.CredentialConfiguration:
    config = metadata.credential_configurations.get(config_id)
    if config is None:
        raise oid4vci.InvalidCredentialOffer(
            f"the offer names the credential {config_id!r}, which {metadata.credential_issuer} does not describe")
    if config.format != oid4vci.FORMAT_DC_SD_JWT:
        raise UnsupportedOffer(f"this wallet holds SD-JWT VCs (dc+sd-jwt) only, not {config.format}")
    if oid4vci.PROOF_TYPE_JWT not in config.proof_types:
        raise UnsupportedOffer(
            f"{config_id} would not be bound to a key of this wallet (no jwt proof type), so anyone who saw it could use it")
    return config


def _key_algorithm(config: oid4vci.CredentialConfiguration) -> Algorithm:
    offered = config.proof_types[oid4vci.PROOF_TYPE_JWT]
    for alg in _KEY_ALGORITHMS:
        if alg in offered:
            return alg
    raise UnsupportedOffer(f"the issuer accepts key proofs only with {', '.join(offered)}, none of which this wallet uses")


async def _nonce(issuer: _Issuer, metadata: oid4vci.CredentialIssuerMetadata) -> str | None:
    if metadata.nonce_endpoint is None:
        return None
    answer = await issuer.post(metadata.nonce_endpoint, "nonce request")
    if not answer.ok:
        raise issuer.refused(answer, "nonce request")
    try:
        return oid4vci.parse_nonce_response(answer.json()).c_nonce
    except oid4vci.InvalidNonceResponse as exc:
        raise IssuerUnavailable(f"{issuer.name} answered the nonce request wrongly: {exc.reason}") from None


async def _request_credentials(
    issuer: _Issuer, metadata: oid4vci.CredentialIssuerMetadata, config: oid4vci.CredentialConfiguration,
    token: oid4vci.TokenResponse, *, now: datetime,
) -> tuple[list[IssuedCopy], str | None]:
    """One Credential Request with a proof per fresh key; retried once with a new ``c_nonce`` on ``invalid_nonce``."""
    count = min(issuer.settings.batch_size, metadata.batch_size) if metadata.batch_size else 1
    alg = _key_algorithm(config)
    keys = [generate_key(alg) for _ in range(count)]
    identifiers = token.credential_identifiers.get(config.id)
    # §8.2: when the Token Response named credential_identifiers, the request MUST use one of them.
    target = {"credential_identifier": identifiers[0]} if identifiers else {"credential_configuration_id": config.id}
    for attempt in (1, 2):
        nonce = await _nonce(issuer, metadata)
        proofs = [oid4vci.build_proof_jwt(key, audience=metadata.credential_issuer, nonce=nonce, iat=now)
                  for key in keys]
        answer = await issuer.post(metadata.credential_endpoint, "credential request", authorized=True,
                                   max_bytes=issuer.settings.max_credential_response_bytes,
                                   json=oid4vci.build_credential_request(proofs=proofs, **target))
        if answer.ok:
            break
        body = answer.json()
        error = body.get("error") if isinstance(body, Mapping) else None
        if not (attempt == 1 and error == "invalid_nonce" and metadata.nonce_endpoint is not None):
            raise issuer.refused(answer, "credential request")
    try:
        response = oid4vci.parse_credential_response(answer.json())
    except oid4vci.InvalidCredentialResponse as exc:
        raise IssuerUnavailable(f"{issuer.name} answered the credential request wrongly: {exc.reason}") from None
    if response.transaction_id is not None:
        raise UnsupportedOffer(f"{issuer.name} would issue later (deferred issuance), which this wallet does not support")
    if len(response.credentials) > len(keys) or not all(isinstance(c, str) for c in response.credentials):
        raise IssuedCredentialRejected(f"{issuer.name} sent more credentials than keys, or not SD-JWT VCs")
    by_thumbprint = {key.thumbprint(): key for key in keys}
    copies = []
    for credential in response.credentials:
        assert isinstance(credential, str)
        copies.append(IssuedCopy(credential, _bound_key(issuer, credential, by_thumbprint)))
    return copies, response.notification_id


def _bound_key(issuer: _Issuer, credential: str, keys: dict[str, PrivateJwk]) -> PrivateJwk:
    """The fresh key this credential is bound to (each key to one credential only)."""
    try:
        cnf = decode_sd_jwt(credential).payload.get("cnf")
        holder = parse_public_jwk(cnf.get("jwk")) if isinstance(cnf, Mapping) else None
    except TsunaguError as exc:
        raise IssuedCredentialRejected(f"{issuer.name} sent a credential this wallet cannot read: {exc.reason}") from None
    key = keys.pop(holder.thumbprint(), None) if holder is not None else None
    if key is None:
        raise IssuedCredentialRejected(f"{issuer.name} sent a credential that is not bound to a key of this wallet")
    return key


async def _issuer_keys(issuer: _Issuer, iss: str) -> tuple[PublicJwk, ...]:
    """The keys ``iss`` publishes in its JWT VC Issuer Metadata (SD-JWT VC §5), from the issuer's own origin."""
    url = jwt_vc_issuer_metadata_url(iss, allow_http_loopback=issuer.loopback)
    document = parse_issuer_metadata(await issuer.get_json(url, "the issuer's keys"), expected_issuer=iss)
    if document.jwks is not None:
        return document.jwks
    assert document.jwks_uri is not None
    if origin_of(document.jwks_uri) != origin_of(iss):
        raise IssuedCredentialRejected(f"{iss} publishes its keys on another origin ({document.jwks_uri})")
    try:
        return parse_jwks(await issuer.get_json(document.jwks_uri, "the issuer's keys"))
    except JwkError as exc:
        raise IssuedCredentialRejected(f"the keys {iss} publishes are unusable: {exc.reason}") from None


async def _verified_and_stored(
    session: Session, settings: WalletSettings, issuer: _Issuer, metadata: oid4vci.CredentialIssuerMetadata,
    config: oid4vci.CredentialConfiguration, copies: list[IssuedCopy], resident_id: str, *, now: datetime,
) -> WalletCredential:
    if not copies:
        raise IssuedCredentialRejected(f"{issuer.name} issued no credential")
    iss = decode_sd_jwt(copies[0].credential).payload.get("iss")
    if not isinstance(iss, str) or origin_of(iss) != origin_of(metadata.credential_issuer):
        # The wallet fetches the signer's keys from iss: only from the issuer it is talking to.
        raise IssuedCredentialRejected(f"{issuer.name} sent a credential signed in the name of {iss!r}")
    try:
        resolver = issuer_key_resolver(iss, await _issuer_keys(issuer, iss))
        verified = [verify_sd_jwt_vc(copy.credential, issuer_key=resolver, kb=None, now=now) for copy in copies]
    except (IssuerUnavailable, IssuedCredentialRejected):
        raise
    except TsunaguError as exc:
        raise IssuedCredentialRejected(f"the credential from {issuer.name} does not verify: {exc.reason}") from None
    def said(claims: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS}

    for item in verified:
        if config.vct is not None and item.vct != config.vct:
            raise IssuedCredentialRejected(f"{issuer.name} offered {config.vct} but sent {item.vct}")
        if said(item.claims) != said(verified[0].claims) or item.iss != iss:
            raise IssuedCredentialRejected(f"the copies {issuer.name} sent do not say the same thing")
    try:
        # Kept per copy: an issuer gives each copy its own entry, or verifiers could link the copies by it.
        copies = [replace(copy, status=parse_status_claim(item.status) if item.status is not None else None)
                  for copy, item in zip(copies, verified, strict=True)]
    except InvalidStatusReference as exc:
        raise IssuedCredentialRejected(f"the credential from {issuer.name} has an unusable status: {exc.reason}") from None
    payload = verified[0].sd_jwt.payload
    return store_credential(
        session, settings, resident_id, credential_issuer=metadata.credential_issuer, iss=iss,
        credential_configuration_id=config.id, vct=verified[0].vct, display=_display(metadata, config),
        iat=_timestamp(payload.get("iat")), exp=_timestamp(payload.get("exp")), copies=copies, now=now,
    )


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _localized(displays: tuple[Any, ...], fallback: str) -> dict[str, str]:
    """``{"en", "ja"}`` from display entries by locale prefix; the first entry stands in for a missing one."""
    names: dict[str, str] = {}
    for lang in ("en", "ja"):
        match = next((d.name for d in displays if d.name and (d.locale or "").lower().startswith(lang)), None)
        names[lang] = match or next((d.name for d in displays if d.name), None) or fallback
    return names


def _display(metadata: oid4vci.CredentialIssuerMetadata, config: oid4vci.CredentialConfiguration) -> dict[str, Any]:
    en, ja = config.claim_names("en"), config.claim_names("ja")
    return {
        "issuer": _localized(metadata.display, metadata.credential_issuer),
        "credential": _localized(config.display, config.vct or config.id),
        "claims": [{"path": list(claim.path), "en": en.get(claim.path), "ja": ja.get(claim.path)}
                   for claim in config.claims],
    }


async def _notify(issuer: _Issuer, metadata: oid4vci.CredentialIssuerMetadata, notification_id: str | None,
                  event: oid4vci.NotificationEvent) -> None:
    """§11: tell the issuer what became of the credentials; a failure here changes nothing for the resident."""
    if metadata.notification_endpoint is None or notification_id is None:
        return
    try:
        answer = await issuer.post(metadata.notification_endpoint, "notification", authorized=True,
                                   json=oid4vci.build_notification_request(notification_id, event))
        if not answer.ok:
            log.info("notification %s to %s answered HTTP %s", event, issuer.name, answer.status)
    except IssuerUnavailable as exc:
        log.info("notification %s to %s failed: %s", event, issuer.name, exc.reason)
