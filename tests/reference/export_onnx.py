#!/usr/bin/env python3
"""Exports CIFAR ResNets (and a small CNN using every other ONNX operator
polyact imports) to ONNX with PyTorch's own exporter, for polyact's ONNX tests.

    export_onnx.py --out DIR --data F [--images N] [--zoo-images N]
                   [--acts relu,gelu,gelu_tanh,silu] [--fused] MODEL.safetensors ...

For every MODEL (resnetN.safetensors) writes DIR/resnetN.onnx: the ResNet of
resnet_ref.py (option-A shortcuts as x[:, :, ::2, ::2] zero-padded with F.pad)
built from nn.Conv2d / nn.BatchNorm2d / nn.Linear modules, exported with
torch.onnx.export (opset 13, dynamic batch) in TrainingMode.PRESERVE so that
the BatchNormalization nodes stay in the graph. For the first MODEL also:
  DIR/resnetN_<act>.onnx  every ReLU module replaced by nn.GELU() (erf form),
                          nn.GELU(approximate='tanh') or nn.SiLU();
  DIR/resnetN_fused.onnx  (--fused) the default export (TrainingMode.EVAL),
                          where PyTorch folds batch norm into the convolutions;
  DIR/zoo.onnx            a small CNN with seeded random weights that uses
                          MaxPool (ceil mode), AveragePool (with and without
                          padding counted), asymmetric Pad, Concat, a batch norm
                          after an add, Sub/Div/Mul by constants, ReduceMean,
                          view(size(0), -1) (Shape/Gather/Concat/Reshape),
                          MatMul, Gemm, SiLU, tanh-form GELU and Sigmoid.
metadata_props (input_mean, input_std, arch, num_classes) are appended to each
file's ModelProto as protobuf fields (the onnx Python package is not needed).

Prints one JSON line per file on stdout: {"file", "act", "predictions":
[argmax per image] (only for the activations in --predict; else []),
"logits": [[...] ...] (zoo only, first --zoo-images)} computed by PyTorch on
the first --images records of --data (independent references for polyact's
ONNX path).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_ref import read_cifar, read_safetensors  # noqa: E402


class Block(nn.Module):
    def __init__(self, cin, cout, stride, act):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = act()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = act()
        self.down = stride != 1 or cin != cout
        self.pad = cout // 4

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad)) if self.down else x
        return self.relu2(out + sc)


class ResNet(nn.Module):
    def __init__(self, n, width, classes, act):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = act()
        stages, cin = [], width
        for s in range(3):
            cout = width << s
            stages.append(nn.Sequential(*[Block(cin if i == 0 else cout, cout,
                                                2 if s and i == 0 else 1, act)
                                          for i in range(n)]))
            cin = cout
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.linear(x)


class Normalized(nn.Module):
    """The model as polyact sees it: pixels / 255 in, normalised inside."""

    def __init__(self, net, mean, std):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


class Zoo(nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(7)

        def conv(cin, cout, k, **kw):
            c = nn.Conv2d(cin, cout, k, **kw)
            with torch.no_grad():
                c.weight.copy_(torch.randn(c.weight.shape, generator=g) * (2.0 / (cin * k * k)) ** 0.5)
                if c.bias is not None:
                    c.bias.copy_(torch.randn(cout, generator=g) * 0.1)
            return c

        self.register_buffer("mean", torch.tensor([0.5, 0.45, 0.4]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.3]).view(1, 3, 1, 1))
        self.c1 = conv(3, 8, 3, padding=1)
        self.c2 = conv(8, 8, 2)                 # after an asymmetric pad
        self.c3 = conv(8, 6, 1)
        self.c4 = conv(8, 6, 3, stride=2)
        self.c5 = conv(12, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        with torch.no_grad():
            self.bn.weight.copy_(torch.rand(16, generator=g) + 0.5)
            self.bn.bias.copy_(torch.randn(16, generator=g) * 0.1)
            self.bn.running_mean.copy_(torch.randn(16, generator=g) * 0.1)
            self.bn.running_var.copy_(torch.rand(16, generator=g) + 0.5)
        self.w = nn.Parameter(torch.randn(16, 24, generator=g) * 0.25)
        self.fc = nn.Linear(24, 10)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(10, 24, generator=g) * 0.2)
            self.fc.bias.copy_(torch.randn(10, generator=g) * 0.1)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.silu(self.c1(x))                                      # 8 x 32 x 32
        x = F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)  # 8 x 17 x 17
        y = F.gelu(self.c2(F.pad(x, (0, 1, 0, 1))), approximate="tanh")  # 8 x 17 x 17
        a = torch.relu(self.c3(F.avg_pool2d(y, 2)))                 # 6 x 8 x 8
        b = torch.sigmoid(self.c4(x))                               # 6 x 8 x 8
        z = torch.cat([a, b], dim=1) * 2.0 + 0.5                    # 12 x 8 x 8
        z = F.avg_pool2d(z, 3, stride=1, padding=1, count_include_pad=False)
        z = torch.relu(self.bn(self.c5(z) + 1.0))                   # 16 x 8 x 8
        z = z.mean((2, 3))                                          # 16
        z = z.view(z.size(0), -1)
        return self.fc(torch.relu(z @ self.w))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def add_metadata(path, meta):
    """Appends ModelProto.metadata_props (field 14) entries to the file."""
    extra = b"".join(field_bytes(14, field_bytes(1, k.encode()) + field_bytes(2, v.encode()))
                     for k, v in meta.items())
    with open(path, "ab") as f:
        f.write(extra)


def export(net, path, preserve, meta):
    net.eval()
    mode = torch.onnx.TrainingMode.PRESERVE if preserve else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, training=mode, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    add_metadata(path, meta)


def predict(net, images, batch=128):
    with torch.no_grad():
        return torch.cat([net(images[i:i + batch]) for i in range(0, len(images), batch)])


ACTS = {"relu": nn.ReLU, "gelu": nn.GELU, "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
        "silu": nn.SiLU}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--images", type=int, default=0)
    ap.add_argument("--zoo-images", type=int, default=64)
    ap.add_argument("--acts", default="gelu,gelu_tanh,silu")
    ap.add_argument("--fused", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--predict", default="gelu,gelu_tanh,silu",
                    help="activations whose PyTorch predictions are printed")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    images, _ = read_cifar(a.data, a.images)
    for k, path in enumerate(a.models):
        tensors, meta = read_safetensors(path)
        n = len({key.split(".")[1] for key in tensors if key.startswith("layer1.")})
        width = tensors["conv1.weight"].shape[0]
        classes = tensors["linear.weight"].shape[0]
        arch = meta.get("arch", "resnet%d" % (6 * n + 2))
        mean = [float(v) for v in meta["input_mean"].split(",")]
        std = [float(v) for v in meta["input_std"].split(",")]
        onnx_meta = {"input_mean": meta["input_mean"], "input_std": meta["input_std"],
                     "arch": arch, "num_classes": str(classes)}
        acts = ["relu"] + ([x for x in a.acts.split(",") if x] if k == 0 else [])
        for act in acts:
            net = ResNet(n, width, classes, ACTS[act])
            net.load_state_dict({key: v for key, v in tensors.items()
                                 if not key.endswith("num_batches_tracked")}, strict=False)
            name = arch if act == "relu" else "%s_%s" % (arch, act)
            out = os.path.join(a.out, name + ".onnx")
            export(net, out, True, dict(onnx_meta, arch=name))
            pred = (predict(Normalized(net, mean, std).eval(), images).argmax(1).tolist()
                    if act in a.predict.split(",") else [])
            print(json.dumps({"file": out, "act": act, "predictions": pred}), flush=True)
            if k == 0 and act == "relu" and a.fused:
                out = os.path.join(a.out, arch + "_fused.onnx")
                export(net, out, False, dict(onnx_meta, arch=arch + "_fused"))
                print(json.dumps({"file": out, "act": act, "predictions": pred}), flush=True)
    zoo = Zoo().eval()
    out = os.path.join(a.out, "zoo.onnx")
    export(zoo, out, True, {"input_mean": "0,0,0", "input_std": "1,1,1", "num_classes": "10"})
    logits = predict(zoo, images[:a.zoo_images])
    print(json.dumps({"file": out, "act": "mixed", "predictions": logits.argmax(1).tolist(),
                      "logits": [[float(v) for v in row] for row in logits]}), flush=True)


if __name__ == "__main__":
    main()
