#!/usr/bin/env python3
"""Convert a PyTorch checkpoint (state_dict) to safetensors, without torch.

Standard library only. Reads both checkpoint formats torch.save has written:

  legacy (torch < 1.6): a sequence of pickles in one file -- magic number,
      protocol version, sys info (endianness), the object itself (storages are
      persistent ids), the list of storage keys -- followed by each storage as
      an int64 element count and its raw bytes, in that key order.
  zip (torch >= 1.6): <prefix>/data.pkl (the object, storages as persistent
      ids) and one raw record <prefix>/data/<key> per storage; <prefix>/byteorder
      says the endianness (little when absent).

Pickles are loaded by a restricted unpickler that resolves only the handful of
globals a state_dict needs (OrderedDict, the tensor rebuild functions, the
storage types); anything else (os.system, builtins.eval, ...) is refused before
it can be called, so no code in the checkpoint ever runs.

The output follows the conventions of polyact's shared models: tensors sorted
by name (larger element sizes first when dtypes are mixed, so that every
tensor stays aligned), packed back to back, compact JSON header padded with
spaces to a multiple of 8 bytes, __metadata__ last.

Exit codes: 0 success, 1 runtime error (unreadable or refused checkpoint,
I/O), 2 usage error. Every error is one line on stderr.
"""

import argparse
import array
import collections
import io
import itertools
import json
import os
import pickle
import struct
import sys
import tempfile
import zipfile

PROG = "torch2safetensors"

# Largest tensor (or zip record) accepted: a hostile size or a stride-0 view
# must not make us allocate without bound.
MAX_BYTES = 1 << 31

# The first pickle of a legacy checkpoint and the format version torch wrote.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch storage class -> (safetensors dtype, bytes per element, is floating)
STORAGE_TYPES = {
    "DoubleStorage": ("F64", 8, True),
    "FloatStorage": ("F32", 4, True),
    "HalfStorage": ("F16", 2, True),
    "BFloat16Storage": ("BF16", 2, True),
    "LongStorage": ("I64", 8, False),
    "IntStorage": ("I32", 4, False),
    "ShortStorage": ("I16", 2, False),
    "CharStorage": ("I8", 1, False),
    "ByteStorage": ("U8", 1, False),
    "BoolStorage": ("BOOL", 1, False),
}

# Metadata of the akamaster/pytorch_resnet_cifar10 models, in the order the
# shared models carry it; reported_top1 comes from the checkpoint's best_prec1.
AKAMASTER_LICENSE = "BSD-2-Clause, Copyright (c) 2018 Yerlan Idelbayev"
AKAMASTER_SHORTCUT = ("option A: x[:, :, ::2, ::2] zero-padded by planes/4 "
                      "channels each side")


class ConvertError(Exception):
    """A problem with the input or output; its text is the one-line message."""


# --------------------------------------------------------------------------
# What the restricted unpickler builds instead of torch objects

class _NoState:
    """Refuses pickle BUILD: a plain state_dict never sets state on tensors or
    storages, and a hostile one could overwrite a validated shape."""

    def __setstate__(self, state):
        raise ConvertError("refusing to load: the pickle sets state on a "
                           f"{type(self).__name__}, which a plain state_dict never does")


class StorageType(_NoState):
    """Stands for a torch.<X>Storage class referenced by the pickle."""

    def __init__(self, name):
        self.name = name
        self.dtype, self.itemsize, self.floating = STORAGE_TYPES[name]


class Storage(_NoState):
    """One storage: its element type, element count and (later) raw bytes."""

    def __init__(self, key, stype, numel):
        self.key = key
        self.stype = stype
        self.numel = numel
        self.data = None  # bytes, little-endian, numel * itemsize long


class StorageView(_NoState):
    """A slice of a storage (legacy checkpoints of torch < 0.4): reads like a
    Storage of `numel` elements starting at element `start` of `root`."""

    def __init__(self, root, start, numel):
        self.root = root
        self.start = start
        self.numel = numel
        self.stype = root.stype

    @property
    def data(self):
        size = self.stype.itemsize
        return self.root.data[self.start * size:(self.start + self.numel) * size]


class Tensor(_NoState):
    """A tensor as the checkpoint describes it: a strided view of a storage."""

    def __init__(self, storage, offset, shape, stride):
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.stride = stride


