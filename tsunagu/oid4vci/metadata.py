"""Credential Issuer Metadata (OpenID4VCI 1.0 §12.2) and Authorization Server Metadata (RFC 8414, §12.3).

One frozen dataclass per document serves both sides: the issuer builds it and serves
``to_json()``; the wallet fetches the document and gets the same dataclass back from the
``parse_*`` function, which checks what a wallet relies on (the identifier matches the one the
document was fetched for, endpoints are https, configurations are well-formed, claims
descriptions are not contradictory, Appendix B.3) and ignores what it does not know (§12.2.4:
"The Wallet MUST ignore any unrecognized parameters").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from ..claims_path import ClaimsPath, format_claims_path, parse_claims_path
from ..errors import InvalidDcqlQuery, TsunaguError
from .errors import InvalidAuthorizationServerMetadata, InvalidCredentialIssuerMetadata
from .identifiers import check_identifier, check_url
from .offer import PRE_AUTHORIZED_CODE_GRANT

__all__ = [
    "FORMAT_DC_SD_JWT",
    "Display",
    "ClaimDisplay",
    "ClaimDescription",
    "CredentialConfiguration",
    "CredentialIssuerMetadata",
    "AuthorizationServerMetadata",
    "parse_credential_issuer_metadata",
    "parse_authorization_server_metadata",
]

#: Appendix A.3.1: the Credential Format Identifier of IETF SD-JWT VC.
FORMAT_DC_SD_JWT: Final = "dc+sd-jwt"



@dataclass(frozen=True, slots=True)
class Display:
    """A ``display`` entry of the issuer (§12.2.4) or of a credential (``credential_metadata.display``)."""

    name: str | None
    locale: str | None = None
    description: str | None = None
    logo_uri: str | None = None
    logo_alt_text: str | None = None
    background_color: str | None = None
    text_color: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name is not None:
            out["name"] = self.name
        if self.locale is not None:
            out["locale"] = self.locale
        if self.logo_uri is not None:
            out["logo"] = {"uri": self.logo_uri, **({"alt_text": self.logo_alt_text} if self.logo_alt_text else {})}
        if self.description is not None:
            out["description"] = self.description
        if self.background_color is not None:
            out["background_color"] = self.background_color
        if self.text_color is not None:
            out["text_color"] = self.text_color
        return out


@dataclass(frozen=True, slots=True)
class ClaimDisplay:
    name: str | None
    locale: str | None = None

    def to_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.name is not None:
            out["name"] = self.name
        if self.locale is not None:
            out["locale"] = self.locale
        return out


@dataclass(frozen=True, slots=True)
class ClaimDescription:
    """Appendix B.2: how a claim of the credential is displayed, and whether it is always present."""

    path: ClaimsPath
    mandatory: bool = False
    display: tuple[ClaimDisplay, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": list(self.path)}
        if self.mandatory:
            out["mandatory"] = True
        if self.display:
            out["display"] = [d.to_json() for d in self.display]
        return out


@dataclass(frozen=True, slots=True)
class CredentialConfiguration:
    """One entry of ``credential_configurations_supported`` (§12.2.4, Appendix A.3.2 for ``dc+sd-jwt``).

    ``proof_types`` maps each supported proof type (``jwt``) to its
    ``proof_signing_alg_values_supported``; empty when the credential needs no key binding.
    """

    id: str
    format: str
    vct: str | None = None
    scope: str | None = None
    cryptographic_binding_methods_supported: tuple[str, ...] = ()
    credential_signing_alg_values_supported: tuple[str, ...] = ()
    proof_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    display: tuple[Display, ...] = ()
    claims: tuple[ClaimDescription, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.raw)
        out["format"] = self.format
        if self.scope is not None:
            out["scope"] = self.scope
        if self.vct is not None:
            out["vct"] = self.vct
        if self.cryptographic_binding_methods_supported:
            out["cryptographic_binding_methods_supported"] = list(self.cryptographic_binding_methods_supported)
        if self.credential_signing_alg_values_supported:
            out["credential_signing_alg_values_supported"] = list(self.credential_signing_alg_values_supported)
        if self.proof_types:
            out["proof_types_supported"] = {
                name: {"proof_signing_alg_values_supported": list(algs)} for name, algs in self.proof_types.items()
            }
        metadata: dict[str, Any] = {}
        if self.display:
            metadata["display"] = [d.to_json() for d in self.display]
        if self.claims:
            metadata["claims"] = [c.to_json() for c in self.claims]
        if metadata:
            out["credential_metadata"] = metadata
        return out

    def claim_names(self, locale_prefix: str) -> dict[ClaimsPath, str]:
        """Each described claim's display name in the first locale starting with ``locale_prefix`` (``"ja"``)."""
        names: dict[ClaimsPath, str] = {}
        for claim in self.claims:
            for display in claim.display:
                if display.name and (display.locale or "").lower().startswith(locale_prefix.lower()):
                    names[claim.path] = display.name
                    break
        return names


