#!/usr/bin/env python3
"""Writes the seeds of the safetensors and client fuzz targets into
tests/fuzz/corpus/{safetensors,client}/ (docs/fuzzing.md). The files are committed;
run this again only to change them:

    tests/fuzz/make_seeds.py [path/to/sb-model]

With sb-model (any build's bin/sb-model), the tiny model's JSON header is
written too (tiny_header.json: the harness appends the model's data when an
input starts with '{').
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "safetensors")


def safetensors(tensors, meta=None, pad=True):
    """tensors: [(name, dtype, shape, bytes)] -> the file's bytes."""
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


SEEDS = {
    "one_f32": safetensors([("w", "F32", [2, 2], f32(1, 2, 3, 4))]),
    "meta": safetensors([("a", "F32", [3], f32(0.5, -1, 2))],
                        meta={"format": "pt", "arch": "tiny"}),
    "dtypes": safetensors([
        ("b", "BOOL", [2], b"\x00\x01"), ("u8", "U8", [3], b"abc"),
        ("i16", "I16", [2], struct.pack("<2h", -1, 7)),
        ("h", "F16", [1], b"\x00\x3c"), ("bf", "BF16", [1], b"\x80\x3f"),
        ("i64", "I64", [], struct.pack("<q", 0)),
        ("d", "F64", [1], struct.pack("<d", 3.25)),
        ("f8", "F8_E4M3", [2], b"\x01\x02")]),
    "empty_tensor": safetensors([("e", "F32", [0, 4], b""), ("s", "F32", [], f32(1))]),
    "bn_tracked": safetensors([
        ("bn1.weight", "F32", [2], f32(1, 1)), ("bn1.bias", "F32", [2], f32(0, 0)),
        ("bn1.running_mean", "F32", [2], f32(0, 0)), ("bn1.running_var", "F32", [2], f32(1, 1)),
        ("bn1.num_batches_tracked", "I64", [], struct.pack("<q", 0))]),
    "unpadded": safetensors([("x", "F32", [1], f32(7))], pad=False),
    "empty_header": struct.pack("<Q", 2) + b"{}",
    "truncated": safetensors([("w", "F32", [4], f32(1, 2, 3, 4))])[:-5],
}


def bulk(b):
    if isinstance(b, str):
        b = b.encode()
    return b"$%d\r\n" % len(b) + b + b"\r\n"


def arr(*items):
    return b"*%d\r\n" % len(items) + b"".join(items)


def num(n):
    return b":%d\r\n" % n


OK = b"+OK\r\n"
TENSOR = arr(bulk("dtype"), bulk("FLOAT"), bulk("shape"), arr(num(2), num(3)), bulk("blob"),
             bulk(f32(1, 2, 3, 4, 5, 6)))
MODEL_META = arr(bulk("backend"), bulk("SBRESNET"), bulk("device"), bulk("CPU"), bulk("tag"),
                 bulk("v1"), bulk("batchsize"), num(0), bulk("minbatchsize"), num(0),
                 bulk("inputs"), arr(), bulk("outputs"), arr(), bulk("minbatchtimeout"), num(0))
SLOTS = arr(arr(num(0), num(8191), arr(bulk(""), num(0), bulk("a" * 40))),
            arr(num(8192), num(16383), arr(bulk("127.0.0.1"), num(0), bulk("b" * 40)),
                arr(bulk("10.0.0.2"), num(7001))))

# The client target: a line of calls, then the replies they read (RESP).
CLIENT = {
    "get_tensor": b"get_tensor\n" + TENSOR,
    "get_tensor_errors": b"get_tensor get_tensor get_tensor\n-ERR tensor key is empty\r\n"
                         + arr(bulk("dtype"), bulk("INT8")) + b"$-1\r\n",
    "get_set": b"set get get get del\n" + OK + bulk("hello") + b"$-1\r\n"
               + bulk("x" * 40) + num(1),
    "put_tensor": b"put_tensor put_tensor\n" + OK + b"-WRONGTYPE Operation against a key\r\n",
    "info_modules": b"info modules\n"
                    + bulk("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n")
                    + arr(arr(bulk("name"), bulk("sbai"), bulk("ver"), num(1)))
                    + arr(arr(bulk("ver"), num(1), bulk("name"), bulk("sbai"))),
    "ai": b"model_tag model_store script_store run\n" + num(1) + MODEL_META + OK + OK + OK
          + b"-ERR the model failed: x\r\n",
    "dataset_get": b"exists dataset_get\n" + bulk("1") + bulk("1") + bulk("a,b") + bulk("0")
                   + b"$-1\r\n" + TENSOR + arr(bulk("dtype"), bulk("FLOAT"), bulk("shape"),
                                              arr(num(2)), bulk("blob"), bulk(f32(7, 8))),
    "dataset_put_list": b"dataset_put list list_delete\n" + OK + num(1) + OK + num(1) + num(1)
                        + arr(bulk("ds")) + arr(bulk("ds")) + bulk("a") + num(2) + num(1),
    "pipeline": b"pipeline\n" + OK + bulk("1") + b"+PONG\r\n",
    "cluster": b"discover get_tensor set del pipeline\n" + SLOTS + TENSOR
               + b"-MOVED 3999 :0\r\n" + SLOTS + OK + b"-ASK 12 127.0.0.1:0\r\n" + OK + num(1)
               + OK + bulk("1") + b"+PONG\r\n",
    "cluster_redirects": b"discover get get del\n" + SLOTS + b"-TRYAGAIN later\r\n"
                         + b"-MOVED 16000 10.0.0.9:7005\r\n" + b"-CLUSTERDOWN down\r\n",
    "standalone": b"discover get_tensor\n-ERR This instance has cluster support disabled\r\n"
                  + TENSOR,
    "not_cluster": b"discover\n-ERR unknown command 'CLUSTER'\r\n"
                   + bulk("# Cluster\r\ncluster_enabled:0\r\n"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, blob in SEEDS.items():
        with open(os.path.join(OUT, name + ".st"), "wb") as f:
            f.write(blob)
    out = os.path.join(HERE, "corpus", "client")
    os.makedirs(out, exist_ok=True)
    for name, blob in CLIENT.items():
        with open(os.path.join(out, name + ".resp"), "wb") as f:
            f.write(blob)
    if len(sys.argv) > 1:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "tiny.safetensors")
            subprocess.run([sys.argv[1], "make", "tiny", "--seed", "1", "-o", path], check=True,
                           stdout=subprocess.DEVNULL)
            blob = open(path, "rb").read()
            n = struct.unpack("<Q", blob[:8])[0]
            header = blob[8:8 + n].rstrip(b" ")
            # One tensor per line: still valid JSON, easier to read and diff.
            header = header.replace(b"},\"", b"},\n\"")
            with open(os.path.join(OUT, "tiny_header.json"), "wb") as f:
                f.write(header)
    print("seeds written to", OUT, "and", out)


if __name__ == "__main__":
    main()
