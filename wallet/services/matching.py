"""Which of the resident's credentials answer a request's DCQL query (``tsunagu.dcql.match_query``).

Only credentials that can still be presented take part: not expired, and with a copy never shown
to a verifier before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from tsunagu.dcql import FORMAT_DC_SD_JWT, DcqlMatchResult, DcqlQuery, HeldCredential, match_query

from ..settings import WalletSettings
from .holdings import Held, list_held

__all__ = ["Matching", "match_held"]


@dataclass(frozen=True, slots=True)
class Matching:
    result: DcqlMatchResult
    #: The usable credentials by id (those that took part in matching).
    held: dict[str, Held]


def match_held(session: Session, settings: WalletSettings, resident_id: str, query: DcqlQuery, *,
               now: datetime) -> Matching:
    usable = {h.row.id: h for h in list_held(session, settings, resident_id)
              if h.copies_left > 0 and not h.expired(now)}
    wallet = [HeldCredential(id=h.row.id, format=FORMAT_DC_SD_JWT, vct=h.row.vct, claims=h.decoded.claims,
                             holder_binding=True) for h in usable.values()]
    return Matching(match_query(query, wallet), usable)
