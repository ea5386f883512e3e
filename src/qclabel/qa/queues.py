"""Published queues: the plan as each user receives it, with golden images mixed in.

`qclabel qa plan DIR --publish` (an admin; the pipeline does it on every run) writes
`queues/USER.json` for every annotator and reviewer:

    {"user": "ann1", "catalog": 1200, "notice": "...", "items": [{"image": ID, "role": R}]}

An annotator's items are the plan's images for them, with golden images interleaved
at `[qa] golden_rate` (one golden image per 1/rate own images, at least one). Nothing
in the file says which items are golden, and the annotator's process reads only this
file and its own journal, never the admins' journals where the references are. What
the user has labeled (or reviewed) already is left out by their own process, when it
reads the file: nothing in a file depends on anyone's labels, so another annotator
who can read it (the files are 0644: the admin who writes them cannot give them to
their user) learns nothing of what its user has labeled. The one exception is the
notice of a flagged annotator (their golden accuracy, for their home screen), which
whoever reads the file reads too. A user's golden images are
as many as their whole workload calls for (the ones they have answered count, and
their process leaves those out), taken in their own order of the references (a hash
of seed, user and image), those fewer queues have first: within one publication each
golden image goes to as few queues as it can. A flagged annotator under
`golden_action = "calibration"` keeps their images, and each one also goes to a
second annotator (dual again).

Images ingested after the publication (catalog position beyond `catalog`) come from
the computed plan until the next publication. A file is rewritten only when its
content changes, so publishing twice with nothing new leaves every byte as it was.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from ..project import Project
from ..store.atomic import atomic_write_bytes
from . import golden
from .plan import Plan, QueueItem, build_plan

QUEUES_DIR = "queues"


def queue_path(project: Project, user: str) -> Path:
    from ..store.labels import check_user

    return project.root / QUEUES_DIR / f"{check_user(user)}.json"


def read_published(project: Project, user: str) -> dict[str, Any] | None:
    path = queue_path(project, user)
    try:
        doc = json.loads(path.read_bytes())
    except (FileNotFoundError, PermissionError):
        return None
    except (OSError, ValueError):
        return None  # a damaged file: fall back to the computed plan
    return doc if isinstance(doc, dict) and doc.get("user") == user else None


def publish(project: Project, actor: str, dry_run: bool = False) -> dict[str, bool]:
    """Write every user's queue; returns user -> whether the file changed."""
    project.require(actor, "admin", "publish the QA plan")
    docs = build_queues(project)
    changed = {}
    for user, doc in docs.items():
        data = (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()
        path = queue_path(project, user)
        old = path.read_bytes() if path.exists() else None
        changed[user] = old != data
        if changed[user] and not dry_run:
            path.parent.mkdir(exist_ok=True)
            atomic_write_bytes(path, data)
    return changed


def build_queues(project: Project) -> dict[str, dict[str, Any]]:
    states = project.store.all_states()
    plan = build_plan(project)
    refs = golden.golden_set(project, states)
    cfg = golden.settings(project)
    acc = golden.accuracy(project, states)
    own = _own_items(plan, refs, acc, cfg)
    given: Counter[Any] = Counter()  # golden images handed out by this publication
    out = {}
    for user in sorted(set(plan.annotators) | set(plan.reviewers)):
        items = [{"image": i, "role": "annotator"} for i in own.get(user, [])]
        items = _mix_golden(items, user, refs, given, cfg, project.qa["seed"])
        items += [
            {"image": a.image, "role": "reviewer"}
            for a in plan.assignments.values()
            if a.reviewer == user
        ]
        flag = acc.get(user)
        out[user] = {
            "user": user,
            "catalog": len(project.store.catalog),
            "items": items,
            "notice": golden.flag_message(flag, cfg) if flag and flag.flagged else "",
        }
    return out


def _own_items(
    plan: Plan,
    refs: dict[Any, Any],
    acc: dict[Any, Any],
    cfg: dict[str, Any],
) -> dict[str, list[str]]:
    """Each annotator's planned images; a flagged annotator's single images also go to
    the next unflagged annotator under "calibration"."""
    flagged = {u for u, a in acc.items() if a.flagged}
    helpers = [u for u in plan.annotators if u not in flagged]
    out: dict[str, list[str]] = {u: [] for u in plan.annotators}
    turn = 0
    for a in plan.assignments.values():
        if a.image in refs:
            continue  # golden images are handed out as golden only
        who = list(a.annotators)
        if (
            cfg["golden_action"] == "calibration"
            and len(who) == 1
            and who[0] in flagged
            and helpers
        ):
            who.append(helpers[turn % len(helpers)])
            turn += 1
        for u in who:
            out.setdefault(u, []).append(a.image)
    return out


def _mix_golden(
    items: list[dict[Any, Any]],
    user: str,
    refs: dict[Any, Any],
    given: Counter[Any],
    cfg: dict[str, Any],
    seed: int,
) -> list[dict[Any, Any]]:
    if not items or not refs or cfg["golden_rate"] <= 0:
        return items
    open_refs = [i for i, r in refs.items() if user not in r.labelers]
    want = min(len(open_refs), max(1, math.floor(len(items) * cfg["golden_rate"])))
    chosen = sorted(open_refs, key=lambda i: (given[i], _h(seed, user, i)))[:want]
    given.update(chosen)
    out = list(items)
    # evenly spread, in an order only the hash knows; insert from the back so earlier
    # positions stay where they were computed
    order = sorted(chosen, key=lambda i: _h(seed, "at", user, i))
    for k in reversed(range(want)):
        at = round((k + 1) * len(items) / (want + 1))
        out.insert(at, {"image": order[k], "role": "annotator"})
    return out


def _h(*parts: Any) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def _labeled(states: dict[Any, Any], user: str, image: str) -> bool:
    state = states.get(user)
    if state is None:
        return False
    ann = state.annotation(image)
    return ann.is_labeled or ann.flag is not None


def published_items(
    project: Project, user: str, own_state: Any, doc: dict[str, Any] | None = None
) -> list[QueueItem] | None:
    """The user's published items still to do (annotator items they have not labeled,
    reviewer items they have not reviewed: the file lists them done or not), or None
    when nothing is published for them; `doc`: the file, read already. At a million
    images a queue holds half a million items: the catalog is asked about all of them
    at once, and only the images the user's journal has an entry for are looked at."""
    doc = doc if doc is not None else read_published(project, user)
    if doc is None:
        return None
    listed = doc.get("items", [])
    listed = listed if type(listed) is list else []
    present = project.store.catalog.known(
        i["image"] for i in listed if type(i) is dict and type(i.get("image")) is str
    )
    entries = own_state.entries if own_state is not None else {}
    # what the user has done, from their own journal's entries (not an entry per item)
    done = {
        ("annotator", i)
        for k, i in entries
        if k == "label" and _labeled({user: own_state}, user, i)
    } | {
        ("reviewer", i)
        for k, i in entries
        if k == "review" and own_state.get(i, "review") is not None
    }
    pairs = [(i.get("image"), i.get("role")) for i in listed if type(i) is dict]
    return [
        QueueItem(image, role)
        for image, role in pairs
        if type(image) is str
        and image in present
        and type(role) is str
        and (role, image) not in done
    ]


def notices(project: Project, viewer: str) -> list[str]:
    """QA lines for the home screen: the viewer's own published notice, and for
    adjudicators and admins, every annotator flagged by golden accuracy."""
    out = []
    own = (read_published(project, viewer) or {}).get("notice")
    if own:
        out.append(own)
    if project.has_role(viewer, "adjudicator"):
        cfg = golden.settings(project)
        for user, acc in golden.accuracy(project).items():
            if acc.flagged:
                out.append(f"{user}: {golden.flag_message(acc, cfg)}")
    return out
