"""A project set up as the README's guarantees section says, with real OS users, for the
blindness attacks (tests/test_blind_attack_*.py):

    ADM  owner and admin (PROJ, PRIV)           ADJ  adjudicator (PROJ, PRIV)
    AN1  annotator (PROJ)                       AN2  annotator (PROJ)

Dual images 0-3 (dual_first_n = 4): AN1 labels 0 (scratch) and 1 (dent); AN2, when
asked, labels 0 (crack), 1 (dent), 2 (porosity) and 3 (pass). Each step runs in a
forked child that dropped root for one of these users (test_file_attacks.as_os).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from qclabel.core import edits
from qclabel.core.model import Box
from qclabel.ingest import ingest_paths
from qclabel.project import Project
from test_file_attacks import as_os
from test_qa_support import write_images

# Names of this process's own (pytest -n 2 runs two modules at once, each making users)
_TAG = f"{os.getpid() % 100000}"
ADM, ADJ, AN1, AN2 = (f"bx{role}{_TAG}" for role in ("adm", "adj", "an1", "an2"))
PROJ, PRIV = f"bxproj{_TAG}", f"bxpriv{_TAG}"
USERS = {ADM: f"{PROJ},{PRIV}", ADJ: f"{PROJ},{PRIV}", AN1: PROJ, AN2: PROJ}
GROUPS = (PROJ, PRIV)
SECRETS = ("crack", "porosity", AN2)

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None,
    reason="needs root and useradd to create the OS users the attacks are made by",
)


def make_users() -> Iterator[None]:
    """The users and groups (a module fixture's body); removed afterwards."""
    from os_users import users_and_groups

    yield from users_and_groups(USERS, GROUPS, _warm_up)


def _warm_up() -> None:
    """The children cannot read this Python's standard library (it lives under /root):
    run the steps once as root, so that every module they need is imported already."""
    import scipy.optimize  # noqa: F401  (the QA report's, loaded when it first runs)
    import scipy.stats  # noqa: F401
    from os_users import preload

    preload()
    with tempfile.TemporaryDirectory() as tmp:
        p = Project.init(Path(tmp) / "p", "metal-stamping")
        ingest_paths(p, [write_images(Path(tmp) / "i", 4)], workers=1)
        p.config["qa"].update(dual_first_n=4)
        p.save_config()
        label(p.root, 0, "crack")
        for args in (("status", "DIR", "--json"), ("version", "create", "DIR", "w")):
            cli(p.root, *args)
        cli(p.root, "version", "show", "DIR", "w")
        cli(p.root, "audit", "verify", "DIR")


def _setup(base: Path, images: Path) -> str:
    root = base / "proj"
    root.mkdir()
    os.chown(root, -1, grp.getgrnam(PROJ).gr_gid)
    p = Project.init(root, "metal-stamping", privileged_group=PRIV)
    for user in (AN1, AN2):
        p.add_role(ADM, user, "annotator")
    p.add_role(ADM, ADJ, "adjudicator")
    p.config["qa"].update(dual_first_n=4, spot_check_rate=0.0)
    p.save_config()
    ingest_paths(p, [images], workers=1)
    return str(root)


def project(with_b: bool) -> Iterator[Path]:
    """A fresh project (a fixture's body); AN2's labels only `with_b`."""
    base = Path(tempfile.mkdtemp(prefix="bx-", dir="/tmp"))
    try:
        base.chmod(0o755)
        images = write_images(base / "images", 6)
        os.chown(base, pwd.getpwnam(ADM).pw_uid, -1)
        root = Path(as_os(ADM, _setup, base, images))
        as_os(AN1, label, root, 0, "scratch")
        as_os(AN1, label, root, 1, "dent")
        if with_b:
            for n, what in enumerate(("crack", "dent", "porosity", "pass")):
                as_os(AN2, label, root, n, what)
        yield root
    finally:
        shutil.rmtree(base, ignore_errors=True)


def label(root: Path, n: int, what: str) -> str:
    """Label image n as the current OS user: `pass`, or a class with one box."""
    p = Project.open(root)
    image = p.store.catalog.ids()[n]
    me = pwd.getpwuid(os.geteuid()).pw_name
    steps = [edits.set_verdict("pass")]
    if what != "pass":
        steps = [
            edits.set_class(what, "major"),
            edits.add_box(Box(what, 2, 2, 10, 6, "major", id=f"b{n}")),
        ]
    with p.store.open_session(me) as s:
        s.commit(edits.apply(image, s.annotation(image), *steps))
    return image


def cli(root: Path, *args: str) -> tuple[int, str]:
    """`qclabel ARGS` as the current OS user, DIR standing for the project: (exit code,
    output)."""
    from click.testing import CliRunner

    from qclabel.cli import main

    r = CliRunner().invoke(main, [str(root) if a == "DIR" else a for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.output


def read(path: Path) -> Any:
    """The file's bytes as the current OS user, or the name of the error."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        return type(exc).__name__
