"""The compact serialization of SD-JWT (RFC 9901 §4): ``<JWT>~<D1>~...~<Dn>~[<KB-JWT>]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..errors import MalformedSdJwt, SdJwtTooLarge

__all__ = ["DEFAULT_MAX_SD_JWT_BYTES", "DEFAULT_MAX_DISCLOSURES", "SdJwt", "parse_sd_jwt"]

#: A presentation larger than this is refused before it is parsed (256 KiB).
DEFAULT_MAX_SD_JWT_BYTES: Final = 256 * 1024
#: More disclosures than this are refused: real credentials have a few dozen.
DEFAULT_MAX_DISCLOSURES: Final = 1024


@dataclass(frozen=True, slots=True)
class SdJwt:
    """An SD-JWT split into its parts; nothing in it has been verified."""

    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None = None

    @property
    def without_kb(self) -> str:
        """``<JWT>~<D1>~...~<Dn>~``: the SD-JWT as issued or presented, and the input of ``sd_hash``."""
        return "".join((self.issuer_jwt, "~", *(d + "~" for d in self.disclosures)))

    def serialize(self) -> str:
        return self.without_kb + (self.kb_jwt or "")


def parse_sd_jwt(
    text: str, *, max_bytes: int = DEFAULT_MAX_SD_JWT_BYTES, max_disclosures: int = DEFAULT_MAX_DISCLOSURES
) -> SdJwt:
    """Split a compact SD-JWT or SD-JWT+KB.

    Raises:
        MalformedSdJwt: no ``~`` separator, an empty issuer JWT, or an empty disclosure.
        SdJwtTooLarge: over ``max_bytes`` or ``max_disclosures``.
    """
    if not isinstance(text, str):
        raise MalformedSdJwt("an SD-JWT must be a string")
    if len(text) > max_bytes:
        raise SdJwtTooLarge(f"the SD-JWT is {len(text)} bytes, more than the {max_bytes} allowed")
    parts = text.strip().split("~")
    if len(parts) == 1:
        raise MalformedSdJwt("an SD-JWT has at least one '~' after the issuer-signed JWT")
    issuer_jwt, last = parts[0], parts[-1]
    disclosures = tuple(parts[1:-1])
    if not issuer_jwt:
        raise MalformedSdJwt("the issuer-signed JWT is missing before the first '~'")
    if len(disclosures) > max_disclosures:
        raise SdJwtTooLarge(f"the SD-JWT has {len(disclosures)} disclosures, more than the {max_disclosures} allowed")
    if "" in disclosures:
        raise MalformedSdJwt("an SD-JWT must not contain an empty disclosure ('~~')")
    return SdJwt(issuer_jwt, disclosures, last or None)