def _check_int_tuple(value, what):
    if not isinstance(value, tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConvertError(f"tensor {what} is {value!r}, not a tuple of ints")
    return value


def _rebuild_tensor(storage, storage_offset, size, stride, *rest):
    """torch._utils._rebuild_tensor(_v2): a view of `storage`. The extra v2
    arguments (requires_grad, backward hooks, metadata) do not affect data."""
    if not isinstance(storage, (Storage, StorageView)):
        raise ConvertError(f"tensor storage is a {type(storage).__name__}, "
                           "not a storage reference")
    if not isinstance(storage_offset, int) or isinstance(storage_offset, bool):
        raise ConvertError(f"tensor storage offset {storage_offset!r} is not an int")
    shape = _check_int_tuple(size, "size")
    stride = _check_int_tuple(stride, "stride")
    if len(shape) != len(stride):
        raise ConvertError(f"tensor size {shape} and stride {stride} differ in rank")
    if len(rest) > 3:
        raise ConvertError(f"tensor rebuild has {4 + len(rest)} arguments, "
                           "expected at most 7")
    return Tensor(storage, storage_offset, shape, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """torch._utils._rebuild_parameter: a Parameter is its data tensor."""
    if not isinstance(data, Tensor):
        raise ConvertError("parameter does not wrap a tensor")
    return data


# The only globals a pickled state_dict may reference.
ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}
for _name in STORAGE_TYPES:
    ALLOWED_GLOBALS[("torch", _name)] = StorageType(_name)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only ALLOWED_GLOBALS and turns persistent ids
    into Storage objects (one per key, shared by all tensors viewing it)."""

    def __init__(self, data, storages, legacy):
        super().__init__(io.BytesIO(data) if isinstance(data, bytes) else data)
        self.storages = storages  # key -> Storage, filled as ids are seen
        self.legacy = legacy

    def find_class(self, module, name):
        found = ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise ConvertError(
                f"refusing to load: the pickle references {module}.{name}, which "
                "a plain state_dict never needs (possibly malicious; nothing was run)")
        return found

    def persistent_load(self, pid):
        # legacy: ('storage', type, key, location, numel, view_metadata)
        # zip:    ('storage', type, key, location, numel)
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            kind = pid[0] if isinstance(pid, tuple) and pid else pid
            raise ConvertError(f"refusing to load: unsupported persistent id {kind!r} "
                               "(only tensor storages are allowed)")
        if len(pid) != (6 if self.legacy else 5):
            raise ConvertError(f"malformed storage reference {pid!r}")
        stype, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(stype, StorageType):
            raise ConvertError(f"storage {key!r} has no known storage type")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise ConvertError(f"malformed storage reference {pid!r}")
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = Storage(key, stype, numel)
        elif storage.stype is not stype or storage.numel != numel:
            raise ConvertError(f"storage {key!r} is referenced with two different "
                               "types or sizes")
        if self.legacy and pid[5] is not None:
            # Pre-0.4 storage views: (view_key, element offset, element count).
            view = pid[5]
            if (not isinstance(view, tuple) or len(view) != 3
                    or not all(isinstance(v, int) for v in view[1:])):
                raise ConvertError(f"malformed storage view {view!r}")
            _, voff, vsize = view
            if voff < 0 or vsize < 0 or voff + vsize > numel:
                raise ConvertError(f"storage view [{voff}, {voff + vsize}) lies outside "
                                   f"storage {key!r} of {numel} elements")
            return StorageView(storage, voff, vsize)
        return storage


# --------------------------------------------------------------------------
# Reading the two formats

def _byteswap(data, itemsize):
    """Reverses the byte order of every element (big-endian checkpoints)."""
    if itemsize == 1:
        return data
    code = {2: "H", 4: "I", 8: "Q"}[itemsize]
    arr = array.array(code)
    if arr.itemsize != itemsize:  # exotic platform: do it byte by byte
        return b"".join(data[i:i + itemsize][::-1] for i in range(0, len(data), itemsize))
    arr.frombytes(data)
    arr.byteswap()
    return arr.tobytes()


def _load_pickle(stream, storages, legacy, what):
    try:
        return RestrictedUnpickler(stream, storages, legacy).load()
    except ConvertError:
        raise
    except (EOFError, pickle.UnpicklingError) as exc:
        raise ConvertError(f"{what}: pickle truncated or corrupt ({exc or 'end of file'})")


def read_legacy(data):
    """Returns (object, little_endian, storages) from a legacy checkpoint's bytes."""
    stream = io.BytesIO(data)
    storages = {}
    magic = _load_pickle(stream, storages, True, "magic number")
    if magic != LEGACY_MAGIC:
        raise ConvertError("not a PyTorch checkpoint (neither a zip archive nor the "
                           "legacy magic number)")
    protocol = _load_pickle(stream, storages, True, "protocol version")
    if protocol != LEGACY_PROTOCOL:
        raise ConvertError(f"unsupported legacy protocol version {protocol!r} "
                           f"(expected {LEGACY_PROTOCOL})")
    sys_info = _load_pickle(stream, storages, True, "sys info")
    little = sys_info.get("little_endian") if isinstance(sys_info, dict) else None
    if not isinstance(little, bool):
        raise ConvertError(f"sys info {sys_info!r} does not say little_endian True/False")
    obj = _load_pickle(stream, storages, True, "checkpoint object")
    keys = _load_pickle(stream, storages, True, "storage key list")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConvertError("storage key list is not a list of strings")
    pos = stream.tell()
    for key in keys:
        storage = storages.get(key)
        if storage is None:
            raise ConvertError(f"storage {key!r} is listed but no tensor uses it")
        if pos + 8 > len(data):
            raise ConvertError(f"truncated: storage {key!r} size field at bytes "
                               f"[{pos}, {pos + 8}) is past the end of the file "
                               f"({len(data)} bytes)")
        (count,) = struct.unpack_from("<q" if little else ">q", data, pos)
        if count != storage.numel:
            raise ConvertError(f"storage {key!r} holds {count} elements on disk, "
                               f"{storage.numel} in the pickle")
        nbytes = count * storage.stype.itemsize
        start, pos = pos + 8, pos + 8 + nbytes
        if pos > len(data):
            raise ConvertError(f"truncated: storage {key!r} needs bytes [{start}, {pos}) "
                               f"but the file has {len(data)}")
        storage.data = data[start:pos]
    missing = [k for k, s in storages.items() if s.data is None]
    if missing:
        raise ConvertError(f"storage {missing[0]!r} is used by a tensor but not stored")
    return obj, little, storages


def read_zip(data):
    """Returns (object, little_endian, storages) from a zip checkpoint's bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ConvertError(f"corrupt or truncated zip checkpoint ({exc})")
    # torch names the top folder "archive" or after the file: find data.pkl.
    pkls = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(pkls) != 1:
        raise ConvertError("zip checkpoint has no single <prefix>/data.pkl "
                           "(is it a TorchScript archive?)")
    prefix = pkls[0][:-len("data.pkl")]

    def record(name, limit=MAX_BYTES):
        """The record's first `limit` bytes (a deflated record may claim to
        expand without bound), None when absent."""
        try:
            with archive.open(prefix + name) as f:
                return f.read(limit)
        except KeyError:
            return None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise ConvertError(f"corrupt or truncated zip record {prefix + name} ({exc})")

    order = record("byteorder")
    little = order is None or order.strip() == b"little"
    if order is not None and order.strip() not in (b"little", b"big"):
        raise ConvertError(f"unknown byteorder {order[:16]!r}")
    storages = {}
    obj = _load_pickle(record("data.pkl"), storages, False, "data.pkl")
    for key, storage in storages.items():
        raw = record("data/" + key, storage.numel * storage.stype.itemsize)
        if raw is None:
            raise ConvertError(f"storage {key!r} has no record {prefix}data/{key}")
        nbytes = storage.numel * storage.stype.itemsize
        if len(raw) < nbytes:
            raise ConvertError(f"storage {key!r} record holds {len(raw)} bytes, "
                               f"{nbytes} needed")
        storage.data = raw
    return obj, little, storages


def read_checkpoint(path):
    """Returns (object, storages) with every storage's data little-endian."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConvertError(f"cannot read: {exc.strerror}")
    if data[:4] == b"PK\x03\x04" or zipfile.is_zipfile(io.BytesIO(data)):
        reader = read_zip
    elif len(data) > 262 and data[257:262] == b"ustar":
        raise ConvertError("tar-format checkpoint (torch < 0.1.10) is not supported")
    elif data[:1] == b"\x80":
        reader = read_legacy
    else:
        raise ConvertError("not a PyTorch checkpoint (neither a zip archive nor a "
                           "legacy pickle)")
    try:
        obj, little, storages = reader(data)
    except ConvertError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            struct.error, OverflowError, MemoryError, RecursionError) as exc:
        # Anything else a hostile pickle can provoke inside the unpickler.
        raise ConvertError(f"malformed checkpoint ({type(exc).__name__}: {exc})")
    if not little:
        for storage in storages.values():
            storage.data = _byteswap(storage.data, storage.stype.itemsize)
    return obj, storages


