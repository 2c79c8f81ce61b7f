/* Percentiles and moments of the summary statistics. */
#include "sb_check.h"
#include "sb_stats.h"

#include <math.h>

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

int main(void)
{
  double v[] = {4, 1, 3, 2};
  sb_stats_t s;
  sb_stats_compute(v, 4, &s);
  CHECK(s.count == 4 && NEAR(s.min, 1) && NEAR(s.max, 4), "min/max");
  CHECK(NEAR(s.mean, 2.5) && NEAR(s.p50, 2.5), "mean %g p50 %g", s.mean, s.p50);
  CHECK(NEAR(s.p90, 3.7) && NEAR(s.p99, 3.97), "p90 %g p99 %g", s.p90, s.p99);
  CHECK(NEAR(s.stddev, sqrt(5.0 / 3.0)), "stddev %g", s.stddev);

  double w[101];
  for (int k = 0; k <= 100; k++)
    w[k] = 100 - k;
  w[50] = NAN; /* a missing sample is ignored */
  sb_stats_compute(w, 101, &s);
  CHECK(s.count == 100, "NaN ignored: count %zu", s.count);

  double one[] = {7};
  sb_stats_compute(one, 1, &s);
  CHECK(NEAR(s.p99, 7) && NEAR(s.stddev, 0), "single sample");

  double none[] = {NAN};
  sb_stats_compute(none, 1, &s);
  CHECK(s.count == 0 && isnan(s.p50), "no valid sample");
  return CHECK_DONE();
}
