"""Ways to tamper with a presentation after the holder signed it, shared by the interop tests.

Each mutation takes the presentation and the credential as issued (for a withheld disclosure)
and returns the forged presentation. Plain base64/json on purpose: the forgeries must not
depend on the code under test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any


def _split(presentation: str) -> tuple[str, list[str], str]:
    jwt, *disclosures, kb = presentation.split("~")
    return jwt, disclosures, kb


def _join(jwt: str, disclosures: list[str], kb: str) -> str:
    return "~".join([jwt, *disclosures, kb])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _disclosed_name(disclosure: str) -> Any:
    array = json.loads(_unb64(disclosure))
    return array[1] if len(array) == 3 else None


def drop_disclosure(presentation: str, credential: str) -> str:
    """Withdraw the annual_salary disclosure (a leaf: nothing else depends on it) after the holder signed."""
    jwt, disclosures, kb = _split(presentation)
    return _join(jwt, [d for d in disclosures if _disclosed_name(d) != "annual_salary"], kb)


def add_withheld_disclosure(presentation: str, credential: str) -> str:
    """Add the birthdate the holder chose not to show, taken from the credential as issued."""
    jwt, disclosures, kb = _split(presentation)
    withheld = next(d for d in _split(credential)[1] if _disclosed_name(d) == "birthdate")
    return _join(jwt, [*disclosures, withheld], kb)


def inflate_salary(presentation: str, credential: str) -> str:
    """Re-encode the annual_salary disclosure, same salt and name, with a higher value."""
    jwt, disclosures, kb = _split(presentation)
    forged = []
    for disclosure in disclosures:
        if _disclosed_name(disclosure) == "annual_salary":
            salt, name, _ = json.loads(_unb64(disclosure))
            disclosure = _b64(json.dumps([salt, name, 9_800_000]).encode())
        forged.append(disclosure)
    return _join(jwt, forged, kb)


def duplicate_disclosure(presentation: str, credential: str) -> str:
    jwt, disclosures, kb = _split(presentation)
    return _join(jwt, [*disclosures, disclosures[0]], kb)


def extend_validity(presentation: str, credential: str) -> str:
    """Push ``exp`` out by ten years in the issuer-signed payload, keeping the old signature."""
    jwt, disclosures, kb = _split(presentation)
    header, payload, signature = jwt.split(".")
    claims = json.loads(_unb64(payload))
    claims["exp"] += 10 * 365 * 86400
    return _join(".".join([header, _b64(json.dumps(claims).encode()), signature]), disclosures, kb)


def strip_key_binding(presentation: str, credential: str) -> str:
    jwt, disclosures, _ = _split(presentation)
    return _join(jwt, disclosures, "")


Mutation = Callable[[str, str], str]
