/* The CUDA versions of the kernels in sb_kernels.h.
 *
 * Naming: each kernel keeps its sb_kernels.h name with `cuda` after the
 * `sb_k_` prefix (sb_k_conv2d -> sb_k_cuda_conv2d), so every public CUDA
 * symbol starts with sb_k_cuda_ and a grep for one name finds both versions.
 * The math is the one stated in sb_kernels.h; only what differs is said here.
 *
 * Conventions (different from the CPU header):
 * - Every tensor pointer is a device pointer (cudaMalloc / cudaMallocAsync).
 *   Host-side parameter structs (sb_conv2d_t) stay on the host, but their
 *   weight, bias and residual pointers are device pointers.
 * - `stream` is a cudaStream_t passed as void * so that this header needs no
 *   CUDA header and plain C files can include it; NULL is the legacy default
 *   stream. Kernels are only enqueued: the call returns before they run, and
 *   a fault inside one shows at the next synchronisation, not here.
 * - Every function returns SB_K_CUDA_OK (0), SB_K_CUDA_EINVAL (-1: bad
 *   shapes or arguments, nothing enqueued) or SB_K_CUDA_ECUDA (-2: a CUDA call
 *   or launch failed). The text of the last failure of the calling thread is
 *   sb_k_cuda_last_error(). Nothing here exits or prints. SB_K_CUDA_ESTICKY
 *   (-3) is returned only by functions that synchronise and then probe the
 *   device after a failure (sb_resnet_cuda_infer); the kernels here cannot
 *   tell a sticky error from another one.
 * - No kernel allocates; none needs a workspace.
 * - Built only when HAVE_CUDA is 1 (see kernels/CMakeLists.txt).
 */
#ifndef SB_KERNELS_CUDA_H
#define SB_KERNELS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "sb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SB_K_CUDA_OK 0
#define SB_K_CUDA_EINVAL (-1)
#define SB_K_CUDA_ECUDA (-2)
/* A sticky CUDA error (an illegal address, a launch failure or a trap in a
 * kernel, ...): the device's context in this process is corrupted, every
 * later CUDA call on it returns the same error and cudaGetLastError cannot
 * clear it. Nothing but a new process makes the device usable again. */
#define SB_K_CUDA_ESTICKY (-3)

/* Arithmetic of the convolution's multiply-adds. */
typedef enum sb_k_cuda_precision {
  /* FP32 inputs, FP32 fused multiply-add, FP32 accumulation: the exact path,
   * matching the CPU reference up to summation order. */
  SB_K_CUDA_FP32 = 0,
  /* TF32 tensor cores (WMMA m16n16k8): inputs rounded to a 10-bit mantissa
   * (relative 2^-11), products accumulated in FP32 -- PyTorch's
   * allow_tf32 class. Needs compute capability 8.0 or newer (-1 otherwise). */
  SB_K_CUDA_TF32 = 1
} sb_k_cuda_precision_t;

/* The message of the calling thread's last failure (thread-local storage,
 * valid until that thread's next failing call); "" when none failed yet.
 * Failures of CUDA calls read "file:line: expression: cudaError name: text". */
const char *sb_k_cuda_last_error(void);

/* Number of CUDA devices visible into *n. No driver, too old a driver or no
 * device gives *n = 0 and SB_K_CUDA_OK: "no GPU" is an answer, not an
 * error. SB_K_CUDA_ECUDA only for other failures. */
int sb_k_cuda_device_count(int *n);

/* See sb_k_pre_process_3ch. One thread per output element, the same
 * expression as the CPU version (bit-identical results). */
int sb_k_cuda_pre_process_3ch(const float *in, int64_t n, int64_t h, int64_t w, float *out,
                              void *stream);

/* See sb_k_conv2d: out = relu?(conv(in, weight) + bias + residual), all fused
 * in one kernel (an implicit GEMM: im2col is computed while loading shared
 * memory tiles, never stored). -1 for the shapes the CPU version refuses,
 * for an unknown precision (or TF32 on a GPU older than sm_80), and for
 * tensors of 2^31 elements or more. */
int sb_k_cuda_conv2d(const sb_conv2d_t *p, const float *in, float *out,
                     sb_k_cuda_precision_t precision, void *stream);

/* See sb_k_maxpool2d (same -1 cases). One thread per output element. */
int sb_k_cuda_maxpool2d(const float *in, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                        int64_t s, int64_t pad, float *out, void *stream);

/* See sb_k_global_avgpool. One warp per (image, channel): sum in FP32 then
 * one divide. */
int sb_k_cuda_global_avgpool(const float *in, int64_t n, int64_t c, int64_t h, int64_t w,
                             float *out, void *stream);

/* See sb_k_linear. One warp per output element (coalesced reads along k). */
int sb_k_cuda_linear(const float *in, int64_t n, int64_t k, const float *weight,
                     const float *bias, int64_t m, float *out, void *stream);

/* See sb_k_add (out may alias a or b) and sb_k_relu (in place). */
int sb_k_cuda_add(const float *a, const float *b, float *out, size_t count, int relu,
                  void *stream);
int sb_k_cuda_relu(float *x, size_t count, void *stream);

#ifdef __cplusplus
}
#endif

#endif
