/* A worker's scratch memory: one buffer that grows to the largest size asked
 * of it and is then reused, so that the forward pass's workspace (tens to
 * hundreds of MB for a resnet50) is not mapped afresh, and its pages not
 * faulted in again, on every run.
 *
 * A buffer belongs to one thread (its worker); nothing here locks. Plain
 * malloc (not the Redis allocator): the memory is the worker's, like the
 * kernels' own, not a value of the keyspace. Calls nothing of the module.
 */
#ifndef SBAI_SCRATCH_H
#define SBAI_SCRATCH_H

#include <stddef.h>

typedef struct sbai_scratch {
  void *data;      /* NULL until the first reserve, and after a release */
  size_t capacity; /* bytes data holds */
} sbai_scratch_t;

/* At least `bytes` bytes (0 counts as 1) of s, reused when s holds that many
 * already; otherwise the old buffer is freed and a larger one (at least
 * `bytes`) allocated. Contents are not kept. NULL when out of memory: s is
 * then empty (released), never half-grown. */
void *sbai_scratch_reserve(sbai_scratch_t *s, size_t bytes);

/* Frees s's buffer (if any); s is empty and may be reserved again. */
void sbai_scratch_release(sbai_scratch_t *s);

#endif
