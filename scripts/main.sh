#!/usr/bin/env bash
# The main job: set up (venv, pinned packages, Debian Fashion-MNIST), train the d2l
# GoogLeNet on Fashion-MNIST with the fast recipe (--preset fast: the d2l net with batch norm at
# 28x28, a patch-whitened first layer, 3 epochs of one-cycle momentum SGD with weight decay, mirrored
# training images and mirror-averaged tests: the book's 0.904 in minutes on 2 CPU cores, docs/fast-recipe.md), then
# report: test accuracy per class and an HTML report whose curves show the book's figure. The
# last line gives the test accuracy and the minutes. Extra arguments go to 'gluon-googlenet
# train', e.g.
#   bash scripts/main.sh --preset d2l --out runs/d2l   # the book's own recipe (96x96, 10 epochs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
# A run folder is never replaced: where runs/main holds a run, this one gets a folder of its own
# (unless --out names the folder: train then says whether it may write there).
MAIN=runs/main
for arg in "$@"; do case "$arg" in --out|--out=*) MAIN="" ;; esac; done
if [ -n "$MAIN" ] && [ -e "$MAIN/last.ckpt" ]; then
  MAIN="runs/main-$(date +%Y%m%d-%H%M%S)" && echo "main: runs/main holds a run; this one goes to $MAIN"
fi
.venv/bin/gluon-googlenet train --preset fast ${MAIN:+--out "$MAIN"} --report "$@" | tee "$LOG"
OUT="$(sed -n 's/^run folder: //p' "$LOG" | tail -n 1)"
# Tested as the run tested each epoch (the fast recipe averages each image with its mirror: --tta flip).
TTA="$(.venv/bin/python -c 'import json, sys; print(json.load(open(sys.argv[1])).get("tta", "none"))' "$OUT/config.json")"
if [ "$TTA" = none ]; then .venv/bin/gluon-googlenet evaluate "$OUT/best.ckpt"; else .venv/bin/gluon-googlenet evaluate "$OUT/best.ckpt" --tta "$TTA"; fi
echo "report: $OUT/report.html  curves: $OUT/curves.png  history: $OUT/history.json"
.venv/bin/python - "$OUT" <<'SUMMARY'
import json, os, sys
from gluon_googlenet.base.cpu import stolen_note
from gluon_googlenet.viz.report import run_minutes, run_stolen
history = json.load(open(os.path.join(sys.argv[1], "history.json"), encoding="utf-8"))
print(f"main: test acc {history[-1]['test_acc']:.4f} after {run_minutes(history):.1f} min of training and testing "
      f"({len(history)} epoch(s){stolen_note(run_stolen(history))}; the book's: 0.904 after 10 epochs at 96x96)")
SUMMARY
