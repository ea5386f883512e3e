"""Run every benchmark and print each figure beside its same-run baseline.

    python -m benchmarks.run [--quick] [--only NAME] [--json FILE]

Each `benchmarks/bench_*.py` module defines `run(quick: bool) -> list[Figure]`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

from .common import Figure


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def format_row(f: Figure) -> str:
    return (
        f"  {f.name:<52} {f.value:>12.3f} {f.unit:<6}  vs {f.baseline_name:<40} "
        f"{f.baseline_value:>12.3f}  ratio {f.ratio:>7.3f}  {f.target}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", action="append", default=[], help="run bench_NAME only")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = ap.parse_args(argv)
    figures: list[Figure] = []
    for name in discover():
        if args.only and name.removeprefix("bench_") not in args.only:
            continue
        t0 = time.perf_counter()
        print(f"[{name}]", flush=True)
        for fig in importlib.import_module(f"benchmarks.{name}").run(args.quick):
            print(format_row(fig), flush=True)
            figures.append(fig)
        print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    if args.json:
        args.json.write_text(json.dumps([f.to_dict() for f in figures], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
