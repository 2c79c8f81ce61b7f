"""Benchmark helper (not a test) of tests/bench/inference_vs_peers.sh: our CPU
ResNet-50 against PyTorch and ONNX Runtime on the same weights and images.

Run by that script inside its virtual environment (torch, torchvision,
onnxruntime, onnx, safetensors), with a redis-server holding the sbai module
already started:

    peers.py --bin BUILD/bin --port PORT --work DIR [--threads T]
             [--batches "1 8 32"] [--repeats 3] [--images 16] [--seed 1]

1. Builds torchvision's resnet50 (weights=None, torch.manual_seed(seed)) and
   randomises every batch-norm: weight U(0.75, 1.25), bias and running_mean
   U(-0.2, 0.2), running_var U(0.5, 1.5), so that folding batch-norm matters.
2. Saves its state_dict with safetensors (torchvision names) and checks that
   `sb-model info` loads it as a resnet50.
3. Exports ONNX (opset 17, the TorchScript-based exporter) of the same
   network with the pre-processing in front: NHWC float pixels 0..255 ->
   /255, ImageNet mean and std -> NCHW -> resnet50 -> logits, exactly what
   `sb-model run` (pre_process_3ch + forward) and the database's
   run_script + run_model compute.
4. Times, on the same random 0..255 images, every method with T threads:
     torch eager           torch.set_num_threads(T), NCHW, inference_mode
     torch channels_last   the model and its input in channels_last
     onnxruntime           CPUExecutionProvider, intra_op_num_threads T
     ours in-process       `sb-model run FILE --threads T --input RAW`
     ours run_model        sb-inference's run_model phase (AI.MODELEXECUTE
                           inside the database, as timed by the client)
     ours end to end       sb-inference's loop_time (put_tensor, run_script,
                           run_model, unpack_tensor), 1 rank
   Each timing: one untimed pass, then max(1, images // B) timed passes
   (sb-inference: --warmup 1; the model is stored by an untimed run first).
   Repetitions are interleaved (every method and batch size once, then
   again); the table shows the median images/s, the spread and the ratio to
   ONNX Runtime at the same batch size.
5. Logit agreement at every batch size: max |x - torch| / max |torch| for
   ours (sb-model run --output on the same pixels) and for ONNX Runtime.

Exit status: 0 done, 1 a step failed (with the reason on stderr).
"""

import argparse
import copy
import os
import re
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import onnxruntime as ort
import torch
import torchvision
from safetensors.torch import save_file

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
IMAGE = 224


def fail(msg):
    print(f"peers.py: {msg}", file=sys.stderr)
    sys.exit(1)


class Preprocessed(torch.nn.Module):
    """NHWC pixels 0..255 -> normalised NCHW -> the network (pre_process_3ch's
    definition: (x / 255 - mean) / std per channel)."""

    def __init__(self, net, channels_last):
        super().__init__()
        self.net = net
        self.channels_last = channels_last
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 1, 1, 3))
        self.register_buffer("std", torch.tensor(STD).view(1, 1, 1, 3))

    def forward(self, x):
        x = (x / 255.0 - self.mean) / self.std
        x = x.permute(0, 3, 1, 2)  # a channels_last view of NCHW
        if not self.channels_last:
            x = x.contiguous()
        return self.net(x)


