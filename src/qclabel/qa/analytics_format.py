"""Annotator analytics as text (terminal) or Markdown (a shift hand-over, a wiki page)."""

from __future__ import annotations

from typing import Any

from .report_format import _md_table, _text_table

COLUMNS = (
    ("images", "images", False),
    ("objects", "objects", False),
    ("seconds_per_image", "s/image", False),
    ("agreement_other", "agree (pair)", True),
    ("agreement_final", "agree (final)", True),
    ("golden_accuracy", "golden", True),
    ("correction_rate", "corrected", True),
)
DRIFT_NOTE = 0.05  # a share that moved this much against the earlier weeks is marked


def _cell(v: Any, share: bool) -> str:
    if v is None:
        return "-"
    return f"{v * 100:.0f} %" if share else (f"{v:g}" if isinstance(v, float) else str(v))


def week_rows(a: dict[str, Any]) -> list[list[str]]:
    head = ["week", *(title for _, title, _ in COLUMNS)]
    rows = [[w, *(_cell(f[k], s) for k, _, s in COLUMNS)] for w, f in a["weeks"].items()]
    rows.append(["all", *(_cell(a["totals"][k], s) for k, _, s in COLUMNS)])
    return [head] + rows


def task_line(a: dict[str, Any]) -> str:
    tasks = a["totals"]["seconds_by_task"]
    return "seconds per image by task: " + (
        ", ".join(f"{t} {s:g}" for t, s in tasks.items()) or "-"
    )


def drift_line(a: dict[str, Any]) -> str:
    parts = []
    for key, title, share in COLUMNS:
        d = a["drift"].get(key)
        if not d:
            continue
        mark = ""
        if share and abs(d["change"]) >= DRIFT_NOTE:
            mark = " (down)" if d["change"] < 0 else " (up)"
        parts.append(f"{title} {_cell(d['last'], share)} vs {_cell(d['before'], share)}{mark}")
    return "drift, last week vs the weeks before: " + ("; ".join(parts) or "one week only")


def confusion_rows(a: dict[str, Any]) -> list[list[str]]:
    finals = sorted({f for row in a["confusion"].values() for f in row})
    return [["mine \\ final", *finals]] + [
        [mine, *(str(row.get(f, 0)) for f in finals)] for mine, row in a["confusion"].items()
    ]


def format_analytics(data: dict[str, Any], fmt: str = "text") -> str:
    table = _md_table if fmt == "md" else _text_table
    title = f"Annotator analytics: {data.get('project', '')}".rstrip(": ")
    lines = [
        f"# {title}" if fmt == "md" else title,
        f"(idle gaps over {data['idle_s']:g} s are not counted as labeling time)",
    ]
    for user, a in data["annotators"].items():
        lines += ["", f"## {user}" if fmt == "md" else f"{user}:"]
        lines += table(week_rows(a))
        lines += [
            ("- " if fmt == "md" else "  ") + task_line(a),
            ("- " if fmt == "md" else "  ") + drift_line(a),
        ]
        if a["confusion"]:
            lines += [
                "",
                "### confusion against finals"
                if fmt == "md"
                else "  confusion against finals (rows: mine, columns: final):",
            ]
            lines += table(confusion_rows(a))
    if not data["annotators"]:
        lines.append("no labels yet")
    return "\n".join(lines) + "\n"
