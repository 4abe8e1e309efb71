"""The line a worker prints once it has joined ps-lite (its kvstore is made), and its reading by
the launcher in the worker's log: the one format both sides use."""
import re

_LINE = "gluon-googlenet: joined the run as worker {rank} of {workers}"
_PATTERN = re.compile(r"^gluon-googlenet: joined the run as worker (\d+) of (\d+)$", re.MULTILINE)


def joined_line(rank, workers):
    """What worker ``rank`` of ``workers`` prints when it has joined."""
    return _LINE.format(rank=rank, workers=workers)


def joined_ranks(text):
    """The worker ranks whose joined line is in ``text`` (a log: one worker's, or mpirun's)."""
    return {int(rank) for rank, _ in _PATTERN.findall(text)}
