/* The verification pattern tells rank, iteration and position apart, and
 * catches stale and torn reads of every size, including odd tails. */
#include "sb_check.h"
#include "sb_pattern.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
  static const size_t sizes[] = {1, 7, 8, 9, 1000, 1024, 65536 + 3};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    size_t n = sizes[s], first = 0;
    unsigned char *a = malloc(n), *b = malloc(n);
    sb_pattern_fill(a, n, 3, 17);
    CHECK(sb_pattern_check(a, n, 3, 17, &first) == 0, "intact buffer of %zu bytes rejected", n);
    CHECK(first == (size_t)-1, "first_bad set on intact buffer");
    /* deterministic */
    sb_pattern_fill(b, n, 3, 17);
    CHECK(memcmp(a, b, n) == 0, "fill is not deterministic (%zu bytes)", n);
    /* stale: previous iteration */
    sb_pattern_fill(b, n, 3, 16);
    CHECK(sb_pattern_check(b, n, 3, 17, NULL) > 0, "stale read (iteration) of %zu bytes passed",
          n);
    /* another rank */
    sb_pattern_fill(b, n, 4, 17);
    CHECK(sb_pattern_check(b, n, 3, 17, NULL) > 0, "other rank's data of %zu bytes passed", n);
    /* torn: the second half from the previous iteration */
    if (n >= 16) {
      sb_pattern_fill(b, n, 3, 17);
      unsigned char *old = malloc(n);
      sb_pattern_fill(old, n, 3, 16);
      memcpy(b + n / 2, old + n / 2, n - n / 2);
      CHECK(sb_pattern_check(b, n, 3, 17, &first) > 0, "torn read of %zu bytes passed", n);
      CHECK(first <= n / 2 + 8 && first + 8 > n / 2 - 8, "first_bad %zu not near %zu", first,
            n / 2);
      free(old);
    }
    /* one flipped bit in the last byte */
    memcpy(b, a, n);
    b[n - 1] ^= 1;
    CHECK(sb_pattern_check(b, n, 3, 17, &first) == 1, "flip in the last byte of %zu missed", n);
    free(a);
    free(b);
  }
  /* Words differ across iterations and ranks for the same index. */
  CHECK(sb_pattern_word(0, 0, 0) != sb_pattern_word(0, 1, 0), "iteration not encoded");
  CHECK(sb_pattern_word(0, 0, 0) != sb_pattern_word(1, 0, 0), "rank not encoded");
  CHECK(sb_pattern_word(0, 0, 0) != sb_pattern_word(0, 0, 1), "position not encoded");
  return CHECK_DONE();
}
