"""How closely our nets reproduce each published source's net, given its weights.

For every (model, source) pair: the source's own net with Xavier-scale random weights and random
BN statistics, saved in its native format (GluonCV .params here; torchvision .pth and timm
.safetensors in the PyTorch venv), loaded with get_model(..., pretrained=FILE), both run on the
same input in inference mode. Prints max |diff| and the output scale.

    .venv/bin/python benchmarks/pretrained_agreement.py [--torch-python .venv-torch/bin/python]
"""
import argparse
import os
import sys
import tempfile
from functools import partial

import gluon_googlenet  # noqa: F401

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests"), os.path.join(ROOT, "tests", "weights")]
from test_pretrained import GLUONCV_PAIRS, REFERENCES, gluoncv_outputs, torch_outputs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=os.path.join(ROOT, ".venv-torch", "bin", "python"))
    args = parser.parse_args()
    print(f"{'model':<22} {'source':<12} {'max |diff|':>11} {'scale':>7} {'relative':>9}")
    pairs = [("gluoncv", model, partial(gluoncv_outputs, ours=model, theirs=theirs, side=side))
             for model, theirs, side in GLUONCV_PAIRS]
    pairs += [(source, model, partial(torch_outputs, args.torch_python, source=source, model=model, suffix=suffix))
              for source, model, suffix in REFERENCES]
    for source, model, outputs in pairs:
        with tempfile.TemporaryDirectory() as folder:
            ref, ours = outputs(folder=folder)
        diff, scale = float(np.abs(ours - ref).max()), float(np.abs(ref).max())
        print(f"{model:<22} {source:<12} {diff:>11.2e} {scale:>7.3f} {diff / scale:>9.1e}")


if __name__ == "__main__":
    main()
