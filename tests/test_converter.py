#!/usr/bin/env python3
"""Tests tools/torch2safetensors.py and tools/fetch-data.sh.

References are independent of the converter:
  - the shared resnet20.safetensors (made from the same checkpoint elsewhere):
    tensor for tensor, metadata, and byte for byte;
  - real PyTorch: checkpoints it writes in both formats (views with storage
    offsets, strides, shared storages, float64/float16/bfloat16, int buffers)
    must convert to the values torch itself reports;
  - hand-built hostile files: pickles that would run os.system etc. must be
    refused without running anything; truncated or garbage files must give
    exit 1 and one line on stderr.
Needs POLYACT_DATA (models/resnet20-12fca82f.th, models/resnet20.safetensors)
and a python3 with torch (Debian python3-torch); fails, never skips, without.
"""

import io
import json
import os
import pickle
import pickletools
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONVERTER = os.path.join(ROOT, "tools", "torch2safetensors.py")
FETCH = os.path.join(ROOT, "tools", "fetch-data.sh")
NAME = "test_converter"

failures = 0
checks = 0


def check(cond, message):
    """Counts a check; prints `message` (which names both values) on failure."""
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f"{NAME}: FAIL {message}", file=sys.stderr)
    return cond


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def convert(src, dst, *flags):
    return run([sys.executable, CONVERTER, src, dst, *flags])


def one_line(stderr):
    lines = stderr.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("torch2safetensors: ")


