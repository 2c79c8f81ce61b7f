/* The kernel layer's one way to report an error: a message into the
 * caller's buffer.
 *
 * A kernels/ function that can fail for a reason worth telling takes
 * `char *err, size_t errlen` and, on failure, writes one line of text there
 * with sb_set_err and returns its own error code (-1, SB_K_CUDA_EINVAL, ...:
 * each header says which). Nothing in kernels/ prints or exits: the caller
 * decides what a failure means, and only a program's main aborts. (The CUDA
 * kernels of sb_kernels_cuda.h take no buffer; their text is
 * sb_k_cuda_last_error(). CUDA runtime failures are checked with
 * SB_CUDA_CHECK, sb_cuda_check.h, which formats through sb_set_err.)
 * Plain C with C linkage, usable from .c and .cu files.
 */
#ifndef SB_ERR_H
#define SB_ERR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* printf-formats the message into err, truncated to errlen - 1 bytes and
 * always NUL-terminated. err == NULL or errlen == 0: does nothing (a caller
 * that does not want the text passes NULL, 0). */
void sb_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sb_set_err, then returns rc: `return sb_fail(err, errlen, -1, "...", ...);`
 * for the usual "say why and give up". */
int sb_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* sb_set_err with a va_list, for functions that wrap it. */
void sb_set_errv(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#ifdef __cplusplus
}
#endif

#endif
