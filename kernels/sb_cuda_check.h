/* SB_CUDA_CHECK: the one check of a CUDA runtime return code, for kernels/,
 * common/ and apps/ alike, in .cu files (nvcc) and in .c files (gcc, clang)
 * that call the CUDA runtime API.
 *
 *   SB_CUDA_CHECK(expr, err, errlen, on_fail);
 *
 * Evaluates expr once, as a cudaError_t (a CUDA runtime call, or a function
 * of ours that returns a cudaError_t as an int, like sb_pattern_cuda_fill).
 * cudaSuccess: nothing else happens. Any other code:
 *   1. the message "FILE:LINE: expr: cudaErrorName: description" (the
 *      cudaGetErrorName and cudaGetErrorString of the code) is written into
 *      err, at most errlen bytes, NUL-terminated, through sb_set_err
 *      (sb_err.h); err NULL or errlen 0: no message;
 *   2. the statement on_fail runs, and it decides what the calling
 *      function does: `return SB_ERR`, `return SB_K_CUDA_ECUDA`,
 *      `{ rc = SB_K_CUDA_ECUDA; goto out; }`, ... Inside on_fail the failing
 *      code is `sb_cuda_err` (a const cudaError_t), e.g.
 *      `return (int)sb_cuda_err` to hand the code itself to the caller.
 * The macro never prints, exits or aborts: library code reports, only a
 * program's main decides to stop. err and errlen are evaluated only on
 * failure. on_fail may hold semicolons; a comma in it must sit inside
 * parentheses (function-call arguments do).
 *
 * Kernel launches (<<<...>>>) return nothing: check each one right after it
 * with SB_CUDA_CHECK(cudaGetLastError(), ...), which reports a bad launch
 * configuration at once (faults inside the kernel show at the next
 * synchronising call, which is checked the same way).
 *
 * Where each library puts the message:
 *   kernels/sb_kernels_cuda.cu  its thread-local buffer, sb_k_cuda_last_error();
 *                               returns SB_K_CUDA_ECUDA
 *   kernels/sb_resnet_cuda.cu   the caller's err/errlen; rc = SB_K_CUDA_ECUDA,
 *                               goto out (frees what was allocated)
 *   kernels/sb_pattern_cuda.cu  none (err NULL); returns the cudaError_t
 *   common/, apps/              the sb_error message (sb_error_buffer(),
 *                               SB_ERRMSG_MAX); returns SB_ERR
 *
 * Include this header only where the CUDA runtime is available: in .cu
 * files, and in .c files inside `#if HAVE_CUDA` or after sb_config.h. When
 * the includer says HAVE_CUDA is 0 (sb_config.h of a build without CUDA) the
 * header defines nothing, so a file may include it unconditionally and use
 * SB_CUDA_CHECK only in its CUDA part.
 */
#ifndef SB_CUDA_CHECK_H
#define SB_CUDA_CHECK_H

#if defined(__CUDACC__) || !defined(HAVE_CUDA) || HAVE_CUDA

#include <cuda_runtime_api.h>

#include "sb_err.h"

#define SB_CUDA_CHECK(expr, err, errlen, on_fail)                                         \
  do {                                                                                    \
    const cudaError_t sb_cuda_err = (cudaError_t)(expr);                                  \
    if (sb_cuda_err != cudaSuccess) {                                                     \
      sb_set_err((err), (errlen), "%s:%d: %s: %s: %s", __FILE__, __LINE__, #expr,         \
                 cudaGetErrorName(sb_cuda_err), cudaGetErrorString(sb_cuda_err));         \
      on_fail;                                                                            \
    }                                                                                     \
  } while (0)

#endif

#endif
