/* Per-phase timers whose samples are all allocated before the timed loop:
 * recording a sample is one clock read and one store, never an allocation
 * or I/O. Times are seconds from CLOCK_MONOTONIC. */
#ifndef SB_TIMER_H
#define SB_TIMER_H

#include <stdint.h>
#include <time.h>

#define SB_PHASE_NAME_MAX 48

typedef struct {
  char name[SB_PHASE_NAME_MAX];
  double *samples;           /* cap slots, preallocated */
  int64_t n, cap;
  uint64_t bytes_per_sample; /* 0 when the phase moves no payload */
  uint64_t items_per_sample; /* e.g. tensors or images per sample */
} sb_phase_t;

typedef struct {
  sb_phase_t *phases;
  int n, cap;
} sb_timings_t;

/* Prepares room for max_phases phases. Returns SB_OK or SB_ERR. */
int sb_timings_init(sb_timings_t *t, int max_phases);

/* Adds a phase with room for cap samples; returns its index, or -1 (with the
 * error set) when out of memory or out of phase slots. */
int sb_timings_add(sb_timings_t *t, const char *name, int64_t cap, uint64_t bytes_per_sample,
                   uint64_t items_per_sample);

/* Releases every phase. */
void sb_timings_free(sb_timings_t *t);

/* Seconds on the monotonic clock. */
static inline double sb_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Appends one sample; samples beyond cap are dropped (the cap is sized for
 * the run, so this never happens in a correct app). */
static inline void sb_phase_record(sb_phase_t *p, double seconds)
{
  if (p->n < p->cap)
    p->samples[p->n++] = seconds;
}

#endif
