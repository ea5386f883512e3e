#!/usr/bin/env bash
# Real-terminal check of the labeling app (needs X: Xvfb, xterm, ImageMagick, xdotool,
# openssh-server; not part of pytest). Labels the demo project by keyboard in
#   1. a real xterm with sixel (VT340 mode), local, via `qclabel demo` -> pixel graphics
#   2. the same xterm, through ssh to a local sshd        -> pixel graphics over SSH
#   3. tmux 3.3 inside xterm (no sixel)                   -> half-cell fallback, no pixel graphics
# and checks that the keys pressed in each run landed in the journal.
# usage: scripts/term-check.sh [OUTDIR]     (screenshots: OUTDIR/{local,ssh,tmux}/NN_KEY.png)
# env: RECIPES (default scripts/terminal), DISP (default :84), SSH_PORT (default 2284)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$REPO/term-check-out}
RECIPES=${RECIPES:-$REPO/scripts/terminal}
export DISP=${DISP:-:84} SSH_PORT=${SSH_PORT:-2284} SSH_DIR=${SSH_DIR:-/tmp/qclabel-term-check-ssh}
export PYTHON=$REPO/.venv/bin/python STARTUP_WAIT=${STARTUP_WAIT:-9} KEY_WAIT=${KEY_WAIT:-3}
export CROP=${CROP:-400x300+150+120}   # inside the image area of a 160x45 xterm
QC=$REPO/.venv/bin/qclabel
rm -rf "$OUT"; mkdir -p "$OUT"

journal_lines() { cat "$1"/labels/*.jsonl 2>/dev/null | wc -l; }

run() {  # name, expected exit of the pixel check (0 = graphics shown), command
  local name=$1 want=$2 cmd=$3 rc=0
  local dir="$OUT/$name-project"
  case $cmd in *@DEMO@*) cmd=${cmd//@DEMO@/$dir} ;;     # `qclabel demo` builds it and opens the app
    *) "$QC" demo --no-app --dir "$dir" >/dev/null ;; esac
  cmd=${cmd//@PROJECT@/$dir/project}
  # keys: pass, next, class 2 (dent) + severity 1, next page of work, quit
  bash "$RECIPES/xterm-sixel.sh" "$OUT/$name" "$cmd" p n 2 1 q || rc=$?
  local labels; labels=$(journal_lines "$dir/project")
  echo "$name: pixel check exit $rc (want $want), journal lines $labels (want 3)"
  [ "$rc" = "$want" ] && [ "$labels" = 3 ]
}

status=0
run local 0 "cd $REPO && $QC demo --dir @DEMO@" || status=1
run ssh 0 "bash $RECIPES/ssh-localhost.sh 'cd $REPO && $QC label @PROJECT@'" || status=1
run tmux 1 "tmux -L qclabel-term-check new-session 'cd $REPO && $QC label @PROJECT@'" || status=1
[ -f "$SSH_DIR/sshd.pid" ] && kill "$(cat "$SSH_DIR/sshd.pid")" 2>/dev/null || true
echo "screenshots in $OUT/{local,ssh,tmux}; look at them"
exit $status
