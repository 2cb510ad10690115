"""Which of the resident's credentials answer a request's DCQL query (``tsunagu.dcql.match_query``).

Only credentials that can still be presented take part: not expired, not revoked, not suspended
(as last known: ``services.status``), and with a copy never shown to a verifier before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from tsunagu.dcql import FORMAT_DC_SD_JWT, DcqlMatchResult, DcqlQuery, HeldCredential, match_query

from ..settings import WalletSettings
from .holdings import Held, list_held
from .status import StatusState, status_states

__all__ = ["Excluded", "Matching", "match_held"]


@dataclass(frozen=True, slots=True)
class Excluded:
    held: Held
    state: StatusState


@dataclass(frozen=True, slots=True)
class Matching:
    result: DcqlMatchResult
    #: The usable credentials by id (those that took part in matching).
    held: dict[str, Held]
    #: Credentials left out because of their status (expired, revoked, suspended), by id.
    excluded: dict[str, Excluded]

    def excluded_for(self, vct_values: tuple[str, ...] | list[str]) -> list[Excluded]:
        """Held credentials of these types that are left out because of their status."""
        return [e for e in self.excluded.values() if e.held.row.vct in vct_values]


def match_held(session: Session, settings: WalletSettings, resident_id: str, query: DcqlQuery, *,
               now: datetime) -> Matching:
    held = list_held(session, settings, resident_id)
    states = status_states(session, (h.row for h in held), now=now)
    excluded = {h.row.id: Excluded(h, states[h.row.id]) for h in held if not states[h.row.id].presentable}
    usable = {h.row.id: h for h in held if h.copies_left > 0 and h.row.id not in excluded}
    wallet = [HeldCredential(id=h.row.id, format=FORMAT_DC_SD_JWT, vct=h.row.vct, claims=h.decoded.claims,
                             holder_binding=True) for h in usable.values()]
    return Matching(match_query(query, wallet), usable, excluded)
