"""The demo's two verifiers: a bank (``x509_san_dns``) and a landlord (``x509_hash``).

``build_demo_verifiers`` makes each one's request-signing key and a certificate under the trust
registry's root, and says what each is registered for; the caller (``tsunagu demo``) puts
``registry_entry`` into the registry it signs and ``tenant`` into the verifier service
(``services.tenants.provision_tenant``, or ``PUT /admin/tenants/{tenant}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address
from urllib.parse import urlsplit

from cryptography import x509

from tsunagu.jwk import PrivateJwk, generate_key
from tsunagu.oid4vp import client_id_for_certificate, origin_of
from tsunagu.trust import ClaimRef, LocalizedText, PurposeRegistration, VerifierEntry
from tsunagu.x509 import certificate_to_x5c, issue_verifier_certificate

from .services.tenants import TenantSpec
from .templates import VCT_EMPLOYMENT, VCT_RESIDENCE_CARD, VCT_RESIDENT_TAX

__all__ = ["DemoVerifier", "build_demo_verifiers", "consent_notification_uri", "BANK_RETENTION_DAYS",
           "LANDLORD_RETENTION_DAYS", "GUARANTOR_ACCESS_DAYS"]

#: 犯罪収益移転防止法 keeps customer due diligence records for 7 years after the account closes.
BANK_RETENTION_DAYS = 7 * 365 + 2
LANDLORD_RETENTION_DAYS = 90
#: A lease in Tokyo usually runs two years; the guarantor company re-checks employment during it.
GUARANTOR_ACCESS_DAYS = 730


def consent_notification_uri(public_url: str, tenant: str) -> str:
    """Where wallets deliver a tenant's consent revocation events (``routes/consent_notifications.py``)."""
    return f"{public_url.rstrip('/')}/{tenant}/consent-notifications"


@dataclass(frozen=True, slots=True)
class DemoVerifier:
    tenant: TenantSpec
    registry_entry: VerifierEntry


def _claims(vct: str, *names: str) -> tuple[ClaimRef, ...]:
    return tuple(ClaimRef(vct, (name,)) for name in names)


def _dns_name(public_url: str, fallback: str) -> str:
    """The verifier service's own host when it is a DNS name (a wallet then checks response_uri against it)."""
    host = urlsplit(public_url).hostname or ""
    try:
        ip_address(host)
    except ValueError:
        return host or fallback
    return fallback


def build_demo_verifiers(
    *, ca_key: PrivateJwk, ca_certificate: x509.Certificate, public_url: str, now: datetime,
    valid_for: timedelta = timedelta(days=365),
) -> tuple[DemoVerifier, DemoVerifier]:
    """The bank (tenant ``bank``) and the landlord (tenant ``landlord``) for a verifier service at ``public_url``."""
    origin = origin_of(public_url)
    bank_key, landlord_key = generate_key("ES256"), generate_key("ES256")
    bank_cert = issue_verifier_certificate(
        ca_key=ca_key, ca_certificate=ca_certificate, subject_key=bank_key.public,
        dns_name=_dns_name(public_url, "bank.tsunagu.example"), organization="Midori Bank", now=now,
        valid_for=valid_for)
    landlord_cert = issue_verifier_certificate(
        ca_key=ca_key, ca_certificate=ca_certificate, subject_key=landlord_key.public,
        dns_name="landlord.tsunagu.example", organization="Sakura Homes", now=now, valid_for=valid_for)
    bank = DemoVerifier(
        TenantSpec("bank", "Midori Bank", "みどり銀行", bank_key, (certificate_to_x5c(bank_cert),), "x509_san_dns"),
        VerifierEntry(
            client_id=client_id_for_certificate("x509_san_dns", bank_cert),
            name=LocalizedText("Midori Bank", "みどり銀行"),
            x5c=(certificate_to_x5c(bank_cert),),
            purposes=(
                PurposeRegistration("account_opening_kyc", _claims(
                    VCT_RESIDENCE_CARD, "family_name", "given_name", "birthdate", "nationality_region",
                    "status_of_residence", "period_of_stay", "stay_expiry_date", "card_number", "card_expiry_date",
                    "work_restriction",
                ) + _claims(VCT_EMPLOYMENT, "employer_name", "employment_type", "job_title"), BANK_RETENTION_DAYS),
                PurposeRegistration("identity_verification", _claims(
                    VCT_RESIDENCE_CARD, "family_name", "given_name", "birthdate"), 30),
            ),
            response_uri_origin=origin,
            consent_notification_uri=consent_notification_uri(public_url, "bank"),
        ),
    )
    landlord = DemoVerifier(
        TenantSpec("landlord", "Sakura Homes", "さくら不動産", landlord_key, (certificate_to_x5c(landlord_cert),),
                   "x509_hash"),
        VerifierEntry(
            client_id=client_id_for_certificate("x509_hash", landlord_cert),
            name=LocalizedText("Sakura Homes", "さくら不動産"),
            x5c=(certificate_to_x5c(landlord_cert),),
            purposes=(
                PurposeRegistration("rental_screening", _claims(
                    VCT_EMPLOYMENT, "employer_name", "employment_type", "employment_start_date", "job_title",
                    "annual_income",
                ) + _claims(VCT_RESIDENCE_CARD, "status_of_residence", "stay_expiry_date")
                  + _claims(VCT_RESIDENT_TAX, "fiscal_year", "total_income"), LANDLORD_RETENTION_DAYS),
                # Ongoing: the landlord's guarantor company re-checks employment for the length of the lease.
                PurposeRegistration("guarantor_screening", _claims(
                    VCT_EMPLOYMENT, "employer_name", "employment_type", "annual_income"),
                    LANDLORD_RETENTION_DAYS, max_access_period_days=GUARANTOR_ACCESS_DAYS),
            ),
            response_uri_origin=origin,
            consent_notification_uri=consent_notification_uri(public_url, "landlord"),
        ),
    )
    return bank, landlord
