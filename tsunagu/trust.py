"""The trust registry: who may issue which credentials, and who may ask for what, and why.

One signed document, kept in each deployment's configuration, that every service loads and checks
against the registry's public key (settings ``trust_registry_path`` and ``trust_registry_jwk_path``).
A verifier accepts a credential only from an issuer registered for its ``vct``; a wallet tells the
resident who is asking, under which registered purpose, and flags every requested claim that the
purpose's registration does not cover.

Format (Tsunagu's own; no standard covers purpose registration yet): a compact JWS with header
``{"typ": "trust-registry+jwt", "alg": ..., "kid": ...}`` and payload::

    {
      "iss": "https://registry.tsunagu.example",      # the registry's identifier
      "iat": 1795424400, "exp": 1826960400,            # required: a stale registry is refused
      "root_certificate": "MIIB...",                   # base64 DER: the CA of verifier certificates
      "issuers": [{
        "id": "https://issuer.example/employer",       # = the SD-JWT VC ``iss``
        "name": {"en": "Sakura Logistics", "ja": "さくら物流"},
        "vcts": ["urn:tsunagu:vct:employment-certificate:1"]
      }],
      "verifiers": [{
        "client_id": "x509_san_dns:landlord.example",  # full OpenID4VP client_id, prefix included
        "name": {"en": "Tokyo Homes", "ja": "東京ホームズ"},
        "x5c": ["MIIB..."],                            # the registered certificate chain, leaf first
        "response_uri_origin": "https://verifier.example",
        "consent_notification_uri": "https://verifier.example/landlord/consent-notifications",  # optional
        "purposes": [{
          "purpose": "rental_screening",                # a code of tsunagu.purposes
          "claims": [{"vct": "urn:tsunagu:vct:employment-certificate:1",
                      "path": ["employer_name"]}],       # OpenID4VP §7 claims path pointers
          "max_retention_days": 90,
          "max_access_period_days": 730                 # optional: ongoing access allowed, this long at most
        }]
      }]
    }

A registered path covers itself and everything below it (``["address"]`` covers
``["address", "locality"]``); ``null`` covers any array index.

``consent_notification_uri`` is where wallets deliver signed consent revocation events for this
verifier (docs/consent.md); it must lie on the ``response_uri_origin``. A purpose without
``max_access_period_days`` allows one-time access only: a request for ongoing access under it is
outside the registration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from cryptography import x509

from . import jose
from .claims_path import ClaimsPath, format_claims_path, parse_claims_path
from .dcql import FORMAT_DC_SD_JWT, DcqlQuery, requested_claims
from .errors import InvalidDcqlQuery, InvalidSignature, JoseError, TsunaguError
from .jwk import PrivateJwk, PublicJwk
from .oid4vp import ClientIdError, parse_client_id
from .purposes import is_purpose_code
from .x509 import X509Error, certificate_to_x5c, parse_x5c_certificate, san_dns_names, x509_hash

__all__ = [
    "TYP_TRUST_REGISTRY",
    "TrustError",
    "TrustRegistryInvalid",
    "TrustRegistrySignatureInvalid",
    "TrustRegistryExpired",
    "IssuerNotTrusted",
    "IssuerNotTrustedForVct",
    "VerifierNotRegistered",
    "PurposeNotRegistered",
    "LocalizedText",
    "IssuerEntry",
    "ClaimRef",
    "PurposeRegistration",
    "VerifierEntry",
    "TrustRegistry",
    "FlaggedClaim",
    "RequestAssessment",
    "trust_registry_claims",
    "build_trust_registry",
    "load_trust_registry",
    "over_asked_claims",
    "assess_request",
    "access_exceeded",
]

TYP_TRUST_REGISTRY: Final = "trust-registry+jwt"


class TrustError(TsunaguError):
    code = "trust.error"


class TrustRegistryInvalid(TrustError):
    """The registry document is not well-formed, or contradicts itself."""

    code = "trust.registry_invalid"


class TrustRegistrySignatureInvalid(TrustError):
    code = "trust.registry_signature_invalid"


class TrustRegistryExpired(TrustError):
    code = "trust.registry_expired"


class IssuerNotTrusted(TrustError):
    code = "trust.issuer_not_trusted"


class IssuerNotTrustedForVct(TrustError):
    """A registered issuer, but not for this credential type."""

    code = "trust.issuer_not_trusted_for_vct"


class VerifierNotRegistered(TrustError):
    code = "trust.verifier_not_registered"


class PurposeNotRegistered(TrustError):
    code = "trust.purpose_not_registered"


@dataclass(frozen=True, slots=True)
class LocalizedText:
    en: str
    ja: str

    def to_json(self) -> dict[str, str]:
        return {"en": self.en, "ja": self.ja}


@dataclass(frozen=True, slots=True)
class IssuerEntry:
    id: str
    name: LocalizedText
    vcts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClaimRef:
    vct: str
    path: ClaimsPath


@dataclass(frozen=True, slots=True)
class PurposeRegistration:
    purpose: str
    claims: tuple[ClaimRef, ...]
    max_retention_days: int
    #: How long an ongoing-access consent under this purpose may last; ``None``: one-time access only.
    max_access_period_days: int | None = None

    def covers(self, vct: str, path: ClaimsPath) -> bool:
        """Whether asking for ``path`` of a ``vct`` credential lies within this registration."""
        return any(ref.vct == vct and _covers(ref.path, path) for ref in self.claims)


@dataclass(frozen=True, slots=True)
class VerifierEntry:
    client_id: str
    name: LocalizedText
    x5c: tuple[str, ...]
    purposes: tuple[PurposeRegistration, ...]
    response_uri_origin: str
    #: Where wallets POST consent revocation events (``consent-revocation+jwt``); ``None``: not reachable.
    consent_notification_uri: str | None = None

    def registration(self, purpose: str) -> PurposeRegistration:
        """Raises: PurposeNotRegistered."""
        for registration in self.purposes:
            if registration.purpose == purpose:
                return registration
        raise PurposeNotRegistered(
            f"{self.name.en} is not registered to ask for data for the purpose {purpose!r}", purpose=purpose
        )


@dataclass(frozen=True, slots=True)
class TrustRegistry:
    """A verified registry. Look-ups raise typed errors; ``find_*`` return ``None`` instead."""

    iss: str
    iat: datetime
    exp: datetime
    root_certificate: x509.Certificate
    issuers: tuple[IssuerEntry, ...]
    verifiers: tuple[VerifierEntry, ...]

    def find_issuer(self, iss: str) -> IssuerEntry | None:
        return next((entry for entry in self.issuers if entry.id == iss), None)

    def check_issuer(self, iss: str | None, vct: str) -> IssuerEntry:
        """The issuer ``iss``, if the registry lets it issue ``vct`` credentials.

        Raises:
            IssuerNotTrusted: ``iss`` is not in the registry.
            IssuerNotTrustedForVct: it is, but not for ``vct``.
        """
        entry = self.find_issuer(iss) if iss is not None else None
        if entry is None:
            raise IssuerNotTrusted(f"the issuer {iss!r} is not in the trust registry", iss=iss)
        if vct not in entry.vcts:
            raise IssuerNotTrustedForVct(
                f"{entry.name.en} is registered, but not as an issuer of {vct}", iss=iss, vct=vct
            )
        return entry

    def find_verifier(self, client_id: str) -> VerifierEntry | None:
        return next((entry for entry in self.verifiers if entry.client_id == client_id), None)

    def verifier(self, client_id: str) -> VerifierEntry:
        """Raises: VerifierNotRegistered."""
        entry = self.find_verifier(client_id)
        if entry is None:
            raise VerifierNotRegistered(f"the verifier {client_id!r} is not in the trust registry", client_id=client_id)
        return entry


@dataclass(frozen=True, slots=True)
class FlaggedClaim:
    """A requested claim the verifier's registration for the purpose does not cover."""

    credential_query_id: str
    vct: str | None
    path: ClaimsPath
    reason_en: str
    reason_ja: str


