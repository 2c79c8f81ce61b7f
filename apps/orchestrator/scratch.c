/* A worker's reusable scratch buffer (scratch.h). */
#include "scratch.h"

#include <stdlib.h>

void *sbai_scratch_reserve(sbai_scratch_t *s, size_t bytes)
{
  if (bytes == 0)
    bytes = 1;
  if (s->data && s->capacity >= bytes)
    return s->data;
  /* Free first: the old and the new buffer are never held together. */
  sbai_scratch_release(s);
  s->data = malloc(bytes);
  if (!s->data)
    return NULL;
  s->capacity = bytes;
  return s->data;
}

void sbai_scratch_release(sbai_scratch_t *s)
{
  free(s->data);
  s->data = NULL;
  s->capacity = 0;
}
