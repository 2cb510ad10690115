"""Digital Credentials Query Language (OpenID4VP 1.0 §6, §7, §8.1 and Appendix B.3): parse, match, check.

The wallet asks :func:`match_query` which held credentials answer each Credential Query, with which
claim paths (§6.4); the verifier reads the ``vp_token`` with :func:`parse_vp_token` (§8.1) and asks
:func:`check_vp_token` whether the verified answer is complete. Only ``dc+sd-jwt`` can match in
Tsunagu; other formats parse, so a query offering them as alternatives can still be answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn, TypeAlias, TypeVar

from .claims_path import ClaimsPath, format_claims_path, parse_claims_path, select_claim_paths
from .encoding import json_loads
from .errors import ClaimsPathNotFound, DcqlNotSatisfied, EncodingError, InvalidDcqlQuery, InvalidVpToken

__all__ = [
    "FORMAT_DC_SD_JWT", "ClaimValue", "ClaimsQuery", "TrustedAuthoritiesQuery", "CredentialQuery", "CredentialSetQuery",
    "DcqlQuery", "parse_dcql_query", "requested_claims", "HeldCredential", "ClaimsOption", "CandidateMatch",
    "MismatchKind", "QueryMismatch", "CredentialSetMatch", "DcqlMatchResult", "match_query", "PresentedCredential",
    "parse_vp_token", "check_vp_token",
]  # fmt: skip

#: The Credential Format Identifier of IETF SD-JWT VC (OpenID4VP 1.0 Appendix B.3.1).
FORMAT_DC_SD_JWT: Final = "dc+sd-jwt"

ClaimValue: TypeAlias = str | int | bool
MismatchKind = Literal["unsupported_format", "wrong_type", "holder_binding_missing", "claim_missing", "value_mismatch"]

_T = TypeVar("_T")
_Options: TypeAlias = tuple[tuple[str, ...], ...]
_ID = re.compile(r"[A-Za-z0-9_-]+")  # §6.1, §6.3: alphanumeric, underscore or hyphen (ASCII)


@dataclass(frozen=True, slots=True)
class ClaimsQuery:
    """§6.3: one claim, named by a claims path pointer (§7), optionally restricted to ``values``."""

    id: str | None
    path: ClaimsPath
    values: tuple[ClaimValue, ...] | None = None


@dataclass(frozen=True, slots=True)
class TrustedAuthoritiesQuery:
    """§6.1.1: issuers the verifier will accept, by ``aki``, ``etsi_tl``, ``openid_federation``, ..."""

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    """§6.1. ``meta`` is read-only and checked for the formats 1.0 defines (Appendix B)."""

    id: str
    format: str
    multiple: bool
    meta: Mapping[str, Any]
    claims: tuple[ClaimsQuery, ...] | None
    claim_sets: tuple[tuple[str, ...], ...] | None
    trusted_authorities: tuple[TrustedAuthoritiesQuery, ...] | None
    require_cryptographic_holder_binding: bool

    @property
    def vct_values(self) -> tuple[str, ...]:
        """Appendix B.3.5 ``meta.vct_values``; empty for formats other than ``dc+sd-jwt``."""
        return tuple(self.meta.get("vct_values", ())) if self.format == FORMAT_DC_SD_JWT else ()


@dataclass(frozen=True, slots=True)
class CredentialSetQuery:
    """§6.2: each option lists Credential Query ids that together satisfy the use case."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True, slots=True)
class DcqlQuery:
    """§6: the ``dcql_query`` request parameter."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None


def _fail(reason: str, where: str) -> NoReturn:
    raise InvalidDcqlQuery(f"{where} {reason}", field=where)


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        _fail("must be a JSON object", where)
    return value


def _array(value: object, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)) or not value:
        _fail("must be a non-empty array", where)
    return list(value)


def _string(value: object, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
        _fail("must be a non-empty string" + (" of ASCII letters, digits, '_' and '-'" if pattern else ""), where)
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    return tuple(_string(item, f"{where}[{n}]") for n, item in enumerate(_array(value, where)))


def _flag(obj: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        _fail("must be true or false", f"{where}.{key}")
    return value


def _parse_meta(format_: str, value: object, where: str) -> Mapping[str, Any]:
    """§6.1 ``meta`` is REQUIRED; each format's own member is REQUIRED too (Appendix B.1.1, B.2.3, B.3.5)."""
    meta = _object(value, where)
    if format_ == FORMAT_DC_SD_JWT:
        _strings(meta.get("vct_values"), f"{where}.vct_values")
    elif format_ == "mso_mdoc":
        _string(meta.get("doctype_value"), f"{where}.doctype_value")
    elif format_ in ("jwt_vc_json", "ldp_vc"):
        for n, alternative in enumerate(_array(meta.get("type_values"), f"{where}.type_values")):
            _strings(alternative, f"{where}.type_values[{n}]")
    return MappingProxyType(dict(meta))


