"""SmartRedis's Python client against sbai, call by call.

    python smartredis_api.py standalone|cluster RESULTS MODEL_FILE WORKDIR ADDR...

Run by smartredis_client.sh with the venv's python, SSDB set to the server
(standalone) or one shard (cluster), ADDR the address of every shard. Each
call of the Client API that the test exercises is recorded in RESULTS as
one JSON line {"call", "mode", "outcome", "note"}: outcome "works" (and its
result was checked) or "refused" (the error message was checked). Anything
else (a wrong result, an unexpected error or success) fails the test (exit 1).
The run model's input and output go to WORKDIR/run_in.bin, run_out.bin for
the shell to check against the in-process forward pass.
"""
import inspect
import json
import os
import sys
import time

import numpy as np
from smartredis import Client, Dataset

MODE, RESULTS, MODEL_FILE, WORK = sys.argv[1:5]
ADDRS = sys.argv[5:]
CLUSTER = MODE == "cluster"
RECORDS = []
FAILED = []


def record(call, outcome, note=""):
    RECORDS.append({"call": call, "mode": MODE, "outcome": outcome, "note": note})


def fail(call, why):
    FAILED.append(f"{call}: {why}")
    print(f"FAIL [{MODE}] {call}: {why}", file=sys.stderr)


def works(call, fn, check=None, note=""):
    """Runs fn(); check(result) must hold. Records the call as working."""
    try:
        result = fn()
    except Exception as e:  # noqa: BLE001 - any client error is a failure here
        fail(call, f"raised {type(e).__name__}: {e}")
        record(call, "fails", str(e).splitlines()[-1][:120])
        return None
    if check is not None:
        try:
            ok = check(result)
        except Exception as e:  # noqa: BLE001
            ok = False
            result = f"{result!r} ({type(e).__name__}: {e})"
        if not ok:
            fail(call, f"wrong result: {str(result)[:300]}")
            record(call, "fails", "wrong result")
            return result
    record(call, "works", note)
    return result


