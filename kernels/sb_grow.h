/* Growing a malloc'd array by doubling its capacity: one rule for the
 * lists that the kernels and common/ append to (header-only, so that either
 * layer includes it without linking the other). */
#ifndef SB_GROW_H
#define SB_GROW_H

#include <stddef.h>
#include <stdlib.h>

/* Room for need elements of size bytes in arr, whose capacity is *cap
 * elements: arr itself when it holds them already (arr not NULL), else arr
 * reallocated to *cap doubled (first when *cap is 0) as often as need
 * takes, with *cap updated. NULL when out of memory: arr and *cap are left
 * as they were. */
static inline void *sb_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first)
{
  size_t c = *cap ? *cap : first;
  void *p;
  if (arr && need <= *cap)
    return arr;
  while (c < need)
    c *= 2;
  if (!(p = realloc(arr, c * size)))
    return NULL;
  *cap = c;
  return p;
}

#endif
