"""The aggregation pair's other half, written with SmartRedis's Python client.

    sr_agg.py produce --ranks N --iterations I [--tensor-bytes B] [--tensors K]
    sr_agg.py consume --ranks N --iterations I [--tensor-bytes B] [--tensors K]
    sr_agg.py show NAME

produce: as SmartSim-Scaling's aggregation producer does it, for each
iteration i: wait until list iteration_<i-1> is gone (the consumer took it),
then for every rank r put dataset aggregation_rank_<r> (tensors
tensor_0..tensor_<K-1> of shape [1, n], string fields producer_rank and
iteration) and append it to list iteration_<i>. The N ranks are played by one
process, one Client each, as N MPI ranks would. Tensor t of rank r in
iteration i holds sb-agg-producer's verification pattern of (r, i*1024 + t)
(kernels/sb_pattern.h), so sb-agg-consumer checks every byte.

consume: as SmartSim-Scaling's consumer: for each iteration poll until list
iteration_<i> holds N datasets, get_datasets_from_list, check every dataset
(its name, fields, tensor names, dtype, shape and every byte against the
pattern), get_dataset one of them by name and check it the same way, then
delete_list. SmartRedis's delete_list leaves the datasets; the next
iteration's put overwrites them.

show: get_dataset NAME and print what SmartRedis sees (a failure is its
error, exit 1).

The database is $SSDB ("127.0.0.1:PORT"). Exit 0 when every check passed, 1
otherwise, with each mismatch on stderr.
"""
import argparse
import os
import sys
import time

import numpy as np
from smartredis import Client, Dataset

M64 = (1 << 64) - 1
STREAMS = 1024  # SB_AGG_MAX_TENSORS: the stream of tensor t of iteration i is i*1024+t


def pattern(rank, stream, nbytes):
    """sb_pattern_fill(buf, nbytes, rank, stream): splitmix64 of (rank<<48 ^
    stream<<24 ^ word) per little-endian 8-byte word, the tail cut short."""
    words = np.arange((nbytes + 7) // 8, dtype=np.uint64)
    base = ((rank << 48) ^ ((stream << 24) & M64)) & M64
    z = words ^ np.uint64(base)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z.astype("<u8").tobytes()[:nbytes]


def tensor_of(rank, seq, t, nbytes):
    """The tensor sb-agg-producer writes: FLOAT [1, n/4] when nbytes % 4 == 0,
    else UINT8 [1, n]."""
    raw = pattern(rank, seq * STREAMS + t, nbytes)
    dtype = np.float32 if nbytes % 4 == 0 else np.uint8
    return np.frombuffer(raw, dtype=dtype).reshape(1, -1).copy()


def client():
    return Client(cluster=os.environ.get("SR_CLUSTER", "0") == "1")


def produce(a):
    clients = [client() for _ in range(a.ranks)]
    for seq in range(a.iterations):
        if seq > 0:
            deadline = time.time() + a.timeout
            while clients[0].get_list_length(f"iteration_{seq - 1}") != 0:
                if time.time() > deadline:
                    print(f"list iteration_{seq - 1} was not consumed within {a.timeout} s",
                          file=sys.stderr)
                    return 1
                time.sleep(0.01)
        for r, c in enumerate(clients):
            ds = Dataset(f"aggregation_rank_{r}")
            for t in range(a.tensors):
                ds.add_tensor(f"tensor_{t}", tensor_of(r, seq, t, a.tensor_bytes))
            ds.add_meta_string("producer_rank", str(r))
            ds.add_meta_string("iteration", str(seq))
            c.put_dataset(ds)
            c.append_to_list(f"iteration_{seq}", ds)
        print(f"iteration {seq}: {a.ranks} datasets appended to iteration_{seq}")
    return 0


def check_dataset(ds, seq, a, errors, how):
    name = ds.get_name()
    try:
        r = int(ds.get_meta_strings("producer_rank")[0])
        it = int(ds.get_meta_strings("iteration")[0])
    except Exception as e:  # noqa: BLE001 - report whatever SmartRedis says
        errors.append(f"{how} {name}: fields: {e}")
        return None
    if name != f"aggregation_rank_{r}":
        errors.append(f"{how} {name}: producer_rank {r}")
    if it != seq:
        errors.append(f"{how} {name}: iteration {it}, expected {seq}")
    names = ds.get_tensor_names()
    want = [f"tensor_{t}" for t in range(a.tensors)]
    if sorted(names) != sorted(want):
        errors.append(f"{how} {name}: tensors {names}, expected {want}")
    for t in range(a.tensors):
        if f"tensor_{t}" not in names:
            continue
        got = ds.get_tensor(f"tensor_{t}")
        exp = tensor_of(r, seq, t, a.tensor_bytes)
        if got.dtype != exp.dtype or got.shape != exp.shape:
            errors.append(f"{how} {name} tensor_{t}: {got.dtype} {got.shape}, expected "
                          f"{exp.dtype} {exp.shape}")
        elif got.tobytes() != exp.tobytes():
            bad = np.flatnonzero(np.frombuffer(got.tobytes(), np.uint8)
                                 != np.frombuffer(exp.tobytes(), np.uint8))
            errors.append(f"{how} {name} tensor_{t}: {bad.size} bytes differ, first at {bad[0]}")
    return r


def consume(a):
    c = client()
    errors = []
    for seq in range(a.iterations):
        lst = f"iteration_{seq}"
        if not c.poll_list_length(lst, a.ranks, 10, int(a.timeout * 100)):
            print(f"list {lst} holds {c.get_list_length(lst)} of {a.ranks} datasets after "
                  f"{a.timeout} s", file=sys.stderr)
            return 1
        datasets = c.get_datasets_from_list(lst)
        ranks = sorted(check_dataset(ds, seq, a, errors, "get_datasets_from_list")
                       for ds in datasets)
        if ranks != list(range(a.ranks)):
            errors.append(f"{lst}: producer ranks {ranks}")
        check_dataset(c.get_dataset(f"aggregation_rank_{seq % a.ranks}"), seq, a, errors,
                      "get_dataset")
        print(f"iteration {seq}: {len(datasets)} datasets, {len(datasets) * a.tensors} tensors "
              f"of {a.tensor_bytes} bytes checked")
        c.delete_list(lst)
    for e in errors[:20]:
        print("mismatch: " + e, file=sys.stderr)
    print(f"{len(errors)} mismatches")
    return 1 if errors else 0


def show(a):
    try:
        ds = client().get_dataset(a.name)
    except Exception as e:  # noqa: BLE001
        print(f"get_dataset {a.name}: {e}", file=sys.stderr)
        return 1
    print(f"{a.name}: tensors {ds.get_tensor_names()}, fields {ds.get_metadata_field_names()}")
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["produce", "consume", "show"])
    p.add_argument("name", nargs="?")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--tensor-bytes", type=int, default=1024)
    p.add_argument("--tensors", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    return {"produce": produce, "consume": consume, "show": show}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
