"""The Python examples in docs/core.md run, in order, as written: the docs cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parent.parent.parent / "docs" / "core.md"


def test_core_md_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 6, "docs/core.md lost its examples"
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/core.md[python block {number}]", "exec"), namespace)
