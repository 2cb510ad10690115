"""Claims path pointers (OpenID4VP 1.0 §7, SD-JWT VC): how a claim inside a credential is named.

A path is a non-empty sequence whose elements select, from the current selection:
a string, the object member of that name; a non-negative integer, the array element at that
index; ``None`` (JSON ``null``), every element of an array. The same notation names what a
holder discloses, what a DCQL query asks for and which claims an issuer makes selectively
disclosable, so the three can never disagree about what a path means. :func:`select_claim_paths`
applies a path to a JSON credential exactly as OpenID4VP 1.0 §7.1.1 processes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from .errors import ClaimsPathNotFound, InvalidDcqlQuery

__all__ = [
    "ClaimsPath",
    "PathElement",
    "parse_claims_path",
    "format_claims_path",
    "select_claims",
    "select_claim_paths",
]

PathElement: TypeAlias = str | int | None
ClaimsPath: TypeAlias = tuple[PathElement, ...]


def parse_claims_path(value: object) -> ClaimsPath:
    """Validate a JSON claims path pointer.

    Raises:
        InvalidDcqlQuery: not a non-empty array of strings, non-negative integers and nulls.
    """
    if not isinstance(value, (list, tuple)) or not value:
        raise InvalidDcqlQuery("a claims path is a non-empty array", path=value)
    for element in value:
        if element is None or isinstance(element, str):
            continue
        if isinstance(element, int) and not isinstance(element, bool) and element >= 0:
            continue
        raise InvalidDcqlQuery(
            f"a claims path element is a string, a non-negative integer or null, not {element!r}", path=value
        )
    return tuple(value)


def format_claims_path(path: ClaimsPath) -> str:
    """A readable form for messages: ``address.locality``, ``nationalities[*]``, ``degrees[0].type``."""
    out = ""
    for element in path:
        if element is None:
            out += "[*]"
        elif isinstance(element, int):
            out += f"[{element}]"
        else:
            out += ("." if out else "") + element
    return out


def select_claim_paths(claims: Mapping[str, Any], path: ClaimsPath) -> list[tuple[ClaimsPath, Any]]:
    """Process ``path`` against a JSON credential (OpenID4VP 1.0 §7.1.1): each selected claim with its concrete path.

    The concrete path has every ``None`` replaced by the index it selected, so a caller can disclose
    exactly the elements that matched and no others. Step by step, as §7.1.1 says: a string selects
    that key of every selected object, dropping objects without it; ``None`` selects every element of
    every selected array; an integer selects that index, dropping arrays too short for it. A string
    applied to a non-object, or ``None`` or an integer applied to a non-array, is an error, and so is
    an empty selection at the end.

    Raises:
        ClaimsPathNotFound: the path selects nothing, or meets a claim of the wrong type on the way.
        InvalidDcqlQuery: ``path`` is not a claims path pointer at all.
    """
    parse_claims_path(path)
    selection: list[tuple[ClaimsPath, Any]] = [((), claims)]
    for depth, component in enumerate(path):
        here = format_claims_path(tuple(path[:depth])) or "the credential"
        next_selection: list[tuple[ClaimsPath, Any]] = []
        for prefix, element in selection:
            if isinstance(component, str):
                if not isinstance(element, Mapping):
                    raise ClaimsPathNotFound(f"{here} is not an object with a claim {component!r}", path=list(path))
                if component in element:
                    next_selection.append(((*prefix, component), element[component]))
            elif not isinstance(element, (list, tuple)):
                raise ClaimsPathNotFound(f"{here} is not an array", path=list(path))
            elif component is None:
                next_selection.extend(((*prefix, index), item) for index, item in enumerate(element))
            elif component < len(element):
                next_selection.append(((*prefix, component), element[component]))
        selection = next_selection
    if not selection:
        raise ClaimsPathNotFound(f"the credential has no claim {format_claims_path(tuple(path))}", path=list(path))
    return selection


def select_claims(claims: Mapping[str, Any], path: ClaimsPath) -> list[Any]:
    """The claims ``path`` selects in a JSON credential (OpenID4VP 1.0 §7.1.1), in document order.

    Raises:
        ClaimsPathNotFound: the path selects nothing, or meets a claim of the wrong type on the way.
        InvalidDcqlQuery: ``path`` is not a claims path pointer at all.
    """
    return [value for _, value in select_claim_paths(claims, path)]
