"""Runs in the PyTorch venv: build a torchvision or timm model with random weights and random
BN running statistics, save it in its native format, and save an input and its outputs.

    python torch_models.py SOURCE MODEL OUT_DIR [--train-aux]

Writes OUT_DIR/weights.pth and weights_legacy.pth (torchvision; PyTorch's current and legacy
formats) or weights.safetensors and timm's config.json (timm), x.npy and out.npy
(inference mode; with --train-aux: training mode, dropout off, main and aux outputs).
For timm models also features.npz: the feature maps timm's features_only=True returns (the
outputs of the modules its feature_info names), feature_info.json: their channels and reductions.
"""
import json
import os
import sys
import types

import numpy as np
import torch

# The PyPI torchvision wheel links CUDA libraries, so beside a CPU-only torch its compiled
# ops cannot load and registering their meta kernels fails on import. The models compared
# here use none of those ops: skip the registrations.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")


def build(source, model, train_aux):
    if source == "torchvision":
        import torchvision
        kwargs = {"weights": None, "init_weights": True, "aux_logits": train_aux}
        if model == "googlenet":
            kwargs.update(transform_input=True, dropout=0.0, dropout_aux=0.0)
        else:
            kwargs.update(transform_input=True)
        return getattr(torchvision.models, model)(**kwargs)
    import timm
    return timm.create_model(model, pretrained=False)


def randomize(net):
    """Xavier-scale weights and random BN statistics, so that every window and channel counts."""
    torch.manual_seed(0)
    for module in net.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                torch.nn.init.uniform_(module.bias, -0.1, 0.1)
        elif isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
            torch.nn.init.normal_(module.bias, 0, 0.2)
            module.running_mean.normal_(0, 0.2)
            module.running_var.uniform_(0.5, 1.5)


def main(source, model, out, train_aux=False):
    net = build(source, model, train_aux)
    randomize(net)
    side = 299 if "inception" in model else 224
    x = torch.rand(2, 3, side, side, generator=torch.Generator().manual_seed(1))
    if train_aux:
        net.train()
        for module in net.modules():  # dropout off: the aux path is compared exactly
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
    else:
        net.eval()
    features = {}
    for i, info in enumerate(getattr(net, "feature_info", []) if source == "timm" else []):
        net.get_submodule(info["module"]).register_forward_hook(
            lambda _m, _i, out, i=i: features.__setitem__(f"level{i}", out.numpy().copy()))
    with torch.no_grad():
        y = net(x)
    outputs = [y]
    if hasattr(y, "logits"):  # training-mode outputs: main, then aux1 (after 4a), aux2
        outputs = [y.logits] + [getattr(y, n) for n in ("aux_logits1", "aux_logits2", "aux_logits")
                                if getattr(y, n, None) is not None]
    os.makedirs(out, exist_ok=True)
    state = {k: v for k, v in net.state_dict().items()}
    if source == "timm":
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(out, "weights.safetensors"))
        from timm.models._hub import save_config_for_hf  # config.json beside it, as the model hubs keep it
        save_config_for_hf(net, os.path.join(out, "config.json"))
    else:
        torch.save(state, os.path.join(out, "weights.pth"))
        torch.save(state, os.path.join(out, "weights_legacy.pth"), _use_new_zipfile_serialization=False)
    np.save(os.path.join(out, "x.npy"), x.numpy())
    if features:
        np.savez(os.path.join(out, "features.npz"), **features)
        with open(os.path.join(out, "feature_info.json"), "w", encoding="utf-8") as handle:
            json.dump([{k: info[k] for k in ("num_chs", "reduction", "module")} for info in net.feature_info], handle)
    np.save(os.path.join(out, "out.npy"), np.stack([o.numpy() for o in outputs]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], "--train-aux" in sys.argv[4:])
