"""Grad-CAM: where a net looks when it decides (Selvaraju et al., "Grad-CAM", ICCV 2017).

For the feature maps A (K x h x w) of one layer and a class score y_c: weights
alpha_k = mean over (i, j) of dy_c / dA_k[i, j], map = ReLU(sum_k alpha_k A_k), resized
bilinearly to the input and scaled to [0, 1] per image. Any registered model, at any stage
('b4') or layer ('b4.2', 'mixed6.3'), hybridized or not, on the net's context. The gradients
are taken in autograd's training mode with the net computing its inference function
(gluon_internals.inference_in_training_mode: MXNet's oneDNN max-pooling backward is wrong
after an inference-mode forward). Legacy and numpy arrays alike (``npx.set_np()``).
"""
import mxnet as mx
import numpy as np
from mxnet import autograd

from ..base import ops
from ..base.errors import ConfigError, InputShapeError
from ..base.gluon_internals import inference_in_training_mode
from ..nn.backbone import check_input_shape


def layer_count(net, layer):
    """How many of ``net``'s layers give ``layer``'s output ('b4': the whole stage b4)."""
    names = [name for name, _ in net.layers()]
    if layer in names:
        return names.index(layer) + 1
    ends = [i + 1 for i, name in enumerate(names) if name.split(".")[0] == layer]
    if ends:
        return ends[-1]
    raise ConfigError(f"{net.model_name} has no layer {layer!r}; choose a stage ({', '.join(net.stage_names)}) "
                      f"or a layer ({names[0]}, ..., {names[-1]})")


def default_layer(net, side):
    """Where Grad-CAM looks by default for ``side`` x ``side`` inputs: the deepest layer whose maps
    are at least 2x2 (a 1x1 map has nothing to localise), named by its stage when it ends the stage
    ('b5.1', block 5b, for the d2l net at 96; 'b4.4', block 4e, at 32)."""
    sides = net.layer_sides(side)
    deep = [i for i, (_, s) in enumerate(sides) if s >= 2]
    if not deep:
        raise ConfigError(f"{net.model_name} has no feature maps of 2x2 or more at {side}x{side} inputs")
    name = sides[deep[-1]][0]
    stage = name.split(".")[0]
    last_of_stage = deep[-1] + 1 == len(sides) or sides[deep[-1] + 1][0].split(".")[0] != stage
    return stage if last_of_stage else name


def grad_cam(net, images, layer=None, class_index=None):
    """Heat maps (N x H x W numpy, each in [0, 1]) of ``images`` (N x C x H x W, the net's input,
    normalised as it was trained) for ``class_index`` (an int, one per image, or None: each
    image's predicted class) at ``layer`` (default: ``default_layer``); returns (maps, the classes used)."""
    if not isinstance(images, mx.nd.NDArray):
        raise InputShapeError("grad_cam takes an NDArray batch N x C x H x W")
    check_input_shape(images.shape, net)
    layer = layer or default_layer(net, min(images.shape[2:]))
    count = layer_count(net, layer)
    maps = net.walk(mx.nd, images, count)[0]
    if maps.ndim != 4 or maps.shape[2] * maps.shape[3] < 2:
        raise ConfigError(f"{net.model_name} has no spatial feature maps at {layer!r} "
                          f"(its output there is {tuple(maps.shape[1:])}); choose an earlier layer")
    maps.attach_grad()
    with inference_in_training_mode(net), autograd.record(train_mode=True):
        x = maps
        for _, block in net.layers()[count:]:
            x = block(x)
        logits = net.head(x)
        classes = _classes(logits, class_index, net.num_classes)
        chosen = ops.array_like(logits, mx.nd.one_hot(mx.nd.array(classes, ctx=logits.context),
                                                      net.num_classes, dtype=logits.dtype))
        score = (logits * chosen).sum()
    score.backward()
    weights = maps.grad.mean(axis=(2, 3), keepdims=True)
    cam = mx.nd.relu(ops.legacy((weights * maps).sum(axis=1, keepdims=True)))
    cam = mx.nd.contrib.BilinearResize2D(cam, height=images.shape[2], width=images.shape[3]).asnumpy()[:, 0]
    peak = cam.reshape(len(cam), -1).max(axis=1).reshape(-1, 1, 1)
    return np.where(peak > 0, cam / np.maximum(peak, 1e-12), 0.0), classes


def _classes(logits, class_index, num_classes):
    if class_index is None:
        return logits.argmax(axis=1).asnumpy().astype(int).tolist()
    wanted = [class_index] * logits.shape[0] if np.isscalar(class_index) else list(class_index)
    if len(wanted) != logits.shape[0] or any(not 0 <= int(c) < num_classes for c in wanted):
        raise ConfigError(f"class index {class_index!r} out of range: the net has classes 0..{num_classes - 1}")
    return [int(c) for c in wanted]


def draw_overlay(ax, image, heat=None):
    """``image`` (uint8 C x H x W) on matplotlib axes ``ax``, with ``heat`` over it when given."""
    ax.imshow(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0),
              cmap="gray" if image.shape[0] == 1 else None)
    if heat is not None:
        ax.imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)


def explain(net, x, layer, names, labels=None, class_index=None):
    """Per image of ``x``, [(title, heat map)]: the predicted class's map (or ``class_index``'s),
    then the true class's where ``labels`` (one per image, or None) names another."""
    maps, classes = grad_cam(net, x, layer, class_index)
    what = "asked" if class_index is not None else "predicted"
    rows = [[(f"{what}: {names[k]}", heat)] for k, heat in zip(classes, maps)]
    others = [i for i, label in enumerate(labels or []) if label is not None and label != classes[i]]
    if others:
        true_maps, _ = grad_cam(net, x[others], layer, [int(labels[i]) for i in others])
        for i, heat in zip(others, true_maps):
            rows[i].append((f"true: {names[labels[i]]}", heat))
    return rows


def plot_cam(images, rows, path, title, row_titles=None):
    """PNG: a row per image (uint8 C x H x W): the image, then its overlay for each (title, heat
    map) of its row (``explain``'s rows); ``row_titles`` label the images."""
    from ..base.plots import save_png, subplots
    cols = 1 + max(len(row) for row in rows)
    fig, axes = subplots(len(rows), cols, figsize=(2.3 * cols, 2.4 * len(rows)), squeeze=False)
    for i, (image, row) in enumerate(zip(images, rows)):
        draw_overlay(axes[i, 0], image)
        axes[i, 0].set_title(row_titles[i] if row_titles else "image", fontsize=8)
        for col, (label, heat) in enumerate(row, 1):
            draw_overlay(axes[i, col], image, heat)
            axes[i, col].set_title(label, fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    save_png(fig, path)
    return path
