"""Training runs: settings (``config``), data sets and loaders, the resolved run, the loop, the
trainer, checkpoints, progress, distributed launch, curves, and checkpoint inference."""