@dataclass(frozen=True, slots=True)
class CredentialIssuerMetadata:
    """§12.2.4: a Credential Issuer's metadata."""

    credential_issuer: str
    credential_endpoint: str
    credential_configurations: Mapping[str, CredentialConfiguration]
    nonce_endpoint: str | None = None
    deferred_credential_endpoint: str | None = None
    notification_endpoint: str | None = None
    #: Empty: the Credential Issuer is its own authorization server (§12.2.4).
    authorization_servers: tuple[str, ...] = ()
    #: ``batch_credential_issuance.batch_size``: most proofs one Credential Request may carry.
    batch_size: int | None = None
    display: tuple[Display, ...] = ()
    #: The issuer requires encrypted requests / responses, which Tsunagu does not implement.
    request_encryption_required: bool = False
    response_encryption_required: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def authorization_server(self) -> str:
        """The authorization server to use: the first listed, else the Credential Issuer itself."""
        return self.authorization_servers[0] if self.authorization_servers else self.credential_issuer

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.raw)
        out["credential_issuer"] = self.credential_issuer
        if self.authorization_servers:
            out["authorization_servers"] = list(self.authorization_servers)
        out["credential_endpoint"] = self.credential_endpoint
        if self.nonce_endpoint is not None:
            out["nonce_endpoint"] = self.nonce_endpoint
        if self.deferred_credential_endpoint is not None:
            out["deferred_credential_endpoint"] = self.deferred_credential_endpoint
        if self.notification_endpoint is not None:
            out["notification_endpoint"] = self.notification_endpoint
        if self.batch_size is not None:
            out["batch_credential_issuance"] = {"batch_size": self.batch_size}
        if self.display:
            out["display"] = [d.to_json() for d in self.display]
        out["credential_configurations_supported"] = {
            config_id: config.to_json() for config_id, config in self.credential_configurations.items()
        }
        return out


@dataclass(frozen=True, slots=True)
class AuthorizationServerMetadata:
    """RFC 8414 §2 with OpenID4VCI 1.0 §12.3 and RFC 9449 §5.1: what a wallet needs from the AS."""

    issuer: str
    token_endpoint: str
    grant_types_supported: tuple[str, ...] = (PRE_AUTHORIZED_CODE_GRANT,)
    pre_authorized_grant_anonymous_access_supported: bool = False
    dpop_signing_alg_values_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.raw)
        out["issuer"] = self.issuer
        out["token_endpoint"] = self.token_endpoint
        out["grant_types_supported"] = list(self.grant_types_supported)
        # §12.3: an AS supporting only the Pre-Authorized Code grant may omit response_types_supported.
        out["pre-authorized_grant_anonymous_access_supported"] = self.pre_authorized_grant_anonymous_access_supported
        if self.token_endpoint_auth_methods_supported:
            out["token_endpoint_auth_methods_supported"] = list(self.token_endpoint_auth_methods_supported)
        if self.dpop_signing_alg_values_supported:
            out["dpop_signing_alg_values_supported"] = list(self.dpop_signing_alg_values_supported)
        return out


# --- parsing ------------------------------------------------------------------------------------


def parse_credential_issuer_metadata(
    document: object, *, expected_issuer: str, allow_http_loopback: bool = False
) -> CredentialIssuerMetadata:
    """Validate Credential Issuer Metadata fetched for ``expected_issuer`` (§12.2).

    §12.2.4: ``credential_issuer`` must equal the identifier the well-known URL was built from,
    by simple string comparison; otherwise "the data contained in the response MUST NOT be used".

    Raises:
        InvalidCredentialIssuerMetadata: another issuer, a missing or non-https endpoint, a
            malformed configuration, display or claims description.
    """
    err = InvalidCredentialIssuerMetadata
    if not isinstance(document, Mapping):
        raise err("the credential issuer metadata is not a JSON object")
    if document.get("credential_issuer") != expected_issuer:
        raise err("the metadata is for another credential issuer than the one it was fetched for")
    issuer = check_identifier(
        expected_issuer, what="credential_issuer", error=err, allow_http_loopback=allow_http_loopback
    )

    def endpoint(name: str, required: bool = False) -> str | None:
        value = document.get(name)
        if value is None and not required:
            return None
        return check_url(value, what=name, error=err, allow_http_loopback=allow_http_loopback)

    servers = document.get("authorization_servers", [])
    if not isinstance(servers, list) or ("authorization_servers" in document and not servers):
        raise err("authorization_servers must be a non-empty array of strings")
    for server in servers:
        check_identifier(server, what="an authorization server", error=err, allow_http_loopback=allow_http_loopback)
    batch = document.get("batch_credential_issuance")
    batch_size: int | None = None
    if batch is not None:
        size = batch.get("batch_size") if isinstance(batch, Mapping) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 2:
            raise err("batch_credential_issuance.batch_size must be an integer of 2 or more")
        batch_size = size
    configurations = document.get("credential_configurations_supported")
    if not isinstance(configurations, Mapping):
        raise err("credential_configurations_supported must be a JSON object")
    credential_endpoint = endpoint("credential_endpoint", required=True)
    assert credential_endpoint is not None
    return CredentialIssuerMetadata(
        credential_issuer=issuer,
        credential_endpoint=credential_endpoint,
        nonce_endpoint=endpoint("nonce_endpoint"),
        deferred_credential_endpoint=endpoint("deferred_credential_endpoint"),
        notification_endpoint=endpoint("notification_endpoint"),
        authorization_servers=tuple(servers),
        batch_size=batch_size,
        display=_parse_displays(document.get("display"), "display", err),
        credential_configurations={
            config_id: _parse_configuration(config_id, config) for config_id, config in configurations.items()
        },
        request_encryption_required=_encryption_required(document.get("credential_request_encryption")),
        response_encryption_required=_encryption_required(document.get("credential_response_encryption")),
        raw=MappingProxyType(dict(document)),
    )


