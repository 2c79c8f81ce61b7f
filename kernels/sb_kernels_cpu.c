/* CPU implementations of the kernels of sb_kernels.h (sgemm is in sb_gemm.c).
 *
 * Threading is OpenMP, `num_threads(threads)` per call, and only where the
 * work pays for the fork (an `if` clause or a thread count scaled to the
 * work); each call uses only its arguments and its caller's workspace, so
 * calls from several threads at once are safe.
 */
#include "sb_gemm.h"
#include "sb_isa.h"
#include "sb_kernels.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define SB_ALIGN64 __attribute__((aligned(64)))
#else
#define SB_ALIGN64
#endif

/* Element-wise loops: below this many elements one thread does it all. */
#define ELEMWISE_PER_THREAD 65536

static int clamp_threads(int threads)
{
  return threads <= 0 ? 1 : threads;
}

/* Threads worth using for `work` units when each thread should get at least
 * `per_thread` of them; between 1 and threads. */
static int threads_for(int threads, double work, double per_thread)
{
  threads = clamp_threads(threads);
  const double useful = work / per_thread;
  if (useful < threads)
    threads = useful < 1.0 ? 1 : (int)useful;
  return threads;
}

/* ---- pre_process_3ch ------------------------------------------------------- */

/* HWC 0..255 -> CHW ImageNet-normalised, per image row: reads 12·w bytes and
 * writes 12·w, 2 flops per element (a divide and a subtract, then a divide,
 * written as the formula so that results match it to the last bit).
 * Parallel over the n·h image rows. */
void sb_k_pre_process_3ch(const float *in, int64_t n, int64_t h, int64_t w, float *out,
                          int threads)
{
  static const float mean[3] = {SB_IMAGENET_MEAN_R, SB_IMAGENET_MEAN_G, SB_IMAGENET_MEAN_B};
  static const float stdv[3] = {SB_IMAGENET_STD_R, SB_IMAGENET_STD_G, SB_IMAGENET_STD_B};
  if (n <= 0 || h <= 0 || w <= 0)
    return;
  const int64_t rows = n * h;
  const int nt = threads_for(threads, (double)rows * (double)w * 3, ELEMWISE_PER_THREAD);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t b = r / h, y = r % h;
    const float *src = in + r * w * 3;
    for (int c = 0; c < 3; c++) {
      float *dst = out + ((b * 3 + c) * h + y) * w;
      const float m = mean[c], s = stdv[c];
      for (int64_t x = 0; x < w; x++)
        dst[x] = (src[x * 3 + c] / 255.0f - m) / s;
    }
  }
}

/* ---- conv2d ------------------------------------------------------------------ */

/* The shape alone (the weight may be given pre-packed instead). */
static int conv_shape_valid(const sb_conv2d_t *p)
{
  if (!p)
    return 0;
  if (p->n < 1 || p->cin < 1 || p->h < 1 || p->w < 1 || p->cout < 1 || p->kh < 1 || p->kw < 1 ||
      p->stride < 1 || p->pad < 0)
    return 0;
  return sb_k_out_dim(p->h, p->kh, p->stride, p->pad) >= 1 &&
         sb_k_out_dim(p->w, p->kw, p->stride, p->pad) >= 1 && p->h + 2 * p->pad >= p->kh &&
         p->w + 2 * p->pad >= p->kw;
}

static int conv_valid(const sb_conv2d_t *p)
{
  return conv_shape_valid(p) && p->weight;
}

/* A 1×1, stride-1, unpadded convolution reads its input as the GEMM's B. */
static int conv_pointwise(const sb_conv2d_t *p)
{
  return p->kh == 1 && p->kw == 1 && p->stride == 1 && p->pad == 0;
}

size_t sb_k_conv2d_workspace_bytes(const sb_conv2d_t *p, int threads)
{
  if (!conv_valid(p))
    return 0;
  /* No im2col buffer (B is packed straight from the image): the GEMM's
   * packing buffers only, the same for every shape. */
  return sb_k_sgemm_workspace_bytes(threads);
}

/* Output pixels a GEMM of a batched convolution aims at: small maps (ResNet's
 * 14×14 and 7×7) are batched up to about this many, larger ones run an image
 * at a time (more columns per GEMM would only push its blocks of B and C out
 * of L2 for no gain). */
#define CONV_GROUP_COLS 1024

