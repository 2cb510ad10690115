"""The controlled vocabulary of purposes a verifier may ask under (after W3C DPV 2.x purposes).

A verifier registers, per purpose, which claims it may ask for and how long it may keep them
(``tsunagu.trust``); a request names one purpose code (``tsunagu.oid4vp`` ``verifier_info``); the
wallet shows the resident the purpose's text in their language and records it in the consent. The
vocabulary is deliberately small and closed, so that the same code always means the same thing
to the resident, the registry and the verifier. Each code maps to the DPV concepts it specialises
(``https://w3id.org/dpv#``), so a consent record can be read by tools that speak DPV.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from .errors import TsunaguError

__all__ = ["UnknownPurpose", "Purpose", "PURPOSES", "get_purpose", "is_purpose_code"]


class UnknownPurpose(TsunaguError):
    code = "purpose.unknown"


@dataclass(frozen=True, slots=True)
class Purpose:
    """One purpose: its code, the DPV concepts it refines, and what a resident reads."""

    code: str
    dpv: tuple[str, ...]
    name_en: str
    name_ja: str
    description_en: str
    description_ja: str


_ALL: Final = (
    Purpose(
        "identity_verification",
        ("dpv:IdentityVerification",),
        "Identity verification",
        "本人確認",
        "To confirm that you are the person you say you are.",
        "あなたがご本人であることを確認するため。",
    ),
    Purpose(
        "account_opening_kyc",
        ("dpv:IdentityVerification", "dpv:CounterMoneyLaundering"),
        "Account opening (customer due diligence)",
        "口座開設時の取引時確認",
        "To open an account and carry out the checks the Act on Prevention of Transfer of Criminal Proceeds requires.",
        "口座を開設し、犯罪収益移転防止法に基づく取引時確認を行うため。",
    ),
    Purpose(
        "rental_screening",
        ("dpv:EstablishContractualAgreement", "dpv:CustomerSolvencyMonitoring"),
        "Rental screening",
        "賃貸入居審査",
        "To decide on your application to rent a home, including whether the rent is affordable.",
        "賃貸住宅への入居申込みを審査し、家賃の支払能力を確認するため。",
    ),
    Purpose(
        "guarantor_screening",
        ("dpv:CustomerSolvencyMonitoring",),
        "Rent guarantee screening",
        "家賃保証の審査",
        "For a rent guarantee company to decide whether to guarantee your rent.",
        "家賃保証会社が賃料債務の保証を引き受けるか審査するため。",
    ),
    Purpose(
        "employment_verification",
        ("dpv:RecruitmentApplicantBackgroundCheck",),
        "Employment verification",
        "在職確認",
        "To confirm your current or past employment.",
        "現在または過去の在職状況を確認するため。",
    ),
    Purpose(
        "residence_status_check",
        ("dpv:LegalCompliance", "dpv:IdentityVerification"),
        "Residence status check",
        "在留資格の確認",
        "To confirm your status of residence and period of stay, as the law requires.",
        "法令に基づき、在留資格と在留期間を確認するため。",
    ),
    Purpose(
        "legal_compliance",
        ("dpv:LegalCompliance",),
        "Legal obligation",
        "法令上の義務の履行",
        "To meet an obligation that a law places on the requester.",
        "依頼者に課された法令上の義務を果たすため。",
    ),
)

#: Every purpose by code, in the order above.
PURPOSES: Final[Mapping[str, Purpose]] = MappingProxyType({p.code: p for p in _ALL})


def is_purpose_code(code: object) -> bool:
    return isinstance(code, str) and code in PURPOSES


def get_purpose(code: str) -> Purpose:
    """Raises: UnknownPurpose: ``code`` is not in the vocabulary."""
    try:
        return PURPOSES[code]
    except (KeyError, TypeError):
        known = ", ".join(PURPOSES)
        raise UnknownPurpose(f"{code!r} is not a known purpose; known purposes are {known}", purpose=code) from None