def read_safetensors(path):
    """(header without __metadata__, metadata, {name: bytes}); written here,
    separately from the converter, straight from the format's definition."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = {k: blob[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
            for k, v in header.items()}
    return header, meta, data


# --------------------------------------------------------------------------

def test_shared_resnet20(tmp, data_root):
    src = os.path.join(data_root, "models", "resnet20-12fca82f.th")
    ref = os.path.join(data_root, "models", "resnet20.safetensors")
    if not check(os.path.isfile(src) and os.path.isfile(ref),
                 f"missing {src} or {ref} (set POLYACT_DATA)"):
        return
    out = os.path.join(tmp, "resnet20.safetensors")
    r = convert(src, out)
    if not check(r.returncode == 0, f"resnet20 conversion exit {r.returncode}, expected 0: "
                                    f"{r.stderr.strip()}"):
        return
    got_h, got_m, got_d = read_safetensors(out)
    ref_h, ref_m, ref_d = read_safetensors(ref)
    check(list(got_h) == list(ref_h),
          f"tensor names/order: {len(got_h)} converted vs {len(ref_h)} shared; first "
          f"difference {next((a, b) for a, b in zip(list(got_h) + [None], list(ref_h) + [None]) if a != b) if list(got_h) != list(ref_h) else None}")
    for name in ref_h:
        if not check(name in got_h, f"tensor {name} missing from the conversion"):
            continue
        check(got_h[name]["dtype"] == ref_h[name]["dtype"],
              f"{name}: dtype {got_h[name]['dtype']}, shared {ref_h[name]['dtype']}")
        check(got_h[name]["shape"] == ref_h[name]["shape"],
              f"{name}: shape {got_h[name]['shape']}, shared {ref_h[name]['shape']}")
        check(got_d[name] == ref_d[name],
              f"{name}: {len(got_d[name])} bytes differ from the shared {len(ref_d[name])}")
    # What polyact reads from the metadata, then everything else.
    for key in ("arch", "input_mean", "input_std", "reported_top1"):
        check(got_m.get(key) == ref_m.get(key),
              f"metadata {key}: {got_m.get(key)!r}, shared {ref_m.get(key)!r}")
    check(got_m == ref_m, f"metadata {got_m}, shared {ref_m}")
    with open(out, "rb") as a, open(ref, "rb") as b:
        got, want = a.read(), b.read()
    check(got == want, f"file not byte-identical: {len(got)} bytes vs shared {len(want)}")

    # Running again rewrites the same bytes (idempotent).
    r = convert(src, out)
    with open(out, "rb") as a:
        check(r.returncode == 0 and a.read() == want,
              f"second conversion exit {r.returncode} or bytes changed")


# A checkpoint torch writes, with what torch says its tensors hold.
TORCH_FIXTURES = r'''
import collections, json, sys, torch
out = sys.argv[1]
g = torch.Generator().manual_seed(7)
base = torch.randn(6, 10, generator=g)
sd = collections.OrderedDict()
sd["module.dense"] = torch.randn(3, 4, generator=g)
sd["module.rows"] = base[2:4]               # storage offset 20, dense
sd["module.column"] = base[:, 3]            # offset 3, stride 10
sd["module.transposed"] = base.t()          # strides (1, 10)
sd["module.stepped"] = base[1:5:2, 2:9:3]   # offset and both strides
sd["module.expanded"] = base[0:1, :4].expand(3, 4)  # stride (0, 1)
sd["module.scalar"] = torch.tensor(2.5)
sd["module.empty"] = torch.zeros(0, 3)
sd["module.f64"] = torch.randn(5, generator=g, dtype=torch.float64) * 1e3
sd["module.f16"] = torch.randn(7, generator=g).half()
sd["module.bf16"] = torch.randn(7, generator=g).bfloat16()
sd["module.bn.num_batches_tracked"] = torch.tensor(1234)
sd["module.index"] = torch.arange(5, dtype=torch.int32)
ckpt = {"state_dict": sd, "best_prec1": 87.654321, "epoch": 3}
torch.save(ckpt, out + "/legacy.th", _use_new_zipfile_serialization=False)
torch.save(ckpt, out + "/zipped.pt")
torch.save(sd, out + "/bare.pt")   # a bare state_dict, no wrapper
torch.save({"w": torch.zeros(1).expand(1 << 30)}, out + "/huge.pt")  # 4 GiB if expanded
f32 = collections.OrderedDict((k, v) for k, v in sd.items() if v.dtype == torch.float32)
torch.save(f32, out + "/f32.th", _use_new_zipfile_serialization=False)
torch.save(f32, out + "/f32.pt")
ref = {}
for k, v in sd.items():
    v = v.float() if v.is_floating_point() else v
    ref[k[len("module."):]] = {"dtype": {torch.float32: "F32", torch.int64: "I64",
                                         torch.int32: "I32"}[v.dtype],
                               "shape": list(v.shape),
                               "hex": v.contiguous().numpy().tobytes().hex()}
json.dump(ref, open(out + "/reference.json", "w"))
'''


def torch_python():
    """A python3 that can import torch: this one, or Debian's."""
    for exe in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if exe and os.path.exists(exe) and run([exe, "-c", "import torch"]).returncode == 0:
            return exe
    return None


def compare_with_reference(path, ref, keep_int, label):
    header, meta, data = read_safetensors(path)
    want = {k: v for k, v in ref.items() if keep_int or not k.endswith("num_batches_tracked")}
    check(sorted(header) == sorted(want), f"{label}: tensors {sorted(header)}, torch {sorted(want)}")
    for name, w in want.items():
        if name not in header:
            continue
        got = (header[name]["dtype"], header[name]["shape"], data[name].hex())
        check(got == (w["dtype"], w["shape"], w["hex"]),
              f"{label}: {name}: {got[0]} {got[1]} {got[2][:32]}..., torch "
              f"{w['dtype']} {w['shape']} {w['hex'][:32]}...")
    offsets = [header[k]["data_offsets"] for k in header]
    check(all(a % {"I64": 8}.get(header[k]["dtype"], 4) == 0
              for k, (a, _) in zip(header, offsets)),
          f"{label}: a tensor is not aligned to its element size: {offsets}")
    return meta