@dataclass(frozen=True, slots=True)
class RequestAssessment:
    """What the wallet tells the resident about a request, measured against the registry."""

    verifier: VerifierEntry
    registration: PurposeRegistration | None
    flagged_claims: tuple[FlaggedClaim, ...]
    retention_days: int | None
    retention_exceeded: bool
    #: Ongoing access asked for where the registration allows none, or for longer than it allows.
    access_exceeded: bool = False

    @property
    def within_registration(self) -> bool:
        return (self.registration is not None and not self.flagged_claims and not self.retention_exceeded
                and not self.access_exceeded)


# --- building and signing (the registry operator's side) ------------------------------------------------


def trust_registry_claims(
    *,
    iss: str,
    root_certificate: x509.Certificate,
    issuers: Sequence[IssuerEntry],
    verifiers: Sequence[VerifierEntry],
    iat: datetime,
    exp: datetime,
) -> dict[str, Any]:
    """The payload of a registry; it is checked by the same parser the loader uses."""
    claims: dict[str, Any] = {
        "iss": iss,
        "iat": int(iat.timestamp()),
        "exp": int(exp.timestamp()),
        "root_certificate": certificate_to_x5c(root_certificate),
        "issuers": [{"id": i.id, "name": i.name.to_json(), "vcts": list(i.vcts)} for i in issuers],
        "verifiers": [
            {
                "client_id": v.client_id,
                "name": v.name.to_json(),
                "x5c": list(v.x5c),
                "response_uri_origin": v.response_uri_origin,
                **({"consent_notification_uri": v.consent_notification_uri}
                   if v.consent_notification_uri is not None else {}),
                "purposes": [
                    {
                        "purpose": p.purpose,
                        "claims": [{"vct": c.vct, "path": list(c.path)} for c in p.claims],
                        "max_retention_days": p.max_retention_days,
                        **({"max_access_period_days": p.max_access_period_days}
                           if p.max_access_period_days is not None else {}),
                    }
                    for p in v.purposes
                ],
            }
            for v in verifiers
        ],
    }
    _parse_registry(claims)
    return claims