/* Images side by side as one GEMM: A the weight [cout][cin·kh·kw] (packed on the
 * fly, or pre-packed by the caller), B the implicit im2col matrix of a group
 * of images side by side ([cin·kh·kw][g·oh·ow], packed straight from the
 * images, never stored), C's column groups of oh·ow the images of out. So
 * on small maps the weight is read once per group rather than once per
 * image, late layers (7×7) still fill the micro-kernel's columns at
 * batch > 1, and bias,
 * residual and relu are applied by the GEMM as it stores the last K block.
 * Flops 2·n·cout·oh·ow·cin·kh·kw; extra traffic: each image re-read kh·kw
 * times (from cache) while B is packed. */
static int conv_run(const sb_conv2d_t *p, const float *packed, const float *in, float *out,
                    void *workspace, size_t workspace_bytes, int threads)
{
  if (!conv_shape_valid(p) || !in || !out || (!packed && !p->weight))
    return -1;
  const size_t need = sb_k_sgemm_workspace_bytes(threads);
  if (!workspace || workspace_bytes < need)
    return -1;
  threads = clamp_threads(threads);
  const int64_t oh = sb_k_out_dim(p->h, p->kh, p->stride, p->pad);
  const int64_t ow = sb_k_out_dim(p->w, p->kw, p->stride, p->pad);
  const int64_t K = p->cin * p->kh * p->kw, N = oh * ow;
  /* A 1×1/1/0 convolution's image is its B matrix: one run per image. */
  sb_gemm_conv_src_t src = {.x = in, .cin = p->cin, .h = p->h, .w = p->w, .kh = p->kh,
                            .kw = p->kw, .stride = p->stride, .pad = p->pad, .oh = oh, .ow = ow};
  if (conv_pointwise(p)) {
    src.h = src.oh = 1;
    src.w = src.ow = N;
  }
  /* Images per GEMM: enough for about CONV_GROUP_COLS columns, spread
   * evenly over the groups. */
  int64_t per = CONV_GROUP_COLS / N;
  per = per < 1 ? 1 : per > p->n ? p->n : per;
  const int64_t groups = (p->n + per - 1) / per;
  per = (p->n + groups - 1) / groups;
  const int64_t in_img = p->cin * p->h * p->w, out_img = p->cout * N;
  for (int64_t b = 0; b < p->n; b += per) {
    const int64_t nb = p->n - b < per ? p->n - b : per;
    sb_gemm_conv_src_t gs = src;
    gs.x = in + b * in_img;
    const sb_gemm_op_t op = {.M = p->cout, .N = nb * N, .K = K, .A = p->weight, .rsa = K,
                             .csa = 1, .apacked = packed, .conv = &gs, .C = out + b * out_img,
                             .ldc = N, .cgroup = N, .cgs = out_img};
    const sb_gemm_epilogue_t epi = {.row_bias = p->bias,
                                    .residual = p->residual ? p->residual + b * out_img : NULL,
                                    .ldr = N,
                                    .rgs = out_img,
                                    .relu = p->relu != 0};
    const int any = epi.row_bias || epi.residual || epi.relu;
    sb_gemm_run(&op, any ? &epi : NULL, workspace, threads);
  }
  return 0;
}

int sb_k_conv2d(const sb_conv2d_t *p, const float *in, float *out, void *workspace,
                size_t workspace_bytes, int threads)
{
  if (!p || !p->weight)
    return -1;
  return conv_run(p, NULL, in, out, workspace, workspace_bytes, threads);
}

int sb_conv2d_prepacked(const sb_conv2d_t *p, const float *packed_weight, const float *in,
                        float *out, void *workspace, size_t workspace_bytes, int threads)
{
  if (!packed_weight)
    return -1;
  return conv_run(p, packed_weight, in, out, workspace, workspace_bytes, threads);
}

/* ---- fold_batchnorm ------------------------------------------------------------ */

/* Folds y = gamma·(conv - mean)/sqrt(var + eps) + beta into the conv:
 * cout·row multiplies and cout square roots, done once at model load.
 * The scale is computed in double and rounded once. */
void sb_k_fold_batchnorm(float *weight, float *bias, int64_t cout, int64_t row,
                         const float *gamma, const float *beta, const float *mean,
                         const float *var, float eps)
{
  for (int64_t c = 0; c < cout; c++) {
    const double scale = (double)gamma[c] / sqrt((double)var[c] + (double)eps);
    float *wr = weight + c * row;
    for (int64_t i = 0; i < row; i++)
      wr[i] = (float)(wr[i] * scale);
    bias[c] = (float)((double)beta[c] - (double)mean[c] * scale);
  }
}

/* ---- element-wise ------------------------------------------------------------------ */

