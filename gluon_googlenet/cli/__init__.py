"""``gluon-googlenet`` command line: the parser (parser.py, train_options.py) and the verbs (commands.py)."""
import os
import sys

from ..base.dependencies import missing_module_message
from ..base.download import NO_DOWNLOAD_VAR
from ..base.errors import GluonGoogLeNetError, Stopped
from .parser import OneLineParser, build_parser

__all__ = ["OneLineParser", "build_parser", "main"]


def main(argv=None):
    """Entry point of the ``gluon-googlenet`` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    no_download = getattr(args, "download", None) is False  # for every path a verb reads data by
    before = os.environ.get(NO_DOWNLOAD_VAR)
    if no_download:
        os.environ[NO_DOWNLOAD_VAR] = "1"
    try:
        args.func(args)
    except Stopped as stop:
        print(f"gluon-googlenet {args.command}: {stop}", file=sys.stderr)
        return stop.exit_code
    except GluonGoogLeNetError as err:
        print(f"gluon-googlenet {args.command}: error: {err}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as err:  # a dependency or an extra this install lacks
        print(f"gluon-googlenet {args.command}: error: {missing_module_message(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gluon-googlenet {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`gluon-googlenet zoo | head`): stop quietly, as SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit fails no more
        return 128 + 13
    finally:
        if no_download:  # a caller in the same process (a test, a notebook) keeps its setting
            if before is None:
                os.environ.pop(NO_DOWNLOAD_VAR, None)
            else:
                os.environ[NO_DOWNLOAD_VAR] = before
    return 0
