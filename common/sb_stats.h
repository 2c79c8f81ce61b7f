/* Summary statistics of a set of samples. Percentiles interpolate linearly
 * between the two nearest order statistics (the same definition as numpy's
 * default), so p50 of {1,2,3,4} is 2.5. NaN samples (missing) are ignored. */
#ifndef SB_STATS_H
#define SB_STATS_H

#include <stddef.h>

typedef struct {
  size_t count;
  double min, mean, p50, p90, p99, max, stddev;
} sb_stats_t;

/* Computes the summary of n samples. Sorts `samples` in place. With no valid
 * sample every field but count is NaN. */
void sb_stats_compute(double *samples, size_t n, sb_stats_t *s);

/* The q-quantile (0 <= q <= 1) of n sorted samples. */
double sb_stats_quantile_sorted(const double *sorted, size_t n, double q);

#endif
