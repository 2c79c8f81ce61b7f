"""SmartRedis's own Python client with TorchScript against sbai + sbai_torch.so
(run by smartredis_torch.sh in the SmartRedis venv; the cases and torch's
answers come from make_torch_cases.py, made in the torch venv).

    python smartredis_torch.py ADDRESS CASEDIR

Prints one line per call and exits 1 if any answer differs from torch's
(1e-5 relative, 1e-6 absolute near zero) or a call fails.
"""
import sys

import numpy as np
from smartredis import Client

ADDR, CASES = sys.argv[1], sys.argv[2]
failed = 0


def raw(name, shape):
    return np.fromfile(f"{CASES}/{name}", dtype=np.float32).reshape(shape)


def check(what, got, want):
    global failed
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-6)
    diff = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("nan")
    print(f"{'ok  ' if ok else 'FAIL'} {what}: shape {got.shape}, max |diff| {diff:.3g}")
    failed += not ok


def double_plus(a, b):
    return a * 2.0 + b


def main():
    c = Client(address=ADDR, cluster=False)
    a, b = raw("a.bin", (4, 3)), raw("b.bin", (4, 3))

    # A traced module from a file, as SmartSim-Scaling's inference stores ResNet-50.
    c.set_model_from_file("sr_m", f"{CASES}/model.pt", "TORCH", "CPU")
    c.put_tensor("sr_x", raw("x.bin", (2, 3, 8, 8)))
    c.run_model("sr_m", ["sr_x"], ["sr_y"])
    check("set_model_from_file + run_model", c.get_tensor("sr_y"), raw("y.bin", (2, 5)))

    # A scripted module of two inputs and two outputs, from bytes.
    with open(f"{CASES}/two.pt", "rb") as f:
        c.set_model("sr_two", f.read(), "TORCH", "CPU")
    c.put_tensor("sr_a", a)
    c.put_tensor("sr_b", b)
    c.run_model("sr_two", ["sr_a", "sr_b"], ["sr_sum", "sr_prod"])
    check("set_model + run_model, 2 in 2 out (sum)", c.get_tensor("sr_sum"), raw("ab_sum.bin", (4, 3)))
    check("set_model + run_model, 2 in 2 out (prod)", c.get_tensor("sr_prod"), raw("ab_prod.bin", (4, 3)))

    # TorchScript source: a user function with a default argument.
    with open(f"{CASES}/script.txt") as f:
        c.set_script("sr_s", f.read(), "CPU")
    c.run_script("sr_s", "scale_add", ["sr_a", "sr_b"], ["sr_r"])
    check("set_script + run_script (user function)", c.get_tensor("sr_r"), raw("s_scale.bin", (4, 3)))
    c.set_script_from_file("sr_sf", f"{CASES}/script.txt", "CPU")
    c.run_script("sr_sf", "scale_add", ["sr_a", "sr_b"], ["sr_r2"])
    check("set_script_from_file + run_script", c.get_tensor("sr_r2"), raw("s_scale.bin", (4, 3)))

    # A Python function sent as its source (set_function).
    c.set_function("sr_f", double_plus)
    c.run_script("sr_f", "double_plus", ["sr_a", "sr_b"], ["sr_r3"])
    check("set_function + run_script", c.get_tensor("sr_r3"), a * 2.0 + b)

    print("all SmartRedis TorchScript calls agree with torch" if not failed else f"{failed} call(s) differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
