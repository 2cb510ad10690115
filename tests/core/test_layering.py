"""The core stays pure: only tsunagu.service (the shared FastAPI/SQLModel kit) and the CLI may
import web frameworks, databases or HTTP clients; services never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "httpx", "uvicorn", "authlib", "psycopg", "anyio"}
SERVICES = {"issuer", "wallet", "verifier"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def core_modules() -> list[Path]:
    package = ROOT / "tsunagu"
    return sorted(
        p
        for p in package.rglob("*.py")
        if "service" not in p.relative_to(package).parts[:1] and not p.name.startswith("cli") and p.parent.name != "cli"
    )


@pytest.mark.parametrize("module", core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_imports_no_framework_and_no_service(module: Path) -> None:
    assert imported_roots(module) & (FRAMEWORKS | SERVICES) == set()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_services_do_not_import_each_other(service: str) -> None:
    others = SERVICES - {service}
    for module in sorted((ROOT / service).rglob("*.py")):
        assert imported_roots(module) & others == set(), f"{module} imports another service"
