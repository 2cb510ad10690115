"""``verifier_info`` (OpenID4VP 1.0 §5.1, §5.11) and Tsunagu's purpose statement carried in it.

DCQL has no purpose field, so a Tsunagu verifier states why it asks, and how long it keeps what
it receives, in one ``verifier_info`` entry of this format::

    {
      "format": "https://tsunagu.example/verifier_info/purpose/v1",
      "data": {
        "purpose": "rental_screening",                     # a code of tsunagu.purposes
        "purpose_text": {"en": "Screening your application for flat 301",
                         "ja": "301号室の入居審査のため"},     # the verifier's own words
        "retention": "P90D",                                # ISO 8601 duration in days (PnD) or weeks (PnW)
        "registry": "https://registry.tsunagu.example",     # optional: the trust registry's ``iss``
        "registration": "x509_san_dns:landlord.example",    # the verifier's entry there: its client_id
        "access_type": "ongoing",                           # optional: "one-time" (the default) or "ongoing"
        "access_period": "P730D"                            # with "ongoing" only, required: how long it lasts
      },
      "credential_ids": ["employment"]                      # optional (§5.1): the Credential Queries it covers
    }

Binding (§5.11.1, claim-bound): ``data`` is not signed separately; it travels inside the Request
Object, which the verifier signs with its certified key, and ``registration`` MUST equal the
request's ``client_id``, so a statement cannot be lifted into another verifier's request. Its
claims are then checked against the registry (``tsunagu.trust.assess_request``): the purpose
must be registered for that verifier, the claims asked must be covered by the registration, and
``retention`` must not exceed the registration's ``max_retention_days``, and ongoing access must be
allowed by the registration for no shorter an ``access_period`` (``max_access_period_days``).
Ongoing access (docs/consent.md) lets the verifier ask the wallet later, server to server, for fresh
presentations of the same claims until the consent ends. Entries of other formats are kept and
otherwise ignored, as §5.11 asks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..purposes import is_purpose_code
from .errors import InvalidVerifierInfo

__all__ = [
    "VERIFIER_INFO_FORMAT_PURPOSE",
    "VerifierInfo",
    "PurposeStatement",
    "parse_verifier_info",
    "parse_purpose_statement",
    "parse_retention",
    "format_retention",
]

VERIFIER_INFO_FORMAT_PURPOSE: Final = "https://tsunagu.example/verifier_info/purpose/v1"
LANGUAGES: Final = ("en", "ja")
#: The kinds of access a purpose statement may ask for (the values of ``tsunagu.consent.AccessType``).
ACCESS_TYPES: Final = ("one-time", "ongoing")
_RETENTION = re.compile(r"P([0-9]{1,5})([DW])")


@dataclass(frozen=True, slots=True)
class VerifierInfo:
    """One ``verifier_info`` entry, of any format."""

    format: str
    data: Mapping[str, Any] | str
    credential_ids: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data = self.data if isinstance(self.data, str) else dict(self.data)
        out: dict[str, Any] = {"format": self.format, "data": data}
        if self.credential_ids is not None:
            out["credential_ids"] = list(self.credential_ids)
        return out


@dataclass(frozen=True, slots=True)
class PurposeStatement:
    """Why a verifier asks, in its own words, for how long it keeps the data, and where it is registered."""

    purpose: str
    text_en: str
    text_ja: str
    retention_days: int
    #: The trust registry's ``iss``; ``None`` for a verifier that names none (wallets will not trust it).
    registry: str | None
    registration: str
    credential_ids: tuple[str, ...] | None = None
    #: ``ongoing``: the verifier asks to refresh the presentation until ``access_period_days`` have passed.
    access_type: str = "one-time"
    access_period_days: int | None = None

    def __post_init__(self) -> None:
        if self.access_type not in ACCESS_TYPES:
            raise InvalidVerifierInfo(f"access_type is 'one-time' or 'ongoing', not {self.access_type!r}")
        if (self.access_type == "ongoing") != (self.access_period_days is not None):
            raise InvalidVerifierInfo("an access_period belongs to ongoing access, and ongoing access needs one")
        if self.access_period_days is not None and self.access_period_days < 1:
            raise InvalidVerifierInfo("the access_period must be at least one day")

    def to_verifier_info(self) -> VerifierInfo:
        data: dict[str, Any] = {
            "purpose": self.purpose,
            "purpose_text": {"en": self.text_en, "ja": self.text_ja},
            "retention": format_retention(self.retention_days),
            "registration": self.registration,
        }
        if self.registry is not None:
            data["registry"] = self.registry
        if self.access_period_days is not None:
            data["access_type"] = self.access_type
            data["access_period"] = format_retention(self.access_period_days)
        return VerifierInfo(VERIFIER_INFO_FORMAT_PURPOSE, data, self.credential_ids)


def format_retention(days: int) -> str:
    return f"P{days}D"


def parse_retention(value: object) -> int:
    """``P90D`` → 90, ``P2W`` → 14. Years and months have no fixed length in days, so they are refused.

    Raises:
        InvalidVerifierInfo: any other form.
    """
    match = _RETENTION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidVerifierInfo(f"retention must be an ISO 8601 duration in days or weeks (P90D, P2W), not {value!r}")
    count = int(match.group(1))
    return count * 7 if match.group(2) == "W" else count


def parse_verifier_info(value: object, *, credential_query_ids: Sequence[str]) -> tuple[VerifierInfo, ...]:
    """Read the ``verifier_info`` parameter (§5.1): a non-empty array of ``{format, data, credential_ids?}``.

    Raises:
        InvalidVerifierInfo: a malformed entry, or ``credential_ids`` naming no Credential Query of the request.
    """
    if not isinstance(value, list) or not value:
        raise InvalidVerifierInfo("verifier_info must be a non-empty array")
    entries = []
    for n, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise InvalidVerifierInfo(f"verifier_info[{n}] must be an object")
        fmt, data, ids = item.get("format"), item.get("data"), item.get("credential_ids")
        if not isinstance(fmt, str) or not fmt:
            raise InvalidVerifierInfo(f"verifier_info[{n}].format must be a non-empty string")
        if not isinstance(data, (str, Mapping)):
            raise InvalidVerifierInfo(f"verifier_info[{n}].data must be an object or a string")
        if ids is not None:
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
                raise InvalidVerifierInfo(f"verifier_info[{n}].credential_ids must be a non-empty array of strings")
            if unknown := [i for i in ids if i not in credential_query_ids]:
                raise InvalidVerifierInfo(
                    f"verifier_info[{n}].credential_ids names {unknown[0]!r}, which is no Credential Query"
                )
        entries.append(VerifierInfo(fmt, data, tuple(ids) if ids is not None else None))
    return tuple(entries)


def parse_purpose_statement(entries: Sequence[VerifierInfo], *, client_id: str) -> PurposeStatement | None:
    """The request's purpose statement, if it has one.

    Raises:
        InvalidVerifierInfo: more than one, a malformed one, an unknown purpose code, or one whose
            ``registration`` is not the request's ``client_id``.
    """
    ours = [entry for entry in entries if entry.format == VERIFIER_INFO_FORMAT_PURPOSE]
    if not ours:
        return None
    if len(ours) > 1:
        raise InvalidVerifierInfo("the request carries more than one purpose statement")
    entry = ours[0]
    if not isinstance(entry.data, Mapping):
        raise InvalidVerifierInfo("the purpose statement's data must be an object")
    data = entry.data
    purpose = data.get("purpose")
    if not is_purpose_code(purpose):
        raise InvalidVerifierInfo(f"{purpose!r} is not a purpose of the Tsunagu vocabulary")
    assert isinstance(purpose, str)
    text = data.get("purpose_text")
    if not isinstance(text, Mapping) or not all(isinstance(text.get(lang), str) and text[lang] for lang in LANGUAGES):
        raise InvalidVerifierInfo("purpose_text must give the purpose in English (en) and Japanese (ja)")
    registry, registration = data.get("registry"), data.get("registration")
    if registry is not None and (not isinstance(registry, str) or not registry):
        raise InvalidVerifierInfo("the purpose statement's 'registry' must be a non-empty string")
    if registration != client_id:
        raise InvalidVerifierInfo(
            f"the purpose statement is registered to {registration!r}, not to the requesting client {client_id!r}"
        )
    access_type = data.get("access_type", "one-time")
    if access_type not in ACCESS_TYPES:
        raise InvalidVerifierInfo(f"access_type must be 'one-time' or 'ongoing', not {access_type!r}")
    period = data.get("access_period")
    if (access_type == "ongoing") != (period is not None):
        raise InvalidVerifierInfo("access_period is required with ongoing access, and allowed only with it")
    return PurposeStatement(
        purpose=purpose,
        text_en=text["en"],
        text_ja=text["ja"],
        retention_days=parse_retention(data.get("retention")),
        registry=registry,
        registration=client_id,
        credential_ids=entry.credential_ids,
        access_type=access_type,
        access_period_days=parse_retention(period) if period is not None else None,
    )
