"""ONNX Runtime on the package's own ONNX export: the inference peer of benchmarks/peers.py.

Runs in the PyTorch venv (onnxruntime needs numpy>=1.24, which MXNet 1.9.1 cannot import
beside). Prints one JSON line.
    python measure_ort.py quantize --onnx F.onnx --calib CAL.npy --out F-int8.onnx
    python measure_ort.py infer --onnx F.onnx --batch 128 --threads 2 [--test TEST.npz]
    python measure_ort.py profile --onnx F.onnx   (top 10 operator types, ms per run)
quantize: static INT8 in QDQ form, per-channel weights (int8), uint8 activations, MinMax
calibrated on the same uint8 images as MXNet's INT8 path (scaled to [0, 1] as MXNet's is).
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import onnxruntime as ort


def session(path, threads, profile=False):
    options = ort.SessionOptions()
    options.enable_profiling = profile
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def quantize(onnx_file, calib_file, out, batch):
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    images = np.load(calib_file)
    name = session(onnx_file, 1).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{name: (images[i:i + batch].astype(np.float32) / 255)}
                                 for i in range(0, len(images), batch)])

        def get_next(self):
            return next(self.batches, None)

    prepared = out + ".pre.onnx"
    quant_pre_process(onnx_file, prepared)
    quantize_static(prepared, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    os.remove(prepared)
    return {"int8_onnx": out, "calib_images": len(images)}


def random_input(sess, batch):
    """(input name, a seeded float32 batch of the session's input shape)."""
    spec = sess.get_inputs()[0]
    shape = [batch] + [int(d) for d in spec.shape[1:]]
    return spec.name, np.random.RandomState(0).uniform(size=shape).astype(np.float32)


def profile_ops(onnx_file, batch, threads, steps, top):
    """{op type: ms per run} of ONNX Runtime's own profiler over ``steps`` runs, largest ``top``."""
    sess = session(onnx_file, threads, profile=True)
    name, x = random_input(sess, batch)
    for _ in range(steps + 2):
        sess.run(None, {name: x})
    trace = sess.end_profiling()
    with open(trace, encoding="utf-8") as handle:
        events = json.load(handle)
    os.remove(trace)
    per_op = {}
    runs = [e for e in events if e.get("name") == "model_run"][2:]
    start = runs[0]["ts"] if runs else 0
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= start:
            op = e.get("args", {}).get("op_name", "?")
            per_op[op] = per_op.get(op, 0) + e["dur"] / 1000 / steps
    total = sum(per_op.values())
    return {"ms_per_run": total, "top": [(op, round(ms, 2), round(ms / total, 3))
                                         for op, ms in sorted(per_op.items(), key=lambda kv: -kv[1])[:top]]}


def infer(onnx_file, batch, threads, steps, repeats, test_file):
    sess = session(onnx_file, threads)
    name, x = random_input(sess, batch)
    sess.run(None, {name: x})
    sess.run(None, {name: x})
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            sess.run(None, {name: x})
        rates.append(batch * steps / (time.perf_counter() - start))
    result = {"images_per_sec": statistics.median(rates)}
    if test_file:
        saved = np.load(test_file)
        images, labels = saved["images"], saved["labels"]
        right = 0
        for i in range(0, len(images), batch):
            logits = sess.run(None, {name: images[i:i + batch].astype(np.float32) / 255})[0]
            right += int((logits.argmax(axis=1) == labels[i:i + batch]).sum())
        result.update(test_acc=right / len(labels), test_images=len(labels))
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("quantize", "infer", "profile"))
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--calib")
    parser.add_argument("--out")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--test")
    args = parser.parse_args()
    if args.mode == "quantize":
        out = quantize(args.onnx, args.calib, args.out, args.batch)
    elif args.mode == "profile":
        out = profile_ops(args.onnx, args.batch, args.threads, args.steps, 10)
    else:
        out = infer(args.onnx, args.batch, args.threads, args.steps, args.repeats, args.test)
    out.update(onnxruntime=ort.__version__, threads=args.threads)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