def _parse_claims_query(value: object, where: str) -> ClaimsQuery:
    obj = _object(value, where)
    try:
        path = parse_claims_path(obj.get("path"))
    except InvalidDcqlQuery as exc:
        _fail(f"is REQUIRED: {exc.reason}", f"{where}.path")
    values = tuple(_array(obj["values"], f"{where}.values")) if "values" in obj else None
    if values is not None and not all(isinstance(item, (str, int)) for item in values):  # bool is an int
        _fail("must hold only strings, integers and booleans", f"{where}.values")
    return ClaimsQuery(_string(obj["id"], f"{where}.id", _ID) if "id" in obj else None, path, values)


def _parse_authority(value: object, where: str) -> TrustedAuthoritiesQuery:
    obj = _object(value, where)
    type_, values = _string(obj.get("type"), f"{where}.type"), _strings(obj.get("values"), f"{where}.values")
    return TrustedAuthoritiesQuery(type_, values)


def _each(obj: Mapping[str, Any], key: str, where: str, parse: Callable[[object, str], _T]) -> tuple[_T, ...] | None:
    """Parse the optional non-empty array ``obj[key]`` item by item; ``None`` when absent."""
    name = f"{where}.{key}" if where else key
    return tuple(parse(x, f"{name}[{n}]") for n, x in enumerate(_array(obj[key], name))) if key in obj else None


def _options(obj: Mapping[str, Any], key: str, where: str, known: Sequence[str | None], what: str) -> _Options | None:
    options = _each(obj, key, where, _strings)
    for n, option in enumerate(options or ()):
        if unknown := [i for i in option if i not in known]:
            _fail(f"refers to {unknown[0]!r}, which is no {what} id", f"{where}.{key}[{n}]")
    return options


def _parse_credential_query(value: object, where: str) -> CredentialQuery:
    obj = _object(value, where)
    query_id, format_ = _string(obj.get("id"), f"{where}.id", _ID), _string(obj.get("format"), f"{where}.format")
    if "meta" not in obj:
        _fail("is REQUIRED (an empty object places no constraint)", f"{where}.meta")
    meta = _parse_meta(format_, obj["meta"], f"{where}.meta")
    claims = _each(obj, "claims", where, _parse_claims_query)
    ids = [c.id for c in claims or () if c.id is not None]
    if len(ids) != len(set(ids)):
        _fail("must not use the same claim id twice", f"{where}.claims")
    if "claim_sets" in obj and (claims is None or len(ids) < len(claims)):
        _fail("needs claims, each with an id (§6.3, §6.4.1)", f"{where}.claim_sets")
    claim_sets = _options(obj, "claim_sets", where, ids, "claim")
    authorities = _each(obj, "trusted_authorities", where, _parse_authority)
    multiple = _flag(obj, "multiple", False, where)
    binding = _flag(obj, "require_cryptographic_holder_binding", True, where)
    return CredentialQuery(query_id, format_, multiple, meta, claims, claim_sets, authorities, binding)


