"""TorchScript of a ResNet model file, for `sb-inference --backend torch`.

    python trace_resnet.py WEIGHTS.safetensors OUT.pt [--image-size S]

Reads a safetensors ResNet (what `sb-model make ARCH --seed S [--random-bn]`
writes, or any file our loader takes: docs/model-format.md) into
torchvision's ResNet, in eval mode, traces it on one zero image (1 x 3 x S x
S; S: 224, or 32 for a 10-class net like tiny) and writes it with
torch.jit.save. The module takes the pre-processed NCHW batch and returns
the logits, exactly what AI.MODELEXECUTE gets after sb-inference's
pre_process_3ch script: the pre-processing is not part of it. Batch-norm is
kept as it is in the file (torch applies it; our kernels fold it).

resnet18, resnet34 and resnet50 are torchvision's resnet18/34/50 with the
file's class count; narrower layouts (tiny: stem 8, widths 8..64) are
torchvision's ResNet class with its own layers rebuilt at those widths by
its _make_layer, since its constructor fixes the widths at 64..512.

Needs torch, torchvision and numpy (no safetensors package: the format is
read here). Exit status: 0 written, 1 an unusable file (the reason on
stderr).
"""

import argparse
import json
import re
import struct
import sys
import warnings

import numpy as np
import torch
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
STANDARD = {  # (block, blocks per layer) -> torchvision constructor at widths 64..512
    (BasicBlock, (2, 2, 2, 2)): torchvision.models.resnet18,
    (BasicBlock, (3, 4, 6, 3)): torchvision.models.resnet34,
    (Bottleneck, (3, 4, 6, 3)): torchvision.models.resnet50,
}


def fail(msg):
    print(f"trace_resnet.py: {msg}", file=sys.stderr)
    sys.exit(1)


def read_safetensors(path):
    """{name: numpy array} of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        fail(f"{path}: header length {n} runs past the end of the file")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        fail(f"{path}: header is not JSON: {e}")
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = DTYPES.get(info.get("dtype"))
        if dt is None:
            fail(f"{path}: {name}: dtype {info.get('dtype')} not handled")
        b, e = info["data_offsets"]
        if not 0 <= b <= e <= len(body):
            fail(f"{path}: {name}: data_offsets [{b}, {e}] outside the data")
        out[name] = np.frombuffer(body[b:e], dtype=dt).reshape(info["shape"]).copy()
    return out


def build(sd, path):
    """torchvision's ResNet with the layout of state_dict sd."""
    if "conv1.weight" not in sd or "fc.weight" not in sd:
        fail(f"{path}: no conv1.weight / fc.weight: not a torchvision-named ResNet")
    block = Bottleneck if any(k.endswith(".conv3.weight") for k in sd) else BasicBlock
    blocks = []
    for s in range(1, 5):
        idx = {int(m.group(1)) for k in sd for m in [re.match(rf"layer{s}\.(\d+)\.", k)] if m}
        if not idx or idx != set(range(len(idx))):
            fail(f"{path}: layer{s} has blocks {sorted(idx)}")
        blocks.append(len(idx))
    stem = sd["conv1.weight"].shape[0]
    widths = [sd[f"layer{s}.0.conv1.weight"].shape[0] for s in range(1, 5)]
    classes = sd["fc.weight"].shape[0]
    ctor = STANDARD.get((block, tuple(blocks)))
    if ctor and stem == 64 and widths == [64, 128, 256, 512]:
        return ctor(weights=None, num_classes=classes), ctor.__name__
    net = ResNet(block, blocks, num_classes=classes)
    net.inplanes = stem
    net.conv1 = torch.nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
    net.bn1 = torch.nn.BatchNorm2d(stem)
    for i, (w, n) in enumerate(zip(widths, blocks)):
        setattr(net, f"layer{i + 1}", net._make_layer(block, w, n, stride=1 if i == 0 else 2))
    net.fc = torch.nn.Linear(widths[-1] * block.expansion, classes)
    name = f"ResNet({block.__name__}, {blocks}, stem {stem}, widths {widths})"
    return net, name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", help="safetensors ResNet (sb-model make)")
    ap.add_argument("out", help="TorchScript file to write (torch.jit.save)")
    ap.add_argument("--image-size", type=int, default=0,
                    help="height = width of the tracing image (0: 224, or 32 for 10 classes)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    sd = read_safetensors(a.weights)
    net, name = build(sd, a.weights)
    state = {k: torch.from_numpy(v) for k, v in sd.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        fail(f"{a.weights}: does not fit {name}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    net.eval()
    size = a.image_size or (32 if sd["fc.weight"].shape[0] == 10 else 224)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(net, torch.zeros(1, 3, size, size))
        torch.jit.save(traced, a.out)  # deprecated in favour of torch.export, still what TORCH loads
    print(f"{a.out}: {name} traced at {size}x{size} from {a.weights}"
          f" (torch {torch.__version__}, torchvision {torchvision.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