# --------------------------------------------------------------------------
# From the checkpoint object to named, packed tensors

def find_state_dict(obj):
    """Returns (state_dict, checkpoint dict or None) for the layouts in use:
    a bare state_dict, or a dict holding one under 'state_dict' (akamaster,
    the ImageNet example scripts) or 'model_state_dict'."""
    if not isinstance(obj, dict):
        raise ConvertError(f"checkpoint holds a {type(obj).__name__}, not a dict")
    if obj and all(isinstance(v, Tensor) for v in obj.values()):
        return obj, None
    for key in ("state_dict", "model_state_dict"):
        if isinstance(obj.get(key), dict):
            return obj[key], obj
    keys = ", ".join(repr(k) for k in list(obj)[:8])
    raise ConvertError(f"no state_dict in the checkpoint (top-level keys: {keys})")


def tensor_bytes(name, t):
    """The tensor's elements in row-major order, gathered from its storage
    through offset and strides (a view need not start at 0 nor be dense)."""
    size = t.storage.stype.itemsize
    numel = 1
    for n in t.shape:
        if n < 0:
            raise ConvertError(f"tensor {name}: negative size {t.shape}")
        numel *= n
    if numel == 0:
        return b""
    if numel * size > MAX_BYTES:
        raise ConvertError(f"tensor {name}: size {t.shape} would take {numel * size} bytes, "
                           f"more than the {MAX_BYTES} accepted")
    if t.offset < 0 or any(s < 0 for s in t.stride):
        raise ConvertError(f"tensor {name}: negative offset {t.offset} or stride {t.stride}")
    last = t.offset + sum((n - 1) * s for n, s in zip(t.shape, t.stride))
    if last >= t.storage.numel:
        raise ConvertError(f"tensor {name}: offset {t.offset}, size {t.shape}, stride "
                           f"{t.stride} reach element {last} of a {t.storage.numel}-element "
                           "storage")
    data = t.storage.data
    # Dense row-major: one slice.
    expected, dense = 1, True
    for n, s in zip(reversed(t.shape), reversed(t.stride)):
        if n != 1 and s != expected:
            dense = False
            break
        expected *= n
    if dense:
        return data[t.offset * size:(t.offset + numel) * size]
    # General view: copy runs along the last dimension when it is contiguous.
    view = memoryview(data)
    inner_n, inner_s = (t.shape[-1], t.stride[-1]) if t.shape else (1, 1)
    out = bytearray()
    for index in itertools.product(*(range(n) for n in t.shape[:-1])):
        base = t.offset + sum(i * s for i, s in zip(index, t.stride))
        if inner_s == 1:
            out += view[base * size:(base + inner_n) * size]
        else:
            for j in range(inner_n):
                e = base + j * inner_s
                out += view[e * size:(e + 1) * size]
    return bytes(out)


