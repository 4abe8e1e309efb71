"""How closely our nets reproduce each published source's net, given its weights.

For every (model, source) pair: the source's own net with Xavier-scale random weights and random
BN statistics, saved in its native format (GluonCV .params here; torchvision .pth and timm
.safetensors in the PyTorch venv), loaded with get_model(..., pretrained=FILE), both run on the
same input in inference mode. Prints max |diff| and the output scale.

    .venv/bin/python benchmarks/pretrained_agreement.py [--torch-python .venv-torch/bin/python]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import gluon_googlenet  # noqa: F401
import mxnet as mx
import numpy as np

from gluon_googlenet import get_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from test_pretrained import REFERENCES, _randomize_gluon  # noqa: E402


def gluoncv_pair(folder, ours, theirs, side):
    from gluoncv.model_zoo import get_model as gluoncv_model
    mx.random.seed(0)
    source = gluoncv_model(theirs, pretrained=False)
    source.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(2, 3, side, side))
    source(x)
    _randomize_gluon(source)
    path = os.path.join(folder, f"{theirs}.params")
    source.save_parameters(path)
    return source(x).asnumpy(), get_model(ours, pretrained=path)(x).asnumpy()


def torch_pair(folder, torch_python, source, model, suffix):
    subprocess.run([torch_python, os.path.join(ROOT, "tests", "reference", "torch_models.py"), source, model,
                    folder], check=True, capture_output=True)
    x, ref = np.load(os.path.join(folder, "x.npy")), np.load(os.path.join(folder, "out.npy"))[0]
    return ref, get_model(model, pretrained=os.path.join(folder, f"weights{suffix}"))(mx.nd.array(x)).asnumpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=os.path.join(ROOT, ".venv-torch", "bin", "python"))
    args = parser.parse_args()
    print(f"{'model':<22} {'source':<12} {'max |diff|':>11} {'scale':>7} {'relative':>9}")
    pairs = [("gluoncv", "googlenet", "googlenet", 224), ("gluoncv", "inception_v3", "inceptionv3", 299)]
    pairs += [(source, model, suffix, None) for source, model, suffix in REFERENCES]
    for source, model, other, side in pairs:
        with tempfile.TemporaryDirectory() as folder:
            ref, ours = (gluoncv_pair(folder, model, other, side) if source == "gluoncv"
                         else torch_pair(folder, args.torch_python, source, model, other))
        diff, scale = float(np.abs(ours - ref).max()), float(np.abs(ref).max())
        print(f"{model:<22} {source:<12} {diff:>11.2e} {scale:>7.3f} {diff / scale:>9.1e}")


if __name__ == "__main__":
    main()
