#!/usr/bin/env bash
# The main job: set up (venv, pinned packages; Fashion-MNIST from Debian or downloaded on first use), train the d2l
# GoogLeNet on Fashion-MNIST with the fast recipe (--preset fast: the d2l net with batch norm at
# 28x28, a patch-whitened first layer, 3 epochs of one-cycle momentum SGD with weight decay, mirrored
# training images and mirror-averaged tests: the book's 0.904 in minutes on 2 CPU cores, docs/fast-recipe.md), then
# report: test accuracy per class and an HTML report whose curves show the book's figure. The
# last lines give the exported model's test accuracy and the minutes, where the model is and how
# plain MXNet loads it. Extra arguments go to 'gluon-googlenet
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
.venv/bin/python -c 'import sys; from gluon_googlenet.viz.report import run_summary; print("\n".join(run_summary(sys.argv[1])))' "$OUT"
