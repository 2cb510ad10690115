"""The vocabulary of Tsunagu's credential types: one definition read by issuer, verifier and wallet.

Each type has a ``vct`` (a URN, so no verifier tries to fetch SD-JWT VC Type Metadata from it),
display names in English and Japanese, and its claims: name, value type, whether the issuer
always includes it, and labels in both languages. The issuer validates an offer's claims
against it and publishes it as an OpenID4VCI Credential Configuration (``credential_metadata``);
a verifier's templates and a wallet's screens use the same labels, so a resident reads the
same word for a claim when it is issued, asked for and shared.

Claims follow ``JAPAN-CONTEXT.md``. Every claim is about the resident (or their job, income or
residence status), so every claim is selectively disclosable when issued.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, Literal

from .errors import TsunaguError
from .oid4vci.errors import safe_description
from .oid4vci.metadata import FORMAT_DC_SD_JWT, ClaimDescription, ClaimDisplay, CredentialConfiguration, Display

__all__ = [
    "ClaimValueType",
    "ClaimDefinition",
    "CredentialType",
    "CredentialClaimsError",
    "UnknownCredentialType",
    "UnknownClaim",
    "MissingClaim",
    "ClaimTypeMismatch",
    "ClaimValueNotAllowed",
    "InconsistentClaims",
    "EMPLOYMENT_CERTIFICATE",
    "RESIDENT_TAX_CERTIFICATE",
    "RESIDENCE_CARD",
    "CREDENTIAL_TYPES",
    "credential_type",
    "credential_type_for_vct",
]

#: ``date`` is an ISO 8601 calendar date (``2026-04-01``) carried as a JSON string;
#: ``integer`` amounts are yen.
ClaimValueType = Literal["string", "date", "integer", "boolean"]

_MAX_STRING: Final = 256


class CredentialClaimsError(TsunaguError):
    """Claims that do not fit their credential type. Services answer it as ``invalid_request``."""

    code = "credential_types.invalid_claims"


class UnknownCredentialType(CredentialClaimsError):
    code = "credential_types.unknown_type"


class UnknownClaim(CredentialClaimsError):
    code = "credential_types.unknown_claim"


class MissingClaim(CredentialClaimsError):
    code = "credential_types.missing_claim"


class ClaimTypeMismatch(CredentialClaimsError):
    code = "credential_types.claim_type_mismatch"


class ClaimValueNotAllowed(CredentialClaimsError):
    """A value outside the claim's closed set, or not matching its format (a card number, say)."""

    code = "credential_types.claim_value_not_allowed"


class InconsistentClaims(CredentialClaimsError):
    """Claims that contradict each other (an income year that is not the year before the fiscal year)."""

    code = "credential_types.inconsistent_claims"


@dataclass(frozen=True, slots=True)
class ClaimDefinition:
    name: str
    value_type: ClaimValueType
    label_en: str
    label_ja: str
    #: The issuer always includes it (OpenID4VCI Appendix B.2 ``mandatory``); an offer must carry it.
    mandatory: bool = False
    #: A closed set of allowed values (for strings).
    values: tuple[str, ...] | None = None
    #: A regular expression a string value must match in full.
    pattern: str | None = None

    def check(self, value: object) -> None:
        """Raises: ClaimTypeMismatch, ClaimValueNotAllowed."""
        name = self.name
        if self.value_type == "boolean":
            if not isinstance(value, bool):
                raise ClaimTypeMismatch(f"the claim {name} must be true or false", claim=name)
        elif self.value_type == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ClaimTypeMismatch(f"the claim {name} must be a whole number", claim=name)
            if value < 0:
                raise ClaimValueNotAllowed(f"the claim {name} must not be negative", claim=name)
        else:
            if not isinstance(value, str) or not value:
                raise ClaimTypeMismatch(f"the claim {name} must be a non-empty string", claim=name)
            if len(value) > _MAX_STRING:
                raise ClaimValueNotAllowed(f"the claim {name} is longer than {_MAX_STRING} characters", claim=name)
            if self.value_type == "date":
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise ClaimTypeMismatch(f"the claim {name} must be a date like 2026-04-01", claim=name) from None
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise ClaimTypeMismatch(f"the claim {name} must be a date like 2026-04-01", claim=name)
            if self.values is not None and value not in self.values:
                raise ClaimValueNotAllowed(
                    f"the claim {name} must be one of {', '.join(self.values)}", claim=name, allowed=list(self.values)
                )
            if self.pattern is not None and not re.fullmatch(self.pattern, value):
                raise ClaimValueNotAllowed(f"the claim {name} is not in the expected format", claim=name)

    def description(self) -> ClaimDescription:
        return ClaimDescription(
            path=(self.name,),
            mandatory=self.mandatory,
            display=(ClaimDisplay(self.label_en, "en"), ClaimDisplay(self.label_ja, "ja")),
        )