def to_float32(name, dtype, raw):
    """Converts little-endian F64/F16/BF16 bytes to F32 (F64 rounds to nearest)."""
    if dtype == "F32":
        return raw
    if dtype == "F64":
        values = struct.unpack(f"<{len(raw) // 8}d", raw)
        try:
            return struct.pack(f"<{len(values)}f", *values)
        except OverflowError:
            raise ConvertError(f"tensor {name}: a float64 value is out of float32 range")
    if dtype == "F16":
        values = struct.unpack(f"<{len(raw) // 2}e", raw)
        return struct.pack(f"<{len(values)}f", *values)
    if dtype == "BF16":  # bfloat16 is the top half of a float32
        halves = struct.unpack(f"<{len(raw) // 2}H", raw)
        return struct.pack(f"<{len(halves)}I", *(h << 16 for h in halves))
    raise ConvertError(f"tensor {name}: cannot convert {dtype} to F32")


def collect_tensors(state_dict, strip_prefix, keep_int):
    """Returns [(name, dtype, shape, bytes)]: floating tensors as F32, integer
    and bool tensors in their own dtype, num_batches_tracked counters dropped
    unless keep_int (they are bookkeeping, not weights)."""
    names = list(state_dict)
    if not all(isinstance(n, str) for n in names):
        raise ConvertError("state_dict has a key that is not a string")
    if strip_prefix and names and all(n.startswith("module.") for n in names):
        renamed = [n[len("module."):] for n in names]  # nn.DataParallel's prefix
    else:
        renamed = names
    if len(set(renamed)) != len(renamed):
        raise ConvertError("state_dict has duplicate names after stripping 'module.'")
    out = []
    for old, name in zip(names, renamed):
        t = state_dict[old]
        if not isinstance(t, Tensor):
            raise ConvertError(f"state_dict entry {old!r} is a {type(t).__name__}, "
                               "not a tensor")
        stype = t.storage.stype
        if not stype.floating and name.endswith("num_batches_tracked") and not keep_int:
            continue
        raw = tensor_bytes(old, t)
        dtype = stype.dtype
        if stype.floating:
            raw, dtype = to_float32(old, dtype, raw), "F32"
        out.append((name, dtype, list(t.shape), raw))
    return out


