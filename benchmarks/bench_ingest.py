"""Ingest throughput beside the cost of decoding the same files once with Pillow
(one process), measured in the same run on freshly generated files:
5 MP JPEGs (target: ingest with 2 workers <= 1.5x the decode floor), 16-bit TIFFs
(auto window), and one long line-scan part stitched from overlapping segments
(target: <= 1.5x the decode of its segments), with the overlap search beside the
exhaustive per-overlap scan it replaced and the canonical encode beside the libpng
encode it replaced. The TIFF and line-scan figures are the median of three rounds,
each timed between two floors (a single timing of a few seconds swings by 2x on
shared cores); the part's CPU time is given beside the decode's too."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from qclabel.ingest import combine, ingest_paths, pixels
from qclabel.project import Project

from .common import Figure

JPEG_SIZE = (2592, 1944)  # 5 MP


def _texture(w: int, h: int, seed: int, dtype=np.uint8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = 65535 if dtype == np.uint16 else 255
    small = rng.integers(0, top, (h // 16, w // 16), dtype=dtype)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    noise = rng.integers(0, top // 16, (h, w), dtype=dtype)
    return cv2.add(big, noise)


def _unique(base: np.ndarray, i: int) -> np.ndarray:
    """A copy that differs in one corner block, so no two files share a hash."""
    out = base.copy()
    out[:8, :8] = (i * 7919) % 251
    out[8:16, :8] = i // 251
    return out


def make_jpegs(folder: Path, n: int) -> list[Path]:
    grey = _texture(*JPEG_SIZE, seed=1)
    base = np.dstack([grey, np.roll(grey, 40, 1), np.roll(grey, 80, 0)])
    paths = []
    for i in range(n):
        path = folder / f"P{i // 50:03d}_L01_S1_cam1_{i:05d}.jpg"
        Image.fromarray(_unique(base, i)).save(path, quality=90)
        paths.append(path)
    return paths


def make_tiffs(folder: Path, n: int) -> list[Path]:
    base = _texture(2048, 2048, seed=2, dtype=np.uint16) // 2 + 12000
    paths = []
    for i in range(n):
        path = folder / f"hub_{i:04d}.tif"
        cv2.imwrite(str(path), _unique(base, i))
        paths.append(path)
    return paths


SEG_SIZE = (4096, 1024)
SEG_OVERLAP = 16  # rows each segment repeats from the end of the one before
LINE_SCAN = {
    "line-scan-auto": {
        "mm_per_px": 0.1,
        "stitch": {
            "group": r"^(?P<part>.+)_seg(?P<seq>\d+)$",
            "overlap_px": "auto",
            "max_overlap_px": 32,
        },
    }
}


def make_segments(folder: Path, n: int) -> tuple[list[Path], list[np.ndarray]]:
    """Segments cut from one long textured part, each repeating SEG_OVERLAP rows."""
    w, h = SEG_SIZE
    part = _texture(w, n * (h - SEG_OVERLAP) + SEG_OVERLAP, seed=100)
    paths, arrays = [], []
    for i in range(n):
        seg = part[i * (h - SEG_OVERLAP) : i * (h - SEG_OVERLAP) + h]
        path = folder / f"partL_seg{i + 1:03d}.png"
        cv2.imwrite(str(path), seg, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        paths.append(path)
        arrays.append(seg)
    return paths, arrays


def scan_overlap(prev: np.ndarray, nxt: np.ndarray, max_overlap: int) -> int:
    """The overlap search ingest used before matchTemplate (and the product after it):
    every k scored in a loop."""
    a = prev[-min(max_overlap, prev.shape[0], nxt.shape[0] - 1) :].astype(np.float32)
    b = nxt[: a.shape[0]].astype(np.float32)
    best, best_k = 0.05, 0
    for k in range(1, a.shape[0] + 1):
        x, y = a[-k:], b[:k]
        score = float(np.mean((x - y) ** 2)) / (float(x.var() + y.var()) + 1e-6)
        if score <= best:
            best, best_k = score, k
    return best_k


def overlap_figure(arrays: list[np.ndarray]) -> Figure:
    joints = list(zip(arrays, arrays[1:]))
    t0 = time.perf_counter()
    new = [combine.find_overlap(a, b, 32) for a, b in joints]
    t1 = time.perf_counter()
    old = [scan_overlap(a, b, 32) for a, b in joints]
    t2 = time.perf_counter()
    assert new == old == [SEG_OVERLAP] * len(joints), (new, old)
    return Figure(
        f"overlap search, {len(joints)} joints (one product)",
        t1 - t0,
        "s",
        "scan of every overlap k (before)",
        t2 - t1,
    )


def encode_figure(arrays: list[np.ndarray]) -> Figure:
    part = np.concatenate(arrays)
    t0 = time.perf_counter()
    _, data = pixels.encode_canonical(part)
    t1 = time.perf_counter()
    ok, old = cv2.imencode(
        ".png",
        part,
        [
            cv2.IMWRITE_PNG_COMPRESSION,
            1,
            cv2.IMWRITE_PNG_STRATEGY,
            cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY,
        ],
    )
    t2 = time.perf_counter()
    return Figure(
        f"canonical encode, {part.nbytes >> 20} MB ({len(data) / part.nbytes:.0%}"
        f" vs {old.size / part.nbytes:.0%})",
        t1 - t0,
        "s",
        "cv2.imencode PNG level 1 Huffman (before)",
        t2 - t1,
    )


def pillow_floor(paths: list[Path]) -> float:
    """Seconds to decode every file once with Pillow, in this one process."""
    t0 = time.perf_counter()
    for p in paths:
        with Image.open(p) as im:
            im.load()
    return time.perf_counter() - t0


def timed_ingest(root: Path, folder: Path, profile: str | None, profiles: dict) -> float:
    project = Project.init(root, "metal-stamping", user="bench")
    project.config["profiles"].update(profiles)
    project.save_config()
    project = Project.open(root)
    t0 = time.perf_counter()
    report = ingest_paths(project, [folder], profile=profile, workers=2)
    elapsed = time.perf_counter() - t0
    assert not report.failed, report.failed[:3]
    return elapsed


def _figure(name: str, ingest_s: float, floor_s: float, n: int, target: str = "") -> Figure:
    return Figure(
        f"{name} ({n} files, 2 workers)",
        ingest_s,
        "s",
        "Pillow decode once, 1 process",
        floor_s,
        target,
    )


STITCH_REPS = 3  # rounds of the TIFF and line-scan figures (the median is reported)


def _stitch_rep(tmp: Path, segs: list[Path], rep: int) -> dict[str, float]:
    """One round: the floor, the part under both profiles, the floor again (load drifts),
    wall-clock and this process's CPU time (one part is one unit of work: it runs in
    this process, so its CPU time is all of its work)."""
    out: dict[str, float] = {}
    w, c = time.perf_counter(), time.process_time()
    pillow_floor(segs)
    out["floor"], out["floor_cpu"] = time.perf_counter() - w, time.process_time() - c
    c = time.process_time()
    out["auto"] = timed_ingest(tmp / f"p3-{rep}", tmp / "seg", "line-scan-auto", LINE_SCAN)
    out["auto_cpu"] = time.process_time() - c
    out["bundled"] = timed_ingest(tmp / f"p4-{rep}", tmp / "seg", "line-scan", {})
    w, c = time.perf_counter(), time.process_time()
    pillow_floor(segs)
    out["floor"] = (out["floor"] + time.perf_counter() - w) / 2
    out["floor_cpu"] = (out["floor_cpu"] + time.process_time() - c) / 2
    return out


def _median_rep(reps: list[dict[str, float]], key: str, floor: str) -> dict[str, float]:
    return sorted(reps, key=lambda r: r[key] / r[floor])[len(reps) // 2]


def stitch_figures(tmp: Path, segs: list[Path], n_seg: int, n_reps: int) -> list[Figure]:
    reps = [_stitch_rep(tmp, segs, i) for i in range(n_reps)]
    size = f"{SEG_SIZE[0]}x{n_seg * (SEG_SIZE[1] - SEG_OVERLAP)}"
    of = f" (median of {n_reps})" if n_reps > 1 else ""
    auto, bundled = _median_rep(reps, "auto", "floor"), _median_rep(reps, "bundled", "floor")
    cpu = _median_rep(reps, "auto_cpu", "floor_cpu")
    return [
        Figure(
            f"stitch a {size} line-scan part ({n_seg} segments, auto overlap){of}",
            auto["auto"],
            "s",
            "Pillow decode of the segments once",
            auto["floor"],
            "target <= 1.5x",
        ),
        Figure(
            "  same part, bundled line-scan profile (overlap_px = 0)",
            bundled["bundled"],
            "s",
            "Pillow decode of the segments once",
            bundled["floor"],
            "target <= 1.5x",
        ),
        Figure(
            "  same part (auto), CPU time of this process",
            cpu["auto_cpu"],
            "s",
            "CPU time of the Pillow decode",
            cpu["floor_cpu"],
        ),
    ]


def run(quick: bool) -> list[Figure]:
    n_jpeg, n_tiff, n_seg = (60, 8, 4) if quick else (300, 60, 24)
    figures = []
    with tempfile.TemporaryDirectory(prefix="qclabel-bench-ingest-") as tmp:
        tmp = Path(tmp)
        for name in ("jpeg", "tiff", "seg"):
            (tmp / name).mkdir()
        jpegs = make_jpegs(tmp / "jpeg", n_jpeg)
        floor = pillow_floor(jpegs)
        took = timed_ingest(tmp / "p1", tmp / "jpeg", "area-scan", {})
        figures.append(_figure("ingest 5 MP JPEGs", took, floor, n_jpeg, "target <= 1.5x"))
        figures.append(
            Figure(
                "ingest 5 MP JPEGs: images per second",
                n_jpeg / took,
                "img/s",
                "Pillow decode, images per second",
                n_jpeg / floor,
            )
        )
        tiffs = make_tiffs(tmp / "tiff", n_tiff)
        reps = []
        for i in range(1 if quick else STITCH_REPS):
            floor = pillow_floor(tiffs)
            took = timed_ingest(tmp / f"p2-{i}", tmp / "tiff", "xray", {})
            reps.append({"took": took, "floor": (floor + pillow_floor(tiffs)) / 2})
        tiff = _median_rep(reps, "took", "floor")
        name = "ingest 16-bit 4 MP TIFFs, auto window" + (" (median of 3)" if not quick else "")
        figures.append(_figure(name, tiff["took"], tiff["floor"], n_tiff))
        segs, arrays = make_segments(tmp / "seg", n_seg)
        figures += stitch_figures(tmp, segs, n_seg, 1 if quick else STITCH_REPS)
        figures.append(overlap_figure(arrays))
        figures.append(encode_figure(arrays))
    return figures
