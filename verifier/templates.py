"""Named DCQL queries a verifier can ask by name instead of writing the query (OpenID4VP 1.0 §6).

Types and claim names are those of ``tsunagu.credential_types``, the vocabulary the issuer issues;
each template asks only what its purpose needs (the data-minimisation table there), except the
one named ``..._and_nationality``, which asks more on purpose: the demo shows a wallet flagging it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from tsunagu.credential_types import EMPLOYMENT_CERTIFICATE, RESIDENCE_CARD, RESIDENT_TAX_CERTIFICATE

from .errors import UnknownTemplate

__all__ = ["VCT_EMPLOYMENT", "VCT_RESIDENT_TAX", "VCT_RESIDENCE_CARD", "Template", "TEMPLATES", "get_template"]

VCT_EMPLOYMENT: Final = EMPLOYMENT_CERTIFICATE.vct
VCT_RESIDENT_TAX: Final = RESIDENT_TAX_CERTIFICATE.vct
VCT_RESIDENCE_CARD: Final = RESIDENCE_CARD.vct


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    purpose: str
    title_en: str
    title_ja: str
    dcql_query: Mapping[str, Any]


def _query(*credentials: tuple[str, str, list[str]]) -> dict[str, Any]:
    return {
        "credentials": [
            {"id": query_id, "format": "dc+sd-jwt", "meta": {"vct_values": [vct]},
             "claims": [{"path": [name]} for name in claims]}
            for query_id, vct, claims in credentials
        ]
    }


_EMPLOYMENT_INCOME = ["employer_name", "employment_type", "employment_start_date", "job_title", "annual_income"]

_ALL: Final = (
    Template("rental_screening_employment_income", "rental_screening",
             "Rental screening: employment and income", "入居審査：在職と収入",
             _query(("employment", VCT_EMPLOYMENT, _EMPLOYMENT_INCOME))),
    Template("rental_screening_employment_income_and_nationality", "rental_screening",
             "Rental screening: employment, income, birthdate and nationality", "入居審査：在職・収入・生年月日・国籍",
             _query(("employment", VCT_EMPLOYMENT, [*_EMPLOYMENT_INCOME, "birthdate", "nationality_region"]))),
    Template("rental_screening_residence_period", "rental_screening",
             "Rental screening: period of stay", "入居審査：在留期間",
             _query(("residence", VCT_RESIDENCE_CARD, ["status_of_residence", "stay_expiry_date"]))),
    Template("account_opening_kyc", "account_opening_kyc",
             "Account opening: identity, address and residence status", "口座開設：本人・住所・在留資格",
             _query(("residence_card", VCT_RESIDENCE_CARD,
                     ["family_name", "given_name", "birthdate", "nationality_region", "status_of_residence",
                      "stay_expiry_date", "card_number", "card_expiry_date", "work_restriction"]),
                    ("employment", VCT_EMPLOYMENT, ["employer_name", "employment_type"]))),
    Template("residence_status_check", "residence_status_check",
             "Residence status and work permission", "在留資格と就労制限",
             _query(("residence_card", VCT_RESIDENCE_CARD,
                     ["status_of_residence", "period_of_stay", "stay_expiry_date", "work_restriction"]))),
    # Ongoing access (access_type "ongoing"): the guarantor company re-checks employment during the lease.
    Template("guarantor_screening_employment", "guarantor_screening",
             "Guarantor screening: employment and income", "保証審査：在職と収入",
             _query(("employment", VCT_EMPLOYMENT, ["employer_name", "employment_type", "annual_income"]))),
    Template("income_certificate", "legal_compliance",
             "Resident tax certificate: income and tax", "課税証明：所得と税額",
             _query(("resident_tax", VCT_RESIDENT_TAX,
                     ["fiscal_year", "municipality", "total_income", "resident_tax_amount"]))),
)

TEMPLATES: Final[Mapping[str, Template]] = MappingProxyType({t.name: t for t in _ALL})


def get_template(name: str) -> Template:
    """Raises: UnknownTemplate."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(f"there is no query template {name!r}; known: {', '.join(TEMPLATES)}") from None