# --------------------------------------------------------------------------
# Writing safetensors

ITEMSIZE = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2,
            "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def encode_safetensors(tensors, metadata):
    """Header + data: sorted by name within decreasing element size, packed,
    header padded with spaces so the data starts at a multiple of 8."""
    tensors = sorted(tensors, key=lambda t: (-ITEMSIZE[t[1]], t[0]))
    header, offset = {}, 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    return b"".join([struct.pack("<Q", len(text)), text] + [t[3] for t in tensors])


def write_atomically(path, blob):
    """Writes to a temporary file beside `path`, then renames: a reader never
    sees half a file and an interrupted run leaves the old one intact."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".t2s-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConvertError(f"cannot write {path}: {exc.strerror}")


def build_metadata(args, checkpoint):
    """The __metadata__ map: the akamaster preset (what polyact reads from the
    shared models), the checkpoint's best_prec1, then --meta overrides."""
    meta = {}
    base = os.path.basename(args.input)
    if args.preset == "akamaster":
        meta["arch"] = base.split("-")[0].split(".")[0]
        meta["dataset"] = "cifar10"
        meta["source"] = f"akamaster/pytorch_resnet_cifar10 pretrained_models/{base}"
        meta["license"] = AKAMASTER_LICENSE
    best = checkpoint.get("best_prec1") if checkpoint else None
    if isinstance(best, (int, float)) and not isinstance(best, bool):
        meta["reported_top1"] = f"{best:.2f}"
    if args.preset == "akamaster":
        meta["input_mean"] = "0.485,0.456,0.406"
        meta["input_std"] = "0.229,0.224,0.225"
        meta["shortcut"] = AKAMASTER_SHORTCUT
    for item in args.meta:
        key, _, value = item.partition("=")
        meta[key] = value
    return meta


# --------------------------------------------------------------------------

class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{PROG}: {message} (see --help)\n")


def parse_args(argv):
    parser = OneLineParser(
        prog=PROG,
        description="Convert a PyTorch checkpoint's state_dict to safetensors "
                    "(standard library only; the checkpoint's pickle may reference "
                    "nothing but tensors and OrderedDict, so no code in it runs).",
        epilog="Exit codes: 0 success, 1 runtime error, 2 usage error.")
    parser.add_argument("input", help="checkpoint (.th/.pt/.pth), legacy or zip format")
    parser.add_argument("output", help="safetensors file to write (replaced atomically)")
    parser.add_argument("--preset", choices=("akamaster", "none"), default="akamaster",
                        help="metadata preset: akamaster (default) writes arch (from the "
                             "file name), dataset, source, license, input_mean, input_std, "
                             "shortcut as polyact expects; none writes only reported_top1")
    parser.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                        help="set a metadata entry (repeatable), e.g. reported_top1=91.78")
    parser.add_argument("--keep-prefix", action="store_true",
                        help="keep the 'module.' prefix of nn.DataParallel names")
    parser.add_argument("--keep-int", action="store_true",
                        help="keep num_batches_tracked counters (dropped by default)")
    args = parser.parse_args(argv)
    for item in args.meta:
        if "=" not in item or not item.partition("=")[0]:
            parser.error(f"--meta {item!r} is not KEY=VALUE")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        obj, _ = read_checkpoint(args.input)
        state_dict, checkpoint = find_state_dict(obj)
        tensors = collect_tensors(state_dict, not args.keep_prefix, args.keep_int)
        if not tensors:
            raise ConvertError("the state_dict holds no tensors")
        blob = encode_safetensors(tensors, build_metadata(args, checkpoint))
    except ConvertError as exc:
        print(f"{PROG}: {args.input}: {exc}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            OverflowError, MemoryError, RecursionError) as exc:
        # Hostile structure that got past the checks above: still one line.
        print(f"{PROG}: {args.input}: malformed checkpoint ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        return 1
    try:
        write_atomically(args.output, blob)
    except ConvertError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.output}: {len(tensors)} tensors, {len(blob)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
