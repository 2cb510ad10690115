"""Run the Node.js side of the interop tests: `node tests/interop/js/<script>`, JSON in, JSON out.

The npm packages are pinned in tests/interop/package.json and package-lock.json, and `make test`
installs exactly those with `npm ci`. A missing installation fails the test (it never skips): an
interop test that silently does not run is a test that cannot fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

INTEROP_DIR = Path(__file__).resolve().parent
NODE_MODULES = INTEROP_DIR / "node_modules"
_INSTALL_HINT = "run `make test`, or `cd tests/interop && npm ci`, to install the pinned npm packages"


def run_node(script: str, payload: Mapping[str, Any], *, timeout: float = 60.0) -> dict[str, Any]:
    """Send ``payload`` to ``js/<script>`` on stdin and return the JSON object it prints."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"`node` is not on PATH; the interop tests need Node.js >= 20 ({_INSTALL_HINT})")
    if not NODE_MODULES.is_dir():
        pytest.fail(f"{NODE_MODULES} is missing: {_INSTALL_HINT}")
    try:
        proc = subprocess.run(
            [node, str(INTEROP_DIR / "js" / script)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=INTEROP_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"node {script} did not answer within {timeout} s")
    if proc.returncode != 0:
        hint = f"\n({_INSTALL_HINT})" if "ERR_MODULE_NOT_FOUND" in proc.stderr else ""
        pytest.fail(f"node {script} exited with {proc.returncode}:\n{proc.stderr.strip()}{hint}")
    answer = json.loads(proc.stdout)
    assert isinstance(answer, dict), f"node {script} answered {answer!r}, not a JSON object"
    return answer
