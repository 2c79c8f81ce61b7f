"""compare.py GOT WANT: both raw float32 files; equal within 1e-5 relative
(and 1e-6 absolute, for values near 0). Exit 1 with the worst element."""
import sys

import numpy as np

got = np.fromfile(sys.argv[1], dtype=np.float32)
want = np.fromfile(sys.argv[2], dtype=np.float32)
if got.shape != want.shape:
    sys.exit(f"{sys.argv[1]}: {got.size} values, want {want.size}")
if not np.allclose(got, want, rtol=1e-5, atol=1e-6):
    i = int(np.argmax(np.abs(got - want)))
    sys.exit(f"{sys.argv[1]}: element {i} is {got[i]}, want {want[i]}")
