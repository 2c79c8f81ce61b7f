/* The compute kernels of the inference path, declared once.
 *
 * CPU implementations live in sb_kernels_cpu*.c; CUDA versions (the GPU issue)
 * will implement the same names behind the same signatures, taking device
 * pointers. All tensors are float32, row-major, activations in NCHW.
 *
 * Conventions:
 * - `threads` is the number of threads a kernel may use (the module's
 *   INTRA_OP_PARALLELISM; <= 0 means 1). Kernels are reentrant: several
 *   threads may run kernels concurrently on different buffers.
 * - Kernels never allocate in their inner loops. Those that need scratch
 *   memory say how much (a *_workspace_bytes function) and take it from the
 *   caller.
 * - Functions returning int return 0 on success and -1 on invalid shapes or
 *   too small a workspace. Kernels are plain C with no dependency on common/
 *   (the Redis module links them too); callers word the error.
 */
#ifndef SB_KERNELS_H
#define SB_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ImageNet normalisation used by pre_process_3ch (torchvision's values). */
#define SB_IMAGENET_MEAN_R 0.485f
#define SB_IMAGENET_MEAN_G 0.456f
#define SB_IMAGENET_MEAN_B 0.406f
#define SB_IMAGENET_STD_R 0.229f
#define SB_IMAGENET_STD_G 0.224f
#define SB_IMAGENET_STD_B 0.225f

/* pre_process_3ch: in = [n][h][w][3] floats in 0..255 (HWC, RGB);
 * out[b][c][y][x] = (in[b][y][x][c] / 255 - mean[c]) / std[c]  (NCHW).
 * Bytes: 2 × 4 × n·h·w·3 moved; 2 flops per element. */
void sb_k_pre_process_3ch(const float *in, int64_t n, int64_t h, int64_t w, float *out,
                          int threads);

/* A 2-D convolution with an optional per-channel bias and fused epilogue. */
typedef struct sb_conv2d {
  int64_t n, cin, h, w;     /* input [n][cin][h][w] */
  int64_t cout, kh, kw;     /* weight [cout][cin][kh][kw] */
  int64_t stride, pad;      /* same in both directions; pad is zeros */
  const float *weight;      /* [cout][cin][kh][kw] */
  const float *bias;        /* [cout], or NULL for none */
  const float *residual;    /* [n][cout][oh][ow] added after bias, or NULL */
  int relu;                 /* 1: max(0, .) last */
} sb_conv2d_t;

/* Output height and width of a convolution or pooling window. */
static inline int64_t sb_k_out_dim(int64_t in, int64_t k, int64_t stride, int64_t pad)
{
  return (in + 2 * pad - k) / stride + 1;
}

/* Scratch bytes sb_k_conv2d needs for p with `threads` threads (the GEMM's
 * packing buffers: the input image is packed straight into them, no im2col
 * matrix); 0 when p is invalid. The workspace may have any alignment. */
size_t sb_k_conv2d_workspace_bytes(const sb_conv2d_t *p, int threads);

/* out[b][co][y][x] = epilogue(bias[co] + sum_{ci,ky,kx} weight[co][ci][ky][kx] ·
 *                    in[b][ci][y·s+ky-pad][x·s+kx-pad]), epilogue = (+residual)
 * then (relu). out is [n][cout][oh][ow]; out must not alias in or residual.
 * Implicit GEMM: the image gathered straight into the cache-blocked GEMM's
 * packed panels. Flops: 2·n·cout·oh·ow·cin·kh·kw. */
int sb_k_conv2d(const sb_conv2d_t *p, const float *in, float *out, void *workspace,
                size_t workspace_bytes, int threads);

/* Folds an inference-mode batch-norm that follows a bias-free convolution
 * into that convolution: for each output channel c,
 *   scale = gamma[c] / sqrt(var[c] + eps);  weight[c][..] *= scale;
 *   bias[c] = beta[c] - mean[c] · scale.
 * weight has cout rows of `row` elements (cin·kh·kw). In place on weight. */
void sb_k_fold_batchnorm(float *weight, float *bias, int64_t cout, int64_t row,
                         const float *gamma, const float *beta, const float *mean,
                         const float *var, float eps);

/* x[i] = max(0, x[i]) for i < count. In place. 1 op/element. */
void sb_k_relu(float *x, size_t count, int threads);

/* out[i] = a[i] + b[i] (then relu if asked). out may alias a or b. */
void sb_k_add(const float *a, const float *b, float *out, size_t count, int relu, int threads);

/* Max pooling, window k×k, stride s, padding pad (padding never wins):
 * in [n][c][h][w] -> out [n][c][oh][ow]. ResNet uses k=3, s=2, pad=1.
 * -1 when 2·pad > k (a window could hold only padding, as torch refuses)
 * or the window does not fit the padded input. */
int sb_k_maxpool2d(const float *in, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                   int64_t s, int64_t pad, float *out, int threads);

/* Global average pool: in [n][c][h][w] -> out [n][c] (mean over h·w). */
void sb_k_global_avgpool(const float *in, int64_t n, int64_t c, int64_t h, int64_t w, float *out,
                         int threads);

/* Fully connected: out[b][o] = bias[o] + sum_i in[b][i] · weight[o][i];
 * in [n][k], weight [m][k] (torch Linear layout), bias [m] or NULL,
 * out [n][m]. Flops: 2·n·m·k. Needs no workspace (register-blocked dot
 * products, no packing). */
int sb_k_linear(const float *in, int64_t n, int64_t k, const float *weight, const float *bias,
                int64_t m, float *out, int threads);

/* Single-precision GEMM, row-major: C[M][N] = A[M][K] · B[K][N] (+ C if
 * accumulate), with leading dimensions lda, ldb, ldc. Cache-blocked and packed;
 * the building block of conv2d. workspace as given by
 * sb_k_sgemm_workspace_bytes(threads), any alignment. M or N <= 0 does
 * nothing; K == 0 stores zeros (or keeps C). Without accumulate C is only
 * written. Each element is summed in the same order whatever `threads`, so
 * results do not depend on it. */
size_t sb_k_sgemm_workspace_bytes(int threads);
void sb_k_sgemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                int64_t ldb, float *C, int64_t ldc, int accumulate, void *workspace, int threads);

#endif
