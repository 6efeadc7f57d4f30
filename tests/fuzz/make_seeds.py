#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/), small
valid inputs of every format, deterministically (python3, standard library).
Run from anywhere; re-running rewrites the same bytes. Seeds for plan.json
and the cost profiles that live elsewhere are kept as they are."""
import json
import os
import random
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def resnet8(width, classes, rng):
    """A CIFAR ResNet-8 (one block per stage) with random weights."""
    t = []

    def conv(name, c_out, c_in):
        n = c_out * c_in * 9
        t.append((name, "F32", [c_out, c_in, 3, 3],
                  f32([rng.gauss(0, (2.0 / (9 * c_in)) ** 0.5) for _ in range(n)])))

    def bn(name, c):
        t.append((name + ".weight", "F32", [c], f32([1 + 0.1 * rng.random() for _ in range(c)])))
        t.append((name + ".bias", "F32", [c], f32([0.1 * rng.gauss(0, 1) for _ in range(c)])))
        t.append((name + ".running_mean", "F32", [c], f32([0.1 * rng.gauss(0, 1) for _ in range(c)])))
        t.append((name + ".running_var", "F32", [c], f32([0.5 + rng.random() for _ in range(c)])))

    conv("conv1.weight", width, 3)
    bn("bn1", width)
    c_in = width
    for s in (1, 2, 3):
        planes = width << (s - 1)
        conv("layer%d.0.conv1.weight" % s, planes, c_in)
        bn("layer%d.0.bn1" % s, planes)
        conv("layer%d.0.conv2.weight" % s, planes, planes)
        bn("layer%d.0.bn2" % s, planes)
        c_in = planes
    t.append(("linear.weight", "F32", [classes, 4 * width],
              f32([rng.gauss(0, 0.5) for _ in range(classes * 4 * width)])))
    t.append(("linear.bias", "F32", [classes], f32([0.0] * classes)))
    meta = {"arch": "resnet8", "input_mean": "0.485,0.456,0.406",
            "input_std": "0.229,0.224,0.225"}
    return safetensors(t, meta)


def safetensors_seeds(rng):
    out("safetensors", "resnet8_w1.safetensors", resnet8(1, 3, rng))
    out("safetensors", "resnet8_w2.safetensors", resnet8(2, 10, rng))
    half = struct.pack("<4H", 0x3C00, 0xC000, 0x0001, 0x7BFF)
    bf16 = struct.pack("<2H", 0x3F80, 0xBF00)
    out("safetensors", "dtypes.safetensors", safetensors([
        ("a", "F32", [2], f32([1.5, -2.0])),
        ("h", "F16", [2, 2], half),
        ("b", "BF16", [2], bf16),
        ("empty", "F32", [0, 3], b""),
        ("i", "I32", [1], struct.pack("<i", 7)),
        ("d", "F64", [], struct.pack("<d", 0.1)),
    ], {"arch": "test"}))
    out("safetensors", "empty.safetensors", safetensors([]))


def cifar_seeds(rng):
    def record(label):
        return bytes([label]) + bytes(rng.randrange(256) for _ in range(3072))
    # first byte: max_images selector of the fuzz target
    out("cifar", "one.bin", bytes([0]) + record(3))
    out("cifar", "two_max1.bin", bytes([1]) + record(9) + record(0))
    out("cifar", "three.bin", bytes([0]) + record(1) + record(2) + record(7))


def calib(layers, bins, levels=(0.01, 0.5, 0.99), images=2):
    ls = []
    for i, (name, func, values) in enumerate(layers):
        lo, hi = min(values), max(values)
        width = (hi - lo) / bins
        hist = [0] * bins
        for v in values:
            k = bins - 1 if width == 0 or v >= hi else int((v - lo) / width)
            hist[min(k, bins - 1)] += 1
        n = len(values)
        mean = sum(values) / n
        std = (sum((v - mean) ** 2 for v in values) / n) ** 0.5
        s = sorted(values)
        quant = [s[max(0, min(n - 1, int(q * n)))] for q in levels]
        ls.append({"index": i, "name": name, "func": func, "count": n, "min": lo,
                   "max": hi, "mean": mean, "std": std, "quantiles": quant,
                   "histogram": hist})
    return json.dumps({"format": "polyact-calib", "version": 1, "model": "resnet8",
                       "model_sha256": "00" * 32, "data": "seed.bin", "images": images,
                       "chunk_images": 64, "bins": bins, "quantile_levels": list(levels),
                       "layers": ls}, separators=(",", ":"))


def calib_seeds(rng):
    a = [rng.gauss(0.2, 1.5) for _ in range(200)]
    b = [rng.gauss(-1.0, 0.3) for _ in range(50)]
    out("calib", "two_layers.json", calib([("relu", "relu", a), ("layer1.0.relu1", "relu", b)], 16))
    out("calib", "gelu_tanh.json", calib([("g", "gelu", a), ("t", "tanh", b)], 8,
                                         levels=(0.001, 0.05, 0.5, 0.95, 0.999)))
    out("calib", "constant_layer.json", calib([("c", "relu", [0.5] * 10)], 4))
    out("calib", "one_bin.json", calib([("s", "sigmoid", a[:20])], 1, levels=()))


def profile_seeds():
    os.makedirs(os.path.join(HERE, "corpus", "profile"), exist_ok=True)
    for name in ("mpcnn-log.json", "openfhe-n16-2core.json"):
        shutil.copyfile(os.path.join(ROOT, "data", "profiles", name),
                        os.path.join(HERE, "corpus", "profile", name))


def plan_seeds(rng):
    def poly(i, name, func, a, b, deg):
        return {"index": i, "name": name, "func": func, "form": "poly", "interval": [a, b],
                "max_error": 0.01, "impact": None, "degree": deg,
                "cheb": [rng.uniform(-1, 1) / (k + 1) ** 2 for k in range(deg + 1)]}

    def composite(i, name, func, bound, degrees):
        comps, r = [], 1.0
        for d in degrees:
            comps.append({"degree": d, "interval": [-r, r],
                          "cheb": [0.0 if k % 2 == 0 else 1.0 / k for k in range(d + 1)]})
            r = 1.1
        return {"index": i, "name": name, "func": func, "form": "composite",
                "interval": [-bound, bound], "bound": bound, "max_error": None,
                "impact": 0.5, "components": comps}

    layers = [poly(0, "relu", "relu", -3.5, 6.25, 7), composite(1, "layer1.0.relu1", "relu", 12.0, [7, 15]),
              poly(2, "layer1.0.relu2", "gelu", -1e-3, 2e-3, 1), composite(3, "a", "abs", 2.0, [3]),
              poly(4, "t", "tanh", -100.0, 100.0, 31)]
    out("plan", "mixed.json", json.dumps({
        "format": "polyact-plan", "version": 1, "created_by": "polyact 0.1.0",
        "model": {"name": "resnet8", "sha256": "ab" * 32},
        "summary": {"latency_s": 123.5, "speedup": 2.5, "unknown": None},
        "notes": {"cost_profile": "mpcnn-log", "method": "lsq:degree=7"},
        "layers": layers}, indent=2))


def cli_seeds():
    cmds = {
        "help": ["--help"],
        "version": ["--version"],
        "fit_minimax": ["fit", "--func", "gelu", "--range", "-4,4", "--degree", "7", "--json"],
        "fit_lsq": ["fit", "--func", "relu", "--range=-1,2", "--degree=5", "--method", "lsq",
                    "--floor", "0.2", "--weights", "w.txt"],
        "fit_cheb": ["fit", "--func", "silu", "--range", "-8,8", "--degree", "3", "--method", "cheb"],
        "fit_usage": ["fit", "--func", "softplus", "--range", "1,1", "--degree", "0"],
        "cost": ["cost", "--model-depth", "20", "--uniform", "composite:7,15", "--json"],
        "cost_degree": ["cost", "--uniform", "degree:3", "--cost", "p.json"],
        "export": ["export", "--to", "openfhe", "plan.json", "-o", "out.json", "--folded"],
        "export_c": ["export", "--to=c", "--prefix", "net_1", "plan.json"],
        "report": ["report", "plan.json", "--cost", "profile.json"],
        "eval": ["eval", "--model", "m.safetensors", "--data", "d.bin", "--plan", "p.json",
                 "--fixed", "30", "--noise", "1e-6", "--seed", "3", "--images", "8", "--json"],
        "eval_uniform": ["eval", "--model", "m", "--data", "d", "--uniform",
                         "lsq:degree=7,B=layer,floor=0.1", "--calib", "c.json", "--threads", "1",
                         "--input-mean", "0.5,0.5,0.5", "--input-std", "0.2,0.2,0.2"],
        "calibrate": ["calibrate", "--model", "m", "--data", "dir", "--split", "test", "--bins",
                      "64", "--chunk", "16", "-o", "c.json", "--act", "gelu"],
        "optimize": ["optimize", "--model", "m", "--data", "d", "--degrees", "1,2,3,7",
                     "--floors", "0.02,0.2", "--max-drop", "1.5", "--margin", "0.1",
                     "--impact-images", "16", "--cost", "p.json", "-o", "plan.json"],
        "sweep": ["sweep", "--model", "m", "--data", "d", "--calib", "c", "--alphas", "6..8",
                  "--fixed", "40"],
    }
    for name, argv in cmds.items():
        out("cli", name, "\0".join(argv))


def main():
    rng = random.Random(20240601)
    safetensors_seeds(rng)
    cifar_seeds(rng)
    calib_seeds(rng)
    profile_seeds()
    plan_seeds(rng)
    cli_seeds()


if __name__ == "__main__":
    main()
