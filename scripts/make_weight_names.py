"""Write gluon_googlenet/weights/names/MODEL-SOURCE.json: which tensor of a source's weights
file each of our parameters takes, read once from the sources' own modules.

    .venv/bin/python scripts/make_weight_names.py [--torch-python .venv-torch/bin/python]

The source's module is built without weights (GluonCV here; torchvision and timm in the PyTorch
venv) and its parameters and BN statistics are listed in the order the module registers them,
which is the order of its layers; ours likewise. Each section (trunk, classifier, each aux head)
is paired in that order and every pair's shape is checked, so a table is written only when the
two nets agree layer by layer. Tensors of the source that no parameter of ours takes (an aux head
we do not build, a spare copy) are listed under "unused" with the reason. Run it again when a
stage table or a source changes; the equality tests in tests/weights/test_pretrained.py then
show the tables still make the same functions.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gluon_googlenet  # noqa: E402,F401  (threads before MXNet)
from gluon_googlenet.base.gluon_internals import structural_params  # noqa: E402
from gluon_googlenet.nn.registry import build_model  # noqa: E402
from gluon_googlenet.weights.pretrained import NAMES_DIR, PUBLISHED, table_names  # noqa: E402

import mxnet as mx  # noqa: E402

# Tensors a source's file holds that no parameter of ours takes, and why.
UNUSED = {
    ("googlenet", "gluoncv"): ("head.", "GluonCV's spare copy of the classifier (its output layer is 'output')"),
    ("inception_v3", "torchvision"): ("AuxLogits.", "torchvision's aux head; our inception_v3 has none"),
}
# Sources whose nets carry aux heads that ours builds too (aux_logits=True).
WITH_AUX = {("googlenet", "torchvision")}
GLUONCV_NAMES = {"googlenet": "googlenet", "inception_v3": "inceptionv3"}

TORCH_LISTING = r"""
import json, sys, types
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
source, model = sys.argv[1:3]
if source == "torchvision":
    import torchvision
    kwargs = {"weights": None, "init_weights": False, "aux_logits": True}
    net = getattr(torchvision.models, model)(**kwargs)
else:
    import timm
    net = timm.create_model(model, pretrained=False)
print(json.dumps([[k, list(v.shape)] for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")]))
"""


def source_tensors(model, source, torch_python):
    """[(name, shape)] of the source's net in registration order."""
    if source == "gluoncv":
        from gluoncv.model_zoo import get_model
        side = PUBLISHED[(model, source)].input_size
        net = get_model(GLUONCV_NAMES[model], pretrained=False)
        net.initialize()
        net(mx.nd.zeros((1, 3, side, side)))
        return [(k, tuple(p.shape)) for k, p in structural_params(net).items()]
    out = subprocess.run([torch_python, "-c", TORCH_LISTING, source, model], check=True, capture_output=True,
                         text=True).stdout
    return [(k, tuple(s)) for k, s in json.loads(out)]


def section(name):
    """trunk, head or an aux head, for our names and the sources' alike."""
    first = name.split(".")[0]
    if first in ("aux1", "aux2"):
        return first
    if first == "AuxLogits":
        return "aux1"
    return "head" if first in ("head", "fc", "last_linear", "classif", "output") else "trunk"


def table(model, source, torch_python):
    theirs = source_tensors(model, source, torch_python)
    unused_prefix, reason = UNUSED.get((model, source), (None, None))
    unused = [n for n, _ in theirs if unused_prefix and n.startswith(unused_prefix)]
    theirs = [(n, s) for n, s in theirs if n not in unused]
    build = dict(PUBLISHED[(model, source)].build, aux_logits=True) if (model, source) in WITH_AUX else \
        dict(PUBLISHED[(model, source)].build)
    net = build_model(model, **build)
    net.initialize()
    side = PUBLISHED[(model, source)].input_size
    net(mx.nd.zeros((1, 3, side, side)))
    ours = [(k, tuple(p.shape)) for k, p in table_names(net).items()]
    pairs = []
    for part in ("trunk", "head", "aux1", "aux2"):
        a = [x for x in ours if section(x[0]) == part]
        b = [x for x in theirs if section(x[0]) == part]
        if len(a) != len(b):
            raise SystemExit(f"{model}/{source} {part}: we have {len(a)} tensors, the source {len(b)}")
        for (name, shape), (their, their_shape) in zip(a, b):
            if shape != their_shape:
                raise SystemExit(f"{model}/{source}: {name} {shape} against {their} {their_shape}")
            pairs.append([name, their])
    return {"model": model, "source": source, "build": build, "pairs": pairs,
            "unused": {"names": unused, "why": reason} if unused else {"names": [], "why": None}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-python", default=os.path.join(ROOT, ".venv-torch", "bin", "python"))
    args = parser.parse_args()
    os.makedirs(NAMES_DIR, exist_ok=True)
    for model, source in sorted(PUBLISHED):
        data = table(model, source, args.torch_python)
        path = os.path.join(NAMES_DIR, f"{model}-{source}.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=0)
            handle.write("\n")
        print(f"{path}: {len(data['pairs'])} pairs, {len(data['unused']['names'])} unused")


if __name__ == "__main__":
    main()
