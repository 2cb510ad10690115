"""``tsunagu demo``: the credential story told with the core library, in one terminal.

Until the issuer, wallet and verifier services exist, the demo runs the same steps in one
process: an employer issues an employment certificate, the resident shows a landlord only what
rental screening needs, the landlord verifies and sees each check, the employer revokes the
credential and the landlord's next check sees it. Every step is the real code path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from . import (
    INVALID,
    KbExpectation,
    KeyBindingRequest,
    StatusList,
    decode_sd_jwt,
    generate_key,
    issue_sd_jwt_vc,
    issue_status_list_token,
    issuer_key_resolver,
    parse_status_claim,
    present_sd_jwt,
    verify_sd_jwt_vc,
    verify_status_list_token,
)
from .claims_path import format_claims_path
from .errors import TsunaguError

__all__ = ["run_demo"]

EMPLOYER = "https://hr.sakura-logistics.example"
LANDLORD = "x509_san_dns:landlord.tokyo-homes.example"
STATUS_URI = f"{EMPLOYER}/status/1"
VCT = "https://credentials.tsunagu.example/EmploymentCertificate"
EMPLOYMENT = {
    "employee_name": "NGUYEN THI MAI",
    "birthdate": "1994-03-12",
    "nationality_region": "VN",
    "employer_name": "さくら物流株式会社 (Sakura Logistics K.K.)",
    "employer_corporate_number": "1010001123456",
    "employment_type": "regular",
    "employment_start_date": "2021-04-01",
    "job_title": "Logistics Planner",
    "annual_salary": 4_800_000,
}
RENTAL_SCREENING = [("employer_name",), ("employment_type",), ("employment_start_date",), ("job_title",), ("annual_salary",)]


def run_demo(say: Callable[[str], None] = print, now: datetime | None = None) -> int:
    """Tell the story; returns 0 when every step behaved as the story says."""
    now = now or datetime.now(timezone.utc)
    say("Tsunagu demo — the credential core, end to end in one process.")
    say("(The issuer, wallet and verifier services come next; this shows what they are built on.)\n")

    employer_key, holder_key = generate_key("ES256", kid="sakura-hr-2026"), generate_key("ES256")
    status_list = StatusList.new(size=131_072, bits=2)
    idx = 90_210
    issued = issue_sd_jwt_vc(
        EMPLOYMENT, vct=VCT, key=employer_key, issuer=EMPLOYER, iat=now, exp=now + timedelta(days=365),
        holder_key=holder_key.public, status={"status_list": {"idx": idx, "uri": STATUS_URI}}, decoys=2,
    )
    held = decode_sd_jwt(issued.compact)
    say("1. Sakura Logistics (employer) issues an employment certificate to Mai.")
    say(f"   {len(issued.disclosures)} claims are selectively disclosable; the issuer-signed part shows none of them.")
    say(f"   Mai's wallet holds: {', '.join(sorted(k for k in EMPLOYMENT))}\n")

    nonce = "demo-" + holder_key.thumbprint()[:16]
    presentation = present_sd_jwt(
        held, RENTAL_SCREENING, key_binding=KeyBindingRequest(holder_key, LANDLORD, nonce, now)
    )
    say("2. Tokyo Homes (landlord) asks for employment and income for rental screening.")
    say(f"   Mai shares: {', '.join(format_claims_path(p) for p in RENTAL_SCREENING)}.")
    say("   Not shared: birthdate, nationality_region, employee_name — screening does not need them.\n")

    resolver = issuer_key_resolver(EMPLOYER, [employer_key.public])
    expectation = KbExpectation(nonce=nonce, aud=LANDLORD)

    def landlord_checks(at: datetime) -> bool:
        try:
            verified = verify_sd_jwt_vc(presentation, issuer_key=resolver, kb=expectation, now=at)
            token = issue_status_list_token(
                status_list, key=employer_key, sub=STATUS_URI, iat=at, exp=at + timedelta(hours=1), ttl=600
            )
            reference = parse_status_claim(verified.status)
            current = verify_status_list_token(
                token, key=employer_key.public, expected_sub=STATUS_URI, now=at, max_bytes=1 << 20
            )
            status = current.status_list.get(reference.idx)
        except TsunaguError as error:
            say(f"   decision: rejected — {error.reason} [{error.code}]")
            return False
        if status == INVALID:
            say(f"   decision: rejected — revoked by {EMPLOYER} (status list entry {reference.idx})")
            return False
        shown = {k: v for k, v in verified.claims.items() if k in EMPLOYMENT}
        say("   decision: accepted — issuer signature, disclosures, key binding (nonce, audience,")
        say("   freshness), validity period and status all check out. The landlord received:")
        say("   " + json.dumps(shown, ensure_ascii=False))
        return True

    say("3. The landlord verifies.")
    accepted = landlord_checks(now)

    say("\n4. A replayed copy sent to a different verifier is refused:")
    try:
        verify_sd_jwt_vc(presentation, issuer_key=resolver, kb=KbExpectation(nonce, "x509_san_dns:other.example"), now=now)
        replay_refused = False
    except TsunaguError as error:
        say(f"   rejected — {error.reason} [{error.code}]")
        replay_refused = True

    say("\n5. Mai changes jobs; Sakura Logistics revokes the certificate. The landlord's next check:")
    status_list.set(idx, INVALID)
    revoked_seen = not landlord_checks(now + timedelta(minutes=1))

    ok = accepted and replay_refused and revoked_seen
    say("\nEvery step behaved as described." if ok else "\nA step did not behave as described: this is a bug.")
    return 0 if ok else 1
