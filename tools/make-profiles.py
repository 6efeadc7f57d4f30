#!/usr/bin/env python3
"""Derives polyact's HE cost profiles from the measurement files.

    python3 tools/make-profiles.py [--he DIR] [--check]

Reads DIR/mpcnn-resnet20-log.json and DIR/openfhe-n16-2core.json (DIR defaults
to ../shared/he beside the checkout) and writes

    data/profiles/mpcnn-log.json          the default profile
    data/profiles/openfhe-n16-2core.json  the OpenFHE 1.5.1 profile
    src/pann/cost_profile_default.c       the default profile's text, compiled
                                          into the library (one source of truth:
                                          test_cost_profile checks the two agree)

--check writes nothing and exits 1 if any of those files differs from what
the measurements give (the test suite runs it, so the derivation stays
reproducible).

Every number in a profile comes from one line of code below; the comments say
which rows of which file it is taken from.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mean(xs):
    return sum(xs) / len(xs)


def ms(x):
    """Milliseconds rounded to 0.1 ms (the log's resolution is 1 ms)."""
    return round(float(x), 1)


# --- the MPCNN log ---------------------------------------------------------
# Log layers: 0 stem (conv, BN, ReLU), 1-6 stage 1, 7-12 stage 2, 13-18 stage 3
# (layer 7 and 13 are the first, stride-2 convolution of their stage), 19 the
# head (average pooling, fully connected). A bootstrapping logged in layer k
# refreshes the input of that layer's ReLU, so it belongs to layer k's stage.
STAGE_LAYERS = {1: range(1, 7), 2: range(7, 13), 3: range(13, 19)}
FIRST_CONV_LAYER = {2: 7, 3: 13}


def log_rows(log, op, layers):
    return [r for r in log["ops"] if r["op"] == op and r["layer"] in layers]


def mpcnn_profile(log):
    def one(op, layer):
        rows = log_rows(log, op, [layer])
        assert len(rows) == 1, (op, layer)
        return rows[0]["ms"]

    def stage_mean(op, s, exclude=()):
        layers = [k for k in STAGE_LAYERS[s] if k not in exclude]
        return ms(mean([r["ms"] for r in log_rows(log, op, layers)]))

    conv, bn = "multiplexed parallel convolution", "multiplexed parallel batch normalization"
    relu = [r["ms"] for r in log["ops"] if r["op"] == "approximate ReLU"]
    assert len(relu) == 19
    stages = []
    for s in (1, 2, 3):
        first = FIRST_CONV_LAYER.get(s)
        st = {
            "conv": {"levels": 2, "ms": stage_mean(conv, s, exclude=(first,))},
            "bn": {"levels": 0, "ms": stage_mean(bn, s)},
        }
        if first is not None:
            st["conv_downsample"] = {"levels": 2, "ms": ms(one(conv, first))}
            st["shortcut_downsample"] = {
                "levels": 1,
                "ms": stage_mean("multiplexed parallel downsampling", s),
            }
        stages.append(st)

    openfhe_ops = OPENFHE["ops_ms"]
    cols = openfhe_ops["columns"]
    rows = sorted(openfhe_ops["rows"], key=lambda r: r[0])
    col = lambda name: [r[cols.index(name)] for r in rows]

    return {
        "format": "polyact-cost",
        "version": 1,
        "name": "mpcnn-log",
        "description": "Default profile: the published per-operation log of the uniform "
        "alpha=13 encrypted ResNet-20 (Lee et al. ICML 2022, RNS-CKKS logN=16, modified "
        "SEAL 3.6.6).",
        "derivation": "tools/make-profiles.py from ../shared/he/mpcnn-resnet20-log.json "
        "(costs, levels) and ../shared/he/openfhe-n16-2core.json (shape of the "
        "multiplication cost by level).",
        "notes": [
            "Linear layer costs are per-stage means of the log's layers 1-18 (stem and "
            "head as logged); the log measures each layer at one level only, so linear "
            "costs are level-independent.",
            "Bootstrapping: per-stage mean of the 6 bootstrappings logged in that stage "
            "(multiplexed packing makes later stages cheaper).",
            "Polynomials: non-scalar and scalar multiplications of the baby-step "
            "giant-step plan, each at the level where it runs, with OpenFHE's 1-thread "
            "ct x ct and scalar multiplication cost by level as the shape (the 2-thread "
            "column is noisier), scaled so that the {15,15,27} AppReLU plus its ReLU "
            "product, starting at level 16, costs the log's mean AppReLU.",
            "Levels as logged: fresh input at 19 (stem conv 19 -> 17, its batch norm "
            "-> 16), conv 2, later batch norms 0 (folded), downsampling shortcut 1, "
            "pool 1, FC 1; 16 levels after a bootstrapping; residual add free.",
        ],
        "levels": {"max": 16, "fresh": 19},
        "bootstrap": {
            "ms_by_stage": [ms(mean([r["ms"] for r in log_rows(log, "bootstrapping", STAGE_LAYERS[s])]))
                            for s in (1, 2, 3)],
            "between_components": False,
        },
        "activation": {
            "model": "bsgs",
            "mult_ms_by_level": {
                "level": col("levels_remaining"),
                "ct_ct": col("ct_ct_mult_relin_rescale_1t"),
                "scalar": col("scalar_mult_rescale_1t"),
            },
            "calibrate": {
                "degrees": [15, 15, 27],
                "relu_product": True,
                "level": 16,
                "ms": ms(mean(relu)),
            },
        },
        "cifar_resnet": {
            "stem": {
                "conv": {"levels": 2, "ms": ms(one(conv, 0))},
                "bn": {"levels": 1, "ms": ms(one(bn, 0))},
            },
            "stages": stages,
            "pool": {"levels": 1, "ms": ms(one("average pooling", 19))},
            "fc": {"levels": 1, "ms": ms(one("fully connected layer", 19))},
        },
    }


# --- the OpenFHE measurement -----------------------------------------------
def parse_degree_ranges(table):
    """{"1": 1, "3-5": 3, "511": 10} -> ([1, 5, 511], [1, 3, 10]) by upper bound."""
    rows = []
    for key, levels in table.items():
        hi = int(key.split("-")[-1])
        rows.append((hi, levels))
    rows.sort()
    return [r[0] for r in rows], [r[1] for r in rows]


def openfhe_profile(default):
    boot_s = OPENFHE["bootstrap_s"]["threads_2"]
    log_boot_mean = mean([r["ms"] for r in LOG["ops"] if r["op"] == "bootstrapping"])
    scale = boot_s * 1000.0 / log_boot_mean

    def scaled(entry):
        return {k: (ms(v * scale) if k == "ms" else v) for k, v in entry.items()}

    res = default["cifar_resnet"]
    resnet = {
        "stem": {k: scaled(v) for k, v in res["stem"].items()},
        "stages": [{k: scaled(v) for k, v in st.items()} for st in res["stages"]],
        "pool": scaled(res["pool"]),
        "fc": scaled(res["fc"]),
    }
    cs = OPENFHE["chebyshev_series"]
    c = cs["columns"]
    series = sorted(cs["rows"], key=lambda r: r[0])
    ops = OPENFHE["ops_ms"]
    oc = ops["columns"]
    orows = sorted(ops["rows"], key=lambda r: r[0])
    max_deg, lv = parse_degree_ranges(OPENFHE["levels_consumed_by_degree"]["unit_interval"])
    return {
        "format": "polyact-cost",
        "version": 1,
        "name": "openfhe-n16-2core",
        "description": "OpenFHE 1.5.1 CKKS measured on a 2-core CI machine (ring dimension "
        "2^16, not 128-bit secure; 2^17 is roughly twice as slow), 2 threads.",
        "derivation": "tools/make-profiles.py from ../shared/he/openfhe-n16-2core.json "
        "(bootstrapping, Chebyshev series, single ops) and "
        "../shared/he/mpcnn-resnet20-log.json (linear layers, scaled).",
        "notes": [
            "Bootstrapping: bootstrap_s.threads_2 for every stage (OpenFHE was measured "
            "with one packing only), 16 usable levels after it.",
            "Polynomials: EvalChebyshevSeries seconds_2_threads by degree, linearly "
            "interpolated in degree, level-independent (measured at one level); levels "
            "per levels_consumed_by_degree.unit_interval, i.e. the input map to [-1,1] "
            "is assumed folded into the preceding linear layer (otherwise one more level "
            "per polynomial); degrees 496-510 are assumed to take the 10 levels of 511.",
            "A composite activation's components are separate series; the ReLU product "
            "x(1+s)/2 is one ct x ct multiplication (ct_ct_mult_relin_rescale_2t at its "
            "level). OpenFHE's series takes one level more than ceil(log2(d+1)) for "
            "several degrees (15 takes 5), so the {15,15,27} AppReLU uses all 16 levels: "
            "bootstrapping between components is allowed in this profile.",
            "Linear layers: ASSUMPTION, the MPCNN log's per-stage costs scaled by "
            "OpenFHE bootstrap / log mean bootstrap = %.4f (no OpenFHE ResNet "
            "convolution was measured); levels as in the log." % scale,
        ],
        "levels": {"max": OPENFHE["bootstrap_s"]["levels_usable_after"],
                   "fresh": default["levels"]["fresh"]},
        "bootstrap": {"ms_by_stage": [ms(boot_s * 1000.0)] * 3, "between_components": True},
        "activation": {
            "model": "series",
            "series_ms_by_degree": {
                "degree": [r[c.index("degree")] for r in series],
                "ms": [ms(r[c.index("seconds_2_threads")] * 1000.0) for r in series],
            },
            "levels_by_degree": {"max_degree": max_deg, "levels": lv},
            "mult_ms_by_level": {
                "level": [r[oc.index("levels_remaining")] for r in orows],
                "ct_ct": [r[oc.index("ct_ct_mult_relin_rescale_2t")] for r in orows],
                "scalar": [r[oc.index("scalar_mult_rescale_2t")] for r in orows],
            },
        },
        "cifar_resnet": resnet,
    }


def to_c(text):
    out = ["/* Generated by tools/make-profiles.py from ../shared/he/ (*.json): do not edit.",
           " * The default cost profile, byte for byte data/profiles/mpcnn-log.json",
           " * (test_cost_profile checks it), so the library works without the file. */",
           '#include "cost_internal.h"',
           "",
           "const char pact_cost_default_profile_text[] ="]
    for line in text.splitlines(keepends=True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append('    "%s"' % esc)
    out[-1] += ";"
    return "\n".join(out) + "\n"


def main():
    global LOG, OPENFHE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--he", default=os.path.join(ROOT, "..", "shared", "he"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(args.he, "mpcnn-resnet20-log.json")) as f:
        LOG = json.load(f)
    with open(os.path.join(args.he, "openfhe-n16-2core.json")) as f:
        OPENFHE = json.load(f)
    default = mpcnn_profile(LOG)
    dump = lambda p: json.dumps(p, indent=1) + "\n"
    outputs = {
        "data/profiles/mpcnn-log.json": dump(default),
        "data/profiles/openfhe-n16-2core.json": dump(openfhe_profile(default)),
        "src/pann/cost_profile_default.c": to_c(dump(default)),
    }
    stale = []
    for rel, text in outputs.items():
        path = os.path.join(ROOT, rel)
        if args.check:
            try:
                with open(path) as f:
                    if f.read() != text:
                        stale.append(rel)
            except OSError:
                stale.append(rel)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
    if stale:
        print("make-profiles: out of date (run tools/make-profiles.py): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