def parse_dcql_query(obj: object) -> DcqlQuery:
    """Validate a ``dcql_query`` against OpenID4VP 1.0 §6 and Appendix B; unknown members are ignored (§6).

    Raises:
        InvalidDcqlQuery: the reason begins with the offending field, e.g. ``credentials[0].meta.vct_values``.
    """
    root = _object(obj, "dcql_query")
    credentials = _each(root, "credentials", "", _parse_credential_query)
    if credentials is None:
        _fail("is REQUIRED", "credentials")
    ids = [q.id for q in credentials]
    if repeated := [n for n, query_id in enumerate(ids) if query_id in ids[:n]]:
        _fail(f"repeats the Credential Query id {ids[repeated[0]]!r}", f"credentials[{repeated[0]}].id")

    def parse_set(value: object, where: str) -> CredentialSetQuery:
        entry = _object(value, where)
        if "options" not in entry:
            _fail("is REQUIRED", f"{where}.options")
        options = _options(entry, "options", where, ids, "Credential Query") or ()
        return CredentialSetQuery(options, _flag(entry, "required", True, where))

    return DcqlQuery(credentials, _each(root, "credential_sets", "", parse_set))


def requested_claims(query: DcqlQuery) -> Mapping[str, tuple[ClaimsPath, ...]]:
    """Every claim path each Credential Query names (with ``claim_sets``: of every option), in query order."""
    return MappingProxyType({q.id: _unique(c.path for c in q.claims or ()) for q in query.credentials})


@dataclass(frozen=True, slots=True)
class ClaimsOption:
    """One way to meet a Credential Query's claims: a ``claim_sets`` option (or ``None``) and the paths to disclose."""

    claim_ids: tuple[str, ...] | None
    paths: tuple[ClaimsPath, ...]


@dataclass(frozen=True, slots=True)
class _Miss:
    stage: int  # how far the credential got: type 1, holder binding 2, claims 3
    kind: MismatchKind
    path: ClaimsPath = ()
    values: tuple[ClaimValue, ...] = ()


def _unique(paths: Iterable[ClaimsPath]) -> tuple[ClaimsPath, ...]:
    return tuple(dict.fromkeys(paths))


def _claim_paths(claims: Mapping[str, Any], query: ClaimsQuery) -> tuple[ClaimsPath, ...] | _Miss:
    """The paths that disclose ``query``: its path as given, but for ``values`` with a ``null`` wildcard only the
    concrete paths of matching elements (§6.4.1: a mismatch is as if absent; unselected claims MUST NOT be sent)."""
    try:
        selected = select_claim_paths(claims, query.path)
    except ClaimsPathNotFound:
        return _Miss(3, "claim_missing", query.path)
    if query.values is None:
        return (query.path,)
    # §6.3: "the type and value of the claim both match exactly", so 1 never matches true
    matching = tuple(c for c, v in selected if any(type(v) is type(x) and v == x for x in query.values))
    if not matching:
        return _Miss(3, "value_mismatch", query.path, query.values)
    return matching if None in query.path else (query.path,)


def _evaluate(q: CredentialQuery, vct: str, claims: Mapping[str, Any], bound: bool) -> tuple[ClaimsOption, ...] | _Miss:
    """The satisfiable claim options in the verifier's order of preference, or why there are none."""
    if vct not in q.vct_values:  # B.3.5: exact match; vct inheritance is not followed
        return _Miss(1, "wrong_type")
    if q.require_cryptographic_holder_binding and not bound:  # §6.1, B.3
        return _Miss(2, "holder_binding_missing")
    if q.claims is None:  # §6.4.1: only what is mandatory to present
        return (ClaimsOption(None, ()),)
    results = [_claim_paths(claims, c) for c in q.claims]
    by_id = {c.id: result for c, result in zip(q.claims, results)}
    wanted: list[tuple[tuple[str, ...] | None, list[tuple[ClaimsPath, ...] | _Miss]]] = (
        [(option, [by_id[i] for i in option]) for option in q.claim_sets] if q.claim_sets else [(None, results)]
    )
    options = []
    for option, found in wanted:
        met = [paths for paths in found if not isinstance(paths, _Miss)]
        if len(met) == len(found):
            options.append(ClaimsOption(option, _unique(p for paths in met for p in paths)))
    if options:
        return tuple(options)
    return next(r for r in wanted[0][1] if isinstance(r, _Miss))  # why the preferred option fails