def _encryption_required(obj: object) -> bool:
    return isinstance(obj, Mapping) and obj.get("encryption_required") is True


def _parse_configuration(config_id: str, config: object) -> CredentialConfiguration:
    err = InvalidCredentialIssuerMetadata
    where = f"credential configuration {config_id!r}"
    if not isinstance(config, Mapping):
        raise err(f"{where} is not a JSON object")
    fmt = config.get("format")
    if not isinstance(fmt, str) or not fmt:
        raise err(f"{where} has no format")
    vct = config.get("vct")
    if fmt == FORMAT_DC_SD_JWT and (not isinstance(vct, str) or not vct):
        raise err(f"{where} is dc+sd-jwt but has no string vct (Appendix A.3.2)")
    scope = config.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise err(f"{where}: scope must be a string")
    binding = _string_array(config.get("cryptographic_binding_methods_supported"), f"{where} binding methods")
    signing = _signing_algs(config.get("credential_signing_alg_values_supported"), where)
    proof_types: dict[str, tuple[str, ...]] = {}
    raw_proofs = config.get("proof_types_supported")
    if raw_proofs is not None:
        if not isinstance(raw_proofs, Mapping) or not raw_proofs:
            raise err(f"{where}: proof_types_supported must be a non-empty object")
        for name, spec in raw_proofs.items():
            algs = spec.get("proof_signing_alg_values_supported") if isinstance(spec, Mapping) else None
            proof_types[name] = _string_array(algs, f"{where} proof type {name!r} algorithms", required=True)
    if binding and not proof_types:
        raise err(f"{where} asks for key binding but lists no proof_types_supported (§12.2.4)")
    metadata = config.get("credential_metadata", {})
    if not isinstance(metadata, Mapping):
        raise err(f"{where}: credential_metadata must be a JSON object")
    # Drafts before 1.0 put display and claims at the configuration's top level; 1.0 moved them.
    display = metadata.get("display")
    claims = metadata.get("claims")
    return CredentialConfiguration(
        id=config_id,
        format=fmt,
        vct=vct if isinstance(vct, str) else None,
        scope=scope,
        cryptographic_binding_methods_supported=binding,
        credential_signing_alg_values_supported=signing,
        proof_types=MappingProxyType(proof_types),
        display=_parse_displays(display, f"{where} display", err, name_required=True),
        claims=_parse_claims(claims, where),
        raw=MappingProxyType(dict(config)),
    )


def _signing_algs(value: object, where: str) -> tuple[str, ...]:
    # mso_mdoc lists COSE algorithm numbers here (Appendix A.2.2); keep them as text.
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, (str, int)) for v in value):
        raise InvalidCredentialIssuerMetadata(f"{where}: credential_signing_alg_values_supported is malformed")
    return tuple(str(v) for v in value)


