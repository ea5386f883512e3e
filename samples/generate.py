"""Regenerate the bundled sample images and their ground truth.

    .venv/bin/python samples/generate.py [--out DIR] [--seed N]

Seeded and byte-stable: the same seed gives the same ground truth, pixel-identical
PNG/TIFF files and identical JPEG bytes. The ground truth (`ground_truth.json`) holds,
per file, the canonical width/height (after EXIF orientation), verdict, defect boxes in
canonical pixels, keypoints, source type and mm_per_px.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # keep the committed samples/ folder free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import (assembly, bad, linescan, metal_set, microscope, paint, pcb,  # noqa: E402
                   phone, xray)
from synth.common import SEED  # noqa: E402

HERE = Path(__file__).resolve().parent
GROUND_TRUTH = "ground_truth.json"
FOLDERS = ("metal", "pcb", "assembly", "xray", "phone", "linescan", "microscope", "paint", "bad")


def generate(out: Path, seed: int = SEED) -> dict:
    """Write every sample folder under `out`; return (and write) the ground truth."""
    out = Path(out)
    files: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    for module in (metal_set, pcb, assembly, xray, phone, linescan, microscope, paint, bad):
        f, g = module.generate(out, seed)
        files.update(f)
        groups.update(g)
    truth = {
        "generator": "samples/generate.py",
        "seed": seed,
        "coordinates": "canonical pixels (after EXIF orientation), origin top-left; "
                       "boxes x, y, w, h",
        "files": dict(sorted(files.items())),
        "groups": dict(sorted(groups.items())),
    }
    text = json.dumps(truth, indent=1, sort_keys=False) + "\n"
    (out / GROUND_TRUTH).write_text(text, encoding="utf-8")
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="folder to write (default: samples/)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = ap.parse_args(argv)
    truth = generate(args.out, args.seed)
    print(f"wrote {len(truth['files'])} files and {GROUND_TRUTH} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
