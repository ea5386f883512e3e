"""Project folder: config contents, defaults, permissions for a shared plant server."""

from __future__ import annotations

import tomllib
from pathlib import Path

from qclabel.project import DEFAULT_QA, FORMAT_VERSION, Project


def test_config_is_human_readable_toml(project: Project) -> None:
    text = project.config_path.read_text()
    assert text.startswith("# qclabel project config")
    cfg = tomllib.loads(text)
    assert cfg["qclabel"]["format_version"] == FORMAT_VERSION
    assert cfg["qclabel"]["created_by"] == "admin"
    assert cfg["roles"] == {"admin": ["admin"], "annotator": [], "reviewer": [], "adjudicator": []}
    assert cfg["qa"]["dual_first_n"] == DEFAULT_QA["dual_first_n"]
    assert "line-scan" in cfg["profiles"]  # the taxonomy file's source profiles
    assert cfg["taxonomy"]["name"] == "metal-stamping"


def test_settings_merge_with_defaults(project: Project) -> None:
    project.config["qa"] = {"spot_check_rate": 0.5, "targets": {"box_iou": 0.9}}
    project.config["limits"] = {"max_pixels": 10}
    project.save_config()
    again = Project.open(project.root)
    assert again.qa["spot_check_rate"] == 0.5 and again.qa["dual_first_n"] == 300
    assert again.qa["targets"] == {**DEFAULT_QA["targets"], "box_iou": 0.9}
    assert again.limits["max_pixels"] == 10


def test_files_stay_readable_by_the_other_annotators(project: Project) -> None:
    """Annotators are different OS users: they must read the config and create their
    own journal in labels/ (group-writable, setgid to keep the folder's group, sticky so
    nobody deletes or renames over another person's file)."""
    assert project.config_path.stat().st_mode & 0o777 == 0o644
    project.add_role("admin", "ann", "annotator")
    assert project.config_path.stat().st_mode & 0o777 == 0o644
    assert (project.root / "labels").stat().st_mode & 0o7777 == 0o3770
    assert (project.root / "roles").stat().st_mode & 0o7777 == 0o3775
    assert project.root.stat().st_mode & 0o7777 == 0o3770


def test_admin_holds_every_role(project: Project) -> None:
    assert project.roles_of("admin") == {"admin", "annotator", "reviewer", "adjudicator"}
    assert project.roles_of("nobody") == set()
    project.add_role("admin", "rev", "reviewer")
    assert project.has_role("rev", "reviewer") and not project.has_role("rev", "adjudicator")


def test_init_in_an_existing_folder_keeps_its_files(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "notes.txt").write_text("keep")
    Project.init(tmp_path / "p", "pcb-solder", user="qe")
    assert (tmp_path / "p" / "notes.txt").read_text() == "keep"
