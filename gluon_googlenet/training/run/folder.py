"""What a run keeps in its folder and reads back: checkpoints (last.ckpt, previous.ckpt, best.ckpt)
with the run's position, history.json, curves.png; the newest intact checkpoint for --resume; the
command line that resumes a stopped run."""
import dataclasses
import json
import logging
import os
import shlex
import time
from collections import namedtuple

import mxnet as mx

from ...base.errors import CheckpointError, OutputDirError, Stopped
from ...base.fileio import LOCK_NAME, fsync_folder, link_atomically, write_json
from ...base.plots import BOOK_TEST_ACC, plot_history
from .checkpoint import read_checkpoint, save_checkpoint
from .config import TrainConfig
from .resolve import RunPaths

log = logging.getLogger("gluon_googlenet.train")

Resumed = namedtuple("Resumed", "path meta params states live")
Resumed.__doc__ = ("A checkpoint read for --resume: its file, metadata (the run's settings and position), "
                   "weights (with --ema the average), optimizer state and, with --ema, the net's own weights.")


def read_resume(paths):
    """The newest intact checkpoint of the run folder for --resume: last.ckpt, else previous.ckpt,
    else best.ckpt (each older than the one before it, so the first intact one is the newest; only
    that one is read whole); a fallback is logged."""
    damaged = []
    for path in (paths.last, paths.previous, paths.best):
        if not os.path.isfile(path):
            continue
        try:
            resumed = Resumed(path, *read_checkpoint(path))
        except CheckpointError as err:
            damaged.append(err)
            continue
        for err in damaged:
            log.warning("%s; resuming from %s instead", err, path)
        meta = resumed.meta
        log.info("resuming from %s: %d epoch(s) done%s", path, meta["epoch"],
                 f", then {meta['batch']} batch(es) of epoch {meta['epoch'] + 1}" if meta.get("batch") else "")
        return resumed
    if damaged:
        raise CheckpointError(f"--resume: no intact checkpoint in {paths.out} ({damaged[0]})")
    raise CheckpointError(f"--resume: no checkpoint {paths.last} to resume from")


def resume_command(config):
    """The command line that resumes ``config``'s run: the run folder and what may change on a
    resume; the checkpoint holds the rest (model, data, recipe, precision)."""
    words = ["gluon-googlenet", "train", "--out", config.out, "--resume", "--epochs", str(config.epochs)]
    for flag, value, default in (("--data-dir", config.data_dir, None), ("--ctx", config.ctx, "cpu"),
                                 ("--checkpoint-every", config.checkpoint_every, TrainConfig.checkpoint_every)):
        if value != default:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if not config.verify_data:
        words.append("--no-verify")
    return " ".join(shlex.quote(word) for word in words)


def stopped_error(run, stop, position):
    """Stopped for the signal ``stop`` at ``position``, saying what was saved and how to resume:
    the resume line, or for a distributed run its last epoch checkpoint and a relaunch."""
    epoch, batch, last = position.epoch, position.batch, run.paths.last
    where = f"after batch {batch} of epoch {epoch + 1}" if batch else f"after epoch {epoch}"
    if not run.saves_mid_epoch:
        return Stopped(f"stopped by {stop.name} {where}; a distributed run resumes from its last epoch "
                       f"checkpoint ({last}): rerun the launch with --resume", stop.exit_code)
    return Stopped(f"stopped by {stop.name} {where}: saved {last} ({epoch} epoch(s) and {batch} "
                   f"batch(es) done); resume with: {resume_command(run.config)}", stop.exit_code)


def checkpoint_meta(run, data, model_kwargs):
    """What a checkpoint records besides weights and position: enough to rebuild, evaluate and resume."""
    return {"model": run.config.model, "model_kwargs": model_kwargs, "input_size": run.size, "dataset": data.name,
            "class_names": data.class_names, "mean": run.norm[0], "std": run.norm[1],
            "config": dataclasses.asdict(run.config), "mxnet_version": mx.__version__}


class RunSaver:
    """Checkpoints of a run at its ``position``: last.ckpt after each epoch, at a stop and on the timer
    (the one it replaces kept as previous.ckpt, a hard link); at an epoch's end also best.ckpt when
    the test accuracy improved (a hard link to last.ckpt: no second copy), history.json and curves.png.
    ``trainer`` None: no optimizer state (a distributed run's servers hold it). ``writes`` False:
    nothing is written (a distributed run's other workers), the best accuracy is still followed.
    ``average`` (averaging.WeightAverage, --ema): its weights are saved as the run's, the net's as live."""

    def __init__(self, paths, net, trainer, meta, position, writes=True, average=None):  # noqa: PLR0913
        self.paths, self.net, self.trainer, self.meta, self.position = paths, net, trainer, meta, position
        self.best = max((h["test_acc"] for h in position.history), default=-1.0)
        self.written, self.writes, self.average = time.monotonic(), writes, average

    def save(self):
        """last.ckpt at the position as it is now."""
        if not self.writes:
            return
        save_checkpoint(self.paths.last, self.net, self.trainer, dict(self.meta, **self.position.state_dict()),
                        previous=self.paths.previous, average=self.average and self.average.arrays)
        self.written = time.monotonic()

    def end_epoch(self, title):
        """After position.end_epoch: last.ckpt, best.ckpt if better, history and curves."""
        self.save()
        history = self.position.history
        better, self.best = history[-1]["test_acc"] > self.best, max(self.best, history[-1]["test_acc"])
        if not self.writes:
            return
        if better:
            link_atomically(self.paths.last, self.paths.best)
        write_json(self.paths.history, history)
        plot_history(history, self.paths.curves, title, BOOK_TEST_ACC.get(self.meta["dataset"]))


def keep_earlier_run(paths, overwrite):
    """Before a new (not resumed) run writes into ``paths.out``: where the folder holds another
    run's checkpoint, OutputDirError naming that run and the two ways on; with ``overwrite``, every
    file of that run moves into ``replaced-YYYYmmdd-HHMMSS/`` inside the folder (nothing deleted)."""
    if not any(os.path.isfile(path) for path in (paths.last, paths.previous, paths.best)):
        return None
    if not overwrite:
        raise OutputDirError(f"{paths.out} holds another run ({_describe_run(paths)}): continue it with "
                             "--resume, or start anew with --overwrite (its files move into "
                             f"{os.path.join(paths.out, 'replaced-<date>-<time>')}/, nothing is deleted)")
    aside = os.path.join(paths.out, time.strftime("replaced-%Y%m%d-%H%M%S"))
    while os.path.exists(aside):
        aside += "+"
    os.mkdir(aside)
    for name in os.listdir(paths.out):
        if name != LOCK_NAME and not name.startswith("replaced-"):
            os.rename(os.path.join(paths.out, name), os.path.join(aside, name))
    fsync_folder(paths.out)
    log.warning("%s held another run (%s); its files are now in %s", paths.out, _describe_run(
        RunPaths(aside)), aside)
    return aside


def _describe_run(paths):
    """'MODEL, N epoch(s), best test acc A' of the run in ``paths.out``, from its config and history."""
    try:
        with open(paths.config, encoding="utf-8") as handle:
            model = json.load(handle).get("model", "model unknown")
    except (OSError, ValueError):
        model = "model unknown"
    try:
        with open(paths.history, encoding="utf-8") as handle:
            history = json.load(handle)
        best = max(epoch["test_acc"] for epoch in history)
        return f"{model}, {len(history)} epoch(s), best test acc {best:.3f}"
    except (OSError, ValueError, KeyError, TypeError):
        return f"{model}, no finished epoch"
