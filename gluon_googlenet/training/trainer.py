"""Training runs: any registered model on Fashion-MNIST, MNIST or an image folder, d2l defaults.

Defaults reproduce d2l's GoogLeNet run: Xavier init, plain SGD, lr 0.1, batch 128,
images resized to 96x96 and scaled to [0, 1], softmax cross-entropy, 10 epochs.
``train`` reads like d2l's ``train_ch6`` (build, initialise, then per epoch: train, evaluate,
record); each epoch writes history.json, curves.png and last.ckpt (best.ckpt when the test
accuracy improves) into the output folder, atomically; the end exports the model.
The run's settings are resolved once (run/resolve.py), its net built by model_setup.py, its
optimizer and learning-rate schedule set by optimizer.py, its position kept by position.py and its
files by run/folder.py; the per-batch core is loop.py's ``train_epoch``.
"""
import dataclasses
import logging
import os
import time
from collections import namedtuple
from contextlib import nullcontext

from ..base.amx import refuse_amx
from ..base.cpu import cpu_times, stolen_note, stolen_share
from ..base.errors import CheckpointError, ConfigError, DivergedError
from ..base.fileio import lock_run_folder, write_json
from ..weights.export import export_model
from .averaging import WeightAverage
from .data.run_data import load_run_data
from .data.sampling import EpochSampler, make_loader
from .exported import measure_export
from .loop import EpochWatch, evaluate, train_epoch, training_loss
from .model_setup import build_net, enable_amp
from .optimizer import lr_at, make_trainer, per_batch
from .position import RunPosition
from .run.checkpoint import load_model
from .run.config import RESUME_OR_OVERWRITE
from .run.folder import RunSaver, checkpoint_meta, keep_earlier_run, read_resume, stopped_error
from .run.progress import RunProgress, progress_mode, run_output
from .run.resolve import RunPaths, resolve_run
from .run.stopping import StopRequests
from .workers.agreement import Start, agree_on_start, join, share_weights

log = logging.getLogger("gluon_googlenet.train")

RunResult = namedtuple("RunResult", "net history out")


def train(config):
    """Train ``config.model`` as ``config`` says; return RunResult(net, history, out folder).

    It prints as the command line does (progress, one line per epoch; ``config.verbose``), or logs
    through the caller's logging where that is configured (progress.run_output).

    With ``config.resume`` the run's own settings come from its checkpoint (run.resolve_run).
    SIGTERM or SIGINT stops it after the current batch with a checkpoint to resume from
    (Stopped, exit code 143 or 130 on the command line)."""
    refuse_amx("training")
    with run_output(config.verbose):
        kv = join() if config.kvstore == "dist_sync" else None
        if config.resume and config.overwrite:  # before the folder is read
            raise ConfigError(RESUME_OR_OVERWRITE)
        resumed = _read_resume(config, kv) if config.resume else None
        start = agree_on_start(kv, resumed) if kv and config.resume else Start(0, 0)
        resumed = resumed if not kv or kv.rank == start.writer else None  # the writer's checkpoint only
        run = resolve_run(config, resumed.meta.get("config") if resumed else None, kv, start.writer)
        with lock_run_folder(run.paths.out) if run.writes else nullcontext(), StopRequests() as stop:
            if run.writes:
                if not config.resume:
                    keep_earlier_run(run.paths, config.overwrite)
                write_json(run.paths.config, dataclasses.asdict(run.config))
            return _train(run, resumed, stop, start)


def _read_resume(config, kv):
    """The newest checkpoint in the run folder; for a distributed run's worker, None when its
    host has none (another host's may: distributed.agree_on_start)."""
    try:
        return read_resume(RunPaths(config.out))
    except CheckpointError:
        if kv is None:
            raise
        return None


