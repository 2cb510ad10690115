"""`tsunagu demo` (the README's first command) tells the story and every step behaves as told."""

from __future__ import annotations

import json

from tsunagu.demo import run_demo

from ..conftest import NOW


def test_demo_story() -> None:
    lines: list[str] = []
    assert run_demo(say=lines.append, now=NOW) == 0
    text = "\n".join(lines)
    received = json.loads(next(line for line in lines if line.strip().startswith("{")))
    assert set(received) == {"employer_name", "employment_type", "employment_start_date", "job_title", "annual_salary"}
    assert "decision: accepted" in text
    assert "[kb_jwt.aud_mismatch]" in text
    assert "rejected — revoked by https://hr.sakura-logistics.example" in text
