"""A project folder: one human-readable TOML config, the catalog, the journals.

    DIR/qclabel.toml        taxonomy, QA policy, roles, source profiles, key remaps
    DIR/catalog.sqlite      image catalog (SQLite, one locked writer; store/catalog.py)
    DIR/labels/USER.jsonl   one hash-chained journal per annotator (the audit trail)
    DIR/labels/USER.snapshot.json
    DIR/canonical/          images that preprocessing derived (stitched, stacked, ...)
"""

from __future__ import annotations

import copy
import re
import tomllib
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w

from .core.taxonomy import Taxonomy, load_taxonomy
from .errors import ConfigError, NotAProjectError, PermissionDenied, ProjectVersionError
from . import identity
from .store import Store

CONFIG_NAME = "qclabel.toml"
FORMAT_VERSION = 1
ROLES = ("admin", "annotator", "reviewer", "adjudicator")
_USER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")  # also names a journal file
BUNDLED_TAXONOMIES = ("metal-stamping", "pcb-solder", "assembly-keypoints", "painted-panel")

DEFAULT_QA: dict[str, Any] = {
    "dual_first_n": 300,
    "spot_check_rate": 0.12,
    "spot_check_by": "",
    "seed": 0,
    "min_status": "single",
    "targets": {"classification_agreement": 0.95, "box_iou": 0.75, "mask_iou": 0.70,
                "keypoint_px": 5.0},
}
DEFAULT_LIMITS: dict[str, Any] = {"max_pixels": 250_000_000}
DEFAULT_PROFILES: dict[str, Any] = {"default": {"orient": True}}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(path, "(file)", str(path), "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "(syntax)", None, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(path, "(file)", str(path), f"cannot read: {exc.strerror}") from None


def resolve_taxonomy_file(spec: str | Path) -> tuple[dict[str, Any], str]:
    """A path to a TOML file, or the name of a bundled taxonomy."""
    if str(spec) in BUNDLED_TAXONOMIES:
        ref = resources.files("qclabel.taxonomies") / f"{spec}.toml"
        return tomllib.loads(ref.read_text()), f"<bundled {spec}>"
    data = read_toml(Path(spec))
    return data, str(spec)


def _check_roles(path: Path, roles: Any) -> None:
    """Roles decide who may do what: a typo here must not silently grant or drop one."""
    if not isinstance(roles, dict):
        raise ConfigError(path, "roles", roles, "must be a table of role = [users]")
    for role, names in roles.items():
        if role not in ROLES:
            raise ConfigError(path, f"roles.{role}", role, f"unknown role; expected {ROLES}")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(path, f"roles.{role}", names, "must be a list of user names")
    if not roles.get("admin"):
        raise ConfigError(path, "roles.admin", roles.get("admin"), "needs at least one admin")


class Project:
    def __init__(self, root: Path, config: dict[str, Any]):
        self.root = Path(root)
        self.config = config
        self.config_path = self.root / CONFIG_NAME
        self.taxonomy: Taxonomy = load_taxonomy(config.get("taxonomy", {}), self.config_path)
        self.store = Store(self.root)

    # -- creation and opening -------------------------------------------------
    @classmethod
    def init(cls, root: Path, taxonomy: str | Path = "metal-stamping",
             name: str | None = None, user: str | None = None) -> "Project":
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ConfigError(root, "(folder)", str(root), "exists and is not a folder")
        if (root / CONFIG_NAME).exists():
            raise ConfigError(root / CONFIG_NAME, "(file)", str(root), "a project exists here")
        data, source = resolve_taxonomy_file(taxonomy)
        tax = data.get("taxonomy", data)
        load_taxonomy(tax, source)  # validate before writing anything
        user = user or identity.current_user()
        config = {
            "qclabel": {"format_version": FORMAT_VERSION, "name": name or root.name,
                        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "created_by": user},
            "roles": {"admin": [user], "annotator": [], "reviewer": [], "adjudicator": []},
            "qa": copy.deepcopy(DEFAULT_QA),
            "limits": dict(DEFAULT_LIMITS),
            "profiles": copy.deepcopy(data.get("profiles", DEFAULT_PROFILES)),
            "keys": {},
            "taxonomy": tax,
        }
        root.mkdir(parents=True, exist_ok=True)
        labels = root / "labels"
        labels.mkdir(exist_ok=True)
        # Each annotator (an OS user) creates their own journal here: group-writable,
        # setgid so journals keep the project's group.
        labels.chmod(0o2775)
        project = cls(root, config)
        project.save_config()  # last: a folder without the config is not a project
        return project

    @classmethod
    def open(cls, root: Path) -> "Project":
        root = Path(root)
        path = root / CONFIG_NAME
        if not path.is_file():
            raise NotAProjectError(f"{root} is not a qclabel project (no {CONFIG_NAME}); "
                                   f"create one with: qclabel init {root}")
        config = read_toml(path)
        version = config.get("qclabel", {}).get("format_version")
        if version != FORMAT_VERSION:
            raise ProjectVersionError(
                f"{path}: qclabel.format_version = {version!r}, but this qclabel reads "
                f"version {FORMAT_VERSION}; use the matching qclabel release")
        _check_roles(path, config.get("roles", {}))
        return cls(root, config)

    def save_config(self) -> None:
        from .store.atomic import atomic_write_bytes
        header = b"# qclabel project config: edit with care; `qclabel status` validates it.\n"
        atomic_write_bytes(self.config_path, header + tomli_w.dumps(self.config).encode())

    # -- settings ---------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config["qclabel"].get("name", self.root.name)

    @property
    def qa(self) -> dict[str, Any]:
        merged = copy.deepcopy(DEFAULT_QA)
        merged.update({k: v for k, v in self.config.get("qa", {}).items() if k != "targets"})
        merged["targets"].update(self.config.get("qa", {}).get("targets", {}))
        return merged

    @property
    def profiles(self) -> dict[str, Any]:
        return self.config.get("profiles", DEFAULT_PROFILES)

    @property
    def limits(self) -> dict[str, Any]:
        return {**DEFAULT_LIMITS, **self.config.get("limits", {})}

    @property
    def keys(self) -> dict[str, str]:
        return dict(self.config.get("keys", {}))

    # -- roles ------------------------------------------------------------------
    def roles_of(self, user: str) -> set[str]:
        roles = {r for r, names in self.config.get("roles", {}).items() if user in names}
        return set(ROLES) if "admin" in roles else roles

    def has_role(self, user: str, role: str) -> bool:
        return role in self.roles_of(user)

    def require(self, user: str, role: str, action: str) -> None:
        if not self.has_role(user, role):
            raise PermissionDenied(f"{user} may not {action}: it needs the {role} role "
                                   f"(an admin adds it with: qclabel role add "
                                   f"{self.root} {user} {role})")

    def add_role(self, actor: str, user: str, role: str) -> None:
        self._check_role_change(actor, role)
        if not _USER_NAME.match(user):
            raise ConfigError(self.config_path, f"roles.{role}", user,
                              "not an operating-system user name")
        names = self.config.get("roles", {}).get(role, [])
        if user not in names:
            self._save_roles(role, names + [user])

    def remove_role(self, actor: str, user: str, role: str) -> None:
        self._check_role_change(actor, role)
        names = self.config.get("roles", {}).get(role, [])
        if role == "admin" and names == [user]:
            raise PermissionDenied(f"{user} is the last admin of {self.root} and cannot be "
                                   "removed; add another admin first")
        if user in names:
            self._save_roles(role, [n for n in names if n != user])

    def _save_roles(self, role: str, names: list[str]) -> None:
        """Change the config only once it is on disk: a failed save leaves both as they were."""
        old = self.config
        self.config = copy.deepcopy(old)
        self.config.setdefault("roles", {})[role] = names
        try:
            self.save_config()
        except BaseException:
            self.config = old
            raise

    def _check_role_change(self, actor: str, role: str) -> None:
        if role not in ROLES:
            raise ConfigError(self.config_path, "roles", role, f"unknown role; expected {ROLES}")
        self.require(actor, "admin", "change roles")

    def role_table(self) -> dict[str, list[str]]:
        return {r: list(self.config.get("roles", {}).get(r, [])) for r in ROLES}