@dataclass(frozen=True, slots=True)
class CredentialType:
    """A Tsunagu credential type; ``configuration_id`` is its OpenID4VCI Credential Configuration id."""

    configuration_id: str
    vct: str
    name_en: str
    name_ja: str
    description_en: str
    description_ja: str
    claims: tuple[ClaimDefinition, ...]
    background_color: str = "#12355b"
    text_color: str = "#ffffff"
    #: Default validity of an issued credential (``exp - iat``).
    validity: timedelta = timedelta(days=365)
    #: Cross-claim rules; raises InconsistentClaims.
    consistency: Callable[[Mapping[str, Any]], None] | None = field(default=None, repr=False, compare=False)

    def claim(self, name: str) -> ClaimDefinition:
        for definition in self.claims:
            if definition.name == name:
                return definition
        raise UnknownClaim(f"{self.configuration_id} has no claim {name}", claim=name)

    @property
    def claim_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.claims)

    def validate_claims(self, claims: Mapping[str, Any]) -> dict[str, Any]:
        """The claims in definition order, if they fit this type.

        Raises:
            UnknownClaim: a claim this type does not define.
            MissingClaim: a mandatory claim is absent.
            ClaimTypeMismatch, ClaimValueNotAllowed: a value of the wrong type or outside its set.
            InconsistentClaims: claims that contradict each other.
        """
        if not isinstance(claims, Mapping):
            raise ClaimTypeMismatch("the claims must be a JSON object")
        unknown = sorted(name for name in claims if name not in self.claim_names)
        if unknown:
            # The names are the caller's input: shown only as an error_description may carry them.
            shown = ", ".join(safe_description(n, limit=40) for n in unknown[:5])
            raise UnknownClaim(f"{self.configuration_id} has no claim(s) {shown}", claims=unknown[:5])
        out: dict[str, Any] = {}
        for definition in self.claims:
            if definition.name not in claims or claims[definition.name] is None:
                if definition.mandatory:
                    raise MissingClaim(f"{self.configuration_id} needs the claim {definition.name}", claim=definition.name)
                continue
            definition.check(claims[definition.name])
            out[definition.name] = claims[definition.name]
        if self.consistency is not None:
            self.consistency(out)
        return out

    def display(self) -> tuple[Display, ...]:
        return (
            Display(self.name_en, "en", self.description_en, background_color=self.background_color, text_color=self.text_color),
            Display(self.name_ja, "ja", self.description_ja, background_color=self.background_color, text_color=self.text_color),
        )

    def label(self, claim: str, locale: str = "en") -> str:
        definition = self.claim(claim)
        return definition.label_ja if locale.lower().startswith("ja") else definition.label_en

    def to_configuration(
        self,
        *,
        credential_signing_algs: tuple[str, ...] = ("ES256",),
        proof_signing_algs: tuple[str, ...] = ("ES256",),
        scope: str | None = None,
    ) -> CredentialConfiguration:
        """The OpenID4VCI 1.0 Credential Configuration (§12.2.4, Appendix A.3.2) for this type."""
        return CredentialConfiguration(
            id=self.configuration_id,
            format=FORMAT_DC_SD_JWT,
            vct=self.vct,
            scope=scope,
            cryptographic_binding_methods_supported=("jwk",),
            credential_signing_alg_values_supported=credential_signing_algs,
            proof_types={"jwt": proof_signing_algs},
            display=self.display(),
            claims=tuple(c.description() for c in self.claims),
        )


# --- the three types of the demo (JAPAN-CONTEXT.md) ---------------------------------------------

_EMPLOYMENT_TYPES: Final = ("regular", "fixed-term", "part-time", "dispatch")
_WORK_RESTRICTIONS: Final = ("none", "per-status", "designated-activities", "not-permitted")

EMPLOYMENT_CERTIFICATE: Final = CredentialType(
    configuration_id="EmploymentCertificate",
    vct="urn:tsunagu:vct:employment-certificate:1",
    name_en="Employment Certificate",
    name_ja="在職証明書",
    description_en="Certifies current employment, position and income, issued by the employer.",
    description_ja="勤務先が発行する、在職・職位・収入の証明。",
    background_color="#1f4e79",
    claims=(
        ClaimDefinition("employee_name", "string", "Employee name", "氏名", mandatory=True),
        ClaimDefinition("birthdate", "date", "Date of birth", "生年月日"),
        ClaimDefinition("nationality_region", "string", "Nationality / region", "国籍・地域"),
        ClaimDefinition("employer_name", "string", "Employer", "勤務先", mandatory=True),
        ClaimDefinition(
            "employer_corporate_number", "string", "Corporate number", "法人番号", pattern=r"\d{13}"
        ),
        ClaimDefinition("employment_type", "string", "Employment type", "雇用形態", values=_EMPLOYMENT_TYPES),
        ClaimDefinition("job_title", "string", "Job title", "職位"),
        ClaimDefinition("department", "string", "Department", "所属部署"),
        ClaimDefinition("employment_start_date", "date", "Employed since", "入社年月日"),
        ClaimDefinition("annual_income", "integer", "Annual income (JPY)", "年収（円）"),
        ClaimDefinition("social_insurance_enrolled", "boolean", "Enrolled in social insurance", "社会保険加入"),
        ClaimDefinition("as_of_date", "date", "As of", "証明日", mandatory=True),
    ),
)


