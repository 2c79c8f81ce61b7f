/* Reference counting of models and scripts (refcount.h). */
#include "refcount.h"

void sbai_ref_init(sbai_ref_t *ref, void (*destroy)(void *value))
{
  atomic_init(&ref->refs, 1);
  ref->destroy = destroy;
}

void sbai_ref_retain(void *value)
{
  sbai_ref_t *ref = value;
  atomic_fetch_add(&ref->refs, 1);
}

void sbai_ref_release(void *value)
{
  sbai_ref_t *ref = value;
  if (ref && atomic_fetch_sub(&ref->refs, 1) == 1)
    ref->destroy(value);
}