def _train(run, resumed, stop, start):
    """train()'s work inside the run's locked folder: data, position and net, then the epochs.
    ``start``: where a distributed run starts (distributed.Start)."""
    config, paths = run.config, run.paths
    if resumed and resumed.path != paths.last and os.path.exists(paths.last):  # damaged: keep it aside
        os.replace(paths.last, paths.last + ".damaged")
    if config.precision != "fp32":
        enable_amp(config.precision)  # before the net is built
    data = load_run_data(run.size, run.data)
    position, train_loader, test_loader = _position_and_loaders(data, run, resumed, start.epoch)
    progress = RunProgress(config.epochs - position.epoch, len(train_loader), len(test_loader),
                           progress_mode(config.progress and config.verbose == 1), position.history)
    net, model_kwargs = build_net(run, len(data.class_names), resumed, data.train[0])
    if run.distributed and config.resume:
        share_weights(run.kv, net, start)  # the writer's checkpoint, before the kvstore takes rank 0's
    trainer = make_trainer(net, run, resumed.states if resumed else None)
    average = _weight_average(net, run, resumed, position)
    saver = RunSaver(paths, net, trainer if run.keeps_optimizer_state else None,
                     checkpoint_meta(run, data, model_kwargs), position, run.writes, average)
    watch = _RunWatch(run, position, saver, progress, stop, trainer, average)
    return _epochs(net, trainer, (train_loader, test_loader), run, watch, f"{config.model} on {data.name}")


def _weight_average(net, run, resumed, position):
    """--ema: the moving average of ``net``'s weights, from the checkpoint's on a resume
    (having seen every step before ``position``); None without --ema."""
    if not run.config.ema:
        return None
    if resumed and resumed.live is not None:
        return WeightAverage(net, run.config.ema, resumed.params,
                             position.epoch * position.epoch_batches + position.batch)
    return WeightAverage(net, run.config.ema)


def _epochs(net, trainer, loaders, run, watch, what):
    """The d2l loop from the watch's position to the last epoch (train, test, record, save); then
    the export of the trained net (with --ema the net returned holds the average)."""
    config, position, saver, stop = run.config, watch.position, watch.saver, watch.stop
    loss_fn = training_loss(config.label_smoothing)
    while position.epoch < config.epochs:
        cpu_before = cpu_times()
        result = _train_one_epoch(net, trainer, loaders[0], loss_fn, run, watch)
        if result.stopped:
            raise stopped_error(run, stop, position)
        with watch.average.applied() if watch.average else nullcontext():
            record = _test(net, loaders[1], run, result, position.epoch + 1, trainer.learning_rate, cpu_before)
        position.end_epoch(record)
        watch.progress.tested(record)
        saver.end_epoch(what)
        if stop.requested and position.epoch < config.epochs:  # it came while testing or saving
            raise stopped_error(run, stop, position)
    if watch.average:
        watch.average.apply()
    if position.history and run.writes and os.path.isfile(run.paths.best):
        meta = _export_best(run, position.history, loaders[1], what)
        log.info("best test acc %.4f; exported it (its graph scores %.4f as plain MXNet loads it): %s",
                 saver.best, meta["test_acc"]["graph"], ", ".join(meta["files"]))
    return RunResult(net, position.history, run.paths.out)


def _export_best(run, history, test_loader, what):
    """The best checkpoint's weights exported as MODEL-best-EPOCH, with the run's test-time
    augmentation inside the graph (so the export is the model the run reported); its -meta.json
    holds the export's own test accuracy, measured on the exported files."""
    best = max(history, key=lambda record: record["test_acc"])
    net, meta = load_model(run.paths.best, run.ctxs[:1])
    tta = None if run.config.tta == "none" else run.config.tta
    source = f"best.ckpt of this run: epoch {best['epoch']}"
    prefix = run.paths.export_prefix(f"{run.config.model}-best")
    export_model(net, prefix, (1, run.channels, run.size, run.size), best["epoch"], run.ctxs[0],
                 normalization=(meta["mean"], meta["std"]), weights=source, tta=tta)
    return measure_export(prefix, best["epoch"], test_loader, run.ctxs[:1], f"{what}: test set")


