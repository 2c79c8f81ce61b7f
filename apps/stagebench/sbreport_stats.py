"""Statistics of one phase's samples, as `stagebench report` tabulates them.

A phase is the [nranks][samples] float64 array of /timings/<phase>
(seconds), NaN where a rank recorded fewer samples (docs/hdf5-schema.md).
The definitions follow the apps' own printed table (common/sb_app.c,
common/sb_stats.c), so the report and the run's output agree:

- count, min, mean, max over every rank's samples, NaN ignored;
- p50, p90, p99: linear interpolation between the two nearest ranks of
  the sorted samples (numpy's default, sb_stats_quantile_sorted);
- std: the sample standard deviation (n - 1), 0 for a single sample;
- rank_p50_min / rank_p50_max: the smallest and largest of the per-rank
  medians (how far the slowest rank is from the fastest);
- agg_bytes_per_s: the sum over ranks of each rank's own rate,
  bytes_per_sample x its samples / the time it spent in the phase (None
  when the phase moves no bytes); agg_ops_per_s the same with
  items_per_sample (1 when 0) — the sustained rate of the whole job for
  loop_time.
"""

import math

import numpy as np

SUMMARY_KEYS = ("count", "missing", "min", "mean", "p50", "p90", "p99", "max", "std",
                "rank_p50_min", "rank_p50_max", "agg_bytes_per_s", "agg_ops_per_s")


def as_matrix(data):
    """The phase's samples as a 2-D float64 array (a 1-D one is one rank)."""
    a = np.asarray(data, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    return a


def finite(data):
    """Every recorded sample, one flat array, NaN (missing) dropped."""
    a = as_matrix(data).ravel()
    return a[~np.isnan(a)]


def quantiles(samples, qs):
    """Linearly interpolated quantiles (qs in 0..1) of a flat array."""
    if samples.size == 0:
        return [None for _ in qs]
    return [float(v) for v in np.quantile(samples, qs)]


def summary(data, bytes_per_sample=0, items_per_sample=1):
    """The statistics of SUMMARY_KEYS for one phase; values None where
    there is nothing to compute them from."""
    m = as_matrix(data)
    x = finite(m)
    n = int(x.size)
    out = dict.fromkeys(SUMMARY_KEYS)
    out["count"] = n
    out["missing"] = int(m.size - n)
    if n:
        out["min"] = float(x.min())
        out["max"] = float(x.max())
        out["mean"] = float(x.mean())
        out["p50"], out["p90"], out["p99"] = quantiles(x, (0.50, 0.90, 0.99))
        out["std"] = float(x.std(ddof=1)) if n > 1 else 0.0
        medians = [float(np.median(row[~np.isnan(row)])) for row in m if np.any(~np.isnan(row))]
        out["rank_p50_min"] = min(medians)
        out["rank_p50_max"] = max(medians)
    rates = aggregate_rates(m, bytes_per_sample, items_per_sample)
    out["agg_bytes_per_s"], out["agg_ops_per_s"] = rates
    return out


def aggregate_rates(data, bytes_per_sample, items_per_sample):
    """(bytes/s, ops/s) summed over ranks, each rank's rate being its
    samples' payload over its time in the phase; (None, None) without
    samples, bytes/s None when the phase moves no bytes."""
    m = as_matrix(data)
    items = items_per_sample if items_per_sample else 1
    total_b = total_o = 0.0
    any_time = False
    for row in m:
        ok = ~np.isnan(row)
        n = int(ok.sum())
        busy = float(row[ok].sum())
        if n and busy > 0:
            any_time = True
            total_b += bytes_per_sample * n / busy
            total_o += items * n / busy
    if not any_time:
        return None, None
    return (total_b if bytes_per_sample else None), total_o


def clean(value):
    """None for NaN/inf, so that JSON and CSV show an empty value."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
