/* A minimal check macro for the unit tests: prints what failed and where,
 * and makes the test exit non-zero at the end. */
#ifndef SB_CHECK_H
#define SB_CHECK_H

#include <stdio.h>

static int sb_check_failures = 0;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                           \
      fputc('\n', stderr);                                                    \
      sb_check_failures++;                                                    \
    }                                                                         \
  } while (0)

#define CHECK_DONE()                                                          \
  (sb_check_failures ? (fprintf(stderr, "%d check(s) failed\n", sb_check_failures), 1) \
                     : (printf("all checks passed\n"), 0))

#endif
