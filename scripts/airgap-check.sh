#!/usr/bin/env bash
# The air-gapped install, as the README documents it: build a wheelhouse where an index
# is reachable, then install from it alone into a fresh venv with every pip config
# (index URLs, find-links, constraints) switched off, and run qclabel on the samples.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY="env PYENV_VERSION=3.12 python3.12"
$PY -m venv "$WORK/build-env"
"$WORK/build-env/bin/pip" wheel -q --wheel-dir "$WORK/wheelhouse" . 2>&1 | grep -v '^WARNING: Location' || true
ls "$WORK"/wheelhouse/qclabel-*.whl >/dev/null
$PY -m venv "$WORK/plant-env"
PIP_CONFIG_FILE=/dev/null "$WORK/plant-env/bin/pip" install -q --no-index \
  --find-links "$WORK/wheelhouse" qclabel
cd "$WORK"
"$WORK/plant-env/bin/qclabel" --version
"$WORK/plant-env/bin/qclabel" demo --dir "$WORK/demo" --no-app | tail -3
"$WORK/plant-env/bin/python" - <<'PY'
import sys, qclabel, qclabel.paths as p
assert "plant-env" in qclabel.__file__, qclabel.__file__
assert any(p.samples_dir().iterdir()), "samples missing from the wheel"
assert any(p.themes_dir().glob("*.tcss")), "themes missing from the wheel"
print("air-gapped install OK:", qclabel.__file__)
PY
