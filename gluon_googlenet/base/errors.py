"""Errors raised at the package's boundaries; the CLI prints them as one line."""


class GluonGoogLeNetError(Exception):
    """Base class: a user-facing problem with a message that says how to fix it."""


class InputShapeError(GluonGoogLeNetError, ValueError):
    """An input's rank, channels or spatial size does not fit the model."""


class ContextError(GluonGoogLeNetError, ValueError):
    """A requested device does not exist or cannot be parsed."""


class DataError(GluonGoogLeNetError):
    """A data file is missing, truncated, corrupt or not the expected one."""


class CheckpointError(GluonGoogLeNetError):
    """A checkpoint or parameter file cannot be used for this model."""


class OutputDirError(GluonGoogLeNetError):
    """An output folder or file cannot be written."""


class RunFolderBusyError(OutputDirError):
    """Another run holds the lock on this output folder."""


class DivergedError(GluonGoogLeNetError):
    """The training loss became NaN or infinite."""


class ConfigError(GluonGoogLeNetError, ValueError):
    """An unknown model name or an option value that cannot work."""


class DependencyError(GluonGoogLeNetError):
    """A program or package this feature needs is not installed."""


class CpuFeatureError(GluonGoogLeNetError):
    """This CPU (or MXNet's oneDNN cap on it) lacks an instruction set a path needs."""


class Stopped(GluonGoogLeNetError):
    """A run stopped on a signal after saving where it was; ``exit_code`` is 128 + the signal."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code