def refused(call, fn, expect, note):
    """fn() must raise an error whose text holds `expect` (the server's or the
    client's message). Records the call as refused, with note (why)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        if expect not in str(e):
            fail(call, f"refused, but the message lacks [{expect}]: {e}")
            record(call, "fails", "unexpected message")
        else:
            record(call, "refused", note)
        return
    fail(call, "was expected to be refused but succeeded")
    record(call, "fails", "succeeded")


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


client = Client(CLUSTER, os.environ["SSDB"])
rng = np.random.default_rng(7)

# ---- tensors --------------------------------------------------------------------------------
DTYPES = [np.float64, np.float32, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16]
SHAPES = [(1,), (7,), (3, 4), (2, 3, 4, 5), (2, 1, 3, 1, 2)]
ok = True
for dt in DTYPES:
    for shape in SHAPES:
        if np.issubdtype(dt, np.floating):
            a = rng.standard_normal(shape).astype(dt)
        else:
            info = np.iinfo(dt)
            a = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt)
        key = f"t_{np.dtype(dt).name}_{'x'.join(map(str, shape))}"
        client.put_tensor(key, a)
        b = client.get_tensor(key)
        if not same(a, b):
            ok = False
            fail("put_tensor / get_tensor", f"{key}: got {b.dtype} {b.shape}")
if ok:
    record("put_tensor, get_tensor", "works",
           "all 8 dtypes (float64/32, int8/16/32/64, uint8/16), ranks 1 to 5")
big = rng.standard_normal(16 * 1024 * 1024, dtype=np.float32).reshape(4, 1024, 4096)
works("put_tensor, get_tensor (64 MiB)",
      lambda: (client.put_tensor("t_big", big), client.get_tensor("t_big"))[1],
      lambda b: same(big, b), "float32 [4][1024][4096]")
del big
refused("put_tensor (bool)",
        lambda: client.put_tensor("t_bool", np.array([True, False])),
        "Incompatible tensor type", "the client has no BOOL tensors (sbai has; redis-cli can store them)")
works("tensor_exists", lambda: (client.tensor_exists("t_float32_3x4"), client.tensor_exists("nope")),
      lambda r: r == (True, False))
works("key_exists", lambda: client.key_exists("t_float32_3x4"), lambda r: r is True)
works("poll_tensor", lambda: client.poll_tensor("t_float32_3x4", 10, 3), lambda r: r is True)
works("poll_key", lambda: client.poll_key("nope", 10, 2), lambda r: r is False)
ref = client.get_tensor("t_int16_2x3x4x5")
works("copy_tensor", lambda: (client.copy_tensor("t_int16_2x3x4x5", "t_copy"),
                              client.get_tensor("t_copy"))[1], lambda b: same(ref, b))
works("rename_tensor", lambda: (client.rename_tensor("t_copy", "t_renamed"),
                                client.tensor_exists("t_copy"), client.get_tensor("t_renamed")),
      lambda r: r[1] is False and same(ref, r[2]))
works("delete_tensor", lambda: (client.delete_tensor("t_renamed"), client.tensor_exists("t_renamed"))[1],
      lambda r: r is False)

# ---- datasets (SmartRedis's own layout, through SmartRedis alone) ---------------------------
def make_dataset(name, seed):
    d = Dataset(name)
    d.add_tensor("a", np.arange(12, dtype=np.float32).reshape(3, 4) + seed)
    d.add_tensor("b", np.arange(5, dtype=np.int64) * seed)
    d.add_meta_scalar("step", np.int64(seed))
    d.add_meta_scalar("dt", np.float64(0.5))
    d.add_meta_string("who", f"rank{seed}")
    return d


def dataset_ok(d, seed):
    return (same(d.get_tensor("a"), np.arange(12, dtype=np.float32).reshape(3, 4) + seed)
            and same(d.get_tensor("b"), np.arange(5, dtype=np.int64) * seed)
            and list(d.get_meta_scalars("step")) == [seed]
            and list(d.get_meta_scalars("dt")) == [0.5]
            and list(d.get_meta_strings("who")) == [f"rank{seed}"])


works("put_dataset, get_dataset", lambda: (client.put_dataset(make_dataset("ds1", 1)),
                                           client.get_dataset("ds1"))[1],
      lambda d: dataset_ok(d, 1), "tensors, scalar and string metadata")
works("dataset_exists", lambda: (client.dataset_exists("ds1"), client.dataset_exists("nods")),
      lambda r: r == (True, False))
works("poll_dataset", lambda: client.poll_dataset("ds1", 10, 3), lambda r: r is True)
works("copy_dataset", lambda: (client.copy_dataset("ds1", "ds2"), client.get_dataset("ds2"))[1],
      lambda d: dataset_ok(d, 1))
works("rename_dataset", lambda: (client.rename_dataset("ds2", "ds3"), client.dataset_exists("ds2"),
                                 client.get_dataset("ds3")),
      lambda r: r[1] is False and dataset_ok(r[2], 1))
works("delete_dataset", lambda: (client.delete_dataset("ds3"), client.dataset_exists("ds3"))[1],
      lambda r: r is False)

# ---- aggregation lists ----------------------------------------------------------------------
for s in (1, 2, 3):
    client.put_dataset(make_dataset(f"lds{s}", s))
works("append_to_list", lambda: [client.append_to_list("agg", client.get_dataset(f"lds{s}"))
                                 for s in (1, 2, 3)])
works("get_list_length", lambda: client.get_list_length("agg"), lambda n: n == 3)
works("poll_list_length, _gte, _lte",
      lambda: (client.poll_list_length("agg", 3, 10, 3), client.poll_list_length_gte("agg", 2, 10, 3),
               client.poll_list_length_lte("agg", 2, 10, 2)),
      lambda r: r == (True, True, False))
works("get_datasets_from_list", lambda: client.get_datasets_from_list("agg"),
      lambda ds: len(ds) == 3 and all(dataset_ok(d, s) for d, s in zip(ds, (1, 2, 3))))
works("get_dataset_list_range", lambda: client.get_dataset_list_range("agg", 1, 2),
      lambda ds: len(ds) == 2 and dataset_ok(ds[0], 2) and dataset_ok(ds[1], 3))
works("copy_list", lambda: (client.copy_list("agg", "agg2"), client.get_list_length("agg2"))[1],
      lambda n: n == 3)
works("rename_list", lambda: (client.rename_list("agg2", "agg3"), client.get_list_length("agg2"),
                              client.get_list_length("agg3"))[1:],
      lambda r: r == (0, 3))
works("delete_list", lambda: (client.delete_list("agg3"), client.get_list_length("agg3"))[1],
      lambda n: n == 0)

# ---- models ---------------------------------------------------------------------------------
blob = open(MODEL_FILE, "rb").read()
works("set_model_chunk_size", lambda: client.set_model_chunk_size(4096), None,
      "AI.CONFIG MODEL_CHUNK_SIZE n; on a cluster 0.6.1 sends it to one shard only "
      "(the client chunks with its own copy of the size)")
works("set_model", lambda: (client.set_model("m", blob, "TORCH", "CPU", tag="v1"),
                            client.get_model("m"))[1],
      lambda b: b == blob,
      f"backend TORCH (an sb-model file; sent in {len(blob) // 4096 + 1} chunks of 4 KiB)")
works("set_model (batching options)",
      lambda: client.set_model("mb", blob, "TORCH", "CPU", batch_size=4, min_batch_size=2,
                               min_batch_timeout=10))
works("set_model_from_file", lambda: (client.set_model_from_file("mf", MODEL_FILE, "TORCH", "CPU"),
                                      client.get_model("mf"))[1], lambda b: b == blob)
works("get_model", lambda: client.get_model("mf"), lambda b: b == blob, "the bytes as stored")
works("model_exists", lambda: (client.model_exists("m"), client.model_exists("nomodel")),
      lambda r: r == (True, False))
works("poll_model", lambda: client.poll_model("m", 10, 3), lambda r: r is True)
x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
client.put_tensor("run_in", x)
y = works("run_model", lambda: (client.run_model("m", "run_in", "run_out"),
                                client.get_tensor("run_out"))[1],
          lambda y: y.dtype == np.float32 and y.shape[0] == 2 and y.ndim == 2,
          "FLOAT [N][3][H][W] in, logits out")
if y is not None:
    x.tofile(os.path.join(WORK, f"run_in_{MODE}.bin"))
    y.tofile(os.path.join(WORK, f"run_out_{MODE}.bin"))
works("run_model (batched model)", lambda: (client.run_model("mb", ["run_in"], ["run_out_b"]),
                                            client.get_tensor("run_out_b"))[1],
      lambda yb: y is not None and np.allclose(yb, y, atol=1e-4))


def info_of(key, reset=False):
    """AI.INFO of key at every address (a cluster: every shard's copy)."""
    return client.get_ai_info(ADDRS, key, reset)


def calls(infos):
    return sum(int(i["calls"]) for i in infos)


works("get_ai_info", lambda: info_of("m"),
      lambda r: len(r) == len(ADDRS) and all(
          i["key"] == "m" and i["type"] == "MODEL" and i["backend"] == "SBRESNET"
          and i["tag"] == "v1" for i in r) and calls(r) == 1,
      "one dict per address; sbai adds executions and disconnected")
works("get_ai_info (reset_stat=True)", lambda: (info_of("m", True), info_of("m")),
      lambda r: calls(r[0]) == 1 and calls(r[1]) == 0,
      "replies the statistics it resets")
refused("set_model (backend TF)",
        lambda: client.set_model("mtf", blob, "TF", "CPU", inputs="x", outputs="y"),
        "ERR unknown backend 'TF'", "backends SBRESNET and TORCH only (TORCH: our ResNet files, or TorchScript with the sbai_torch.so plugin)")
refused("set_model (a TorchScript blob, no plugin)",
        lambda: client.set_model("mbad", b"PK\x03\x04 not a model", "TORCH", "CPU"),
        "ERR TorchScript models need the TORCH backend",
        "TorchScript needs the optional sbai_torch.so plugin (docs/module.md); this server has none")
refused("set_model_multigpu", lambda: client.set_model_multigpu("mg", blob, "TORCH", 0, 2),
        "GPU:0", "needs a GPU (CPU-only server: a clean error)")
refused("run_model_multigpu",
        lambda: client.run_model_multigpu("mg", 0, 0, 2, ["run_in"], ["run_out_g"]),
        "ERR model key is empty", "nothing is stored under name.GPU:n")
refused("delete_model_multigpu", lambda: client.delete_model_multigpu("mg", 0, 2),
        "ERR model key is empty", "nothing is stored under name.GPU:n")
works("delete_model", lambda: (client.delete_model("mf"), client.model_exists("mf"))[1],
      lambda r: r is False, "on a cluster: every shard's copy")

# ---- scripts --------------------------------------------------------------------------------
TORCHSCRIPT = "def add(a, b):\n    return a + b\n"
BUILTIN_SRC = "def pre_process_3ch(img):\n    return img\n"
refused("set_script (TorchScript)", lambda: client.set_script("ts", TORCHSCRIPT),
        "ERR the script defines no built-in function (sbai does not interpret TorchScript",
        "sbai does not interpret TorchScript; only built-in functions run")
works("set_script (built-in function)", lambda: client.set_script("s", BUILTIN_SRC, "CPU"),
      None, "a source defining pre_process_3ch")
src_file = os.path.join(WORK, "script.py")
with open(src_file, "w") as f:
    f.write(BUILTIN_SRC)
works("set_script_from_file", lambda: client.set_script_from_file("sf", src_file, "CPU"))


def pre_process_3ch(img):
    return img


works("set_function", lambda: client.set_function("sfn", pre_process_3ch),
      None, "a Python function named like a built-in")
works("get_script", lambda: client.get_script("s"), lambda src: src == BUILTIN_SRC)
hwc = rng.uniform(0, 255, (1, 8, 8, 3)).astype(np.float32)
client.put_tensor("img", hwc)
mean = np.array([0.485, 0.456, 0.406], np.float32)
std = np.array([0.229, 0.224, 0.225], np.float32)
want = ((hwc / 255.0 - mean) / std).transpose(0, 3, 1, 2)
works("run_script", lambda: (client.run_script("s", "pre_process_3ch", ["img"], ["pre"]),
                             client.get_tensor("pre"))[1],
      lambda p: p.shape == (1, 3, 8, 8) and np.allclose(p, want, atol=1e-5),
      "pre_process_3ch, checked against the formula")
refused("run_script (a function not built in)",
        lambda: client.run_script("s", "add", ["img"], ["o"]),
        "ERR function 'add' is not a built-in", "only built-ins run")
refused("set_script (device GPU)", lambda: client.set_script("sg", BUILTIN_SRC, "GPU"),
        "scripts run on the CPU in sbai", "scripts run on the CPU")
refused("set_script_multigpu", lambda: client.set_script_multigpu("sg", BUILTIN_SRC, 0, 1),
        "scripts run on the CPU in sbai", "scripts run on the CPU")
refused("run_script_multigpu",
        lambda: client.run_script_multigpu("sg", "pre_process_3ch", ["img"], ["o"], 0, 0, 1),
        "ERR script key is empty", "nothing is stored under name.GPU:n")
refused("delete_script_multigpu", lambda: client.delete_script_multigpu("sg", 0, 1),
        "ERR script key is empty", "nothing is stored under name.GPU:n")
works("delete_script", lambda: client.delete_script("sf"))
works("get_ai_info (script)", lambda: info_of("s"),
      lambda r: all(i["type"] == "SCRIPT" for i in r) and calls(r) == 1)

# ---- ensemble key prefixes (SSKEYIN / SSKEYOUT) ----------------------------------------------
os.environ["SSKEYOUT"] = "producer"
os.environ["SSKEYIN"] = "producer,other"
ens = Client(CLUSTER, os.environ["SSDB"])
del os.environ["SSKEYOUT"], os.environ["SSKEYIN"]
works("use_tensor_ensemble_prefix", lambda: (ens.use_tensor_ensemble_prefix(True),
                                             ens.put_tensor("pt", x), client.key_exists("producer.pt"),
                                             same(ens.get_tensor("pt"), x))[2:],
      lambda r: r == (True, True), "keys producer.<name>")
works("set_data_source", lambda: ens.set_data_source("other"))
works("use_model_ensemble_prefix", lambda: (ens.set_data_source("producer"),
                                            ens.use_model_ensemble_prefix(True),
                                            ens.set_model("pm", blob, "TORCH"),
                                            client.model_exists("producer.pm"),
                                            ens.run_model("pm", "pt", "pout"),
                                            client.key_exists("producer.pout"))[3:],
      lambda r: r[0] is True and r[2] is True)
works("use_dataset_ensemble_prefix", lambda: (ens.use_dataset_ensemble_prefix(True),
                                              ens.put_dataset(make_dataset("pds", 4)),
                                              client.dataset_exists("pds"),
                                              ens.dataset_exists("pds"), ens.get_dataset("pds"))[2:],
      lambda r: r[0] is False and r[1] is True and dataset_ok(r[2], 4))
works("use_list_ensemble_prefix", lambda: (ens.use_list_ensemble_prefix(True),
                                           ens.append_to_list("plist", ens.get_dataset("pds")),
                                           client.get_list_length("producer.plist"),
                                           ens.get_list_length("plist"))[2:],
      lambda r: r == (1, 1))

# ---- server information ---------------------------------------------------------------------
works("get_db_node_info", lambda: client.get_db_node_info(ADDRS),
      lambda r: len(r) == len(ADDRS) and "Server" in r[0])
if CLUSTER:
    works("get_db_cluster_info", lambda: client.get_db_cluster_info(ADDRS),
          lambda r: len(r) == len(ADDRS) and r[0].get("cluster_state") == "ok")
else:
    refused("get_db_cluster_info", lambda: client.get_db_cluster_info(ADDRS),
            "non-cluster", "a standalone server (the client refuses)")
works("config_get", lambda: client.config_get("maxmemory", ADDRS[0]),
      lambda r: "maxmemory" in r)
works("config_set", lambda: (client.config_set("maxmemory-policy", "noeviction", ADDRS[0]),
                             client.config_get("maxmemory-policy", ADDRS[0]))[1],
      lambda r: r.get("maxmemory-policy") == "noeviction")
works("flush_db", lambda: (client.flush_db(ADDRS), client.tensor_exists("t_float32_3x4"))[1],
      lambda r: r is False)
# After the flush: SAVE answers within the 250 ms socket timeout only while
# the dataset is small (a bigger one needs a higher SR_SOCKET_TIMEOUT).
works("save", lambda: client.save(ADDRS), None, "of an empty database")

with open(RESULTS, "a") as f:
    for r in RECORDS:
        f.write(json.dumps(r) + "\n")
if FAILED:
    print(f"{len(FAILED)} call(s) failed in {MODE} mode", file=sys.stderr)
    sys.exit(1)
print(f"smartredis_api {MODE}: {len(RECORDS)} calls as expected")
