"""What the command line's options share: value types, whose bad values are usage errors (exit 2)
before anything is loaded, and the help texts of the options several verbs take."""
import argparse
import math

CTX_HELP = "device(s): cpu, gpu, gpu:0,1 or cpu:0,1 (default: cpu); verbs that run one image use the first"
DATA_DIR_HELP = "folder with the IDX files (default: the run's, else the usual places)"
NO_VERIFY_HELP = "skip the MD5 check of the data files (default: check, as the run did)"
NO_DOWNLOAD_HELP = ("never download: a data set no folder holds is an error (default: Fashion-MNIST and MNIST are "
                    "downloaded into $MXNET_HOME/datasets on first use)")
MODEL_HELP = "registered model (default: googlenet_d2l; all: %(choices)s)"
LIMIT_TEST_HELP = "use the first N test images (0: all; default: the run's)"


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message):
        """A usage error as one line on stderr, exit code 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# --- value types: a bad value is a usage error (exit 2) before anything is loaded ---------------
def _number(text, kind):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None


def positive(text):
    """An int >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def optional_positive(text):
    """An int >= 1, or 0 / none / all for no limit (None)."""
    return None if text in ("0", "none", "all") else positive(text)


def positive_float(text):
    """A finite float > 0."""
    value = _number(text, float)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def nonnegative_float(text):
    """A finite float >= 0."""
    value = _number(text, float)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def fraction(text):
    """A float strictly between 0 and 1."""
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def lr_schedule(text):
    """constant, cosine, onecycle or step:E1,E2,... with whole epochs (training.run.config's)."""
    from ..training.run.config import schedule_problem
    problem = schedule_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text
