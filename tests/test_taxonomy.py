"""Taxonomy validation: every error names the file, the field and the bad value, and
`qclabel init` with a broken taxonomy creates nothing."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import pytest
import tomli_w
from click.testing import CliRunner

from qclabel.cli import main
from qclabel.core.taxonomy import RESERVED_KEYS, load_taxonomy
from qclabel.errors import ConfigError
from qclabel.project import BUNDLED_TAXONOMIES, Project


def bundled(name: str) -> dict[str, Any]:
    ref = resources.files("qclabel.taxonomies") / f"{name}.toml"
    return tomllib.loads(ref.read_text())


def base() -> dict[str, Any]:
    """A valid taxonomy file with two classes and a keypoint template."""
    return {
        "taxonomy": {
            "name": "t",
            "tasks": ["passfail", "box", "keypoint"],
            "classes": [
                {
                    "name": "scratch",
                    "hotkey": "1",
                    "colour": "#112233",
                    "severities": [{"name": "minor"}, {"name": "major"}],
                    "min_size": {"value": 0.5, "unit": "mm"},
                },
                {"name": "dent", "hotkey": "2", "criticality": "cosmetic", "min_size": 4},
            ],
            "keypoint_templates": [
                {
                    "name": "bracket",
                    "points": ["a", "b", "c"],
                    "skeleton": [["a", "b"]],
                    "tolerances": [{"from": "a", "to": "b", "nominal_mm": 40.0, "tol_mm": 0.5}],
                }
            ],
        }
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Mutator that sets a dotted/indexed path such as classes.1.hotkey."""

    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc["taxonomy"]
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if p.isdigit() else node[p]
        last = parts[-1]
        if value is _DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


_DELETE = object()

# (mutation, field named in the error, bad value shown in the error)
BAD = {
    "duplicate hotkey": (_set("classes.1.hotkey", "1"), "taxonomy.classes[1].hotkey", "'1'"),
    "hotkey is the pass key": (_set("classes.0.hotkey", "p"), "taxonomy.classes[0].hotkey", "'p'"),
    "reserved hotkey": (_set("classes.0.hotkey", "j"), "taxonomy.classes[0].hotkey", "'j'"),
    "hotkey of two characters": (
        _set("classes.0.hotkey", "12"),
        "taxonomy.classes[0].hotkey",
        "'12'",
    ),
    "hotkey not a string": (_set("classes.0.hotkey", 7), "taxonomy.classes[0].hotkey", "7"),
    "unknown default severity": (
        _set("classes.0.default_severity", "critical"),
        "taxonomy.classes[0].default_severity",
        "'critical'",
    ),
    "duplicate severity": (
        _set("classes.0.severities", ["minor", "minor"]),
        "taxonomy.classes[0].severities",
        "'minor'",
    ),
    "unknown criticality": (
        _set("classes.1.criticality", "critical"),
        "taxonomy.classes[1].criticality",
        "'critical'",
    ),
    "unknown unit": (
        _set("classes.0.min_size", {"value": 1, "unit": "cm"}),
        "taxonomy.classes[0].min_size.unit",
        "'cm'",
    ),
    "negative size": (_set("classes.1.min_size", -3), "taxonomy.classes[1].min_size.value", "-3"),
    "size not a number": (
        _set("classes.0.min_size", {"value": "big"}),
        "taxonomy.classes[0].min_size.value",
        "'big'",
    ),
    "bad colour": (_set("classes.0.colour", "red"), "taxonomy.classes[0].colour", "'red'"),
    "short colour": (_set("classes.0.colour", "#fff"), "taxonomy.classes[0].colour", "'#fff'"),
    "class name with spaces": (
        _set("classes.0.name", "Big Scratch"),
        "taxonomy.classes[0].name",
        "'Big Scratch'",
    ),
    "duplicate class name": (_set("classes.1.name", "scratch"), "taxonomy.classes", "'scratch'"),
    "class without name": (_set("classes.1.name", _DELETE), "taxonomy.classes[1].name", "None"),
    "unknown task": (_set("tasks", ["passfail", "polygon"]), "taxonomy.tasks[1]", "'polygon'"),
    "tasks not a list": (_set("tasks", "box"), "taxonomy.tasks", "'box'"),
    "no name": (_set("name", _DELETE), "taxonomy.name", "None"),
    "fail key equals pass key": (_set("fail_key", "p"), "taxonomy.fail_key", "'p'"),
    "skeleton names an unknown point": (
        _set("keypoint_templates.0.skeleton", [["a", "z"]]),
        "taxonomy.keypoint_templates[0].skeleton[0]",
        "['a', 'z']",
    ),
    "tolerance names an unknown point": (
        _set("keypoint_templates.0.tolerances.0.to", "q"),
        "taxonomy.keypoint_templates[0].tolerances[0].to",
        "'q'",
    ),
    "negative tolerance": (
        _set("keypoint_templates.0.tolerances.0.tol_mm", -0.1),
        "taxonomy.keypoint_templates[0].tolerances[0].tol_mm",
        "-0.1",
    ),
    "duplicate point": (
        _set("keypoint_templates.0.points", ["a", "b", "a"]),
        "taxonomy.keypoint_templates[0].points",
        "'a'",
    ),
    "template without points": (
        _set("keypoint_templates.0.points", []),
        "taxonomy.keypoint_templates[0].points",
        "()",
    ),
    "position of an unknown point": (
        _set("keypoint_templates.0.positions", [{"point": "x", "x": 1, "y": 2}]),
        "taxonomy.keypoint_templates[0].positions[0]",
        "'point': 'x'",
    ),
    "missing template for keypoint task": (
        _set("keypoint_templates", []),
        "taxonomy.keypoint_templates",
        "[]",
    ),
    "no classes for a box task": (_set("classes", []), "taxonomy.classes", "[]"),
}


