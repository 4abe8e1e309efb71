"""Write tests/fixtures/param_names-LABEL.json: per registered model (and googlenet with aux heads)
the number of parameters and SHA-256 digests of their full names (what exported .params files
use) and structural names (what checkpoints use), each line 'name shape', sorted.

    .venv/bin/python scripts/make_param_names.py LABEL [MODEL ...]   # MODELs only (a model added later)

tests/nn/test_registry.py holds today's nets against the file of the commit the fixture names:
a failure there means files users saved no longer load. Write a new file on purpose only when
names must change, and say so in CHANGELOG.md and tests/fixtures/README.md.
"""
import argparse
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gluon_googlenet  # noqa: E402,F401  (threads before MXNet)
from gluon_googlenet import get_model, list_models  # noqa: E402
from gluon_googlenet.base.gluon_internals import structural_names  # noqa: E402

ROWS = ("googlenet+aux",)  # beside every registered model


def digest(params):
    """SHA-256 of 'name shape' lines, sorted."""
    text = "\n".join(f"{k} {'x'.join(map(str, p.shape))}" for k, p in sorted(params.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def names_record(name):
    """{count, names, structural} of registered model ``name`` ('googlenet+aux': with aux heads)."""
    net = get_model("googlenet", aux_logits=True) if name == "googlenet+aux" else get_model(name)
    params = dict(net.collect_params().items())
    structural = {path: params[full] for full, path in structural_names(net).items()}
    return {"count": len(params), "names": digest(params), "structural": digest(structural)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("label", help="the commit (or release) the names are frozen at")
    parser.add_argument("models", nargs="*", help="only these (default: every model and ROWS)")
    args = parser.parse_args()
    path = os.path.join(ROOT, "tests", "fixtures", f"param_names-{args.label}.json")
    records = {name: names_record(name) for name in (args.models or (*list_models(), *ROWS))}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(records, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(path)


if __name__ == "__main__":
    main()
