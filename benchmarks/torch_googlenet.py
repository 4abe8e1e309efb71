"""The d2l GoogLeNet (or timm's inception_v3) in PyTorch, timed on the CPU: the peer for the
MXNet benchmarks.

Runs in the separate torch venv (benchmarks/setup_torch.sh). Prints one JSON line.
    python torch_googlenet.py --mode train|infer [--channels-last] [--bf16] [--compile]
                              [--model d2l|inception_v3] [--threads 2] [--batch 128]
--bf16 trains under torch.autocast("cpu", dtype=torch.bfloat16); --compile uses torch.compile.
"""
import argparse
import json
import statistics
import sys
import time
import types

import torch
from torch import nn

# Same table as gluon_googlenet.nn.googlenet.D2L_STAGES: (c1, (r2, c2), (r3, c3), c4).
INCEPTIONS = {
    "b3": [(64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64)],
    "b4": [(192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64), (128, (128, 256), (24, 64), 64),
           (112, (144, 288), (32, 64), 64), (256, (160, 320), (32, 128), 128)],
    "b5": [(256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128)],
}


def conv(cin, cout, k, s=1, p=0):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p), nn.ReLU(inplace=True))


class Inception(nn.Module):
    def __init__(self, cin, c1, c2, c3, c4):
        super().__init__()
        self.p1 = conv(cin, c1, 1)
        self.p2 = nn.Sequential(conv(cin, c2[0], 1), conv(c2[0], c2[1], 3, 1, 1))
        self.p3 = nn.Sequential(conv(cin, c3[0], 1), conv(c3[0], c3[1], 5, 1, 2))
        self.p4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv(cin, c4, 1))

    def forward(self, x):
        return torch.cat([self.p1(x), self.p2(x), self.p3(x), self.p4(x)], 1)


def d2l_googlenet(classes=10):
    layers = [conv(1, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1), conv(64, 64, 1), conv(64, 192, 3, 1, 1),
              nn.MaxPool2d(3, 2, 1)]
    cin = 192
    for stage in ("b3", "b4", "b5"):
        for c1, c2, c3, c4 in INCEPTIONS[stage]:
            layers.append(Inception(cin, c1, c2, c3, c4))
            cin = c1 + c2[1] + c3[1] + c4
        layers.append(nn.MaxPool2d(3, 2, 1) if stage != "b5" else nn.AdaptiveAvgPool2d(1))
    layers += [nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def build(model):
    """(net, input shape without the batch): the d2l net above (5,977,530 parameters), or
    timm's inception_v3 (1000 classes, no aux head; as gluon_googlenet's inception_v3)."""
    if model == "d2l":
        net = d2l_googlenet()
        assert sum(p.numel() for p in net.parameters()) == 5_977_530
        return net, (1, 96, 96)
    # PyPI's torchvision links CUDA ops that do not load beside a CPU torch; timm imports it.
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import timm
    return timm.create_model("inception_v3", num_classes=1000), (3, 299, 299)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("train", "infer"), required=True)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", choices=("d2l", "inception_v3"), default="d2l")
    parser.add_argument("--bf16", action="store_true", help="torch.autocast to bfloat16 (CPU)")
    parser.add_argument("--compile", action="store_true", help="torch.compile (inductor)")
    parser.add_argument("--profile", type=int, default=0, metavar="TOP",
                        help="print the TOP operators by self CPU time over the timed steps instead")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    net, shape = build(args.model)
    x = torch.rand(args.batch, *shape)
    y = torch.randint(0, 10, (args.batch,))
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    x = x.contiguous(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    net.train(args.mode == "train")
    model = torch.compile(net) if args.compile else net

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16)

    def step():
        if args.mode == "train":
            opt.zero_grad()
            with autocast():
                loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        else:
            with torch.inference_mode(), autocast():
                model(x)

    step()
    step()
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(args.steps):
                step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.profile))
        return
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.batch * args.steps / (time.perf_counter() - start))
    print(json.dumps({"images_per_sec": statistics.median(rates), "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "model": args.model, "bf16": args.bf16,
                      "compile": args.compile}))


if __name__ == "__main__":
    main()