def big_endian_zip(src, dst):
    """Rewrites a float32-only zip checkpoint as a big-endian machine writes it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        prefix = zin.namelist()[0].split("/")[0]
        for name in zin.namelist():
            blob = zin.read(name)
            if "/data/" in name:
                blob = b"".join(blob[i:i + 4][::-1] for i in range(0, len(blob), 4))
            zout.writestr(name, blob)
        zout.writestr(prefix + "/byteorder", "big")


def big_endian_legacy(src, dst):
    """Rewrites a float32-only legacy checkpoint as a big-endian machine writes
    it: sys_info says so, and every storage's count and elements are swapped."""
    with open(src, "rb") as f:
        blob = f.read()
    stream = io.BytesIO(blob)
    parts = []
    for _ in range(3):  # magic, protocol, sys_info: plain values, safe to load
        parts.append(pickle.load(stream))
    start = stream.tell()
    stop = [pos for op, _, pos in pickletools.genops(stream) if op.name == "STOP"][0] + 1
    obj_pickle = blob[start:stop]
    stream.seek(stop)
    keys = pickle.load(stream)
    keys_pickle = blob[stop:stream.tell()]
    pos, storages = stream.tell(), []
    for _ in keys:
        (count,) = struct.unpack_from("<q", blob, pos)
        raw = blob[pos + 8:pos + 8 + 4 * count]
        storages.append(struct.pack(">q", count)
                        + b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)))
        pos += 8 + 4 * count
    sys_info = dict(parts[2], little_endian=False)
    with open(dst, "wb") as f:
        f.write(pickle.dumps(parts[0], 2) + pickle.dumps(parts[1], 2)
                + pickle.dumps(sys_info, 2) + obj_pickle + keys_pickle + b"".join(storages))


def test_torch_reference(tmp):
    exe = torch_python()
    if not check(exe is not None, "no python3 with torch (install python3-torch)"):
        return
    fixtures = os.path.join(tmp, "torch")
    os.mkdir(fixtures)
    r = run([exe, "-c", TORCH_FIXTURES, fixtures])
    if not check(r.returncode == 0, f"torch fixture script exit {r.returncode}: {r.stderr[-400:]}"):
        return
    with open(os.path.join(fixtures, "reference.json")) as f:
        ref = json.load(f)
    f32_ref = {k: v for k, v in ref.items()
               if k in ("dense", "rows", "column", "transposed", "stepped", "expanded", "scalar",
                        "empty")}
    cases = [("legacy.th", ref, True), ("zipped.pt", ref, True), ("bare.pt", ref, False)]
    for fname, want, wrapped in cases:
        for keep_int in (False, True):
            out = os.path.join(tmp, f"{fname}.{keep_int}.safetensors")
            flags = ["--keep-int"] if keep_int else []
            r = convert(os.path.join(fixtures, fname), out, *flags)
            if check(r.returncode == 0, f"{fname} {flags}: exit {r.returncode}: {r.stderr.strip()}"):
                meta = compare_with_reference(out, want, keep_int, f"{fname} {flags}")
                top1 = meta.get("reported_top1")
                check(top1 == ("87.65" if wrapped else None),
                      f"{fname}: reported_top1 {top1!r}, best_prec1 87.654321")
    # The same tensors from a big-endian machine.
    big_endian_zip(os.path.join(fixtures, "f32.pt"), os.path.join(tmp, "be.pt"))
    big_endian_legacy(os.path.join(fixtures, "f32.th"), os.path.join(tmp, "be.th"))
    for fname in ("be.pt", "be.th"):
        out = os.path.join(tmp, fname + ".safetensors")
        r = convert(os.path.join(tmp, fname), out)
        if check(r.returncode == 0, f"{fname}: exit {r.returncode}: {r.stderr.strip()}"):
            compare_with_reference(out, f32_ref, False, fname)
    # A stride-0 view that would expand to 4 GiB: refused, not allocated.
    r = convert(os.path.join(fixtures, "huge.pt"), os.path.join(tmp, "huge.safetensors"))
    check(r.returncode == 1 and one_line(r.stderr) and "bytes" in r.stderr,
          f"huge.pt: exit {r.returncode}, stderr {r.stderr!r}; expected 1, one line")
    # --keep-prefix, --preset none, --meta.
    out = os.path.join(tmp, "flags.safetensors")
    r = convert(os.path.join(fixtures, "zipped.pt"), out, "--keep-prefix", "--preset", "none",
                "--meta", "arch=resnet8", "--meta", "reported_top1=90")
    if check(r.returncode == 0, f"flags: exit {r.returncode}: {r.stderr.strip()}"):
        header, meta, _ = read_safetensors(out)
        check("module.dense" in header, f"--keep-prefix: names {sorted(header)[:3]}")
        check(meta == {"reported_top1": "90", "arch": "resnet8"},
              f"--preset none --meta: metadata {meta}")


