"""An exponential moving average of a net's weights (``--ema DECAY``), kept beside the net.

After every optimizer step: ``average = d x average + (1 - d) x weights`` for every parameter
(BatchNorm's running statistics included), with ``d = min(DECAY, (1 + t) / (10 + t))`` after
``t`` earlier updates, so the first steps are not dominated by the initial weights. The run
tests, keeps as best and exports the average; training goes on from the net's own weights.
"""
from contextlib import contextmanager

import mxnet as mx

from ..base.gluon_internals import first_value, structural_params


def warmed_decay(decay, updates):
    """The decay of update number ``updates`` + 1: ``decay``, lower while few updates were made."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


class WeightAverage:
    """The moving average of ``net``'s parameters (on the first context of each), by structural
    name (the checkpoint's names); ``updates``: how many steps it has seen."""

    def __init__(self, net, decay, arrays=None, updates=0):
        self.decay, self.updates = decay, updates
        self._params = structural_params(net)
        own = {name: first_value(param) for name, param in self._params.items()}
        start = own if arrays is None else arrays
        self.arrays = {name: start[name].copyto(own[name].context) for name in own}

    def update(self):
        """Fold the net's current weights into the average (after an optimizer step)."""
        d = warmed_decay(self.decay, self.updates)
        # The step's work must be done first: a read queued now can run before the forward pass has
        # written BatchNorm's running statistics (seen: a resumed run's average then differed from
        # an unbroken run's in running means only, depending on timing).
        mx.nd.waitall()
        for name, param in self._params.items():
            average = self.arrays[name]
            # one fused pass: sgd_update's (1 - lr x wd) x avg - lr x rescale x w with lr 1, wd 1-d, rescale -(1-d)
            mx.nd.sgd_update(average, first_value(param).as_in_context(average.context), lr=1.0, wd=1.0 - d,
                             rescale_grad=-(1.0 - d), out=average)
        self.updates += 1

    @contextmanager
    def applied(self):
        """Within it the net holds the averaged weights; its own come back after."""
        own = {name: first_value(param).copyto(mx.cpu()) for name, param in self._params.items()}
        self.apply()
        try:
            yield
        finally:
            for name, param in self._params.items():
                param.set_data(own[name])

    def apply(self):
        """Put the averaged weights into the net (every context)."""
        for name, param in self._params.items():
            param.set_data(self.arrays[name])
