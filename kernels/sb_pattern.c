#include "sb_pattern.h"

#include <string.h>

void sb_pattern_fill(void *buf, size_t bytes, uint64_t rank, uint64_t iteration)
{
  unsigned char *p = buf;
  size_t words = bytes / 8, k;
  for (k = 0; k < words; k++) {
    uint64_t w = sb_pattern_word(rank, iteration, k);
    memcpy(p + 8 * k, &w, 8);
  }
  if (bytes % 8) {
    uint64_t w = sb_pattern_word(rank, iteration, k);
    memcpy(p + 8 * k, &w, bytes % 8);
  }
}

size_t sb_pattern_check(const void *buf, size_t bytes, uint64_t rank, uint64_t iteration,
                        size_t *first_bad)
{
  const unsigned char *p = buf;
  size_t words = bytes / 8, k, bad = 0;
  if (first_bad)
    *first_bad = (size_t)-1;
  for (k = 0; k < words; k++) {
    uint64_t w = sb_pattern_word(rank, iteration, k), got;
    memcpy(&got, p + 8 * k, 8);
    if (got != w) {
      if (bad == 0 && first_bad)
        *first_bad = 8 * k;
      bad++;
    }
  }
  if (bytes % 8) {
    uint64_t w = sb_pattern_word(rank, iteration, k);
    if (memcmp(p + 8 * k, &w, bytes % 8) != 0) {
      if (bad == 0 && first_bad)
        *first_bad = 8 * k;
      bad++;
    }
  }
  return bad;
}