/* In-place relu: 8 bytes and one compare per element; threaded above 64 Ki
 * elements per thread. */
void sb_k_relu(float *x, size_t count, int threads)
{
  const int nt = threads_for(threads, (double)count, ELEMWISE_PER_THREAD);
#pragma omp parallel for simd num_threads(nt) schedule(static) if (nt > 1)
  for (size_t i = 0; i < count; i++)
    x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* out = a + b (then relu): 12 bytes and 1–2 ops per element. Element i is
 * read before it is written, so out may alias a or b. */
void sb_k_add(const float *a, const float *b, float *out, size_t count, int relu, int threads)
{
  const int nt = threads_for(threads, (double)count, ELEMWISE_PER_THREAD);
  if (relu) {
#pragma omp parallel for simd num_threads(nt) schedule(static) if (nt > 1)
    for (size_t i = 0; i < count; i++) {
      const float v = a[i] + b[i];
      out[i] = v > 0.0f ? v : 0.0f;
    }
  } else {
#pragma omp parallel for simd num_threads(nt) schedule(static) if (nt > 1)
    for (size_t i = 0; i < count; i++)
      out[i] = a[i] + b[i];
  }
}

/* ---- pooling --------------------------------------------------------------------------- */

/* Max over the part of each k×k window inside the image (padding never wins:
 * requires 2·pad <= k, as torch does, so every window holds an input element).
 * k²-1 compares per output; parallel over the n·c planes. */
int sb_k_maxpool2d(const float *in, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                   int64_t s, int64_t pad, float *out, int threads)
{
  if (!in || !out || n < 1 || c < 1 || h < 1 || w < 1 || k < 1 || s < 1 || pad < 0 ||
      2 * pad > k || h + 2 * pad < k || w + 2 * pad < k)
    return -1;
  const int64_t oh = sb_k_out_dim(h, k, s, pad), ow = sb_k_out_dim(w, k, s, pad);
  const int64_t planes = n * c;
  const int nt = threads_for(threads, (double)planes * (double)(oh * ow * k * k),
                             ELEMWISE_PER_THREAD);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *src = in + pl * h * w;
    float *dst = out + pl * oh * ow;
    for (int64_t oy = 0; oy < oh; oy++) {
      const int64_t y0 = oy * s - pad;
      const int64_t ylo = y0 < 0 ? 0 : y0, yhi = y0 + k < h ? y0 + k : h;
      for (int64_t ox = 0; ox < ow; ox++) {
        const int64_t x0 = ox * s - pad;
        const int64_t xlo = x0 < 0 ? 0 : x0, xhi = x0 + k < w ? x0 + k : w;
        float m = src[ylo * w + xlo];
        for (int64_t y = ylo; y < yhi; y++)
          for (int64_t x = xlo; x < xhi; x++)
            m = src[y * w + x] > m ? src[y * w + x] : m;
        dst[oy * ow + ox] = m;
      }
    }
  }
  return 0;
}

/* Mean of each h·w plane, summed in double: reads 4·n·c·h·w bytes, one add per
 * element; parallel over the n·c planes. */
void sb_k_global_avgpool(const float *in, int64_t n, int64_t c, int64_t h, int64_t w, float *out,
                         int threads)
{
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
    return;
  const int64_t planes = n * c, hw = h * w;
  const int nt = threads_for(threads, (double)planes * (double)hw, ELEMWISE_PER_THREAD);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *src = in + pl * hw;
    double sum = 0.0;
    for (int64_t i = 0; i < hw; i++)
      sum += src[i];
    out[pl] = (float)(sum / (double)hw);
  }
}

/* ---- linear ------------------------------------------------------------------------------------ */

/* Both operands of a torch Linear (in [n][k], weight [m][k]) run along k, so
 * each output is a dot product: a block of LIN_RB input rows × LIN_OB weight
 * rows is computed at once, LIN_LANES independent partial sums per pair (the
 * vector lanes; no reassociation needed to vectorise), reduced at the end.
 * This needs no packing, hence no workspace, which the contract does not give. */
#define LIN_RB 4
#define LIN_OB 3
#define LIN_LANES 8

/* out[r][o] = bias[o] + sum_i x[r][i] · wt[o][i] for r < rb, o < ob
 * (rb <= LIN_RB, ob <= LIN_OB; constants at every call, so the loops unroll). */