# --------------------------------------------------------------------------
# Hostile inputs

def legacy_prefix():
    """The three small pickles a legacy checkpoint starts with."""
    return (pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2)
            + pickle.dumps({"protocol_version": 1001, "little_endian": True,
                            "type_sizes": {"short": 2, "int": 4, "long": 4}}, 2))


def shell_call(module, name, command, stack_global=False):
    """Opcodes for module.name(command), e.g. os.system('touch x'): what a
    malicious checkpoint carries; built by hand, never loaded here."""
    arg = command.encode()
    arg_op = b"X" + struct.pack("<I", len(arg)) + arg
    if stack_global:  # protocol 4 spelling: STACK_GLOBAL
        mod, nam = module.encode(), name.encode()
        glob = (b"\x8c" + bytes([len(mod)]) + mod + b"\x8c" + bytes([len(nam)]) + nam
                + b"\x93")
        return b"\x80\x04" + glob + arg_op + b"\x85R."
    return b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n" + arg_op + b"\x85R."


def hand_zip(build_state):
    """A one-tensor zip checkpoint built opcode by opcode: {'w': tensor([1.5])},
    optionally with a BUILD that sets state on the tensor afterwards."""
    def text(v):
        v = v.encode()
        return b"X" + struct.pack("<I", len(v)) + v
    new_odict = b"ccollections\nOrderedDict\n)R"
    pid = (b"(" + text("storage") + b"ctorch\nFloatStorage\n" + text("0") + text("cpu")
           + b"K\x01tQ")
    tensor = (b"ctorch._utils\n_rebuild_tensor_v2\n(" + pid + b"K\x00K\x01\x85K\x01\x85\x89"
              + new_odict + b"tR")
    if build_state:
        tensor += b"}" + text("shape") + text("x") + b"sb"
    pkl = b"\x80\x02" + new_odict + text("w") + tensor + b"s."
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/data/0", struct.pack("<f", 1.5))
    return buf.getvalue()