def build_trust_registry(
    *,
    iss: str,
    root_certificate: x509.Certificate,
    issuers: Sequence[IssuerEntry],
    verifiers: Sequence[VerifierEntry],
    key: PrivateJwk,
    iat: datetime,
    exp: datetime,
) -> str:
    """A signed registry document (``typ`` ``trust-registry+jwt``).

    Raises:
        TrustRegistryInvalid: duplicate identifiers, unknown purpose codes, a client_id that does not
            match its certificate, ...
    """
    claims = trust_registry_claims(
        iss=iss, root_certificate=root_certificate, issuers=issuers, verifiers=verifiers, iat=iat, exp=exp
    )
    return jose.sign_compact({"typ": TYP_TRUST_REGISTRY}, claims, key)


# --- loading (every service) -----------------------------------------------------------------------


def load_trust_registry(
    token: str, *, key: PublicJwk, now: datetime, clock_skew: timedelta = timedelta(seconds=60)
) -> TrustRegistry:
    """Verify and parse a registry document.

    Raises:
        TrustRegistrySignatureInvalid: not signed by the registry ``key`` (or not a ``trust-registry+jwt`` JWS).
        TrustRegistryExpired: ``exp`` has passed.
        TrustRegistryInvalid: anything else about its content.
    """
    try:
        jws = jose.parse_compact(token.strip(), typ=TYP_TRUST_REGISTRY)
        jose.verify_signature(jws, key)
    except InvalidSignature:
        raise TrustRegistrySignatureInvalid("the trust registry is not signed by the registry's key") from None
    except JoseError as exc:
        raise TrustRegistrySignatureInvalid(
            f"the trust registry is not a valid signed document: {exc.reason}"
        ) from None
    registry = _parse_registry(jws.payload)
    if now - clock_skew >= registry.exp:
        raise TrustRegistryExpired(f"the trust registry expired at {registry.exp.isoformat()}")
    if registry.iat > now + clock_skew:
        raise TrustRegistryInvalid(f"the trust registry claims to be issued in the future ({registry.iat.isoformat()})")
    return registry


def _fail(reason: str) -> NoReturn:
    raise TrustRegistryInvalid(f"the trust registry is invalid: {reason}")


