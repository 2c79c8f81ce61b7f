/* The reference count of a stored model or script: the key holds one
 * reference and every queued or running request one more, so replacing or
 * deleting the key while runs are pending leaves the old value alive until
 * the last of them is done.
 *
 * A counted value has an sbai_ref_t as its first member; the functions below
 * take the value itself. Safe from any thread (Redis may free values in a
 * background thread). Calls nothing of the module.
 */
#ifndef SBAI_REFCOUNT_H
#define SBAI_REFCOUNT_H

#include <stdatomic.h>

typedef struct sbai_ref {
  atomic_int refs;
  void (*destroy)(void *value); /* frees the value when the last reference goes */
} sbai_ref_t;

/* One reference, held by the caller; `destroy` frees the value after the
 * last sbai_ref_release. */
void sbai_ref_init(sbai_ref_t *ref, void (*destroy)(void *value));

/* Takes one more reference on value (its sbai_ref_t first member). */
void sbai_ref_retain(void *value);

/* Drops a reference on value (NULL: nothing); the last one destroys it.
 * Also the data type's free callback: the key drops its reference, queued
 * or running requests keep theirs. */
void sbai_ref_release(void *value);

#endif
