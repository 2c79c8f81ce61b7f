/* Small helpers shared by the model tests (header-only: each test is one
 * executable, and the ASan copy compiles its sources directly). */
#ifndef SB_MODEL_TEST_H
#define SB_MODEL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The checks are those of tests/lib/sb_check.h (the one check header of
 * the C tests), under the names the model tests use: MT_CHECK counts a
 * failure and goes on, MT_REQUIRE exits when a precondition of the test
 * itself fails. */
#include "../lib/sb_check.h"

#define MT_CHECK(cond, ...) CHECK(cond, __VA_ARGS__)
#define MT_REQUIRE(cond, ...) REQUIRE(cond, __VA_ARGS__)

static inline int mt_finish(const char *name)
{
  if (sb_check_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, sb_check_failures);
    return 1;
  }
  printf("%s: PASS\n", name);
  return 0;
}

/* A deterministic value stream for test inputs: splitmix64 to [-1, 1). */
static inline double mt_rand(unsigned long long *s)
{
  unsigned long long z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-52 - 1.0;
}

#endif