def _str(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        _fail(f"{where}.{name} must be a non-empty string")
    return value


def _list(obj: Mapping[str, Any], name: str, where: str, *, allow_empty: bool = True) -> list[Any]:
    value = obj.get(name)
    if not isinstance(value, list) or (not value and not allow_empty):
        _fail(f"{where}.{name} must be {'an' if allow_empty else 'a non-empty'} array")
    return value


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(f"{where} must be an object")
    return value


def _time(obj: Mapping[str, Any], name: str) -> datetime:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"'{name}' must be a NumericDate")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        _fail(f"'{name}' is not a usable time")


def _text(obj: Mapping[str, Any], name: str, where: str) -> LocalizedText:
    text = _obj(obj.get(name), f"{where}.{name}")
    return LocalizedText(en=_str(text, "en", f"{where}.{name}"), ja=_str(text, "ja", f"{where}.{name}"))


def _parse_registry(payload: Mapping[str, Any]) -> TrustRegistry:
    iss = _str(payload, "iss", "registry")
    iat, exp = _time(payload, "iat"), _time(payload, "exp")
    try:
        root = parse_x5c_certificate(payload.get("root_certificate"))
    except X509Error as exc:
        _fail(f"root_certificate: {exc.reason}")
    issuers = tuple(_parse_issuer(_obj(v, f"issuers[{n}]"), f"issuers[{n}]")
                    for n, v in enumerate(_list(payload, "issuers", "registry")))
    verifiers = tuple(_parse_verifier(_obj(v, f"verifiers[{n}]"), f"verifiers[{n}]")
                      for n, v in enumerate(_list(payload, "verifiers", "registry")))
    for kind, ids in (("issuer id", [i.id for i in issuers]), ("client_id", [v.client_id for v in verifiers])):
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            _fail(f"the {kind} {duplicates[0]!r} is listed more than once")
    return TrustRegistry(iss=iss, iat=iat, exp=exp, root_certificate=root, issuers=issuers, verifiers=verifiers)


def _parse_issuer(obj: Mapping[str, Any], where: str) -> IssuerEntry:
    vcts = _list(obj, "vcts", where, allow_empty=False)
    if not all(isinstance(v, str) and v for v in vcts):
        _fail(f"{where}.vcts must hold non-empty strings")
    return IssuerEntry(id=_str(obj, "id", where), name=_text(obj, "name", where), vcts=tuple(vcts))


def _parse_verifier(obj: Mapping[str, Any], where: str) -> VerifierEntry:
    client_id = _str(obj, "client_id", where)
    x5c = _list(obj, "x5c", where, allow_empty=False)
    try:
        prefix, value = parse_client_id(client_id)
        leaf = parse_x5c_certificate(x5c[0])
        for entry in x5c[1:]:
            parse_x5c_certificate(entry)
    except (ClientIdError, X509Error) as exc:
        _fail(f"{where}: {exc.reason}")
    # A registry entry whose certificate cannot authenticate its own client_id would be useless.
    if prefix == "x509_san_dns" and value not in san_dns_names(leaf):
        _fail(f"{where}: the certificate has no dNSName {value!r} for the client_id {client_id!r}")
    if prefix == "x509_hash" and value != x509_hash(leaf):
        _fail(f"{where}: the client_id {client_id!r} is not the hash of the registered certificate")
    purposes = tuple(_parse_registration(_obj(p, f"{where}.purposes[{n}]"), f"{where}.purposes[{n}]")
                     for n, p in enumerate(_list(obj, "purposes", where)))
    codes = [p.purpose for p in purposes]
    if len(codes) != len(set(codes)):
        _fail(f"{where} registers a purpose more than once")
    origin = _str(obj, "response_uri_origin", where).rstrip("/")
    notification_uri = obj.get("consent_notification_uri")
    if notification_uri is not None:
        notification_uri = _str(obj, "consent_notification_uri", where)
        parts = urlsplit(notification_uri)
        # On the origin the registry already vouches for: a registry entry cannot aim wallets' POSTs elsewhere.
        if f"{parts.scheme}://{parts.netloc}" != origin or parts.query or parts.fragment:
            _fail(f"{where}.consent_notification_uri must be a URL on the response_uri_origin {origin}, "
                  "without query or fragment")
    return VerifierEntry(client_id=client_id, name=_text(obj, "name", where), x5c=tuple(x5c), purposes=purposes,
                         response_uri_origin=origin, consent_notification_uri=notification_uri)


