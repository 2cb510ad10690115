"""The Python around the cryptography: issue / present / verify with the ECDSA arithmetic removed.

Run by hand (``.venv/bin/python bench/overhead_sd_jwt.py``), after ``bench_sd_jwt.py`` when a
ratio needs explaining. It builds the same workload as ``bench_sd_jwt.py`` with real keys, then
replaces ``tsunagu.jose``'s ECDSA sign and verify by no-ops and times what is left: base64, JSON,
hashing, key import, checks and objects. That figure is what code changes can still move; the
ECDSA part (``ceiling.verify`` in the main benchmark) they cannot. Never use this to claim speed.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_sd_jwt  # noqa: E402

from tsunagu import jose  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=2000, help="calls per timing (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=9, help="timings per operation; the best is shown")
    args = parser.parse_args(argv)

    now = datetime.now(timezone.utc).replace(microsecond=0)
    keys = bench_sd_jwt.make_keys()
    ops = bench_sd_jwt.tsunagu_ops(keys, now)  # built and checked with the real cryptography
    ops["issue"]()  # a credential to present from, before signing is stubbed
    signature = jose.sign(b"stub", keys.issuer)
    jose.sign = lambda data, key: signature
    jose._verify_ecdsa = lambda *args: True

    print("Python overhead per operation, ECDSA sign/verify stubbed out (µs, best of the timings)")
    for name in ("issue", "present", "verify", "present_decoded"):
        best = min(timeit.repeat(ops[name], number=args.number, repeat=args.repeat)) / args.number
        print(f"  {name:<16}{best * 1e6:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