def _position_and_loaders(data, run, resumed, epochs_done=0):
    """The run's position (the checkpoint's, on resume; a distributed run's other workers start
    after ``epochs_done``) and its train and test loaders: the train loader reads this worker's
    shard (several workers) in the position's order."""
    train_x, train_y = run.shard(*data.train)
    batch_size = run.config.batch_size
    position = RunPosition(EpochSampler(len(train_y), run.config.seed), batch_size, run.ctxs[0], run.config.seed)
    if resumed:
        position.load_state_dict(resumed.meta)
    elif epochs_done:
        position.load_state_dict({"epoch": epochs_done, "batch": 0, "history": []})
    log.info("training %s on %s: %d train / %d test images at %dx%d, ctx %s, epochs %d..%d%s",
             run.config.model, data.name, len(train_y), len(data.test[1]), run.size, run.size,
             ",".join(str(c) for c in run.ctxs), position.epoch + 1, run.config.epochs,
             run.worker_note())
    return (position, make_loader(train_x, train_y, batch_size, sampler=position.sampler),
            make_loader(*data.test, batch_size))


def _train_one_epoch(net, trainer, loader, loss_fn, run, watch):
    """train_epoch for the position's epoch, going on from its batch; a diverged loss says what was kept."""
    position = watch.position
    epoch, watch.desc = position.epoch, f"epoch {position.epoch + 1}/{run.config.epochs}"
    trainer.set_learning_rate(lr_at(run.config, epoch))  # onecycle: set again before every batch (_RunWatch)
    totals = position.begin_epoch(watch.desc)
    watch.progress.start(watch.desc, position.batch, totals.seen)
    try:
        return train_epoch(net, trainer, loader, loss_fn, run, watch, totals)
    except DivergedError as err:
        kept = (f"the last good checkpoint {run.paths.last} (epoch {epoch}) is kept"
                if epoch > 0 else "no checkpoint was written")
        raise DivergedError(f"{err}; training stopped, {kept}; try a lower --lr "
                            f"(now {trainer.learning_rate:g})") from None
    finally:
        watch.progress.stop()


def _test(net, loader, run, result, epoch, lr, cpu_before=None):  # noqa: PLR0913
    """Epoch ``epoch``'s history record (1-based): its training figures, the test set's, and the
    share of CPU time the host gave to other guests since ``cpu_before`` (cpu_times(); None where
    unknown); logs the epoch line, naming that share when it is 1 % or more."""
    start = time.time()
    tta = None if run.config.tta == "none" else run.config.tta
    scores = evaluate(net, loader, run.ctxs, net.num_classes, norm=run.norm, tta=tta)
    speed = result.seen / result.seconds
    stolen = stolen_share(cpu_before, cpu_times())
    log.info("epoch %d, loss %.4f, train acc %.3f, test acc %.3f, %.1f examples/sec, time %.1f sec%s",
             epoch, result.loss, result.acc, scores["acc"], speed, result.seconds, stolen_note(stolen))
    return {"epoch": epoch, "train_loss": result.loss, "train_acc": result.acc, "test_loss": scores["loss"],
            "test_acc": scores["acc"], "lr": lr, "examples_per_sec": speed, "train_seconds": result.seconds,
            "eval_seconds": time.time() - start, "cpu_stolen": stolen}


class _RunWatch(EpochWatch):
    """Around each batch: seed it, set a per-batch learning rate (onecycle), move the position,
    fold the weights into their average (--ema), report progress, write a timed checkpoint
    (--checkpoint-every), stop after it when a signal came."""

    def __init__(self, run, position, saver, progress, stop, trainer, average=None):  # noqa: PLR0913
        self.run, self.position, self.saver, self.progress, self.stop = run, position, saver, progress, stop
        self.trainer, self.per_batch, self.average = trainer, per_batch(run.config), average
        self.every = run.config.checkpoint_every * 60 if run.saves_mid_epoch else 0

    def before_batch(self, step):
        self.position.before_batch(step)
        if self.per_batch:
            done = (step - 1) / self.position.epoch_batches
            self.trainer.set_learning_rate(lr_at(self.run.config, self.position.epoch, done))

    def after_batch(self, step, totals):
        self.position.after_batch(step)
        if self.average:
            self.average.update()
        self.progress.step(step, totals.seen, *totals.running())
        if self.stop.requested:
            if self.run.saves_mid_epoch:
                self.saver.save()
            return True
        if self.every and time.monotonic() - self.saver.written >= self.every:
            self.saver.save()
            log.info("  checkpoint: %s (epoch %d, batch %d)", self.saver.paths.last, self.position.epoch + 1, step)
        return False
