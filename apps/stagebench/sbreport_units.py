"""Units for `stagebench report`: sizes, times and rates, parsed and printed.

One place for the conventions the report's tables, plots and acceptance
criteria share (docs/report.md):

- sizes are binary, as on the apps' command lines: 1K = 1024, 1M = 1024^2;
- rates are decimal, as in the apps' printed tables: 1 GB/s = 1e9 bytes/s;
- times are stored in seconds and shown in s, ms, us or ns.
"""

import math
import re

SIZE_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}

RATE_UNITS = {"B/s": 1.0, "KB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9, "TB/s": 1e12,
              "KiB/s": 1024.0, "MiB/s": 1024.0 ** 2, "GiB/s": 1024.0 ** 3}

OPS_UNITS = {"/s": 1.0, "ops/s": 1.0, "kops/s": 1e3, "Mops/s": 1e6,
             "images/s": 1.0, "inferences/s": 1.0}

_SIZE = re.compile(r"^([0-9]+)([KMGT]?)(i?B)?$")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def parse_size(text):
    """'64K' -> 65536, '1M' -> 1048576, '1000' -> 1000; None if not a size."""
    m = _SIZE.match(text.strip())
    if not m:
        return None
    return int(m.group(1)) * SIZE_SUFFIX[m.group(2)]


def parse_value(text):
    """A parameter value as written in a criterion or a case name: an int
    (sizes with K/M/G/T suffixes included), a float, or the string itself."""
    t = text.strip()
    size = parse_size(t)
    if size is not None:
        return size
    if _NUMBER.match(t):
        return float(t)
    return t


def fmt_size(n):
    """65536 -> '64K'; sizes that are not a whole number of K/M/G print as bytes."""
    if n is None:
        return ""
    n = int(n)
    for suffix in ("T", "G", "M", "K"):
        unit = SIZE_SUFFIX[suffix]
        if n >= unit and n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def time_unit_for(seconds):
    """('ms', 1e-3) or another unit that shows typical values (seconds) as
    numbers between about 0.1 and 10000."""
    vals = [abs(v) for v in seconds if v is not None and math.isfinite(v) and v > 0]
    if not vals:
        return "ms", 1e-3
    vals.sort()
    typical = vals[len(vals) // 2]
    if typical >= 10.0:
        return "s", 1.0
    if typical >= 1e-4:
        return "ms", 1e-3
    if typical >= 1e-7:
        return "us", 1e-6
    return "ns", 1e-9


def fmt_num(x, digits=4):
    """A number with `digits` significant digits, without exponent where it
    reads as well without."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if -4 <= mag < 9:
        decimals = max(0, digits - 1 - mag)
        return f"{x:.{decimals}f}"
    return f"{x:.{digits - 1}e}"


def show_value(name, v):
    """A parameter value as people write it: sizes with K/M/G."""
    if v is None:
        return "?"
    if name == "tensor_bytes" and isinstance(v, int):
        return fmt_size(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_NATURAL = re.compile(r"([0-9]+(?:\.[0-9]+)?)([KMGT]?)(?![A-Za-z])")


def natural_key(text):
    """A sort key that orders numbers inside text by value, sizes with their
    K/M/G/T suffix included: 'tb1K' < 'tb64K' < 'tb1M', 'cpn2' < 'cpn16'.
    Case directory names sort by their parameters' values this way."""
    parts = _NATURAL.split(str(text))
    key = []
    # split() with two groups: text, number, suffix, text, number, suffix, ...
    for i in range(0, len(parts), 3):
        key.append((0, 0.0, parts[i]))
        if i + 2 < len(parts):
            num = float(parts[i + 1]) * SIZE_SUFFIX[parts[i + 2]]
            key.append((1, num, ""))
    return tuple(key)


def value_key(v):
    """A sort key for parameter values of any type: numbers by value, then
    strings in natural order ('1K' < '64K' < '1M' as sizes), None last."""
    if v is None:
        return (2, 0.0, ())
    if isinstance(v, bool):
        return (0, float(v), ())
    if isinstance(v, (int, float)):
        return (0, float(v), ())
    if isinstance(v, (list, tuple)):
        return (1, 0.0, tuple(value_key(x) for x in v))
    size = parse_size(str(v))
    if size is not None:
        return (0, float(size), ())
    return (1, 0.0, natural_key(v))
