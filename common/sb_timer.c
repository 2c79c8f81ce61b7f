#include "sb_timer.h"

#include "sb_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_timings_init(sb_timings_t *t, int max_phases)
{
  t->phases = calloc((size_t)max_phases, sizeof *t->phases);
  t->n = 0;
  t->cap = max_phases;
  return t->phases ? SB_OK : sb_error("out of memory for %d phases", max_phases);
}

int sb_timings_add(sb_timings_t *t, const char *name, int64_t cap, uint64_t bytes_per_sample,
                   uint64_t items_per_sample)
{
  if (t->n >= t->cap) {
    sb_error("too many phases (%d) adding %s", t->cap, name);
    return -1;
  }
  sb_phase_t *p = &t->phases[t->n];
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s", name);
  p->samples = malloc((size_t)(cap > 0 ? cap : 1) * sizeof(double));
  if (!p->samples) {
    sb_error("out of memory for %lld samples of %s", (long long)cap, name);
    return -1;
  }
  /* Touch every page now so that the first samples do not fault. */
  memset(p->samples, 0, (size_t)(cap > 0 ? cap : 1) * sizeof(double));
  p->cap = cap;
  p->bytes_per_sample = bytes_per_sample;
  p->items_per_sample = items_per_sample;
  return t->n++;
}

void sb_timings_free(sb_timings_t *t)
{
  for (int k = 0; k < t->n; k++)
    free(t->phases[k].samples);
  free(t->phases);
  t->phases = NULL;
  t->n = t->cap = 0;
}
