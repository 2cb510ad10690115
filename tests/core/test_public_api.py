"""The public API: everything in ``__all__`` exists, is ours, and the core imports no framework."""

from __future__ import annotations

import subprocess
import sys
import types

import tsunagu
from tsunagu import errors


def test_every_public_name_resolves_to_a_tsunagu_object() -> None:
    for name in tsunagu.__all__:
        obj = getattr(tsunagu, name)
        module = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
        if isinstance(obj, (str, int, frozenset, types.GenericAlias, types.UnionType)):
            continue  # constants and type aliases carry no module
        assert module.startswith("tsunagu"), f"{name} comes from {module}"


def test_no_public_name_is_listed_twice() -> None:
    assert len(tsunagu.__all__) == len(set(tsunagu.__all__))


def test_error_codes_are_unique_and_dotted() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    codes = [cls.code for cls in classes]
    assert all(code.count(".") == 1 for code in codes)
    duplicates = {code for code in codes if codes.count(code) > 1}
    assert not duplicates, f"codes used by more than one error class: {duplicates}"


def test_the_core_imports_no_web_framework_or_database() -> None:
    """DESIGN.md: the core is pure. Import it in a fresh interpreter and look at what came along."""
    code = (
        "import sys, tsunagu, tsunagu.cli;"
        "bad = [m for m in ('fastapi', 'starlette', 'sqlmodel', 'sqlalchemy', 'httpx', 'requests') if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
