"""`versions.json` holds every version's final labels: the agreed dual images with both
annotators' names, the images only the other annotator labeled, the QA figures and
the worst classes. In a project with a privileged group it is readable by that group
only, like the journals: `version show` being refused meant nothing while `cat` read
the file. Real OS users (tests/blind_attack_setup.py)."""

from __future__ import annotations

import grp
import json

import pytest

from blind_attack_setup import ADJ, ADM, AN1, AN2, PRIV, SECRETS, cli, needs_root
from blind_attack_setup import project, read
from qclabel import api
from qclabel.errors import PermissionDenied
from qclabel.project import Project
from qclabel.tui.labeling import POSITION_DOC
from test_file_attacks import as_os

pytestmark = needs_root


@pytest.fixture
def both(blind_users):
    for root in project(with_b=True):
        code, out = as_os(ADM, cli, root, "version", "create", "DIR", "v1")
        assert code == 0, out
        yield root


def _api_versions(root) -> list[object]:
    return api.open_project(root).versions()


def test_an_annotator_cannot_read_the_manifests(both):
    path = both / "versions.json"
    assert any(w.encode() in path.read_bytes() for w in SECRETS)  # what is at stake
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.stat().st_gid == grp.getgrnam(PRIV).gr_gid
    assert as_os(AN1, read, path) == "PermissionError"
    assert isinstance(as_os(ADJ, read, path), bytes)


def test_an_annotators_version_list_is_one_refusal(both):
    for args in ((), ("--json",)):
        code, out = as_os(AN1, cli, both, "version", "list", "DIR", *args)
        assert code == 3 and len(out.splitlines()) == 1, out
        assert "privileged group" in out and not any(w in out for w in SECRETS)
    with pytest.raises(PermissionDenied, match="privileged group"):
        as_os(AN1, _api_versions, both)


def test_the_privileged_read_the_versions_as_before(both):
    code, out = as_os(ADJ, cli, both, "version", "list", "DIR", "--json")
    assert code == 0 and [r["name"] for r in json.loads(out)] == ["v1"]
    assert json.loads(out)[0]["images"] == 3
    code, out = as_os(ADJ, cli, both, "version", "show", "DIR", "v1")
    assert code == 0 and "crack" in out
    assert [v.images for v in as_os(ADJ, _api_versions, both)] == [3]
    # a second version keeps the file private
    assert as_os(ADM, cli, both, "version", "create", "DIR", "v2")[0] == 0
    assert (both / "versions.json").stat().st_mode & 0o777 == 0o640
    assert as_os(AN1, read, both / "versions.json") == "PermissionError"


def _save_position(root, image: str) -> None:
    """What the labeling app does on quit (LabelingSession.save_position)."""
    doc = Project.open(root).store.documents(f"labels/{AN2}.ui")
    doc.put(POSITION_DOC, {"image": image, "queue": "plan"})


def test_the_image_an_annotator_is_on_is_theirs_to_read(blind_users):
    """`labels/USER.ui.json` names the image on screen: how far through the dual images
    its user is. Mode 0640 like the journal, not 0644."""
    for root in project(with_b=False):
        as_os(AN2, _save_position, root, "0507748e545f8819")
        path = root / "labels" / f"{AN2}.ui.json"
        assert path.stat().st_mode & 0o777 == 0o640
        assert as_os(AN1, read, path) == "PermissionError"
        assert b"0507748e545f8819" in as_os(ADJ, read, path)
