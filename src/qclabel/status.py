"""Project status figures: images, labels per class, per annotator, per state."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .project import Project

STATES = ("unlabeled", "labeled", "flagged", "skipped")


def project_status(project: Project, viewer: str | None = None) -> dict[str, Any]:
    """With `viewer`, labels that viewer may not see yet (another annotator's labels of a
    blind dual image, see qa.blind) are left out of every count, and the per-annotator
    lines are the viewer's own unless the viewer is an adjudicator (or admin).
    `consistency` counts images per rule (core.consistency) of the visible labels.

    Without the cycle collector: at 1M images the states hold millions of objects, none
    of them cyclic, and each full collection walked all of them (half the counting)."""
    from .store.labels import no_gc

    with no_gc():
        return _status(project, viewer)


def _status(project: Project, viewer: str | None) -> dict[str, Any]:
    from .check import project_findings, rule_counts

    catalog = project.store.catalog
    states = project.store.all_states()
    hidden = _hider(project, viewer, states)
    labels = {user: state.annotations("label") for user, state in states.items()}
    per_annotator: dict[str, dict[str, int]] = {}
    per_class: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    image_state: dict[str, str] = {}
    sees_all = viewer is None or _sees_all(project, viewer)
    for user, anns in labels.items():
        # the viewer's own labels, or everyone's for those who see all, hide nothing
        if sees_all or user == viewer:
            visible = anns
        else:
            visible = {i: a for i, a in anns.items() if not hidden(user, i)}
        # equal labels share one Annotation (store.labels): its facts once, times its count
        distinct = {id(a): a for a in visible.values()}
        facts = {k: (a.state, a.classes(), a.verdict) for k, a in distinct.items()}
        counts: Counter[str] = Counter()
        for k, n in Counter(map(id, visible.values())).items():
            state, classes, verdict = facts[k]
            counts[state] += n
            for c in classes:
                per_class[c] += n
            if verdict:
                verdicts[verdict] += n
        states_of = {k: f[0] for k, f in facts.items()}
        if len(set(states_of.values())) == 1:  # one state for all (say, all labeled)
            mine = dict.fromkeys(visible, next(iter(states_of.values())))
        else:
            mine = {i: states_of[id(a)] for i, a in visible.items()}
        if not image_state:
            image_state = mine
        else:
            for image, state in mine.items():
                image_state[image] = _merge_state(image_state.get(image, "unlabeled"), state)
        per_annotator[user] = {s: counts.get(s, 0) for s in STATES[1:]}
    if not sees_all:
        per_annotator = {u: c for u, c in per_annotator.items() if u == viewer}
    # per-image states for labeled images only (those still in the catalog: counted
    # there, one query per state); the rest of the catalog is unlabeled
    from .store.catalog_queue import count_in

    of_state: dict[str, list[str]] = {}
    if len(set(image_state.values())) == 1:
        of_state[next(iter(image_state.values()))] = list(image_state)
    else:
        for image, state in image_state.items():
            of_state.setdefault(state, []).append(image)
    by_state = Counter({s: count_in(catalog, ids) for s, ids in of_state.items()})
    total = len(catalog)
    by_state["unlabeled"] += total - sum(by_state.values())
    return {
        "project": project.name,
        "root": str(project.root),
        "taxonomy": project.taxonomy.name,
        "images": total,
        "states": {s: by_state.get(s, 0) for s in STATES},
        "classes": {c: per_class.get(c, 0) for c in project.taxonomy.class_names()},
        "verdicts": dict(verdicts),
        "annotators": per_annotator,
        "consistency": rule_counts(project_findings(project, viewer, states, hidden, labels)),
        "audit_findings": _audit_findings(project, viewer, states),
        "planted_files": _planted(project),
    }


def _planted(project: Project) -> list[str]:
    """Files in labels/ and roles/ not owned by the user they are named for (and a
    misowned config or catalog): nothing of them is read, but someone planted them."""
    from .store.folders import check_setup

    checks = check_setup(project.root, project.config["qclabel"].get("privileged_group"))
    return [
        c.line for c in checks if not c.ok and (": owned by" in c.line or "symbolic link" in c.line)
    ]


def _audit_findings(project: Project, viewer: str | None, states: dict) -> list[str]:
    """Every damage finding (and every event not honoured for want of its role) for
    those who see everything; others get their own journal's in full and only the owner
    of any other damaged journal (its line numbers would tell how many events it holds)."""
    out = []
    full = viewer is None or _sees_all(project, viewer)
    for user, state in states.items():
        refused = [
            f"labels/{user}.jsonl: {kind} event (seq {seq}, {ts}) on image {image} by "
            f"{user}, who lacked the role it needs then: not honoured"
            for kind, image, seq, ts in state.unauthorized
        ]
        if full or user == viewer:
            out += [str(d) for d in state.damage] + refused
        elif state.damage or refused:
            out.append(f"the journal of {user} has findings (an adjudicator or admin sees where)")
    return out


def _sees_all(project: Project, viewer: str) -> bool:
    from .qa.blind import sees_everything

    return sees_everything(project, viewer)


def _hider(project: Project, viewer: str | None, states: dict):
    if viewer is None:
        return lambda owner, image: False
    from .qa.blind import hider

    return hider(project, viewer, states)


_ORDER = {"flagged": 3, "labeled": 2, "skipped": 1, "unlabeled": 0}


def _merge_state(current: str, new: str) -> str:
    """An image's overall state: flagged by anyone wins, then labeled, then skipped."""
    return current if _ORDER[current] >= _ORDER[new] else new


def format_status(s: dict[str, Any]) -> str:
    lines = [
        f"project   {s['project']}  ({s['root']})",
        f"taxonomy  {s['taxonomy']}",
        f"images    {s['images']}",
        "states    " + "  ".join(f"{k} {v}" for k, v in s["states"].items()),
    ]
    if s["verdicts"]:
        lines.append("verdicts  " + "  ".join(f"{k} {v}" for k, v in s["verdicts"].items()))
    lines.append("classes")
    width = max((len(c) for c in s["classes"]), default=0)
    lines += [f"  {c:<{width}}  {n}" for c, n in s["classes"].items()]
    found = {r: n for r, n in s.get("consistency", {}).items() if n}
    lines.append(
        "checks    "
        + (
            "  ".join(f"{r} {n}" for r, n in found.items()) + "  (qclabel check lists them)"
            if found
            else "consistent"
        )
    )
    lines.append("annotators" + ("" if s["annotators"] else "  (none yet)"))
    for user, counts in s["annotators"].items():
        lines.append(f"  {user}: " + "  ".join(f"{k} {v}" for k, v in counts.items()))
    if s.get("planted_files"):
        lines.append(
            f"files     {len(s['planted_files'])} file(s) planted under another "
            f"user's name: run `qclabel permissions {s['root']}`"
        )
    if s["audit_findings"]:
        lines.append(
            f"audit     the project has audit findings ({len(s['audit_findings'])}): "
            f"run `qclabel audit verify {s['root']}`"
        )
    return "\n".join(lines)
