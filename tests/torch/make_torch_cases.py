"""Makes the TORCH backend test's inputs and torch's own answers.

    python make_torch_cases.py OUTDIR

Writes into OUTDIR:
  model.pt       a traced conv+relu+linear (torch.jit.save), input x.bin
  x.bin, y.bin   its input [2][3][8][8] and output [2][5], raw float32
  two.pt         a scripted module of two inputs and two outputs (a+b, a*b)
  a.bin, b.bin   its inputs [4][3] (float32); ab_sum.bin, ab_prod.bin its outputs
  script.txt     TorchScript source with user functions
  s_scale.bin    scale_add(a, b, 2.5) of the script, float32
  s_lists.bin, s_lists_sum.bin   lists(tensors=[a, b], keys, args=["3"])
  bad.pt         a zip archive that is no TorchScript module
"""
import os
import sys
import warnings
import zipfile

import numpy as np
import torch

warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit.script is deprecated in 2.15

SCRIPT = '''
def scale_add(a, b, factor: float = 2.5):
    return a * factor + b

def lists(tensors: List[Tensor], keys: List[str], args: List[str]):
    k = float(args[0])
    return tensors[0] * k - tensors[1], (tensors[0] + tensors[1]).sum()

def pick(x, n: int):
    return x[:n]
'''


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


class Two(torch.nn.Module):
    def forward(self, a, b):
        return a + b, a * b


def raw(path, t):
    with open(path, "wb") as f:
        f.write(t.detach().contiguous().numpy().astype(np.float32).tobytes())


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    net = Net().eval()
    x = torch.randn(2, 3, 8, 8)
    traced = torch.jit.trace(net, x)
    traced.save(os.path.join(out, "model.pt"))
    raw(os.path.join(out, "x.bin"), x)
    with torch.no_grad():
        raw(os.path.join(out, "y.bin"), torch.jit.load(os.path.join(out, "model.pt"))(x))

    two = torch.jit.script(Two())
    two.save(os.path.join(out, "two.pt"))
    a = torch.arange(12, dtype=torch.float32).reshape(4, 3) / 7
    b = torch.linspace(-1, 1, 12).reshape(4, 3)
    raw(os.path.join(out, "a.bin"), a)
    raw(os.path.join(out, "b.bin"), b)
    s, p = two(a, b)
    raw(os.path.join(out, "ab_sum.bin"), s)
    raw(os.path.join(out, "ab_prod.bin"), p)

    with open(os.path.join(out, "script.txt"), "w") as f:
        f.write(SCRIPT)
    cu = torch.jit.CompilationUnit(SCRIPT)
    raw(os.path.join(out, "s_scale.bin"), cu.scale_add(a, b, 2.5))
    t, total = cu.lists([a, b], ["k"], ["3"])
    raw(os.path.join(out, "s_lists.bin"), t)
    raw(os.path.join(out, "s_lists_sum.bin"), total.reshape(1))

    with zipfile.ZipFile(os.path.join(out, "bad.pt"), "w") as z:
        z.writestr("archive/data.pkl", b"not a pickle")


if __name__ == "__main__":
    main()
