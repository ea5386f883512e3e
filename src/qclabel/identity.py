"""Who is labeling: the operating-system user of the session (never an env variable,
which anyone could set)."""

from __future__ import annotations

import os
import pwd


def current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no passwd entry (some containers)
        return f"uid{os.geteuid()}"
