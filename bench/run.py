"""Run benchmarks: every bench/bench_*.py in turn, or only those named.

    .venv/bin/python bench/run.py                        # all
    .venv/bin/python bench/run.py celery_roundtrip       # bench_celery_roundtrip.py
    .venv/bin/python bench/run.py celery_roundtrip -- --tasks 500

Each benchmark runs in a process of its own (no state shared between them) and prints its
result lines; the exit code is non-zero if any benchmark failed.
"""

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


def _resolve(name: str) -> Path:
    stem = Path(name).stem
    if not stem.startswith("bench_"):
        stem = f"bench_{stem}"
    path = BENCH_DIR / f"{stem}.py"
    if not path.is_file():
        available = ", ".join(p.stem.removeprefix("bench_") for p in sorted(
            BENCH_DIR.glob("bench_*.py")))
        raise SystemExit(f"no benchmark {name!r}; available: {available}")
    return path


def main(argv: list[str]) -> int:
    names, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv \
        else (argv, [])
    paths = [_resolve(n) for n in names] if names else sorted(BENCH_DIR.glob("bench_*.py"))
    failed = []
    for path in paths:
        print(f"== {path.stem}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, str(path), *extra], cwd=ROOT)
        print(f"   ({time.perf_counter() - t0:.1f} s{'' if code == 0 else f', exit {code}'})",
              flush=True)
        if code:
            failed.append(path.stem)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
