/* The ResNet forward pass on a GPU: the model of sb_resnet.h with its folded
 * weights uploaded once to one device, run with the sb_k_cuda_* kernels.
 *
 * What sb_resnet_forward does on the CPU, layer for layer: stem conv (+ relu)
 * -> max-pool 3x3/2 -> residual blocks (the shortcut add and relu fused into
 * the last convolution of each block, as on the CPU) -> global average pool
 * -> fc. Three activation buffers rotate exactly as in sb_resnet.c.
 *
 * Conventions (those of sb_kernels_cuda.h):
 * - Plain C header: the stream is a cudaStream_t passed as void *, NULL for
 *   the legacy default stream. Device memory is plain void * / float *.
 * - Every function that can fail returns SB_K_CUDA_OK (0), SB_K_CUDA_EINVAL
 *   (-1: bad arguments, nothing done) or SB_K_CUDA_ECUDA (-2: a CUDA call or
 *   launch failed), sb_resnet_cuda_infer also SB_K_CUDA_ESTICKY (-3: the
 *   device's context is lost, sb_kernels_cuda.h), and writes a one-line
 *   reason into err[errlen]. Every CUDA call and every launch is checked.
 *   Nothing exits or prints.
 * - The calling thread's current device (cudaSetDevice) must be the model's
 *   device for forward and infer; they refuse (-1) otherwise.
 * - Built only when HAVE_CUDA is 1 (kernels/CMakeLists.txt).
 */
#ifndef SB_RESNET_CUDA_H
#define SB_RESNET_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "sb_kernels_cuda.h"
#include "sb_resnet.h"

/* How far the GPU forward may be from the CPU one (tests/gpu/test_resnet_cuda.c,
 * sb-inference --device gpu): max |gpu - cpu| <= RTOL x max(FLOOR, max |cpu|)
 * over a batch's logits. FP32 differs from the CPU only in summation order;
 * TF32 rounds every convolution's inputs and weights to a 10-bit mantissa.
 * The values come from a CPU simulation of both (tests/model/
 * test_precision_bounds.c, which checks them on every build): the FP32
 * bound is well above the CPU's own FP32 error yet below TF32's, so TF32
 * run where FP32 was asked for fails; the TF32 bound is above TF32's error
 * yet below BF16's (a 7-bit mantissa), so a lower precision than asked for
 * fails too. FLOOR keeps a model with small logits (tiny: below 1) from
 * turning the bound absolute. */
#define SB_RESNET_CUDA_RTOL_FP32 1e-4
#define SB_RESNET_CUDA_RTOL_TF32 3e-3
#define SB_RESNET_CUDA_RTOL_FLOOR 1e-2

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sb_resnet_cuda sb_resnet_cuda_t;

/* Uploads the folded weights of `model` to `device`: one stream-ordered
 * allocation (cudaMallocAsync from the device's current memory pool, on a
 * temporary non-blocking stream) holding every weight and bias, one copy,
 * then that stream is synchronised and destroyed, so the weights are usable
 * from every stream once this returns. Done once per device, at store time.
 * Makes `device` current on the calling thread. The CPU model is only read
 * and may be freed afterwards. */
int sb_resnet_cuda_upload(const sb_resnet_t *model, int device, sb_resnet_cuda_t **out, char *err,
                          size_t errlen);

/* Gives the device copy back without waiting for the device: cudaFreeAsync
 * on the calling thread's per-thread default stream (cudaStreamPerThread),
 * which does not synchronise with the non-blocking streams runs use, so it
 * returns at once even while other models run on the device (cudaFree would
 * wait for all of them). Makes g's device current on the calling thread.
 * The host side is freed in every case; NULL is a no-op.
 *
 * Precondition: no kernel reading these weights is in flight. Callers that
 * run the model with sb_resnet_cuda_infer meet it as long as no infer call
 * on g is still running (infer synchronises its stream before it returns,
 * on failure too); after sb_resnet_cuda_forward, synchronise its stream
 * first. The module meets it by reference counting: a run holds a reference
 * on the model until its infer returned, and the last reference frees. */
int sb_resnet_cuda_release(sb_resnet_cuda_t *g, char *err, size_t errlen);

/* sb_resnet_cuda_release with its errors ignored (nothing can be done about
 * them at that point); same precondition. */
void sb_resnet_cuda_free(sb_resnet_cuda_t *g);

/* The device the weights live on, and how many bytes they take there. */
int sb_resnet_cuda_device(const sb_resnet_cuda_t *g);
size_t sb_resnet_cuda_weight_bytes(const sb_resnet_cuda_t *g);

/* Device scratch bytes sb_resnet_cuda_forward needs at batch n, input h x w:
 * three activation buffers (each the largest activation) and the pooled
 * features, 256-byte aligned. 0 for invalid arguments (n, h or w < 1, or an
 * activation of 2^31 elements or more, which the kernels refuse). */
size_t sb_resnet_cuda_workspace_bytes(const sb_resnet_cuda_t *g, int64_t n, int64_t h, int64_t w);

/* logits[n][classes] of in[n][3][h][w] (device pointers, NCHW, normalised),
 * enqueued on `stream`; returns before the kernels run (a fault shows at the
 * next synchronisation). workspace: device memory of at least
 * sb_resnet_cuda_workspace_bytes, 256-byte aligned (cudaMalloc and
 * cudaMallocAsync give that). precision: SB_K_CUDA_TF32 (tensor cores,
 * sm_80+) or SB_K_CUDA_FP32 (exact path) for every convolution; pools and
 * fc are FP32. Several threads may run the same model at once, each with its
 * own stream and workspace. */
int sb_resnet_cuda_forward(const sb_resnet_cuda_t *g, const float *in, int64_t n, int64_t h,
                           int64_t w, float *logits, void *workspace, size_t workspace_bytes,
                           sb_k_cuda_precision_t precision, void *stream, char *err,
                           size_t errlen);

/* Device bytes sb_resnet_cuda_infer allocates for one call: the workspace,
 * the input and the logits. 0 for invalid arguments. */
size_t sb_resnet_cuda_infer_bytes(const sb_resnet_cuda_t *g, int64_t n, int64_t h, int64_t w);

/* The whole round trip from host memory, on `stream`: input, workspace and
 * logits from the stream-ordered allocator (cudaMallocAsync, the device's
 * current memory pool), copy in, forward, copy out, cudaFreeAsync, then
 * waits for the stream. host_in [n][3][h][w] and host_logits [n][classes]
 * are host memory (pinned or not). On failure every allocation made is
 * freed again (each at most once) and the stream synchronised; then the
 * thread's last error is cleared and the stream probed (cudaStreamQuery):
 * when the error is still there it is a sticky one (an illegal address, a
 * launch failure, ...: the device's context is lost for this process) and
 * the result is SB_K_CUDA_ESTICKY, with "<cudaError name>: <text> (first
 * failure: ...)" in err. Every later CUDA call on that device fails the same
 * way: the caller should stop using it. */
int sb_resnet_cuda_infer(const sb_resnet_cuda_t *g, const float *host_in, int64_t n, int64_t h,
                         int64_t w, float *host_logits, sb_k_cuda_precision_t precision,
                         void *stream, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
