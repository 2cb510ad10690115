"""The purpose vocabulary: closed, bilingual, and mapped to W3C DPV."""

from __future__ import annotations

import re

import pytest

from tsunagu.purposes import PURPOSES, UnknownPurpose, get_purpose, is_purpose_code

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_the_vocabulary_is_the_one_verifiers_register_against() -> None:
    assert list(PURPOSES) == [
        "identity_verification", "account_opening_kyc", "rental_screening", "guarantor_screening",
        "employment_verification", "residence_status_check", "legal_compliance",
    ]


@pytest.mark.parametrize("code", list(PURPOSES))
def test_every_purpose_speaks_english_and_japanese_and_names_dpv_concepts(code: str) -> None:
    purpose = get_purpose(code)
    assert purpose.code == code
    assert purpose.name_en.isascii() and purpose.description_en.isascii()
    assert JAPANESE.search(purpose.name_ja) and JAPANESE.search(purpose.description_ja)
    assert purpose.dpv and all(re.fullmatch(r"dpv:[A-Z][A-Za-z]+", concept) for concept in purpose.dpv)


@pytest.mark.parametrize("code", ["marketing", "", "Rental_Screening", None, 1])
def test_codes_outside_the_vocabulary_are_unknown(code: object) -> None:
    assert not is_purpose_code(code)
    with pytest.raises(UnknownPurpose):
        get_purpose(code)  # type: ignore[arg-type]