def _parse_registration(obj: Mapping[str, Any], where: str) -> PurposeRegistration:
    purpose = obj.get("purpose")
    if not is_purpose_code(purpose):
        _fail(f"{where}.purpose {purpose!r} is not a code of the purpose vocabulary")
    assert isinstance(purpose, str)
    days = obj.get("max_retention_days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        _fail(f"{where}.max_retention_days must be a non-negative integer")
    period = obj.get("max_access_period_days")
    if period is not None and (isinstance(period, bool) or not isinstance(period, int) or period < 1):
        _fail(f"{where}.max_access_period_days must be a positive integer")
    claims = []
    for n, ref in enumerate(_list(obj, "claims", where)):
        ref = _obj(ref, f"{where}.claims[{n}]")
        try:
            path = parse_claims_path(ref.get("path"))
        except InvalidDcqlQuery as exc:
            _fail(f"{where}.claims[{n}].path: {exc.reason}")
        claims.append(ClaimRef(vct=_str(ref, "vct", f"{where}.claims[{n}]"), path=path))
    return PurposeRegistration(purpose=purpose, claims=tuple(claims), max_retention_days=days,
                               max_access_period_days=period)


# --- queries -----------------------------------------------------------------------------------


def _covers(registered: ClaimsPath, requested: ClaimsPath) -> bool:
    if len(registered) > len(requested):
        return False
    for allowed, asked in zip(registered, requested):
        if allowed is None:
            if not (asked is None or isinstance(asked, int)):
                return False
        elif allowed != asked or type(allowed) is not type(asked):
            return False
    return True


def over_asked_claims(registration: PurposeRegistration | None, query: DcqlQuery) -> tuple[FlaggedClaim, ...]:
    """Every (Credential Query, ``vct``, claim) the query asks that the registration does not cover.

    A claim is checked against each ``vct`` the Credential Query accepts, since the wallet may answer
    with any of them. ``registration=None`` (purpose not registered at all) flags every claim.
    """
    flagged: list[FlaggedClaim] = []
    paths = requested_claims(query)
    for q in query.credentials:
        vcts: tuple[str | None, ...] = q.vct_values if q.format == FORMAT_DC_SD_JWT else (None,)
        for path in paths[q.id]:
            for vct in vcts:
                if vct is not None and registration is not None and registration.covers(vct, path):
                    continue
                name = format_claims_path(path)
                if registration is None:
                    en = f"the verifier is not registered for this purpose at all, so it may not ask for {name}"
                    ja = f"この目的での登録がないため、{name} を求めることはできません"
                else:
                    en = f"{name} is not among the claims registered for the purpose {registration.purpose!r}"
                    ja = f"{name} は、この目的のために登録された項目に含まれていません"
                flagged.append(FlaggedClaim(q.id, vct, path, en, ja))
    return tuple(flagged)


def access_exceeded(registration: PurposeRegistration | None, access_period_days: int | None) -> bool:
    """Whether ongoing access for ``access_period_days`` (``None``: one-time) lies outside ``registration``."""
    if access_period_days is None or registration is None:
        return False
    allowed = registration.max_access_period_days
    return allowed is None or access_period_days > allowed


def assess_request(
    registry: TrustRegistry, *, client_id: str, purpose: str, query: DcqlQuery, retention_days: int | None,
    access_period_days: int | None = None,
) -> RequestAssessment:
    """Measure a verifier's request against its registration (DESIGN.md flow 3).

    Raises:
        VerifierNotRegistered: the verifier is unknown (its request must not be answered at all).
    """
    verifier = registry.verifier(client_id)
    try:
        registration: PurposeRegistration | None = verifier.registration(purpose)
    except PurposeNotRegistered:
        registration = None
    exceeded = (
        registration is not None and retention_days is not None and retention_days > registration.max_retention_days
    )
    return RequestAssessment(
        verifier=verifier,
        registration=registration,
        flagged_claims=over_asked_claims(registration, query),
        retention_days=retention_days,
        retention_exceeded=exceeded,
        access_exceeded=access_exceeded(registration, access_period_days),
    )
