"""docs/api.md documents every endpoint of the three services, and nothing that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from tsunagu.cli.demo_deployment import build_demo_deployment
from tsunagu.cli.serve import service_app
from tests.conftest import NOW

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_endpoint_is_documented_with_an_example(tmp_path: Path) -> None:
    deployment = build_demo_deployment(tmp_path / "demo", now=NOW)
    served = set()
    for name in ("issuer", "wallet", "verifier"):
        app = service_app(name, getattr(deployment, name))
        for path, operations in app.openapi()["paths"].items():
            served.update(f"{method.upper()} {path}" for method in operations)
    text = API_DOC.read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    documented = {section.splitlines()[0].strip(): section for section in sections}
    assert sorted(served - documented.keys()) == [], "endpoints missing from docs/api.md"
    assert sorted(documented.keys() - served) == [], "docs/api.md documents endpoints that do not exist"
    without_example = sorted(name for name, section in documented.items() if "```http" not in section)
    assert without_example == []
