"""What each branch of an Inception block responds to: activation grids per branch."""
import numpy as np

from ..base.errors import ConfigError, InputShapeError
from ..base.gluon_internals import child_blocks, layer_kernel, run_with_hooks
from ..training.data.run_data import images_to_input


def _is_multi_branch(block):
    """Inception and the other Mixed blocks: they list their parallel ``branches``."""
    return isinstance(getattr(type(block), "branches", None), property)


def find_block(net, path):
    """The child of ``net`` at dotted ``path`` (e.g. 'b3.0'); ConfigError naming the choices."""
    block = net
    for part in path.split("."):
        children = dict(child_blocks(block))
        if part not in children:
            raise ConfigError(f"no block {path!r} in {getattr(net, 'model_name', 'the model')}; "
                              f"Inception blocks: {', '.join(mixed_blocks(net))}")
        block = children[part]
    if not _is_multi_branch(block):
        raise ConfigError(f"{path!r} is a {type(block).__name__}, not an Inception block; "
                          f"Inception blocks: {', '.join(mixed_blocks(net))}")
    return block


def mixed_blocks(net, prefix=""):
    """Dotted paths of every multi-branch (Inception) block in ``net``."""
    found = []
    for name, child in child_blocks(net):
        path = f"{prefix}{name}"
        if _is_multi_branch(child):
            found.append(path)
        found += mixed_blocks(child, path + ".")
    return found


def branch_activations(net, image, path, mean=None, std=None):
    """Run one uint8 image [C, H, W] through ``net``; return [(branch label, activations [c, h, w])]
    of the Inception block at ``path`` (labels like 'p2: 1x1 -> 3x3')."""
    block = find_block(net, path)
    image = np.asarray(image)
    expected = (net.in_channels,)
    if image.ndim != 3 or image.shape[:1] != expected:
        raise InputShapeError(f"the image must be uint8 [{net.in_channels}, H, W] for "
                              f"{net.model_name}, got shape {image.shape}")
    captured = {}

    def keep(name):
        return lambda _block, _inputs, out: captured.__setitem__(name, out.asnumpy()[0])
    run_with_hooks(net, images_to_input(image, mean, std),
                   [(branch, keep(name)) for name, branch in block.branches])
    return [(f"{name}: {branch_label(branch)}", captured[name]) for name, branch in block.branches]


def branch_label(branch):
    """'1x1 -> 3x3', 'max 3x3 -> 1x1', ... from the layers of one branch."""
    from mxnet.gluon import nn
    parts = []

    def walk(block):
        if isinstance(block, (nn.Conv2D, nn.MaxPool2D, nn.AvgPool2D)):
            kernel = "x".join(map(str, layer_kernel(block)))
            kind = {nn.MaxPool2D: "max ", nn.AvgPool2D: "avg "}.get(type(block), "")
            parts.append(kind + kernel)
        elif _is_multi_branch(block):
            parts.append("(" + " | ".join(branch_label(b) for _, b in block.branches) + ")")
        else:
            for _, child in child_blocks(block):
                walk(child)
    walk(branch)
    return " -> ".join(parts)


def plot_branch_maps(image, activations, path, title, per_branch=8):
    """PNG grid: the input, then per branch its ``per_branch`` most active channels."""
    from ..base.plots import save_png, subplots
    rows = len(activations)
    fig, axes = subplots(rows, per_branch + 1, figsize=(1.6 * (per_branch + 1), 1.7 * rows),
                          squeeze=False)
    shown = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
    for r, (name, maps) in enumerate(activations):
        axes[r, 0].imshow(shown, cmap="gray" if image.shape[0] == 1 else None)
        axes[r, 0].set_title("input" if r == 0 else "", fontsize=8)
        axes[r, 0].set_ylabel(f"{name}\n{maps.shape[0]} channels", fontsize=8)
        order = np.argsort(-maps.reshape(maps.shape[0], -1).mean(axis=1))[:per_branch]
        for c in range(per_branch):
            ax = axes[r, c + 1]
            if c < len(order):
                ax.imshow(maps[order[c]], cmap="viridis")
                ax.set_title(f"ch {order[c]}", fontsize=7)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    save_png(fig, path)
    return path
