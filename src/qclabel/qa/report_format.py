"""The QA report as text (terminal) or Markdown (a shift hand-over, a wiki page)."""

from __future__ import annotations

from typing import Any

from .mask_report import class_rows, headline as mask_headline

MAX_DISAGREEMENTS = 50


def _f(v: Any, pct: bool = False) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v * 100:.1f} %" if pct else f"{v:.3f}"
    return str(v)


def _ci(ci: list[float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


def _mark(ok: bool | None) -> str:
    return {True: "OK", False: "BELOW TARGET", None: "no data"}[ok]


def rows(report: dict[str, Any]) -> dict[str, list[list[str]]]:
    """Every table of the report as rows of strings (first row = header)."""
    checks = [["metric", "value", "target", "status"]] + [
        [c["metric"], _f(c["value"]), f"{c['op']} {c['target']:g}", _mark(c["ok"])]
        for c in report["checks"]
    ]
    stats = [["statistic", "verdict", "95 % CI", "class", "95 % CI"]]
    v, c = report["classification"]["verdict"], report["classification"]["class"]
    for m, name in (
        ("percent", "percent agreement"),
        ("kappa", "Cohen's kappa"),
        ("ac1", "Gwet's AC1"),
        ("pabak", "PABAK"),
    ):
        stats.append([name, _f(v[m]), _ci(v["ci"].get(m)), _f(c[m]), _ci(c["ci"].get(m))])
    pairs, tasks = (
        _group_rows(report[key], title)
        for key, title in (("per_pair", "pair"), ("per_task", "task"))
    )
    classes = [
        [
            "class",
            "images",
            "both",
            "one only",
            "pos. agreement",
            "AC1",
            "box IoU",
            "missing",
            "extra",
        ]
    ] + [
        [
            k,
            str(p["images_with_class"]),
            str(p["both"]),
            str(p["one_only"]),
            _f(p["positive_agreement"], True),
            _f(p["ac1"]),
            _f(p["box_mean_iou"]),
            str(p["missing"]),
            str(p["extra"]),
        ]
        for k, p in report["per_class"].items()
    ]
    dis = [["image", "annotators", "kind", "detail", "resolved"]] + [
        [
            d.get("file", d["image"]),
            " / ".join(d["annotators"]),
            d["kind"],
            d["detail"],
            "yes" if d["resolved"] else "no",
        ]
        for d in report["disagreements"][:MAX_DISAGREEMENTS]
    ]
    golden = [["annotator", "golden answers", "correct", "accuracy", "95 % CI", "status"]] + [
        [
            a["annotator"],
            str(a["answers"]),
            str(a["correct"]),
            _f(a["accuracy"], True),
            _ci(a["ci"]),
            "FLAGGED" if a["flagged"] else "ok",
        ]
        for a in report.get("golden", {}).get("annotators", [])
    ]
    out = {
        "checks": checks,
        "statistics": stats,
        "pairs": pairs,
        "tasks": tasks,
        "classes": classes,
        "golden": golden,
        "disagreements": dis,
    }
    if report.get("masks", {}).get("per_class"):
        out["masks per class"] = class_rows(report["masks"])
    return out


def _group_rows(groups: dict[str, Any], title: str) -> list[list[str]]:
    return [[title, "images", "agreed", "verdict %", "kappa", "AC1", "class %", "box IoU"]] + [
        [
            k,
            str(p["images"]),
            str(p["agreed"]),
            _f(p["verdict_percent"], True),
            _f(p["verdict_kappa"]),
            _f(p["verdict_ac1"]),
            _f(p["class_percent"], True),
            _f(p["boxes"]["mean_iou"]),
        ]
        for k, p in groups.items()
    ]


def confusion_rows(report: dict[str, Any]) -> list[list[str]]:
    c = report["classification"]["class"]
    return [["A \\ B", *c["categories"]]] + [
        [cat, *map(str, row)] for cat, row in zip(c["categories"], c["confusion"])
    ]


def _headline(report: dict[str, Any]) -> list[str]:
    b, k, s = report["boxes"], report["keypoints"], report["severity"]
    lines = [
        f"dual-annotated images {report['images']}, agreed {report['agreed']}, "
        f"disagreements {len(report['disagreements'])}"
        + (
            f", dual images still being labeled {report['pending_dual']}"
            if "pending_dual" in report
            else ""
        )
    ]
    if b["matched_pairs"] or b["missing"] or b["extra"]:
        lines.append(
            f"boxes: matched pairs {b['matched_pairs']}, mean IoU {_f(b['mean_iou'])}, "
            f"at target {_f(b['share_at_target'], True)}, only A {b['missing']}, "
            f"only B {b['extra']}, class mismatch {b['class_mismatch']}"
        )
    lines += mask_headline(report["masks"]) if "masks" in report else []
    if k["points"]:
        lines.append(
            f"keypoints: {k['points']} points, mean {_f(k['mean_px'])} px, "
            f"within target {_f(k['pck'], True)}, OKS {_f(k['oks'])}"
        )
    if s.get("n"):
        lines.append(f"severity: {s['n']} pairs, agreement {_f(s.get('percent'), True)}")
    if report["worst_classes"]:
        lines.append("worst classes: " + ", ".join(report["worst_classes"]))
    if report.get("golden", {}).get("flagged"):
        g = report["golden"]
        lines.append(
            f"flagged by golden accuracy (below {g['settings']['golden_min'] * 100:g} %): "
            + ", ".join(g["flagged"])
        )
    if report["worst_annotators"]:
        lines.append(
            "annotators by agreement: "
            + ", ".join(
                f"{r['annotator']} {r['share'] * 100:.0f} %" for r in report["worst_annotators"]
            )
        )
    return lines


def _text_table(table: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]


def _md_table(table: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    return out + ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in table[1:]]


def format_report(report: dict[str, Any], fmt: str = "text") -> str:
    tables = rows(report)
    if report["classification"]["class"]["n"]:
        tables["confusion (class, A rows, B columns)"] = confusion_rows(report)
    table = _md_table if fmt == "md" else _text_table
    title = f"QA report: {report.get('project', '')}".rstrip(": ")
    lines = [f"# {title}" if fmt == "md" else title, ""]
    lines += [f"- {line}" if fmt == "md" else line for line in _headline(report)]
    for name, t in tables.items():
        if len(t) == 1:
            continue
        lines += ["", f"## {name}" if fmt == "md" else f"{name}:"]
        lines += table(t)
    if len(report["disagreements"]) > MAX_DISAGREEMENTS:
        lines.append(
            f"(first {MAX_DISAGREEMENTS} of {len(report['disagreements'])} "
            "disagreements; --format json lists all)"
        )
    return "\n".join(lines) + "\n"
