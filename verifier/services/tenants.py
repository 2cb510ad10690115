"""The verifiers hosted by this service: registering one (key and certificate, sealed) and loading it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from tsunagu.encoding import json_dumps
from tsunagu.errors import JwkError
from tsunagu.jwk import PrivateJwk, parse_private_jwk
from tsunagu.oid4vp import ClientIdError, ClientIdPrefix, client_id_for_certificate
from tsunagu.sealing import seal, unseal
from tsunagu.trust import TrustRegistry
from tsunagu.x509 import X509Error, certificate_public_jwk, parse_x5c_certificate, verify_x5c_chain

from ..errors import InvalidTenant, UnknownTenant
from ..settings import VerifierSettings
from ..tables import VerifierTenant

__all__ = ["TenantSpec", "Tenant", "provision_tenant", "get_tenant", "list_tenants", "RESERVED_SLUGS"]

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
#: Path segments the service uses itself; a tenant of that name would shadow them.
RESERVED_SLUGS = frozenset({"admin", "docs", "redoc", "openapi.json", "well-known", "health"})


@dataclass(frozen=True, slots=True)
class TenantSpec:
    """A verifier to host: its URL slug, names, request-signing key and certificate chain (leaf first)."""

    slug: str
    name_en: str
    name_ja: str
    key: PrivateJwk
    x5c: tuple[str, ...]
    prefix: ClientIdPrefix


@dataclass(frozen=True, slots=True)
class Tenant:
    slug: str
    client_id: str
    name_en: str
    name_ja: str
    key: PrivateJwk
    x5c: tuple[str, ...]


def _aad(slug: str) -> bytes:
    return f"verifier_tenant:{slug}".encode()


def provision_tenant(
    session: Session, settings: VerifierSettings, spec: TenantSpec, *, registry: TrustRegistry | None, now: datetime
) -> VerifierTenant:
    """Register (or replace) a hosted verifier.

    Raises:
        InvalidTenant: a bad slug, a certificate that does not hold the key, a chain that does not lead
            to the trust registry's root, or a client_id already used by another tenant.
    """
    if not _SLUG.fullmatch(spec.slug) or spec.slug in RESERVED_SLUGS:
        raise InvalidTenant(f"{spec.slug!r} cannot name a tenant: use 1-40 lower-case letters, digits and '-'")
    if not spec.name_en or not spec.name_ja:
        raise InvalidTenant("a tenant needs an English and a Japanese name")
    try:
        leaf = parse_x5c_certificate(spec.x5c[0] if spec.x5c else None)
        if certificate_public_jwk(leaf).thumbprint() != spec.key.thumbprint():
            raise InvalidTenant("the certificate is not for this request-signing key")
        if registry is not None:
            verify_x5c_chain(list(spec.x5c), root=registry.root_certificate, now=now)
        client_id = client_id_for_certificate(spec.prefix, leaf)
    except (X509Error, ClientIdError) as exc:
        raise InvalidTenant(f"the tenant's certificate cannot be used: {exc.reason}") from None
    clash = session.exec(select(VerifierTenant).where(VerifierTenant.client_id == client_id)).first()
    if clash is not None and clash.slug != spec.slug:
        raise InvalidTenant(f"the client_id {client_id} is already used by the tenant {clash.slug!r}")
    row = session.get(VerifierTenant, spec.slug) or VerifierTenant(
        slug=spec.slug, client_id=client_id, name_en="", name_ja="", sealed_key="", x5c="[]", created_at=now)
    row.client_id, row.name_en, row.name_ja = client_id, spec.name_en, spec.name_ja
    row.sealed_key = seal(settings.master_key_bytes, json_dumps(spec.key.to_jwk(include_private=True)).encode(),
                          aad=_aad(spec.slug))
    row.x5c = json.dumps(list(spec.x5c))
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def get_tenant(session: Session, settings: VerifierSettings, slug: str) -> Tenant:
    """Raises: UnknownTenant."""
    row = session.get(VerifierTenant, slug)
    if row is None:
        raise UnknownTenant(f"there is no verifier {slug!r} on this service")
    try:
        key = parse_private_jwk(json.loads(unseal(settings.master_key_bytes, row.sealed_key, aad=_aad(slug))))
    except JwkError as exc:  # a sealed key that opens but does not parse is a bug, not a client error
        raise RuntimeError(f"the stored key of tenant {slug!r} is corrupt: {exc.reason}") from exc
    return Tenant(slug=row.slug, client_id=row.client_id, name_en=row.name_en, name_ja=row.name_ja, key=key,
                  x5c=tuple(json.loads(row.x5c)))


def list_tenants(session: Session) -> list[VerifierTenant]:
    return list(session.exec(select(VerifierTenant).order_by(VerifierTenant.slug)))
