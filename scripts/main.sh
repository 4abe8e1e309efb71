#!/usr/bin/env bash
# The main job: set up (venv, pinned packages, Debian Fashion-MNIST), train the d2l
# GoogLeNet on Fashion-MNIST, then report: test accuracy per class and an HTML report. Default: the quick
# preset (32x32, 4 epochs: minutes on 2 cores). Extra arguments go to
# 'gluon-googlenet train', e.g.
#   bash scripts/main.sh --preset d2l --out runs/d2l   # the full d2l reproduction
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
# A run folder is never replaced: where runs/main holds a run, this one gets a folder of its own.
MAIN=runs/main
[ -e "$MAIN/last.ckpt" ] && MAIN="runs/main-$(date +%Y%m%d-%H%M%S)" && echo "main: runs/main holds a run; this one goes to $MAIN"
.venv/bin/gluon-googlenet train --preset quick --out "$MAIN" --report "$@" | tee "$LOG"
OUT="$(sed -n 's/^run folder: //p' "$LOG" | tail -n 1)"
.venv/bin/gluon-googlenet evaluate "$OUT/best.ckpt"
echo "report: $OUT/report.html  curves: $OUT/curves.png  history: $OUT/history.json"