def _tax_consistency(claims: Mapping[str, Any]) -> None:
    # The fiscal-year / income-year confusion JAPAN-CONTEXT.md warns of: FY N taxes income of N-1.
    fiscal, income = claims.get("fiscal_year"), claims.get("income_year")
    if fiscal is not None and income is not None and income != fiscal - 1:
        raise InconsistentClaims(
            f"income_year must be the year before fiscal_year (fiscal year {fiscal} taxes the income of {fiscal - 1})"
        )
    if claims.get("no_arrears") is True and claims.get("unpaid_amount", 0) > 0:
        raise InconsistentClaims("no_arrears is true but unpaid_amount is above zero")


RESIDENT_TAX_CERTIFICATE: Final = CredentialType(
    configuration_id="ResidentTaxCertificate",
    vct="urn:tsunagu:vct:resident-tax-certificate:1",
    name_en="Resident Tax Certificate",
    name_ja="住民税課税証明書",
    description_en="Income and resident tax for one fiscal year, issued by the municipality of residence on January 1.",
    description_ja="1月1日時点の住所地の市区町村が発行する、所得と住民税の証明。",
    background_color="#2e6b3a",
    consistency=_tax_consistency,
    claims=(
        ClaimDefinition("taxpayer_name", "string", "Taxpayer name", "氏名"),
        ClaimDefinition("fiscal_year", "integer", "Fiscal year", "年度", mandatory=True),
        ClaimDefinition("income_year", "integer", "Income year", "所得の年", mandatory=True),
        ClaimDefinition("municipality", "string", "Municipality", "市区町村", mandatory=True),
        ClaimDefinition("total_income", "integer", "Total income (JPY)", "合計所得金額（円）"),
        ClaimDefinition("taxable_income", "integer", "Taxable income (JPY)", "課税標準額（円）"),
        ClaimDefinition("resident_tax_amount", "integer", "Resident tax (JPY)", "住民税額（円）"),
        ClaimDefinition("tax_paid", "integer", "Tax paid (JPY)", "納付済額（円）"),
        ClaimDefinition("no_arrears", "boolean", "No arrears", "滞納なし"),
        ClaimDefinition("unpaid_amount", "integer", "Unpaid amount (JPY)", "未納額（円）"),
    ),
)

RESIDENCE_CARD: Final = CredentialType(
    configuration_id="ResidenceCard",
    vct="urn:tsunagu:vct:residence-card:1",
    name_en="Residence Card",
    name_ja="在留カード",
    description_en="Status of residence and period of stay, issued by the Immigration Services Agency.",
    description_ja="出入国在留管理庁が発行する、在留資格と在留期間の証明。",
    background_color="#5b2a86",
    claims=(
        ClaimDefinition("family_name", "string", "Family name", "氏", mandatory=True),
        ClaimDefinition("given_name", "string", "Given name", "名", mandatory=True),
        ClaimDefinition("birthdate", "date", "Date of birth", "生年月日", mandatory=True),
        ClaimDefinition("nationality_region", "string", "Nationality / region", "国籍・地域", mandatory=True),
        ClaimDefinition("status_of_residence", "string", "Status of residence", "在留資格", mandatory=True),
        ClaimDefinition("period_of_stay", "string", "Period of stay", "在留期間"),
        ClaimDefinition("stay_expiry_date", "date", "Period of stay expires", "在留期間満了日", mandatory=True),
        ClaimDefinition(
            "card_number", "string", "Card number", "在留カード番号", mandatory=True, pattern=r"[A-Z]{2}\d{8}[A-Z]{2}"
        ),
        ClaimDefinition("card_expiry_date", "date", "Card valid until", "カード有効期限", mandatory=True),
        ClaimDefinition("work_restriction", "string", "Work restriction", "就労制限の有無", values=_WORK_RESTRICTIONS),
    ),
)

#: Every type, by its Credential Configuration id.
CREDENTIAL_TYPES: Final[Mapping[str, CredentialType]] = {
    t.configuration_id: t for t in (EMPLOYMENT_CERTIFICATE, RESIDENT_TAX_CERTIFICATE, RESIDENCE_CARD)
}


def credential_type(configuration_id: str) -> CredentialType:
    """Raises: UnknownCredentialType."""
    try:
        return CREDENTIAL_TYPES[configuration_id]
    except KeyError:
        raise UnknownCredentialType("no Tsunagu credential type has this configuration id") from None


def credential_type_for_vct(vct: str) -> CredentialType | None:
    """The type a credential's ``vct`` names, or ``None`` for a type Tsunagu does not know."""
    for candidate in CREDENTIAL_TYPES.values():
        if candidate.vct == vct:
            return candidate
    return None
