/* Error reporting for stagebench's library code.
 *
 * Library functions return SB_OK (0) or SB_ERR (-1) and leave a message in a
 * per-thread buffer; only main() decides to abort. The check macros below
 * (SB_MPI, SB_H5, SB_TRY) record file, line and the failing expression, then
 * jump to the function's `fail:` label so that the function can release what
 * it holds; a function with nothing to release ends with
 *
 *     return SB_OK;
 *   fail:
 *     return SB_ERR;
 *
 * CUDA runtime calls are checked with SB_CUDA_CHECK (kernels/sb_cuda_check.h),
 * the one CUDA check of every library, writing into this same message:
 *
 *     SB_CUDA_CHECK(cudaMalloc(&p, n), sb_error_buffer(), SB_ERRMSG_MAX, return SB_ERR);
 */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#include <stddef.h>

#define SB_OK 0
#define SB_ERR (-1)

/* Size of the per-thread message buffer, terminating NUL included. */
#define SB_ERRMSG_MAX 1024

/* Replaces the thread's last error message (printf-style). Always returns
 * SB_ERR so callers can write `return sb_error(...)`. */
int sb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefixes the thread's last error message with more context ("while ...: "),
 * keeping the original detail. Returns SB_ERR. */
int sb_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The thread's last error message ("" if none). */
const char *sb_error_msg(void);

/* Clears the thread's last error message. */
void sb_error_clear(void);

/* The thread's message buffer itself (SB_ERRMSG_MAX bytes), for a formatter
 * that writes the message in place: SB_CUDA_CHECK's err argument. Whatever
 * is written there is what sb_error_msg() returns. */
char *sb_error_buffer(void);

/* For teardown code: when rc is not SB_OK, logs the thread's last error as
 * a warning ("cleanup: ...") and returns, so that one release that failed
 * does not keep the rest from being released. */
void sb_cleanup_step(int rc);

/* Records an MPI failure with the library's error string. Returns SB_ERR. */
int sb_error_mpi(const char *file, int line, const char *expr, int code);

/* Records an HDF5 failure (negative return). Returns SB_ERR. */
int sb_error_h5(const char *file, int line, const char *expr);

/* SB_MPI(expr): the one MPI check of every library and app. expr is an MPI
 * call (anything returning an MPI error code); on a code other than
 * MPI_SUCCESS (0) the message becomes "FILE:LINE: expr failed: <MPI's
 * error string>" (sb_error_mpi) and control jumps to the calling function's
 * `fail:` label, which releases what the function holds and returns SB_ERR. */
#define SB_MPI(expr)                                                          \
  do {                                                                        \
    int sb_rc_ = (expr);                                                      \
    if (sb_rc_ != 0) {                                                        \
      sb_error_mpi(__FILE__, __LINE__, #expr, sb_rc_);                        \
      goto fail;                                                              \
    }                                                                         \
  } while (0)

#define SB_H5(expr)                                                           \
  do {                                                                        \
    if ((long long)(expr) < 0) {                                              \
      sb_error_h5(__FILE__, __LINE__, #expr);                                 \
      goto fail;                                                              \
    }                                                                         \
  } while (0)

/* Generic: jump to fail if a library call of ours returned SB_ERR. */
#define SB_TRY(expr)                                                          \
  do {                                                                        \
    if ((expr) != SB_OK)                                                      \
      goto fail;                                                              \
  } while (0)

#endif
