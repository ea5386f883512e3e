"""Source profiles: validation names the file, field and value; defaults; hashing."""

from __future__ import annotations

import pytest

from qclabel.errors import ConfigError
from qclabel.ingest.profiles import resolve_profile

CFG = "/plant/qclabel.toml"


def resolve(settings: dict, name: str = "p"):
    return resolve_profile({name: settings}, name, CFG)


@pytest.mark.parametrize(
    "settings,field,fragment",
    [
        ({"orient": "yes"}, "profiles.p.orient", "expected true or false"),
        ({"mm_per_px": 0}, "profiles.p.mm_per_px", "positive number"),
        ({"window": {"centre": 100}}, "profiles.p.window", "give both centre and width"),
        (
            {"window": {"low_pct": 90, "high_pct": 10}},
            "profiles.p.window.low_pct",
            "below high_pct",
        ),
        ({"normalize": {"method": "gamma"}}, "profiles.p.normalize.method", '"stretch" or "clahe"'),
        ({"normalize": {"method": "clahe", "tile": 0}}, "profiles.p.normalize.tile", "1..64"),
        ({"colour": "auto"}, "profiles.p.colour", '"grey-world"'),
        ({"roi": [0, 0, 0, 5]}, "profiles.p.roi", "[x, y, w, h]"),
        ({"roi_by_station": {"S1": [1, 2, 3]}}, "profiles.p.roi_by_station.S1", "[x, y, w, h]"),
        ({"pages": "all"}, "profiles.p.pages", '"split" or "first"'),
        ({"fields": {"pattern": "(?P<part"}}, "profiles.p.fields.pattern", "not a valid regular"),
        ({"stitch": {"group": r"(?P<part>.+)_(\d+)"}}, "profiles.p.stitch.group", "seq"),
        (
            {"stitch": {"group": r"(?P<part>.+)_(?P<seq>\d+)", "overlap_px": -1}},
            "profiles.p.stitch.overlap_px",
            '"auto"',
        ),
        (
            {"focus_stack": {"group": r"(?P<stack>.+)_z(?P<seq>\d+)", "kernel": 4}},
            "profiles.p.focus_stack.kernel",
            "1, 3, 5 or 7",
        ),
        (
            {
                "stitch": {"group": r"(?P<part>.+)_(?P<seq>\d+)"},
                "focus_stack": {"group": r"(?P<stack>.+)_z(?P<seq>\d+)"},
            },
            "profiles.p.stitch",
            "not both",
        ),
        ({"resize": 100}, "profiles.p.resize", "unknown profile key"),
    ],
)
def test_invalid_settings_name_file_field_and_value(settings, field, fragment):
    with pytest.raises(ConfigError) as err:
        resolve(settings)
    assert err.value.file == CFG and err.value.field == field
    assert fragment in str(err.value)


def test_defaults_are_filled_and_hashed():
    p = resolve({})
    assert p.settings == {
        "orient": True,
        "pages": "split",
        "window": {"low_pct": 0.5, "high_pct": 99.5},
    }
    assert not p.changes_pixels and p.group is None
    # writing the defaults out explicitly is the same recipe
    assert resolve({"orient": True, "window": {"low_pct": 0.5, "high_pct": 99.5}}).hash == p.hash
    assert resolve({"orient": False}).hash != p.hash


def test_builtin_default_when_the_config_has_none():
    assert resolve_profile({}, None, CFG).name == "default"
    with pytest.raises(ConfigError, match="no such profile; defined: -"):
        resolve_profile({}, "line", CFG)


def test_groups_and_pixel_changes_are_detected():
    stack = resolve({"focus_stack": {"group": r"(?P<stack>.+)_z(?P<seq>\d+)"}})
    assert stack.group == (
        "focus_stack",
        {"group": r"(?P<stack>.+)_z(?P<seq>\d+)", "kernel": 3, "smooth": 9},
    )
    assert resolve({"max_size": 1024}).changes_pixels
    assert not resolve({"mm_per_px": 0.1, "window": {"centre": 5, "width": 2}}).changes_pixels


def test_readme_profile_example_is_valid():
    import re
    import tomllib
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("<!-- section:ingest -->")[1].split("<!-- /section:ingest -->")[0]
    (block,) = re.findall(r"```toml\n(.*?)```", section, re.S)
    profiles = tomllib.loads(block)["profiles"]
    assert set(profiles) == {"station-2", "line-scan"}
    for name in profiles:
        assert len(resolve_profile(profiles, name, "README.md").hash) == 12