SB_INLINE void lin_block(int rb, int ob, int64_t k, const float *restrict x, int64_t ldx,
                         const float *restrict wt, int64_t ldw, const float *bias,
                         float *restrict out, int64_t ldo)
{
  float acc[LIN_RB * LIN_OB * LIN_LANES] SB_ALIGN64;
  for (int i = 0; i < LIN_RB * LIN_OB * LIN_LANES; i++)
    acc[i] = 0.0f;
  int64_t kk = 0;
  for (; kk + LIN_LANES <= k; kk += LIN_LANES) {
    for (int r = 0; r < rb; r++)
      for (int o = 0; o < ob; o++) {
        float *a = acc + (r * LIN_OB + o) * LIN_LANES;
        const float *xr = x + r * ldx + kk, *wr = wt + o * ldw + kk;
#pragma omp simd
        for (int l = 0; l < LIN_LANES; l++)
          a[l] += xr[l] * wr[l];
      }
  }
  for (int r = 0; r < rb; r++)
    for (int o = 0; o < ob; o++) {
      const float *a = acc + (r * LIN_OB + o) * LIN_LANES;
      float sum = 0.0f;
      for (int l = 0; l < LIN_LANES; l++)
        sum += a[l];
      for (int64_t i = kk; i < k; i++)
        sum += x[r * ldx + i] * wt[o * ldw + i];
      out[r * ldo + o] = sum + (bias ? bias[o] : 0.0f);
    }
}

/* Outputs [o0, o0+ob) for every input row (ob is LIN_OB or 1). */
SB_INLINE void lin_outputs(int ob, int64_t o0, const float *in, int64_t n, int64_t k,
                           const float *weight, const float *bias, int64_t m, float *out)
{
  const float *wt = weight + o0 * k;
  const float *bs = bias ? bias + o0 : NULL;
  int64_t r = 0;
  for (; r + LIN_RB <= n; r += LIN_RB) {
    if (ob == LIN_OB)
      lin_block(LIN_RB, LIN_OB, k, in + r * k, k, wt, k, bs, out + r * m + o0, m);
    else
      lin_block(LIN_RB, 1, k, in + r * k, k, wt, k, bs, out + r * m + o0, m);
  }
  for (; r < n; r++) {
    if (ob == LIN_OB)
      lin_block(1, LIN_OB, k, in + r * k, k, wt, k, bs, out + r * m + o0, m);
    else
      lin_block(1, 1, k, in + r * k, k, wt, k, bs, out + r * m + o0, m);
  }
}

/* One block of LIN_OB outputs (or the single outputs of the tail). */
SB_INLINE void linear_body(int64_t blk, const float *in, int64_t n, int64_t k,
                           const float *weight, const float *bias, int64_t m, float *out)
{
  const int64_t full = m / LIN_OB;
  if (blk < full) {
    lin_outputs(LIN_OB, blk * LIN_OB, in, n, k, weight, bias, m, out);
  } else {
    for (int64_t o = full * LIN_OB; o < m; o++)
      lin_outputs(1, o, in, n, k, weight, bias, m, out);
  }
}

typedef void (*linear_fn)(int64_t, const float *, int64_t, int64_t, const float *,
                          const float *, int64_t, float *);

static void linear_generic(int64_t blk, const float *in, int64_t n, int64_t k,
                           const float *weight, const float *bias, int64_t m, float *out)
{
  linear_body(blk, in, n, k, weight, bias, m, out);
}

#if SB_X86_DISPATCH
__attribute__((target("avx2,fma"))) static void
linear_avx2(int64_t blk, const float *in, int64_t n, int64_t k, const float *weight,
            const float *bias, int64_t m, float *out)
{
  linear_body(blk, in, n, k, weight, bias, m, out);
}
#endif

/* out[n][m] = in[n][k] · weight[m][k]ᵀ + bias: 2·n·m·k flops, reads the
 * weight once per LIN_RB rows of in (the whole of in stays in cache for
 * ResNet's fc). Parallel over blocks of LIN_OB outputs. */
int sb_k_linear(const float *in, int64_t n, int64_t k, const float *weight, const float *bias,
                int64_t m, float *out, int threads)
{
  if (!in || !weight || !out || n < 1 || k < 1 || m < 1)
    return -1;
  linear_fn fn = linear_generic;
#if SB_X86_DISPATCH
  if (sb_cpu_has_avx2_fma())
    fn = linear_avx2;
#endif
  const int64_t blocks = m / LIN_OB + (m % LIN_OB ? 1 : 0);
  const int nt = threads_for(threads, 2.0 * (double)n * (double)m * (double)k, 1.0e6);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t blk = 0; blk < blocks; blk++)
    fn(blk, in, n, k, weight, bias, m, out);
  return 0;
}