def test_malicious(tmp):
    # Positive control: the hand-built checkpoint the attacks below vary.
    path = os.path.join(tmp, "hand.pt")
    with open(path, "wb") as f:
        f.write(hand_zip(False))
    r = convert(path, path + ".safetensors")
    if check(r.returncode == 0, f"hand-built checkpoint: exit {r.returncode}: {r.stderr.strip()}"):
        header, _, data = read_safetensors(path + ".safetensors")
        check(list(header) == ["w"] and header["w"]["shape"] == [1]
              and data["w"] == struct.pack("<f", 1.5),
              f"hand-built checkpoint: {header} {data}, expected w = [1.5]")

    marker = os.path.join(tmp, "PWNED")
    cmd = f"touch {marker}"
    cases = []
    # legacy: the checkpoint object itself calls os.system
    cases.append(("legacy os.system", "evil1.th",
                  legacy_prefix() + shell_call("os", "system", cmd), "os.system"))
    # legacy: the magic number pickle already calls posix.system
    cases.append(("legacy magic posix.system", "evil2.th",
                  shell_call("posix", "system", cmd), "posix.system"))
    # zip: data.pkl calls subprocess.check_call via STACK_GLOBAL (protocol 4)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("archive/data.pkl", shell_call("subprocess", "check_call",
                                                  cmd, stack_global=True))
        z.writestr("archive/version", "3\n")
    cases.append(("zip subprocess.check_call", "evil3.pt", zbuf.getvalue(),
                  "subprocess.check_call"))
    # a state_dict whose tensor hides builtins.eval among the rebuild arguments
    hidden = (b"\x80\x02ccollections\nOrderedDict\n)R"
              b"X\x01\x00\x00\x00w" + shell_call("builtins", "eval",
                                                 f"__import__('os').system('{cmd}')")[2:-1]
              + b"s.")
    cases.append(("nested builtins.eval", "evil4.th", legacy_prefix() + hidden, "builtins.eval"))
    # a persistent id that is not a storage (how torch < 1.0 saved module source)
    pid = b"\x80\x02(X\x06\x00\x00\x00moduleq\x00tQ."
    cases.append(("persistent id 'module'", "evil5.th", legacy_prefix() + pid, "module"))
    # state set on a tensor after its checks (would replace its shape)
    cases.append(("BUILD on a tensor", "evil6.pt", hand_zip(True), "Tensor"))
    for label, fname, blob, culprit in cases:
        path = os.path.join(tmp, fname)
        with open(path, "wb") as f:
            f.write(blob)
        out = os.path.join(tmp, fname + ".safetensors")
        r = convert(path, out)
        check(r.returncode == 1, f"{label}: exit {r.returncode}, expected 1")
        check(one_line(r.stderr) and "refus" in r.stderr and culprit in r.stderr,
              f"{label}: stderr {r.stderr!r} should be one line refusing {culprit}")
        check(not os.path.exists(marker), f"{label}: the pickle's command ran ({marker} exists)")
        check(not os.path.exists(out), f"{label}: output {out} written")


def test_truncated_and_garbage(tmp, data_root):
    src = os.path.join(data_root, "models", "resnet20-12fca82f.th")
    if not check(os.path.isfile(src), f"missing {src}"):
        return
    with open(src, "rb") as f:
        blob = f.read()
    # inside: the magic pickle, the object pickle, the key list, a storage
    # header, a storage's data, the very last byte
    for cut in (0, 5, 200, 12000, 14000, 14063 + 4, 14063 + 100, len(blob) - 1):
        path = os.path.join(tmp, f"cut{cut}.th")
        with open(path, "wb") as f:
            f.write(blob[:cut])
        out = path + ".safetensors"
        r = convert(path, out)
        check(r.returncode == 1 and one_line(r.stderr),
              f"truncated at {cut}: exit {r.returncode}, stderr {r.stderr!r}; "
              "expected 1 and one line")
        check(cut == 0 or "truncated" in r.stderr,
              f"truncated at {cut}: message {r.stderr.strip()!r} does not say truncated")
        check(not os.path.exists(out), f"truncated at {cut}: output written")
    # a zip checkpoint cut in half, and bytes that are no checkpoint at all
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({}, 2))
        z.writestr("archive/data/0", b"\0" * 4000)
    others = {"halfzip.pt": zbuf.getvalue()[:2100], "garbage.th": bytes(range(256)) * 8,
              "text.th": b"hello\n"}
    for fname, data in others.items():
        path = os.path.join(tmp, fname)
        with open(path, "wb") as f:
            f.write(data)
        r = convert(path, path + ".safetensors")
        check(r.returncode == 1 and one_line(r.stderr),
              f"{fname}: exit {r.returncode}, stderr {r.stderr!r}; expected 1 and one line")


