#include "sb_stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double sb_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
  if (n == 0)
    return NAN;
  double pos = q * (double)(n - 1);
  size_t lo = (size_t)floor(pos);
  size_t hi = lo + 1 < n ? lo + 1 : lo;
  double frac = pos - (double)lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

void sb_stats_compute(double *samples, size_t n, sb_stats_t *s)
{
  size_t m = 0;
  double sum = 0.0, sq = 0.0;
  for (size_t k = 0; k < n; k++)
    if (!isnan(samples[k]))
      samples[m++] = samples[k];
  s->count = m;
  if (m == 0) {
    s->min = s->mean = s->p50 = s->p90 = s->p99 = s->max = s->stddev = NAN;
    return;
  }
  qsort(samples, m, sizeof *samples, cmp_double);
  for (size_t k = 0; k < m; k++)
    sum += samples[k];
  s->mean = sum / (double)m;
  for (size_t k = 0; k < m; k++)
    sq += (samples[k] - s->mean) * (samples[k] - s->mean);
  s->stddev = m > 1 ? sqrt(sq / (double)(m - 1)) : 0.0;
  s->min = samples[0];
  s->max = samples[m - 1];
  s->p50 = sb_stats_quantile_sorted(samples, m, 0.50);
  s->p90 = sb_stats_quantile_sorted(samples, m, 0.90);
  s->p99 = sb_stats_quantile_sorted(samples, m, 0.99);
}