def _what(miss: _Miss) -> str:
    if miss.kind == "claim_missing":
        return f"the claim {format_claims_path(miss.path)}"
    allowed = " or ".join(json.dumps(v, ensure_ascii=False) for v in miss.values)
    return f"{format_claims_path(miss.path)} equal to {allowed}"


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """A credential in the wallet. ``claims`` is the processed SD-JWT payload with every disclosure
    applied (all the holder could show); ``holder_binding``: it has ``cnf`` and the wallet holds the key."""

    id: str
    format: str
    vct: str
    claims: Mapping[str, Any]
    holder_binding: bool


@dataclass(frozen=True, slots=True)
class CandidateMatch:
    """A held credential that answers a Credential Query. ``paths``: what to disclose for the preferred option,
    ``None`` wildcards kept as given (``sd_jwt.holder.present_sd_jwt`` discloses all they select). ``options``:
    every satisfiable ``claim_sets`` option, verifier's order first, so the resident can share less."""

    credential_id: str
    paths: tuple[ClaimsPath, ...]
    options: tuple[ClaimsOption, ...]


@dataclass(frozen=True, slots=True)
class QueryMismatch:
    """Why no held credential answers a Credential Query: a code, and a sentence for the resident."""

    credential_query_id: str
    kind: MismatchKind
    reason: str


@dataclass(frozen=True, slots=True)
class CredentialSetMatch:
    """§6.2 against the wallet: the options whose every Credential Query has a candidate."""

    query: CredentialSetQuery
    satisfiable_options: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class DcqlMatchResult:
    """The wallet's answer before the resident decides. ``candidates``: every Credential Query id to its
    candidates (maybe none); ``mismatches``: why, for ids without one. ``selection``: what to present by
    default (all queries, or the first satisfiable option of each required set; one candidate unless
    ``multiple``); empty when the query cannot be satisfied, as then nothing may be returned (§6.4.2)."""

    satisfied: bool
    candidates: Mapping[str, tuple[CandidateMatch, ...]]
    mismatches: Mapping[str, QueryMismatch]
    credential_sets: tuple[CredentialSetMatch, ...]
    selection: Mapping[str, tuple[CandidateMatch, ...]]


def _explain(query: CredentialQuery, miss: _Miss | None, vct: str) -> QueryMismatch:
    if query.format != FORMAT_DC_SD_JWT:
        return QueryMismatch(query.id, "unsupported_format", f"Tsunagu cannot present the format {query.format!r}")
    if miss is None or miss.stage < 2:
        return QueryMismatch(query.id, "wrong_type", "no held credential is of type " + " or ".join(query.vct_values))
    what = "is bound to a key of this wallet, as the verifier requires" if miss.stage == 2 else f"has {_what(miss)}"
    return QueryMismatch(query.id, miss.kind, f"no held credential of type {vct} {what}")


def match_query(query: DcqlQuery, held: Sequence[HeldCredential]) -> DcqlMatchResult:
    """Which held credentials answer each Credential Query, with what, and whether the whole query can be
    answered: OpenID4VP 1.0 §6.4.1, §6.4.2, §6.1 (``multiple``, holder binding) and B.3.5 (``vct_values``).
    ``trusted_authorities`` is left to the wallet's trust registry."""
    candidates: dict[str, tuple[CandidateMatch, ...]] = {}
    mismatches: dict[str, QueryMismatch] = {}
    for q in query.credentials:
        found: list[CandidateMatch] = []
        furthest: tuple[_Miss, str] | None = None
        for credential in (c for c in held if q.format == c.format == FORMAT_DC_SD_JWT):
            result = _evaluate(q, credential.vct, credential.claims, credential.holder_binding)
            if not isinstance(result, _Miss):
                found.append(CandidateMatch(credential.id, result[0].paths, result))
            elif furthest is None or result.stage > furthest[0].stage:
                furthest = (result, credential.vct)
        candidates[q.id] = tuple(found)
        if not found:
            mismatches[q.id] = _explain(q, *(furthest or (None, "")))
    sets = tuple(
        CredentialSetMatch(s, tuple(option for option in s.options if all(candidates[i] for i in option)))
        for s in query.credential_sets or ()
    )
    if query.credential_sets is None:
        satisfied, chosen = not mismatches, [q.id for q in query.credentials]
    else:
        satisfied = all(m.satisfiable_options for m in sets if m.query.required)
        chosen = [i for m in sets if m.query.required and m.satisfiable_options for i in m.satisfiable_options[0]]
    multiple = {q.id: q.multiple for q in query.credentials}
    selection = {i: candidates[i] if multiple[i] else candidates[i][:1] for i in dict.fromkeys(chosen) if satisfied}
    frozen = MappingProxyType
    return DcqlMatchResult(satisfied, frozen(candidates), frozen(mismatches), sets, frozen(selection))


