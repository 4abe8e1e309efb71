"""What numpy 2 (Python 3.13) changes in this package's numbers, against numpy 1 on the same CPU.

Run once per interpreter, each writes a record; then compare two records side by side:

    .venv/bin/python benchmarks/numpy_versions.py --out A.json        # e.g. Python 3.11, numpy 1.23
    .venv-313/bin/python benchmarks/numpy_versions.py --out B.json    # Python 3.13, numpy 2.2
    python benchmarks/numpy_versions.py --compare A.json B.json

Each record holds, with the machine's CPU: the saved fixture's logits (tests/fixtures) against the
ones stored with it; per registered model, the logits of a fixed Xavier net (MXNet's own generator,
seed 0) live and as the exported graph gives them; GluonCV's googlenet read by the weights loader
against GluonCV's own outputs; and the test accuracy of a short real training (the fast preset,
one epoch on 16384 images, seed 0). --compare prints both and their largest differences.
"""
import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _max_rel(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def measure(limit_train):
    """The record of this interpreter (see the module docstring)."""
    import gluon_googlenet  # noqa: F401  (threads and numpy names before MXNet)
    from gluon_googlenet import get_model, get_spec, list_models
    from gluon_googlenet.base.cpu import machine_record
    from gluon_googlenet.training.run.checkpoint import load_model
    from gluon_googlenet.training.run.config import TrainConfig
    from gluon_googlenet.training.trainer import train
    from gluon_googlenet.weights.export import export_model, import_model

    import mxnet as mx
    import numpy as np

    record = {"python": sys.version.split()[0], "numpy": np.__version__, "machine": machine_record(), "models": {}}
    saved = os.path.join(ROOT, "tests", "fixtures", "mnist_resnet-v1")
    rows = np.load(saved + "-io.npy")
    net, _ = load_model(saved + ".ckpt")
    record["fixture_vs_stored"] = _max_rel(net(mx.nd.array(rows[:, :784].reshape(-1, 1, 28, 28))).asnumpy(),
                                           rows[:, 784:])
    with tempfile.TemporaryDirectory() as scratch:
        for name in list_models():
            spec = get_spec(name)
            mx.random.seed(0)
            net = get_model(name)
            net.initialize(mx.init.Xavier(magnitude=2.5))
            side = spec.input_size[1] if net.fixed_size else spec.min_size
            x = mx.nd.array(np.random.RandomState(0).uniform(size=(2, spec.input_size[0], side, side)))
            live = net(x).asnumpy()
            export_model(net, os.path.join(scratch, name), (1,) + x.shape[1:])
            exported = import_model(os.path.join(scratch, name))(x).asnumpy()
            record["models"][name] = {"logits": live[:, :10].round(7).tolist(),
                                      "export_vs_live": _max_rel(exported, live)}
        import gluoncv
        mx.random.seed(0)
        theirs = gluoncv.model_zoo.get_model("googlenet", pretrained=False)
        theirs.initialize(mx.init.Xavier())
        x = mx.nd.array(np.random.RandomState(0).uniform(size=(2, 3, 224, 224)))
        want = theirs(x).asnumpy()
        theirs.save_parameters(os.path.join(scratch, "gluoncv.params"))
        ours = get_model("googlenet", pretrained=os.path.join(scratch, "gluoncv.params"))
        record["gluoncv_loader_vs_gluoncv"] = _max_rel(ours(x).asnumpy(), want)
        result = train(TrainConfig.preset("fast", epochs=1, warmup=0.5, limit_train=limit_train, limit_test=1000,
                                          out=os.path.join(scratch, "run"), progress=False, verbose=0))
        record["short_training_test_acc"] = result.history[-1]["test_acc"]
    return record


def compare(a, b):
    """Lines: the two records' figures side by side and their differences."""
    def label(r):
        return f"Python {r['python']}, numpy {r['numpy']}"
    lines = [f"A: {label(a)}   B: {label(b)}   CPU: {a['machine']['isa']} / {b['machine']['isa']}",
             f"saved fixture's logits vs stored (rel.): A {a['fixture_vs_stored']:.1e}  B {b['fixture_vs_stored']:.1e}",
             f"GluonCV weights through our loader vs GluonCV (rel.): A {a['gluoncv_loader_vs_gluoncv']:.1e}  "
             f"B {b['gluoncv_loader_vs_gluoncv']:.1e}",
             f"short real training, test acc: A {a['short_training_test_acc']:.4f}  "
             f"B {b['short_training_test_acc']:.4f}",
             f"{'model':<22}{'export vs live A':>18}{'export vs live B':>18}{'logits A vs B (rel.)':>22}"]
    for name, ours in a["models"].items():
        other = b["models"].get(name)
        if other:
            lines.append(f"{name:<22}{ours['export_vs_live']:>18.1e}{other['export_vs_live']:>18.1e}"
                         f"{_max_rel(other['logits'], ours['logits']):>22.1e}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write this interpreter's record here")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="print two records side by side")
    parser.add_argument("--limit-train", type=int, default=16384)
    args = parser.parse_args()
    if args.compare:
        a, b = (json.load(open(path, encoding="utf-8")) for path in args.compare)
        print("\n".join(compare(a, b)))
        return
    record = measure(args.limit_train)
    text = json.dumps(record, indent=1)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    print(text if not args.out else args.out)


if __name__ == "__main__":
    main()