def _string_array(value: object, what: str, *, required: bool = False) -> tuple[str, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidCredentialIssuerMetadata(f"{what} must be a non-empty array of strings")
    return tuple(value)


def _parse_displays(
    value: object, what: str, err: type[TsunaguError], *, name_required: bool = False
) -> tuple[Display, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise err(f"{what} must be a non-empty array")
    out: list[Display] = []
    locales: set[str | None] = set()
    for item in value:
        if not isinstance(item, Mapping):
            raise err(f"{what} entries must be JSON objects")
        name, locale = item.get("name"), item.get("locale")
        if (name_required and not isinstance(name, str)) or (name is not None and not isinstance(name, str)):
            raise err(f"{what} entries need a string name")
        if locale is not None and not isinstance(locale, str):
            raise err(f"{what}: locale must be a string")
        if locale in locales:
            raise err(f"{what} has two entries for one locale")
        locales.add(locale)
        logo = item.get("logo")
        logo_uri = logo.get("uri") if isinstance(logo, Mapping) else None
        alt = logo.get("alt_text") if isinstance(logo, Mapping) else None
        out.append(
            Display(
                name=name,
                locale=locale,
                description=_optional_str(item.get("description")),
                logo_uri=logo_uri if isinstance(logo_uri, str) else None,
                logo_alt_text=alt if isinstance(alt, str) else None,
                background_color=_optional_str(item.get("background_color")),
                text_color=_optional_str(item.get("text_color")),
            )
        )
    return tuple(out)


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _parse_claims(value: object, where: str) -> tuple[ClaimDescription, ...]:
    err = InvalidCredentialIssuerMetadata
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise err(f"{where}: claims must be a non-empty array")
    out: list[ClaimDescription] = []
    for item in value:
        if not isinstance(item, Mapping):
            raise err(f"{where}: a claims description is a JSON object")
        try:
            path = parse_claims_path(item.get("path"))
        except InvalidDcqlQuery as exc:
            raise err(f"{where}: {exc.reason}") from None
        mandatory = item.get("mandatory", False)
        if not isinstance(mandatory, bool):
            raise err(f"{where}: mandatory must be a boolean")
        displays = _parse_displays(item.get("display"), f"{where} claim display", err)
        out.append(ClaimDescription(path=path, mandatory=mandatory, display=tuple(ClaimDisplay(d.name, d.locale) for d in displays)))
    _check_claims_consistent([c.path for c in out], where)
    return tuple(out)


def _check_claims_consistent(paths: list[ClaimsPath], where: str) -> None:
    """Appendix B.3: repeated or contradictory claims descriptions abort processing."""
    seen: set[ClaimsPath] = set()
    # For each prefix, what the next step says the claim is: "object" (a string), "all" (null), "index".
    kinds: dict[ClaimsPath, set[str]] = {}
    for path in paths:
        if path in seen:
            raise InvalidCredentialIssuerMetadata(f"{where}: the claim {format_claims_path(path)} is described twice")
        seen.add(path)
        for depth, element in enumerate(path):
            kind = "object" if isinstance(element, str) else "all" if element is None else "index"
            kinds.setdefault(path[:depth], set()).add(kind)
    for prefix, found in kinds.items():
        if "object" in found and len(found) > 1 or {"all", "index"} <= found:
            shown = format_claims_path(prefix) or "the credential"
            raise InvalidCredentialIssuerMetadata(f"{where}: contradictory claims descriptions for {shown}")


def parse_authorization_server_metadata(
    document: object, *, expected_issuer: str, allow_http_loopback: bool = False
) -> AuthorizationServerMetadata:
    """Validate RFC 8414 metadata fetched for ``expected_issuer`` (RFC 8414 §3.3: ``issuer`` must match).

    Raises:
        InvalidAuthorizationServerMetadata: another issuer, or no usable https ``token_endpoint``.
    """
    err = InvalidAuthorizationServerMetadata
    if not isinstance(document, Mapping):
        raise err("the authorization server metadata is not a JSON object")
    if document.get("issuer") != expected_issuer:
        raise err("the metadata is for another authorization server than the one it was fetched for")
    issuer = check_identifier(expected_issuer, what="issuer", error=err, allow_http_loopback=allow_http_loopback)
    token_endpoint = check_url(
        document.get("token_endpoint"), what="token_endpoint", error=err, allow_http_loopback=allow_http_loopback
    )
    grants = document.get("grant_types_supported", ["authorization_code", "implicit"])  # RFC 8414 §2 default
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        raise err("grant_types_supported must be an array of strings")
    anonymous = document.get("pre-authorized_grant_anonymous_access_supported", False)
    if not isinstance(anonymous, bool):
        raise err("pre-authorized_grant_anonymous_access_supported must be a boolean")
    dpop = document.get("dpop_signing_alg_values_supported", [])
    auth_methods = document.get("token_endpoint_auth_methods_supported", [])
    for name, value in (("dpop_signing_alg_values_supported", dpop), ("token_endpoint_auth_methods_supported", auth_methods)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise err(f"{name} must be an array of strings")
    return AuthorizationServerMetadata(
        issuer=issuer,
        token_endpoint=token_endpoint,
        grant_types_supported=tuple(grants),
        pre_authorized_grant_anonymous_access_supported=anonymous,
        dpop_signing_alg_values_supported=tuple(dpop),
        token_endpoint_auth_methods_supported=tuple(auth_methods),
        raw=MappingProxyType(dict(document)),
    )