@dataclass(frozen=True, slots=True)
class PresentedCredential:
    """A verified presentation: its ``vct``, disclosed claims, and whether a valid KB-JWT proved the holder's key."""

    vct: str
    claims: Mapping[str, Any]
    holder_bound: bool


def parse_vp_token(obj: object) -> Mapping[str, tuple[str, ...]]:
    """Read a ``vp_token`` (§8.1): a JSON object, or its JSON text, mapping Credential Query ids to
    non-empty arrays of presentations. Tsunagu accepts string presentations (``dc+sd-jwt``) only.

    Raises:
        InvalidVpToken: not that shape.
    """
    try:
        obj = json_loads(obj) if isinstance(obj, (str, bytes)) else obj
    except EncodingError as exc:
        raise InvalidVpToken(f"the vp_token is not JSON: {exc.reason}") from None
    if not isinstance(obj, Mapping):
        raise InvalidVpToken("the vp_token must be a JSON object keyed by Credential Query id")
    out: dict[str, tuple[str, ...]] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not _ID.fullmatch(key):
            raise InvalidVpToken(f"the vp_token key {key!r} is not a Credential Query id", key=key)
        if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
            raise InvalidVpToken(f"the vp_token entry {key!r} must be a non-empty array of strings", key=key)
        out[key] = tuple(value)
    return MappingProxyType(out)


def _presentation_problem(query: CredentialQuery, item: PresentedCredential) -> str | None:
    if query.format != FORMAT_DC_SD_JWT:
        return f"answers a query for format {query.format!r}, which Tsunagu does not verify"
    miss = _evaluate(query, item.vct, item.claims, item.holder_bound)
    if not isinstance(miss, _Miss):
        return None
    if miss.stage < 2:
        return f"is of type {item.vct}, not " + " or ".join(query.vct_values)
    return "has no holder binding, which the query requires" if miss.stage == 2 else f"lacks {_what(miss)}"


def check_vp_token(query: DcqlQuery, presented: Mapping[str, Sequence[PresentedCredential]]) -> None:
    """Check that verified presentations answer ``query`` (OpenID4VP 1.0 §8.1, §6.4, Appendix B.3).

    Keys must be Credential Query ids; ``multiple`` false allows exactly one presentation, each with an
    accepted ``vct``, holder binding when required, and the claims asked (one ``claim_sets`` option
    suffices) with matching ``values``; every required set, or without sets every query, must be answered.

    Raises:
        DcqlNotSatisfied: the reason names what is missing or wrong.
    """
    by_id = {q.id: q for q in query.credentials}
    for key, items in presented.items():
        if key not in by_id:
            raise DcqlNotSatisfied(f"the vp_token answers {key!r}, which the query does not ask", query_id=key)
        if not items or (len(items) > 1 and not by_id[key].multiple):
            wanted = "one or more" if by_id[key].multiple else "exactly one"
            reason = f"the vp_token has {len(items)} presentations for {key!r}, not {wanted}"
            raise DcqlNotSatisfied(reason, query_id=key)
        for n, item in enumerate(items):
            if problem := _presentation_problem(by_id[key], item):
                raise DcqlNotSatisfied(f"presentation {n} for {key!r} {problem}", query_id=key)
    if query.credential_sets is None and (missing := [q.id for q in query.credentials if q.id not in presented]):
        raise DcqlNotSatisfied("the vp_token has no presentation for " + ", ".join(missing), missing=missing)
    for n, s in enumerate(query.credential_sets or ()):
        if s.required and not any(all(i in presented for i in option) for option in s.options):
            wanted = " or ".join(" and ".join(option) for option in s.options)
            raise DcqlNotSatisfied(f"credential_sets[{n}] is required but unanswered; it needs {wanted}", set=n)
