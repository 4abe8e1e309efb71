"""Batches in an order fixed by (seed, epoch): the seeds, the sampler that resumes mid-epoch, the loader."""
import random

import mxnet as mx
import numpy as np


def epoch_seed(seed, epoch):
    """The one seed of (run seed, 0-based epoch): the epoch's shuffle uses it."""
    return (seed * 1_000_003 + epoch) % 2**31


def batch_seed(seed, epoch, batch):
    """The seed of (run seed, 0-based epoch, 1-based batch): every random draw of that batch
    (dropout, augmentation) comes from it, so a run resumed mid-epoch draws what it would have."""
    return (epoch_seed(seed, epoch) * 1_000_003 + batch) % 2**31


def seed_batch(seed, epoch, batch):
    """Seed MXNet's, numpy's and Python's generators from (seed, epoch, batch) alone."""
    value = batch_seed(seed, epoch, batch)
    mx.random.seed(value)
    np.random.seed(value)
    random.seed(value)


class EpochSampler(mx.gluon.data.Sampler):
    """Indices in an order fixed by (seed, epoch): shuffled, or in order when ``seed`` is None.

    The order depends on nothing else, so a resumed run sees the same batches; ``skip`` leaves
    out the first indices of the order (those a mid-epoch checkpoint had done).
    """

    def __init__(self, length, seed=None):
        self._length, self._seed, self.epoch, self.skip = length, seed, 0, 0

    def __iter__(self):
        if self._seed is None:
            order = range(self._length)
        else:
            order = np.random.RandomState(epoch_seed(self._seed, self.epoch)).permutation(self._length).tolist()
        return iter(order[self.skip:])

    @property
    def length(self):
        """Indices in a whole epoch, ``skip`` or not."""
        return self._length

    def __len__(self):
        return self._length - self.skip


def make_loader(images, labels, batch_size, seed=None, sampler=None):
    """Gluon DataLoader of (uint8 images, int32 labels) batches, in ``sampler``'s order (default: an
    EpochSampler shuffled per epoch if ``seed``, else in order)."""
    dataset = mx.gluon.data.ArrayDataset(images, labels)
    sampler = sampler or EpochSampler(len(dataset), seed)
    return mx.gluon.data.DataLoader(dataset, batch_sampler=mx.gluon.data.BatchSampler(sampler, batch_size, "keep"))
