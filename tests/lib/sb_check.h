/* The one check header of the C tests (unit, kernels, module, integration,
 * cluster, gpu_apps): include "sb_check.h" with tests/lib on the include
 * path (target_include_directories(T PRIVATE ${CMAKE_SOURCE_DIR}/tests/lib)).
 *
 *   CHECK(cond);                  CHECK(cond, "printf format", args...);
 *     cond false: prints "FILE:LINE: check failed: cond", then ": " and the
 *     formatted message when one is given, on stderr; counts the failure
 *     and goes on, so one run reports every failed check.
 *
 *   REQUIRE(cond);                REQUIRE(cond, "printf format", args...);
 *     the same line, then exit(1) at once: for a check the rest of the
 *     test cannot run without (a NULL that would be dereferenced, a setup
 *     step, a program meant to stop at its first failure).
 *
 *   return CHECK_DONE();
 *     at the end of main: prints "N check(s) failed" and gives 1 when any
 *     CHECK failed, else prints "all checks passed" and gives 0.
 *
 * Optional context: a file that defines SB_CHECK_LAST_MESSAGE before the
 * include, as an expression giving a const char * (say the err buffer its
 * calls fill), gets " (last message: <that text>)" at the end of every
 * failure line. The expression is read at the failing check, so it may name
 * a variable declared after the include.
 *
 * cond is evaluated once; the message arguments only when cond is false.
 * The failure count is a static of the including file: use CHECK from one
 * thread at a time.
 *
 * The message is optional through __VA_OPT__ (C23; a GNU extension in
 * older modes that gcc >= 8 and clang >= 12 accept in C11 builds).
 */
#ifndef SB_CHECK_H
#define SB_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int sb_check_failures __attribute__((unused)) = 0;

#ifdef SB_CHECK_LAST_MESSAGE
#define SB_CHECK_CONTEXT_() fprintf(stderr, " (last message: %s)", (SB_CHECK_LAST_MESSAGE))
#else
#define SB_CHECK_CONTEXT_() ((void)0)
#endif

/* The report line of CHECK and REQUIRE; the message arguments may be empty. */
#define SB_CHECK_REPORT_(cond_text, ...)                                      \
  do {                                                                        \
    fprintf(stderr, "%s:%d: check failed: %s", __FILE__, __LINE__, cond_text); \
    __VA_OPT__(fputs(": ", stderr); fprintf(stderr, __VA_ARGS__);)           \
    SB_CHECK_CONTEXT_();                                                      \
    fputc('\n', stderr);                                                      \
  } while (0)

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      SB_CHECK_REPORT_(#cond, __VA_ARGS__);                                   \
      sb_check_failures++;                                                    \
    }                                                                         \
  } while (0)

#define REQUIRE(cond, ...)                                                    \
  do {                                                                        \
    if (!(cond)) {                                                            \
      SB_CHECK_REPORT_(#cond, __VA_ARGS__);                                   \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

#define CHECK_DONE()                                                          \
  (sb_check_failures ? (fprintf(stderr, "%d check(s) failed\n", sb_check_failures), 1) \
                     : (printf("all checks passed\n"), 0))

#endif
