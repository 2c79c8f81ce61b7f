#!/usr/bin/env python3
"""Our ResNet-50 on the GPU against PyTorch's torchvision resnet50, same weights.

Run by tests/gpu/run.sh on a GPU machine (PyTorch, torchvision and safetensors
are there, not on the build machines). Steps:

1. Loads the model file (a safetensors torchvision state_dict, the format of
   docs/model-format.md, written by `sb-model make resnet50` or
   `test_resnet_cuda make`) into torchvision.models.resnet50() with
   strict=True, eval mode, on cuda:0.
2. Same logits: a random input through torch (FP32, TF32 off) and through our
   CUDA forward pass (`test_resnet_cuda logits`, FP32);
   error = max|ours - torch| / max(max|torch|, 1) must be <= 1e-3. This also
   checks our reading of the format against torchvision's own model.
3. Images/s at each batch size, in two precision classes: TF32 (ours:
   SB_K_CUDA_TF32; torch: allow_tf32 for matmul and cuDNN) and FP32 (ours:
   SB_K_CUDA_FP32; torch: allow_tf32 off). Torch: torch.inference_mode(),
   cudnn.benchmark=True, CUDA-event timing after warm-up. Ours: `test_resnet_cuda
   bench` (the forward pass alone, input already on the GPU, CUDA events).
4. Prints one table, plus the end-to-end figure through redis-server + sbai
   (sb-inference) when run.sh passes it, beside our kernel-only figure at the
   same batch and precision.

Exit status: 0 when the logits agree, 1 when not, 2 on a setup error. The
speed targets of issue 8 (>= 0.5x torch at batch 32, end to end >= 0.8x
kernel-only) are reported as MET / NOT MET, not enforced.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile


def ours_bench(binary, model, prec, batches, iters):
    """{batch: images/s} from `test_resnet_cuda bench`."""
    cmd = [binary, "bench", model, prec, ",".join(str(b) for b in batches), str(iters)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        print(f"# ours ({prec}) failed: {res.stderr.strip()[-400:]}")
        return {}
    out = {}
    for line in res.stdout.splitlines():
        m = re.match(r"bench \S+ \S+ batch (\d+) images_per_s ([\d.]+)", line)
        if m:
            out[int(m.group(1))] = float(m.group(2))
    return out


def torch_bench(torch, model, batch, iters):
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    with torch.inference_mode():
        for _ in range(5):
            model(x)
        torch.cuda.synchronize()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            model(x)
        end.record()
        torch.cuda.synchronize()
    return batch * iters / (start.elapsed_time(end) / 1e3)


def set_precision(torch, tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="resnet50 safetensors file")
    ap.add_argument("--ours", required=True, help="the test_resnet_cuda binary")
    ap.add_argument("--batches", default="1,8,32,128")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--e2e", type=float, default=None,
                    help="images/s of sb-inference end to end (run.sh measures it)")
    ap.add_argument("--e2e-batch", type=int, default=32)
    ap.add_argument("--e2e-precision", default="tf32", choices=["tf32", "fp32"])
    ap.add_argument("--e2e-note", default="")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    try:
        import numpy as np
        import torch
        import torchvision
        from safetensors.torch import load_file
    except ImportError as e:
        print(f"# torch_compare: SKIPPED ({e})")
        return 77
    if not torch.cuda.is_available():
        print("# torch_compare: SKIPPED (torch sees no CUDA device)")
        return 77

    print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"GPU {torch.cuda.get_device_name(0)}, cuDNN {torch.backends.cudnn.version()}")
    state = load_file(args.model)
    model = torchvision.models.resnet50(weights=None)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        print(f"# torchvision refuses {args.model}: {e}")
        return 2
    model = model.eval().cuda()

    # ---- same logits (FP32 on both sides) ----
    set_precision(torch, False)
    rng = np.random.default_rng(12345)
    x = rng.standard_normal((2, 3, 224, 224), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        xin, xout = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
        x.tofile(xin)
        res = subprocess.run([args.ours, "logits", args.model, xin, "2", "224", "224", xout],
                             capture_output=True, text=True)
        if res.returncode != 0:
            print(f"# ours logits failed ({res.returncode}): {res.stderr.strip()[-400:]}")
            return 2
        ours = np.fromfile(xout, dtype=np.float32).reshape(2, -1)
    with torch.inference_mode():
        ref = model(torch.from_numpy(x).cuda()).float().cpu().numpy()
    rel = float(np.abs(ours - ref).max() / max(float(np.abs(ref).max()), 1.0))
    logits_ok = rel <= 1e-3
    print(f"# logits ours (CUDA FP32) vs torchvision (FP32), batch 2: rel_err {rel:.3g} "
          f"(bound 1e-3): {'PASS' if logits_ok else 'FAIL'}")

    # ---- images/s ----
    rows = []
    figures = {}
    for prec in ("tf32", "fp32"):
        mine = ours_bench(args.ours, args.model, prec, batches, args.iters)
        set_precision(torch, prec == "tf32")
        for b in batches:
            try:
                theirs = torch_bench(torch, model, b, args.iters)
            except RuntimeError as e:  # e.g. out of memory at a large batch
                print(f"# torch at batch {b} ({prec}) failed: {e}")
                theirs = float("nan")
            ours_ips = mine.get(b, float("nan"))
            figures[(prec, b)] = (ours_ips, theirs)
            rows.append((prec, b, ours_ips, theirs, ours_ips / theirs if theirs else float("nan")))

    print("#")
    print(f"# {'precision':<9} {'batch':>5} {'ours':>10} {'torch':>10} {'ours/torch':>10}")
    print(f"# {'':<9} {'':>5} {'(img/s)':>10} {'(img/s)':>10} {'':>10}")
    for prec, b, o, t, r in rows:
        print(f"  {prec:<9} {b:>5} {o:>10.1f} {t:>10.1f} {r:>10.3f}")
    if args.e2e is not None:
        kern = figures.get((args.e2e_precision, args.e2e_batch), (float("nan"),))[0]
        ratio = args.e2e / kern if kern == kern and kern > 0 else float("nan")
        print(f"  {'e2e ' + args.e2e_precision:<9} {args.e2e_batch:>5} {args.e2e:>10.1f} "
              f"{'-':>10} {'-':>10}   sb-inference through redis-server + sbai; "
              f"/ kernel-only = {ratio:.3f} {args.e2e_note}")
    for prec in ("tf32", "fp32"):
        o, t = figures.get((prec, 32), (float("nan"), float("nan")))
        if o == o and t == t and t > 0:
            print(f"# target ours >= 0.5x torch at batch 32 ({prec}): {o / t:.3f} "
                  f"{'MET' if o / t >= 0.5 else 'NOT MET'}")
    if args.e2e is not None:
        kern = figures.get((args.e2e_precision, args.e2e_batch), (float("nan"),))[0]
        if kern == kern and kern > 0:
            r = args.e2e / kern
            print(f"# target end to end >= 0.8x kernel-only at batch {args.e2e_batch}: {r:.3f} "
                  f"{'MET' if r >= 0.8 else 'NOT MET'}")
    return 0 if logits_ok else 1


if __name__ == "__main__":
    sys.exit(main())
