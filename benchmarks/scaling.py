"""Scaling of `launch` (dist_sync) on paper, and its overhead measured on one machine.

For each model: the bytes a worker pushes (gradients) and pulls (weights) per step,
parameters x 4 bytes x 2; the fp32 training step measured here (one process, per-worker batch
--batch, default 16, at the model's input size; inception_resnet_v2 at batch 32 needs more than
24 GB here); and the expected scaling efficiency for W workers on links
of B Gbit/s with one server per host:

    t_comm = 2 x P x 4 bytes x 8 bits x (W - 1) / W / B   (each host's link carries the share
             of its worker's push and its server's answers that leaves the host)
    efficiency = t_step / (t_step + t_comm)               (no overlap of compute and transfer:
                                                            a lower bound; speed-up = W x efficiency)

``--launch`` also measures `launch --workers 1` against `--workers 2` on this machine (the
d2l net at 28x28 on a Fashion-MNIST slice, each worker one OpenMP thread, rounds interleaved
A B A B): two workers use two cores where one uses one, with the scheduler and server on the
same cores, so the ratio against the ideal 2.0 shows the cost of the parameter server here.

    python benchmarks/scaling.py [--models googlenet_d2l,inception_v3] [--batch 16] [--launch]
        [--json benchmarks/scaling.json] [--markdown benchmarks/scaling.md]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

WORKERS, LINKS_GBIT = (2, 4, 8, 16), (1, 10, 25, 100)


def step_seconds(model, batch, rounds=3):
    """Median seconds of one fp32 training step of ``model`` (SGD, batch ``batch``), warm."""
    from gluon_googlenet import get_model
    from gluon_googlenet.nn.registry import get_spec

    import mxnet as mx
    from mxnet import autograd, gluon
    spec = get_spec(model)
    net = get_model(model, num_classes=10)
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    x = mx.nd.random.uniform(shape=(batch, *spec.input_size))
    y = mx.nd.array(list(range(10)) * (batch // 10 + 1))[:batch]
    times = []
    for i in range(rounds + 2):
        start = time.perf_counter()
        with autograd.record():
            out = net(x)
            loss = loss_fn(out[0] if isinstance(out, (list, tuple)) else out, y)
        loss.backward()
        trainer.step(batch)
        mx.nd.waitall()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def step_seconds_apart(model, batch):
    """step_seconds in a process of its own (MXNet keeps a model's memory until its process ends)."""
    out = subprocess.run([sys.executable, __file__, "--step", model, "--batch", str(batch)], check=True,
                         capture_output=True, text=True).stdout
    return float(out.split()[-1])


def efficiency(params, seconds, workers, gbit):
    comm = 2 * params * 4 * 8 * (workers - 1) / workers / (gbit * 1e9)
    return seconds / (seconds + comm)


def paper_table(models, batch):
    from gluon_googlenet.nn.registry import get_spec
    head = f"{'model':20} {'params':>11} {'MB/step':>8} {'step s':>7}  " + "  ".join(
        f"{g:>3} Gbit/s W=" + "/".join(str(w) for w in WORKERS) for g in LINKS_GBIT)
    print(head)
    rows = []
    for model in models:
        spec = get_spec(model)
        seconds = step_seconds_apart(model, batch)
        cells = ["/".join(f"{efficiency(spec.num_params, seconds, w, g):.2f}" for w in WORKERS) for g in LINKS_GBIT]
        print(f"{model:20} {spec.num_params:11,d} {spec.num_params * 8 / 1e6:8.1f} {seconds:7.3f}  "
              + "  ".join(f"{c:>19}" for c in cells), flush=True)
        rows.append({"model": model, "params": spec.num_params, "bytes_per_step": spec.num_params * 8,
                     "step_seconds": seconds, "batch": batch,
                     "efficiency": {g: {w: efficiency(spec.num_params, seconds, w, g) for w in WORKERS}
                                    for g in LINKS_GBIT}})
    return rows


def launch_images_per_second(workers, data_dir):
    """Global training images/s of `launch --workers N` (sum of the workers' epoch figures)."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        train = ["--epochs", "1", "--limit-train", "2048", "--limit-test", "64", "--batch-size", "32", "--resize", "0",
                 "--no-progress", "--out", out] + (["--data-dir", data_dir] if data_dir else [])
        subprocess.run([sys.executable, "-m", "gluon_googlenet", "launch", "--workers", str(workers), "--servers", "1",
                        "--", *train], check=True, env=env, capture_output=True)
        text = "".join(open(os.path.join(out, "logs", n)).read() for n in os.listdir(os.path.join(out, "logs"))
                       if n.startswith("worker-"))
    return sum(float(v) for v in re.findall(r"([0-9.]+) examples/sec", text))


def markdown(result):
    """The figures as Markdown tables: per model, and the launch pair."""
    machine = result["machine"]
    lines = [f"Machine: {machine['isa']}, {machine['cores']} cores, {machine['omp_threads']} OpenMP threads, "
             f"MXNet {machine['mxnet']}. Efficiency at W = {'/'.join(str(w) for w in WORKERS)} workers.", "",
             "| model | parameters | MB pushed + pulled per step per worker | step s (batch) | "
             + " | ".join(f"{g} Gbit/s" for g in LINKS_GBIT) + " |",
             "|---|---:|---:|---:|" + "---|" * len(LINKS_GBIT)]
    for row in result["paper"]:
        cells = ["/".join(f"{row['efficiency'][str(g)][str(w)]:.2f}" for w in WORKERS) for g in LINKS_GBIT]
        lines.append(f"| {row['model']} | {row['params']:,} | {row['bytes_per_step'] / 1e6:.1f} | "
                     f"{row['step_seconds']:.3f} ({row['batch']}) | " + " | ".join(cells) + " |")
    if result.get("launch"):
        ratios = [two / one for one, two in result["launch"]]
        ones, twos = [one for one, _ in result["launch"]], [two for _, two in result["launch"]]
        lines += ["", f"`launch` on this machine (d2l net at 28x28, batch 32 per worker, one thread each, "
                      f"{len(ratios)} rounds): 1 worker {statistics.median(ones):.1f} images/s, 2 workers "
                      f"{statistics.median(twos):.1f} images/s; 2 / 1 = {statistics.median(ratios):.2f} "
                      f"({min(ratios):.2f}..{max(ratios):.2f}) against an ideal 2.0 (two cores for two workers, "
                      f"the scheduler and the server sharing them)."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated (default: every registered model)")
    parser.add_argument("--batch", type=int, default=16, help="per-worker batch (default: %(default)s)")
    parser.add_argument("--launch", action="store_true", help="also measure launch 1 vs 2 workers here")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the launch pair (default: %(default)s)")
    parser.add_argument("--data-dir", help="Fashion-MNIST folder for --launch")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--markdown", help="write the tables as Markdown here (from --json's figures with --render)")
    parser.add_argument("--render", action="store_true", help="measure nothing: render --json to --markdown")
    parser.add_argument("--step", metavar="MODEL", help=argparse.SUPPRESS)  # one model's step, in its own process
    args = parser.parse_args(argv)
    if args.render:
        with open(args.json) as handle, open(args.markdown, "w") as out:
            out.write(markdown(json.load(handle)))
        return
    if args.step:
        print(step_seconds(args.step, args.batch))
        return
    from gluon_googlenet import list_models
    from gluon_googlenet.base.cpu import machine_record
    models = args.models.split(",") if args.models else list_models()
    print(json.dumps(machine_record()))
    result = {"machine": machine_record(), "paper": paper_table(models, args.batch)}
    if args.launch:
        pairs = []
        for _ in range(args.rounds):
            one, two = launch_images_per_second(1, args.data_dir), launch_images_per_second(2, args.data_dir)
            pairs.append((one, two))
            print(f"launch, this machine: 1 worker {one:.1f} images/s, 2 workers {two:.1f} images/s, "
                  f"ratio {two / one:.2f}", flush=True)
        ratios = [two / one for one, two in pairs]
        print(f"2 workers / 1 worker: median {statistics.median(ratios):.2f} ({min(ratios):.2f}..{max(ratios):.2f})")
        result["launch"] = pairs
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(markdown(json.loads(json.dumps(result))))  # the JSON's string keys


if __name__ == "__main__":
    main()
