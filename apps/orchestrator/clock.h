/* The module's clock: CLOCK_MONOTONIC in nanoseconds, for TIMEOUT deadlines,
 * batch waits and run durations.
 *
 * Calls nothing of the module; safe from any thread.
 */
#ifndef SBAI_CLOCK_H
#define SBAI_CLOCK_H

#include <stdint.h>

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t sbai_now_ns(void);

#endif
