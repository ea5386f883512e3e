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
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any


from .core.taxonomy import Taxonomy, load_taxonomy
from .errors import ConfigError, NotAProjectError, PermissionDenied, ProjectVersionError
from . import identity
from .store import Store
from .store.configfile import update_config

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
    "targets": {
        "classification_agreement": 0.95,
        "box_iou": 0.75,
        "mask_iou": 0.70,
        "keypoint_px": 5.0,
    },
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


@lru_cache(maxsize=None)
def bundled_taxonomy_text(name: str) -> str:
    """A bundled taxonomy file's text, read once per process (it ships with the package
    and never changes while it runs)."""
    return (resources.files("qclabel.taxonomies") / f"{name}.toml").read_text()


def resolve_taxonomy_file(spec: str | Path) -> tuple[dict[str, Any], str]:
    """A path to a TOML file, or the name of a bundled taxonomy."""
    if str(spec) in BUNDLED_TAXONOMIES:
        return tomllib.loads(bundled_taxonomy_text(str(spec))), f"<bundled {spec}>"
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
        self.store = Store(self.root, baseline=config.get("roles", {}))

    # -- creation and opening -------------------------------------------------
    @classmethod
    def init(
        cls,
        root: Path,
        taxonomy: str | Path = "metal-stamping",
        name: str | None = None,
        user: str | None = None,
        privileged_group: str | None = None,
    ) -> "Project":
        from .store.folders import check_can_own, group_id, setup_folders

        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ConfigError(root, "(folder)", str(root), "exists and is not a folder")
        if (root / CONFIG_NAME).exists():
            raise ConfigError(root / CONFIG_NAME, "(file)", str(root), "a project exists here")
        data, source = resolve_taxonomy_file(taxonomy)
        tax = data.get("taxonomy", data)
        load_taxonomy(tax, source)  # validate before writing anything
        check_can_own(root)
        gid = group_id(privileged_group) if privileged_group else None
        user = user or identity.current_user()
        config = {
            "qclabel": {
                "format_version": FORMAT_VERSION,
                "name": name or root.name,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "created_by": user,
            },
            "roles": {"admin": [user], "annotator": [], "reviewer": [], "adjudicator": []},
            "qa": copy.deepcopy(DEFAULT_QA),
            "limits": dict(DEFAULT_LIMITS),
            "profiles": copy.deepcopy(data.get("profiles", DEFAULT_PROFILES)),
            "keys": {},
            "taxonomy": tax,
        }
        if privileged_group:
            config["qclabel"]["privileged_group"] = privileged_group
        setup_folders(root, gid)  # the modes: README, "Who can change which file"
        project = cls(root, config)
        project.save_config()  # last: a folder without the config is not a project
        return project

    @classmethod
    def open(cls, root: Path) -> "Project":
        root = Path(root)
        path = root / CONFIG_NAME
        if not path.is_file():
            raise NotAProjectError(
                f"{root} is not a qclabel project (no {CONFIG_NAME}); "
                f"create one with: qclabel init {root}"
            )
        from .store.ownership import project_file_problem

        problem = project_file_problem(path)
        if problem:  # replaced by another user: its roles and policy are not the project's
            raise PermissionDenied(
                f"{problem}; the project is not opened (restore "
                f"{CONFIG_NAME} as its owner, or as root)"
            )
        config = read_toml(path)
        version = config.get("qclabel", {}).get("format_version")
        if version != FORMAT_VERSION:
            raise ProjectVersionError(
                f"{path}: qclabel.format_version = {version!r}, but this qclabel reads "
                f"version {FORMAT_VERSION}; use the matching qclabel release"
            )
        _check_roles(path, config.get("roles", {}))
        project = cls(root, config)
        project._check_catalog_owner()
        return project

    def _check_catalog_owner(self) -> None:
        """The catalog belongs to the project owner or an admin (who ingest); one renamed
        into place by anybody else is refused (README: who can change which file)."""
        from .store.ownership import folder_owner, owner_problem

        path = getattr(self.store.catalog, "file", None)  # catalog.json before migration
        if path is None:
            return
        admins = self.store.authority().current(("admin",))["admin"]
        problem = owner_problem(
            path, admins, uids=(folder_owner(self.root),), what="the project owner or an admin"
        )
        if problem:
            raise PermissionDenied(
                f"{problem}; the project is not opened (restore the "
                "catalog as its owner, or as root)"
            )

    def save_config(self) -> None:
        """Write the whole config (the locked writer: configfile.update_config)."""
        update_config(self.root, lambda _old: self.config)

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
    # The role history (store/authority.py) is the authority: qclabel.toml's [roles]
    # is where it starts, and every change since is an admin's signed `role` event.
    def roles_of(self, user: str) -> set[str]:
        history = self.store.authority()
        return {r for r in ROLES if history.held(user, r)}

    def has_role(self, user: str, role: str) -> bool:
        return self.store.authority().held(user, role)

    def held_role(self, user: str, role: str, ts: str) -> bool:
        """Did `user` hold `role` at ISO time `ts` (an event's `ts`)?"""
        return self.store.authority().held(user, role, ts)

    def require(self, user: str, role: str, action: str) -> None:
        if not self.has_role(user, role):
            raise PermissionDenied(
                f"{user} may not {action}: it needs the {role} role "
                f"(an admin adds it with: qclabel role add "
                f"{self.root} {user} {role})"
            )

    def add_role(self, actor: str, user: str, role: str) -> None:
        if not _USER_NAME.match(user):
            raise ConfigError(
                self.config_path, f"roles.{role}", user, "not an operating-system user name"
            )
        self._change_role(actor, user, role, True)

    def remove_role(self, actor: str, user: str, role: str) -> None:
        self._change_role(actor, user, role, False)

    def _change_role(self, actor: str, user: str, role: str, held: bool) -> None:
        """One signed event in the actor's role journal, under its lock and after
        reading the history again: concurrent changes (several processes, several
        admins) all land, and each is checked against the roles as they stand."""
        if role not in ROLES:
            raise ConfigError(self.config_path, "roles", role, f"unknown role; expected {ROLES}")
        self.require(actor, "admin", "change roles")  # before creating any file
        with self.store.role_session(actor) as session:
            history = self.store.authority()
            self.require(actor, "admin", "change roles")
            admins = history.current(("admin",))["admin"]
            if not held and role == "admin" and admins == [user]:
                raise PermissionDenied(
                    f"{user} is the last admin of {self.root} and cannot "
                    "be removed; add another admin first"
                )
            if (user in history.current((role,))[role]) == held:
                return  # already so: nothing to sign
            session.record(
                "role",
                user,
                {"user": user, "role": role, "held": not held},
                {"user": user, "role": role, "held": held},
            )

    def role_table(self) -> dict[str, list[str]]:
        return self.store.authority().current(ROLES)