def write_taxonomy(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(doc))
    return path


def test_base_taxonomy_is_valid(tmp_path: Path) -> None:
    path = write_taxonomy(tmp_path / "good.toml", base())
    project = Project.init(tmp_path / "p", path, user="qe")
    tax = project.taxonomy
    assert tax.class_names() == ["scratch", "dent"]
    assert tax.get("scratch").min_size.in_pixels(0.05) == pytest.approx(10.0)
    assert tax.get("dent").min_size.unit == "px"
    assert tax.template("bracket").skeleton == (("a", "b"),)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_taxonomy_names_file_field_and_value(tmp_path: Path, case: str) -> None:
    mutate, field, value = BAD[case]
    doc = copy.deepcopy(base())
    mutate(doc)
    path = write_taxonomy(tmp_path / "broken.toml", doc)
    with pytest.raises(ConfigError) as err:
        Project.init(tmp_path / "p", path, user="qe")
    message = str(err.value)
    assert str(path) in message
    assert err.value.field == field, message
    assert value in message, message
    assert not (tmp_path / "p").exists(), "a failed init must create nothing"


def test_reserved_keys_are_all_refused() -> None:
    for key in sorted(RESERVED_KEYS):
        doc = base()["taxonomy"]
        doc["classes"][0]["hotkey"] = key
        with pytest.raises(ConfigError, match="reserved"):
            load_taxonomy(doc, "x.toml")


def test_not_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[taxonomy\nname = 'x'\n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        Project.init(tmp_path / "p", path, user="qe")
    assert str(path) in str(err.value)
    assert not (tmp_path / "p").exists()


def test_missing_taxonomy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        Project.init(tmp_path / "p", tmp_path / "nope.toml", user="qe")
    assert not (tmp_path / "p").exists()


def test_cli_init_with_broken_taxonomy_fails_and_creates_nothing(tmp_path: Path) -> None:
    doc = base()
    doc["taxonomy"]["classes"][1]["hotkey"] = "1"
    path = write_taxonomy(tmp_path / "broken.toml", doc)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "p"), "--taxonomy", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert str(path) in result.output
    assert "taxonomy.classes[1].hotkey = '1': duplicate hotkey" in result.output
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("name", BUNDLED_TAXONOMIES)
def test_bundled_taxonomies_load(tmp_path: Path, name: str) -> None:
    project = Project.init(tmp_path / name, name, user="qe")
    assert project.taxonomy.name == name
    again = Project.open(tmp_path / name)  # the config written holds the same taxonomy
    assert again.taxonomy == project.taxonomy
    hotkeys = [c.hotkey for c in project.taxonomy.classes]
    assert len(set(hotkeys)) == len(hotkeys)


def test_metal_stamping_is_an_inspection_guide() -> None:
    tax = load_taxonomy(bundled("metal-stamping")["taxonomy"], "metal-stamping.toml")
    assert tax.class_names() == ["scratch", "dent", "crack", "porosity", "burr", "contamination"]
    assert tax.get("crack").criticality == "safety-critical"
    assert all(c.severities and c.min_size for c in tax.classes)
    assert tax.get("scratch").min_size.in_pixels(0.05) == pytest.approx(10.0)
    assert tax.get("contamination").min_size.in_pixels(None) == 8  # px needs no calibration
    assert tax.get("scratch").min_size.in_pixels(None) is None  # mm without calibration


def test_pcb_and_assembly_taxonomies() -> None:
    pcb = load_taxonomy(bundled("pcb-solder")["taxonomy"], "pcb-solder.toml")
    assert pcb.class_names() == ["good", "cold", "bridged", "insufficient"]
    asm = load_taxonomy(bundled("assembly-keypoints")["taxonomy"], "assembly-keypoints.toml")
    assert asm.has_task("keypoint")
    bracket = asm.template("bracket")
    assert {"hole_left", "hole_right", "tab_tip"} <= set(bracket.points)
    assert bracket.tolerances[0].nominal_mm == 40.0
    assert all(a in bracket.points and b in bracket.points for a, b in bracket.skeleton)