def make_model(seed):
    torch.manual_seed(seed)
    net = torchvision.models.resnet50(weights=None)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.75, 1.25)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def run(cmd, what):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail(f"{what} exited {r.returncode}: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout, r.stderr


def time_loop(fn, batch, iters):
    fn()  # untimed warm-up
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return batch * iters / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the build's bin/ (sb-model, sb-inference)")
    ap.add_argument("--port", required=True, type=int, help="redis-server with sbai on 127.0.0.1")
    ap.add_argument("--work", required=True, help="folder for the model files and images")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batches", default="1 8 32")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--images", type=int, default=16,
                    help="timed images per measurement (passes = max(1, images // batch))")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mpiexec", default="mpiexec")
    a = ap.parse_args()
    try:
        batches = [int(b) for b in a.batches.split()]
    except ValueError:
        fail(f"--batches {a.batches!r}: expected integers")
    if not batches or min(batches) < 1 or a.threads < 1 or a.repeats < 1 or a.images < 1:
        fail("batch sizes, --threads, --repeats and --images must be >= 1")
    sb_model = os.path.join(a.bin, "sb-model")
    sb_inference = os.path.join(a.bin, "sb-inference")
    os.makedirs(a.work, exist_ok=True)
    st_path = os.path.join(a.work, "resnet50-randbn.safetensors")
    onnx_path = os.path.join(a.work, "resnet50-randbn.onnx")

    torch.set_num_threads(a.threads)
    net = make_model(a.seed)

    # The weights as a torchvision state_dict, and our loader's view of them.
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, st_path)
    out, _ = run([sb_model, "info", st_path], "sb-model info")
    if not re.search(r"^arch\s+resnet50$", out, re.M):
        fail(f"sb-model info does not see a resnet50 in {st_path}:\n{out}")

    eager = Preprocessed(net, channels_last=False).eval()
    cl_net = copy.deepcopy(net).to(memory_format=torch.channels_last)
    cl = Preprocessed(cl_net, channels_last=True).eval()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(eager, (torch.zeros(1, IMAGE, IMAGE, 3),), onnx_path, dynamo=False,
                          opset_version=17, input_names=["pixels"], output_names=["logits"],
                          dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}})
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])

    rng = np.random.default_rng(a.seed)
    pixels = rng.integers(0, 256, size=(max(batches), IMAGE, IMAGE, 3)).astype(np.float32)
    raw = {}
    for b in batches:
        raw[b] = os.path.join(a.work, f"pixels-b{b}.f32")
        pixels[:b].tofile(raw[b])

    # Logit agreement, once per batch size (outside the timings).
    agree = []
    for b in batches:
        x = torch.from_numpy(pixels[:b])
        with torch.inference_mode():
            ref = eager(x).double().numpy()
            ref_cl = cl(x).double().numpy()
        logits_path = os.path.join(a.work, f"logits-b{b}.f32")
        run([sb_model, "run", st_path, "--batch-size", str(b), "--threads", str(a.threads),
             "--iterations", "1", "--warmup", "0", "--input", raw[b], "--output", logits_path],
            "sb-model run")
        ours = np.fromfile(logits_path, dtype=np.float32).astype(np.float64)
        if ours.size != ref.size:
            fail(f"sb-model run wrote {ours.size} logits, expected {ref.size}")
        onnx_out = sess.run(None, {"pixels": pixels[:b]})[0].astype(np.float64)
        scale = np.abs(ref).max()
        agree.append((b, scale,
                      np.abs(ours.reshape(ref.shape) - ref).max() / scale,
                      np.abs(onnx_out - ref).max() / scale,
                      np.abs(ref_cl - ref).max() / scale,
                      int((ours.reshape(ref.shape).argmax(1) == ref.argmax(1)).sum())))

    def torch_fn(model, x):
        def f():
            with torch.inference_mode():
                model(x)
        return f

    def ours_inprocess(b, iters):
        out, _ = run([sb_model, "run", st_path, "--batch-size", str(b), "--threads",
                      str(a.threads), "--iterations", str(iters), "--warmup", "1",
                      "--input", raw[b]], "sb-model run")
        m = re.search(r"images_per_s=([0-9.]+)", out)
        if not m:
            fail(f"sb-model run printed no images_per_s: {out}")
        return float(m.group(1))

    def ours_database(b, iters):
        out, _ = run([a.mpiexec, "-n", "1", sb_inference, "--db", f"tcp://127.0.0.1:{a.port}",
                      "--model", "resnet50", "--model-file", st_path, "--batch-size", str(b),
                      "--iterations", str(iters), "--warmup", "1", "--no-verify",
                      "--log-level", "warn"], "sb-inference")
        agg = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 8 and f[0] in ("run_model", "loop_time"):
                agg[f[0]] = float(f[-1])  # images/s of that phase
        if set(agg) != {"run_model", "loop_time"}:
            fail(f"sb-inference printed no run_model / loop_time rows:\n{out}")
        return agg["run_model"], agg["loop_time"]

    methods = ["torch eager", "torch channels_last", "onnxruntime", "ours in-process",
               "ours run_model", "ours end to end"]
    rates = {(m, b): [] for m in methods for b in batches}
    # Untimed: store the model in the database and run it once.
    ours_database(batches[0], 1)
    for rep in range(a.repeats):
        for b in batches:
            iters = max(1, a.images // b)
            x = torch.from_numpy(pixels[:b])
            rates[("torch eager", b)].append(time_loop(torch_fn(eager, x), b, iters))
            rates[("torch channels_last", b)].append(time_loop(torch_fn(cl, x), b, iters))
            feed = {"pixels": pixels[:b]}
            rates[("onnxruntime", b)].append(time_loop(lambda: sess.run(None, feed), b, iters))
            rates[("ours in-process", b)].append(ours_inprocess(b, iters))
            rm, e2e = ours_database(b, iters)
            rates[("ours run_model", b)].append(rm)
            rates[("ours end to end", b)].append(e2e)
            print(f"# repetition {rep + 1}/{a.repeats}, batch {b}: " +
                  ", ".join(f"{m} {rates[(m, b)][-1]:.2f}" for m in methods),
                  file=sys.stderr, flush=True)

    print(f"# resnet50 {IMAGE}x{IMAGE}, random batch-norm (seed {a.seed}), {a.threads} threads;"
          f" torch {torch.__version__}, torchvision {torchvision.__version__},"
          f" onnxruntime {ort.__version__}")
    print(f"# median of {a.repeats} interleaved repetitions; max(1, {a.images} // batch) timed"
          " passes after 1 untimed")
    print(f"# {'batch':>5}  {'method':<20} {'images/s':>10} {'vs onnxruntime':>15}"
          f"   {'min..max images/s'}")
    for b in batches:
        base = statistics.median(rates[("onnxruntime", b)])
        for m in methods:
            r = rates[(m, b)]
            med = statistics.median(r)
            print(f"  {b:>5}  {m:<20} {med:>10.2f} {med / base:>14.2f}x"
                  f"   [{min(r):.2f}..{max(r):.2f}]")
    print("# logit agreement with torch eager (max |x - torch| / max |torch|)")
    print(f"# {'batch':>5} {'max |torch|':>12} {'ours':>10} {'onnxruntime':>12}"
          f" {'channels_last':>14} {'same argmax':>12}")
    for b, scale, d_ours, d_onnx, d_cl, same in agree:
        print(f"  {b:>5} {scale:>12.4g} {d_ours:>10.2e} {d_onnx:>12.2e} {d_cl:>14.2e}"
              f" {same:>7}/{b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
