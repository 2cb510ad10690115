"""The credential both interop suites exchange: a realistic employment certificate (在職証明書)."""

from __future__ import annotations

from typing import Any

ISSUER = "https://hr.sakura-seiki.example"
VCT = "https://credentials.tsunagu.example/EmploymentCertificate"
AUD = "https://landlord.example/rental-screening"  # a pre-registered verifier's client_id

DUTIES = ["精密機器の組込みソフトウェア設計", "品質保証テストの計画", "海外拠点との技術調整"]
ADDRESS = {"postal_code": "100-0005", "prefecture": "東京都", "locality": "千代田区", "street_address": "丸の内1-9-2"}
#: The subject's claims; registered claims (iss, iat, exp, cnf, vct) are added per test.
EMPLOYMENT: dict[str, Any] = {
    "employee_name": "NGUYEN VAN AN",
    "birthdate": "1994-07-12",
    "employer_name": "株式会社さくら精機",
    "employer_corporate_number": "1010001123456",
    "employer_address": ADDRESS,
    "employment_type": "regular",
    "job_title": "ソフトウェアエンジニア",
    "department": "研究開発部",
    "job_duties": DUTIES,
    "employment_start_date": "2021-04-01",
    "weekly_hours": 40,
    "annual_salary": 5_400_000,
    "as_of_date": "2026-11-20",
}