def test_cli(tmp):
    r = run([sys.executable, CONVERTER, "--help"])
    check(r.returncode == 0 and "usage" in r.stdout, f"--help: exit {r.returncode}")
    for args in ([], ["only-input"], ["a", "b", "--meta", "novalue"], ["a", "b", "--bogus"]):
        r = run([sys.executable, CONVERTER, *args])
        check(r.returncode == 2 and one_line(r.stderr),
              f"usage error {args}: exit {r.returncode}, stderr {r.stderr!r}; expected 2, one line")
    r = convert(os.path.join(tmp, "does-not-exist.th"), os.path.join(tmp, "x.safetensors"))
    check(r.returncode == 1 and one_line(r.stderr),
          f"missing input: exit {r.returncode}, stderr {r.stderr!r}")


def test_fetch_offline(tmp, data_root):
    """fetch-data.sh with no network: converts a checkpoint placed by hand,
    lists what is missing, flags a corrupt file, exits 1, runs again cleanly."""
    r = run(["bash", FETCH, "--help"])
    check(r.returncode == 0 and "Usage" in r.stdout, f"fetch-data --help: exit {r.returncode}")
    r = run(["bash", FETCH, "--bogus"])
    check(r.returncode == 2, f"fetch-data --bogus: exit {r.returncode}, expected 2")
    dest = os.path.join(tmp, "fetch")
    os.makedirs(os.path.join(dest, "models"))
    src = os.path.join(data_root, "models", "resnet20-12fca82f.th")
    shutil.copyfile(src, os.path.join(dest, "models", "resnet20-12fca82f.th"))
    with open(os.path.join(dest, "models", "resnet32-d509ac18.th"), "wb") as f:
        f.write(b"not the checkpoint")
    r = run(["bash", FETCH, "--dest", dest, "--offline"])
    check(r.returncode == 1, f"fetch-data offline: exit {r.returncode}, expected 1")
    err = r.stderr
    errors = [line for line in err.splitlines() if line.startswith("fetch-data: error:")]
    check(len(errors) == 1, f"fetch-data offline: {len(errors)} error lines, expected 1:\n{err}")
    for needle in ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                   "c32a1d4ab5d03f1284b67883e8d87530",
                   os.path.join(dest, "downloads", "cifar-10-binary.tar.gz"),
                   "pretrained_models/resnet44-014dd654.th", "014dd654",
                   os.path.join(dest, "models", "resnet56-4bfd9763.th"),
                   "resnet32-d509ac18.th: sha256 is"):
        check(needle in err, f"fetch-data offline: {needle!r} not in its message:\n{err}")
    check("downloading" not in err, "fetch-data --offline tried to download")
    out = os.path.join(dest, "models", "resnet20.safetensors")
    ref = os.path.join(data_root, "models", "resnet20.safetensors")
    if check(os.path.isfile(out), f"fetch-data did not write {out}"):
        with open(out, "rb") as a, open(ref, "rb") as b:
            check(a.read() == b.read(), f"{out} differs from {ref}")
        before = os.stat(out).st_mtime_ns
        r = run(["bash", FETCH, "--dest", dest, "--offline"])
        check(r.returncode == 1 and os.stat(out).st_mtime_ns == before and "wrote" not in r.stderr,
              f"second run: exit {r.returncode}, reconverted: {'wrote' in r.stderr}")


def main():
    data_root = os.environ.get("POLYACT_DATA", "")
    if not data_root:
        print(f"{NAME}: POLYACT_DATA is not set", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pact-conv-") as tmp:
        test_shared_resnet20(tmp, data_root)
        test_torch_reference(tmp)
        test_malicious(tmp)
        test_truncated_and_garbage(tmp, data_root)
        test_cli(tmp)
        test_fetch_offline(tmp, data_root)
    if failures:
        print(f"{NAME}: {failures} of {checks} check(s) failed", file=sys.stderr)
        return 1
    if checks == 0:
        print(f"{NAME}: no checks ran", file=sys.stderr)
        return 1
    print(f"{NAME}: all {checks} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
