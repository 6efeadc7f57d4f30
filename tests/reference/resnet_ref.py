#!/usr/bin/env python3
"""Independent PyTorch reference for polyact's network engine.

Builds the CIFAR ResNet of He et al. (option-A shortcuts, as in
akamaster/pytorch_resnet_cifar10) from a .safetensors file read with the Python
standard library and numpy (no `safetensors` package), runs CIFAR-10 binary
records through it in eval mode, fp32, and prints one JSON object on stdout.

    resnet_ref.py logits --model M [--model M2 ...] --data F [--images N]
        one line per model: {"model", "images", "correct", "labels",
                             "logits": [[10 floats] ...]}
    resnet_ref.py calib  --model M --data F [--images N] [--exact-quantiles Q1,Q2,..]
        {"layers": [{"name", "min", "max", "mean", "std", "count",
                     "quantiles": [...]} ...]}
        statistics of each activation layer's *input*, in execution order;
        quantiles are exact order statistics x_(ceil(q n)) (keeps every value:
        use few images)
    resnet_ref.py bench  --model M [--batch B] [--threads T] [--seconds S]
        {"images_per_second", "cpu_seconds_per_image", "batch", "threads"}
        (CPU time of the whole process: with one thread, the time one core
        spends per image whatever else runs on the machine)

Batch norm is applied as PyTorch does in eval mode (not folded), so the
comparison also checks polyact's folding.
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = raw[8 + n:]
    tensors = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        buf = body[a:b]
        if info["dtype"] == "BF16":
            u16 = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
            arr = arr.astype(np.float32)
        tensors[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return tensors, meta


class ResNet(torch.nn.Module):
    """CIFAR ResNet-(6n+2); the activation is a callable so that it can be observed."""

    def __init__(self, tensors, meta):
        super().__init__()
        self.t = tensors
        blocks = sorted({k.split(".")[1] for k in tensors if k.startswith("layer1.")}, key=int)
        self.n = len(blocks)
        self.mean = torch.tensor([float(v) for v in meta["input_mean"].split(",")],
                                 dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor([float(v) for v in meta["input_std"].split(",")],
                                dtype=torch.float32).view(1, 3, 1, 1)
        self.observer = None

    def act(self, name, x):
        if self.observer is not None:
            self.observer(name, x)
        return F.relu(x)

    def conv_bn(self, x, conv, bn, stride):
        t = self.t
        x = F.conv2d(x, t[conv + ".weight"], None, stride=stride, padding=1)
        return F.batch_norm(x, t[bn + ".running_mean"], t[bn + ".running_var"],
                            t[bn + ".weight"], t[bn + ".bias"], training=False, eps=1e-5)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = self.act("relu", self.conv_bn(x, "conv1", "bn1", 1))
        for stage in (1, 2, 3):
            for i in range(self.n):
                p = "layer%d.%d" % (stage, i)
                stride = 2 if (stage > 1 and i == 0) else 1
                out = self.act(p + ".relu1", self.conv_bn(x, p + ".conv1", p + ".bn1", stride))
                out = self.conv_bn(out, p + ".conv2", p + ".bn2", 1)
                if stride != 1 or x.shape[1] != out.shape[1]:
                    pad = out.shape[1] // 4
                    sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, pad, pad), "constant", 0)
                else:
                    sc = x
                x = self.act(p + ".relu2", out + sc)
        x = F.avg_pool2d(x, x.shape[3]).view(x.shape[0], -1)
        return F.linear(x, self.t["linear.weight"], self.t["linear.bias"])


def read_cifar(path, count):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 3073:
        sys.exit("%s: size %d is not a multiple of 3073" % (path, raw.size))
    rec = raw.reshape(-1, 3073)
    if count:
        rec = rec[:count]
    labels = rec[:, 0].astype(np.int64)
    # torchvision ToTensor: uint8 -> float32 / 255
    images = torch.from_numpy(rec[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32)).div(255)
    return images, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["logits", "calib", "bench"])
    ap.add_argument("--model", required=True, action="append")
    ap.add_argument("--data")
    ap.add_argument("--images", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--exact-quantiles", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.mode == "logits":
        images, labels = read_cifar(a.data, a.images)
        for path in a.model:
            tensors, meta = read_safetensors(path)
            net = ResNet(tensors, meta).eval()
            with torch.no_grad():
                logits = torch.cat([net(images[i:i + a.batch])
                                    for i in range(0, len(images), a.batch)])
            correct = int((logits.argmax(1).numpy() == labels).sum())
            print(json.dumps({"model": meta.get("arch", path), "images": len(images),
                              "correct": correct, "labels": labels.tolist(),
                              "logits": [[float(v) for v in row] for row in logits]}))
        return
    tensors, meta = read_safetensors(a.model[0])
    net = ResNet(tensors, meta).eval()

    with torch.no_grad():
        if a.mode == "bench":
            x = torch.rand(a.batch, 3, 32, 32)
            net(x)  # warm-up
            done, t0, c0 = 0, time.perf_counter(), time.process_time()
            while True:
                net(x)
                done += a.batch
                dt = time.perf_counter() - t0
                if dt >= a.seconds:
                    break
            cpu = time.process_time() - c0
            print(json.dumps({"images_per_second": done / dt, "cpu_seconds_per_image": cpu / done,
                              "batch": a.batch, "threads": a.threads,
                              "torch": torch.__version__}))
            return

        images, labels = read_cifar(a.data, a.images)
        stats = {}
        order = []
        levels = [float(q) for q in a.exact_quantiles.split(",") if q]
        values = {}

        def observe(name, x):
            d = x.double()
            if levels:
                values.setdefault(name, []).append(x.detach().flatten().clone())
            if name not in stats:
                order.append(name)
                stats[name] = [float("inf"), float("-inf"), 0.0, 0.0, 0]
            s = stats[name]
            s[0] = min(s[0], float(x.min()))
            s[1] = max(s[1], float(x.max()))
            s[2] += float(d.sum())
            s[3] += float((d * d).sum())
            s[4] += x.numel()

        net.observer = observe
        for i in range(0, len(images), a.batch):
            net(images[i:i + a.batch])
        layers = []
        for name in order:
            lo, hi, s1, s2, n = stats[name]
            mean = s1 / n
            var = max(s2 / n - mean * mean, 0.0)
            layer = {"name": name, "min": lo, "max": hi, "mean": mean,
                     "std": var ** 0.5, "count": n}
            if levels:
                v = torch.cat(values.pop(name))
                # order statistic of rank ceil(q n), 1-based
                layer["quantiles"] = [float(torch.kthvalue(v, max(1, math.ceil(q * n)))[0])
                                      for q in levels]
            layers.append(layer)
        print(json.dumps({"model": meta.get("arch", a.model[0]), "images": len(images),
                          "layers": layers}))


if __name__ == "__main__":
    main()
