/* CUDA versions of the kernels (sb_kernels_cuda.h): every launch is checked,
 * every failure returns a status and leaves its text in a thread-local
 * buffer. Compiled whole-program (no separable compilation, no device
 * symbols cross files), as position-independent code, so the static
 * sb_kernels library still links into the Redis module. */
#include "sb_kernels_cuda.h"

#include "sb_cuda_check.h"

#include <cuda_runtime.h>
#include <mma.h>

/* ---- errors --------------------------------------------------------------- */

static thread_local char last_error[512];

extern "C" const char *sb_k_cuda_last_error(void) { return last_error; }

static int fail_einval(const char *fn, const char *why)
{
  sb_set_err(last_error, sizeof last_error, "%s: %s", fn, why);
  return SB_K_CUDA_EINVAL;
}

/* Every CUDA call and launch below is checked by SB_CUDA_CHECK
 * (sb_cuda_check.h): on failure the message goes into last_error and the
 * function returns SB_K_CUDA_ECUDA. */

#define AS_STREAM(s) ((cudaStream_t)(s))

/* Grid for a grid-stride loop over `count` items with 256-thread blocks. */
static unsigned grid_for(size_t count)
{
  size_t blocks = (count + 255) / 256;
  return (unsigned)(blocks > (1u << 20) ? (1u << 20) : blocks);
}

/* ---- device count ---------------------------------------------------------- */

extern "C" int sb_k_cuda_device_count(int *n)
{
  if (!n)
    return fail_einval("sb_k_cuda_device_count", "NULL n");
  *n = 0;
  cudaError_t e = cudaGetDeviceCount(n);
  if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) {
    (void)cudaGetLastError(); /* not sticky, but leave no trace */
    *n = 0;
    return SB_K_CUDA_OK;
  }
  SB_CUDA_CHECK(e, last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}

/* ---- pre_process_3ch -------------------------------------------------------- */

/* One thread per output element (NCHW order, so writes coalesce; reads stride
 * 3 floats). The expression is the CPU version's, divide by divide (nvcc keeps
 * IEEE division without --use_fast_math), so results are bit-identical.
 * Bytes: 2 x 4 x n.h.w.3. */
static __global__ void pre_process_3ch_kernel(const float *__restrict__ in, int64_t h, int64_t w,
                                       int64_t total, float *__restrict__ out)
{
  const float mean[3] = {SB_IMAGENET_MEAN_R, SB_IMAGENET_MEAN_G, SB_IMAGENET_MEAN_B};
  const float stdv[3] = {SB_IMAGENET_STD_R, SB_IMAGENET_STD_G, SB_IMAGENET_STD_B};
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t x = i % w, y = (i / w) % h, c = (i / (w * h)) % 3, b = i / (w * h * 3);
    out[i] = (in[((b * h + y) * w + x) * 3 + c] / 255.0f - mean[c]) / stdv[c];
  }
}

extern "C" int sb_k_cuda_pre_process_3ch(const float *in, int64_t n, int64_t h, int64_t w,
                                         float *out, void *stream)
{
  if (!in || !out || n < 0 || h < 0 || w < 0)
    return fail_einval("sb_k_cuda_pre_process_3ch", "bad arguments");
  const int64_t total = n * h * w * 3;
  if (total == 0)
    return SB_K_CUDA_OK;
  pre_process_3ch_kernel<<<grid_for((size_t)total), 256, 0, AS_STREAM(stream)>>>(in, h, w, total,
                                                                               out);
  SB_CUDA_CHECK(cudaGetLastError(), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}

/* ---- conv2d: implicit GEMM, FP32 ------------------------------------------------
 *
 * C[M][N] = A[M][K] . B[K][N] with M = cout, K = cin.kh.kw (A is the weight as
 * stored), N = n.oh.ow (one column per output pixel) and B the im2col matrix of
 * the input, gathered while a tile is loaded and never stored. Each 256-thread
 * block computes a 64x64 tile of C in steps of 16 along K through shared
 * memory; each thread holds 4x4 accumulators, at rows ty+16r and columns
 * tx+16c, so the stores of a warp hit consecutive pixels. The epilogue adds
 * bias and residual and applies relu before the single store.
 * Flops: 2.n.cout.oh.ow.cin.kh.kw. Indices are 32-bit (checked by the caller). */
#define CONV_BM 64
#define CONV_BN 64
#define CONV_BK 16
/* A tile row is padded by 4 floats: the A loads write 16 k of one m per
 * half-warp, which unpadded (a row of 64 floats = 2 x 32 banks) all hit one
 * bank; padded they spread over 8 banks (2-way at most), and 68 floats keep
 * WMMA's leading dimension a multiple of 4 and every fragment 32-byte aligned. */
#define CONV_LDA (CONV_BM + 4)

struct conv_dims {
  int n, cin, h, w, cout, kh, kw, stride, pad, oh, ow, K, N;
};

/* The B column a thread loads (jl = t % 64, rows kl0 + 4i), decomposed once:
 * its pixel's first input row and column (padding subtracted) and image. */
struct conv_col {
  int jl, kl0, iy0, ix0;
  bool jvalid;
  const float *inb;
};

static __device__ __forceinline__ conv_col conv_column(const conv_dims &d,
                                                       const float *__restrict__ in, int t, int j0)
{
  const int ohw = d.oh * d.ow;
  conv_col c;
  c.jl = t % CONV_BN;
  c.kl0 = t / CONV_BN;
  const int jg = j0 + c.jl;
  c.jvalid = jg < d.N;
  c.iy0 = 0;
  c.ix0 = 0;
  c.inb = in;
  if (c.jvalid) {
    const int b = jg / ohw, p = jg % ohw;
    c.iy0 = (p / d.ow) * d.stride - d.pad;
    c.ix0 = (p % d.ow) * d.stride - d.pad;
    c.inb = in + (size_t)b * d.cin * d.h * d.w;
  }
  return c;
}

/* Loads the tiles of step k0 into shared memory: A, 64 rows x 16 k, read 16
 * consecutive floats per row; B, 16 k x 64 pixels, gathered from the input
 * (zero padding). The caller synchronises. */
static __device__ __forceinline__ void conv_load_tiles(const conv_dims &d,
                                                       const float *__restrict__ weight,
                                                       const conv_col &c, int t, int m0, int k0,
                                                       float (*As)[CONV_LDA], float (*Bs)[CONV_BN],
                                                       const int (*kt)[CONV_BK])
{
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int idx = t + i * 256, ml = idx / CONV_BK, kl = idx % CONV_BK;
    const int m = m0 + ml, k = k0 + kl;
    As[kl][ml] = (m < d.cout && k < d.K) ? weight[(size_t)m * d.K + k] : 0.0f;
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int kl = c.kl0 + 4 * i, k = k0 + kl;
    float v = 0.0f;
    if (c.jvalid && k < d.K) {
      const int iy = c.iy0 + kt[1][kl], ix = c.ix0 + kt[2][kl];
      if (iy >= 0 && iy < d.h && ix >= 0 && ix < d.w)
        v = c.inb[(size_t)kt[0][kl] * d.h * d.w + (size_t)iy * d.w + ix];
    }
    Bs[kl][c.jl] = v;
  }
}

/* The k of the step at k0 decomposed once for the whole block: kt[0][kl]
 * its input channel, kt[1][kl] and kt[2][kl] its filter row and column (k
 * past K: zeros, never read). Threads 0..15 write it; the caller
 * synchronises before conv_load_tiles reads it. */
static __device__ __forceinline__ void conv_k_table(const conv_dims &d, int t, int k0,
                                                    int (*kt)[CONV_BK])
{
  if (t < CONV_BK) {
    const int k = k0 + t, khw = d.kh * d.kw;
    const int ci = k < d.K ? k / khw : 0, r = k < d.K ? k % khw : 0;
    kt[0][t] = ci;
    kt[1][t] = r / d.kw;
    kt[2][t] = r % d.kw;
  }
}

/* One K step into shared memory, for every thread of the block together:
 * the step's k table, then the A and B tiles, each followed by the barrier
 * its readers need. */
static __device__ __forceinline__ void conv_stage(const conv_dims &d,
                                                  const float *__restrict__ weight,
                                                  const conv_col &c, int t, int m0, int k0,
                                                  float (*As)[CONV_LDA], float (*Bs)[CONV_BN],
                                                  int (*kt)[CONV_BK])
{
  conv_k_table(d, t, k0, kt);
  __syncthreads();
  conv_load_tiles(d, weight, c, t, m0, k0, As, Bs, kt);
  __syncthreads();
}

static __global__ void __launch_bounds__(256)
conv2d_fp32_kernel(conv_dims d, const float *__restrict__ in, const float *__restrict__ weight,
                   const float *__restrict__ bias, const float *__restrict__ residual, int relu,
                   float *__restrict__ out)
{
  __shared__ float As[CONV_BK][CONV_LDA];
  __shared__ float Bs[CONV_BK][CONV_BN];
  __shared__ int kt[3][CONV_BK];
  const int t = threadIdx.x, tx = t % 16, ty = t / 16;
  const int m0 = blockIdx.y * CONV_BM, j0 = blockIdx.x * CONV_BN;
  const int ohw = d.oh * d.ow;
  const conv_col col = conv_column(d, in, t, j0);

  float acc[4][4];
#pragma unroll
  for (int r = 0; r < 4; r++)
#pragma unroll
    for (int c = 0; c < 4; c++)
      acc[r][c] = 0.0f;

  for (int k0 = 0; k0 < d.K; k0 += CONV_BK) {
    conv_stage(d, weight, col, t, m0, k0, As, Bs, kt);
#pragma unroll
    for (int kl = 0; kl < CONV_BK; kl++) {
      float a[4], bv[4];
#pragma unroll
      for (int r = 0; r < 4; r++)
        a[r] = As[kl][ty + 16 * r];
#pragma unroll
      for (int c = 0; c < 4; c++)
        bv[c] = Bs[kl][tx + 16 * c];
#pragma unroll
      for (int r = 0; r < 4; r++)
#pragma unroll
        for (int c = 0; c < 4; c++)
          acc[r][c] = fmaf(a[r], bv[c], acc[r][c]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int r = 0; r < 4; r++) {
    const int m = m0 + ty + 16 * r;
    if (m >= d.cout)
      continue;
    const float bm = bias ? bias[m] : 0.0f;
#pragma unroll
    for (int c = 0; c < 4; c++) {
      const int j = j0 + tx + 16 * c;
      if (j >= d.N)
        continue;
      const int b = j / ohw, p = j % ohw;
      const size_t o = ((size_t)b * d.cout + m) * ohw + p;
      float v = acc[r][c] + bm;
      if (residual)
        v += residual[o];
      if (relu)
        v = fmaxf(v, 0.0f);
      out[o] = v;
    }
  }
}

/* The same implicit GEMM on the tensor cores in TF32 (inputs rounded to a
 * 10-bit mantissa, products accumulated in FP32), through WMMA m16n16k8: the
 * tiles are loaded to shared memory exactly as above; each of the 8 warps owns
 * two 16x16 accumulators of the 64x64 tile (rows 16.(warp/2), columns
 * 32.(warp%2) and +16). The accumulators go through shared memory (Cs) so the
 * epilogue is the FP32 kernel's, element by element. Needs sm_80 or newer
 * (the caller checks). */
static __global__ void __launch_bounds__(256)
conv2d_tf32_kernel(conv_dims d, const float *__restrict__ in, const float *__restrict__ weight,
                   const float *__restrict__ bias, const float *__restrict__ residual, int relu,
                   float *__restrict__ out)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  __shared__ __align__(128) float As[CONV_BK][CONV_LDA];
  __shared__ int kt[3][CONV_BK];
  __shared__ __align__(128) float Bs[CONV_BK][CONV_BN];
  __shared__ __align__(128) float Cs[CONV_BM][CONV_BN + 4];
  const int t = threadIdx.x, warp = t / 32;
  const int m0 = blockIdx.y * CONV_BM, j0 = blockIdx.x * CONV_BN;
  const int ohw = d.oh * d.ow;
  const int wr = 16 * (warp / 2), wc = 32 * (warp % 2);
  const conv_col col = conv_column(d, in, t, j0);
  const int jl = col.jl, kl0 = col.kl0;

  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2];
  wmma::fill_fragment(acc[0], 0.0f);
  wmma::fill_fragment(acc[1], 0.0f);

  for (int k0 = 0; k0 < d.K; k0 += CONV_BK) {
    conv_stage(d, weight, col, t, m0, k0, As, Bs, kt);
#pragma unroll
    for (int kk = 0; kk < CONV_BK; kk += 8) {
      /* A(m, k) sits at As[k][m]: column-major with leading dimension LDA. */
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> a;
      wmma::load_matrix_sync(a, &As[kk][wr], CONV_LDA);
      for (int e = 0; e < a.num_elements; e++)
        a.x[e] = wmma::__float_to_tf32(a.x[e]);
#pragma unroll
      for (int f = 0; f < 2; f++) {
        wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> b;
        wmma::load_matrix_sync(b, &Bs[kk][wc + 16 * f], CONV_BN);
        for (int e = 0; e < b.num_elements; e++)
          b.x[e] = wmma::__float_to_tf32(b.x[e]);
        wmma::mma_sync(acc[f], a, b, acc[f]);
      }
    }
    __syncthreads();
  }
  wmma::store_matrix_sync(&Cs[wr][wc], acc[0], CONV_BN + 4, wmma::mem_row_major);
  wmma::store_matrix_sync(&Cs[wr][wc + 16], acc[1], CONV_BN + 4, wmma::mem_row_major);
  __syncthreads();

  /* Epilogue: thread t stores column t % 64 of rows t / 64 + 4i (coalesced). */
  const int j = j0 + jl;
  if (j < d.N) {
    const int b = j / ohw, p = j % ohw;
    for (int ml = kl0; ml < CONV_BM; ml += 4) {
      const int m = m0 + ml;
      if (m >= d.cout)
        break;
      const size_t o = ((size_t)b * d.cout + m) * ohw + p;
      float v = Cs[ml][jl] + (bias ? bias[m] : 0.0f);
      if (residual)
        v += residual[o];
      if (relu)
        v = fmaxf(v, 0.0f);
      out[o] = v;
    }
  }
#else
  __trap(); /* built for an architecture without TF32 tensor cores */
#endif
}

extern "C" int sb_k_cuda_conv2d(const sb_conv2d_t *p, const float *in, float *out,
                                sb_k_cuda_precision_t precision, void *stream)
{
  static const char fn[] = "sb_k_cuda_conv2d";
  if (!p || !p->weight || !in || !out)
    return fail_einval(fn, "NULL argument");
  if (p->n < 1 || p->cin < 1 || p->h < 1 || p->w < 1 || p->cout < 1 || p->kh < 1 || p->kw < 1 ||
      p->stride < 1 || p->pad < 0 || p->h + 2 * p->pad < p->kh || p->w + 2 * p->pad < p->kw)
    return fail_einval(fn, "bad shape");
  if (precision != SB_K_CUDA_FP32 && precision != SB_K_CUDA_TF32)
    return fail_einval(fn, "unknown precision");
  const int64_t oh = sb_k_out_dim(p->h, p->kh, p->stride, p->pad);
  const int64_t ow = sb_k_out_dim(p->w, p->kw, p->stride, p->pad);
  const int64_t K = p->cin * p->kh * p->kw, N = p->n * oh * ow;
  const int64_t lim = INT32_MAX;
  if (p->n * p->cin * p->h * p->w > lim || N * p->cout > lim || K * p->cout > lim)
    return fail_einval(fn, "tensor of 2^31 elements or more");
  conv_dims d = {(int)p->n, (int)p->cin, (int)p->h, (int)p->w, (int)p->cout, (int)p->kh,
                 (int)p->kw, (int)p->stride, (int)p->pad, (int)oh, (int)ow, (int)K, (int)N};
  const dim3 grid((unsigned)((N + CONV_BN - 1) / CONV_BN),
                  (unsigned)((p->cout + CONV_BM - 1) / CONV_BM));
  if (grid.y > 65535)
    return fail_einval(fn, "cout too large");
  if (precision == SB_K_CUDA_TF32) {
    int dev = 0, major = 0;
    SB_CUDA_CHECK(cudaGetDevice(&dev), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
    SB_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev),
                  last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
    if (major < 8)
      return fail_einval(fn, "TF32 needs a GPU of compute capability 8.0 or newer");
    conv2d_tf32_kernel<<<grid, 256, 0, AS_STREAM(stream)>>>(d, in, p->weight, p->bias,
                                                            p->residual, p->relu ? 1 : 0, out);
  } else {
    conv2d_fp32_kernel<<<grid, 256, 0, AS_STREAM(stream)>>>(d, in, p->weight, p->bias,
                                                            p->residual, p->relu ? 1 : 0, out);
  }
  SB_CUDA_CHECK(cudaGetLastError(), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}

/* ---- maxpool2d ----------------------------------------------------------------- */

/* One thread per output element; the window clipped to the input as on the
 * CPU (padding never wins), so results are exact. Bytes: reads k.k per
 * output (from cache), writes 4 per output. */
static __global__ void maxpool2d_kernel(const float *__restrict__ in, int64_t h, int64_t w, int64_t k,
                                 int64_t s, int64_t pad, int64_t oh, int64_t ow, int64_t total,
                                 float *__restrict__ out)
{
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t ox = i % ow, oy = (i / ow) % oh, pl = i / (ow * oh);
    const float *src = in + pl * h * w;
    const int64_t y0 = oy * s - pad, x0 = ox * s - pad;
    const int64_t ylo = y0 < 0 ? 0 : y0, yhi = y0 + k < h ? y0 + k : h;
    const int64_t xlo = x0 < 0 ? 0 : x0, xhi = x0 + k < w ? x0 + k : w;
    float m = src[ylo * w + xlo];
    for (int64_t y = ylo; y < yhi; y++)
      for (int64_t x = xlo; x < xhi; x++)
        m = src[y * w + x] > m ? src[y * w + x] : m;
    out[i] = m;
  }
}

extern "C" int sb_k_cuda_maxpool2d(const float *in, int64_t n, int64_t c, int64_t h, int64_t w,
                                   int64_t k, int64_t s, int64_t pad, float *out, void *stream)
{
  if (!in || !out || n < 1 || c < 1 || h < 1 || w < 1 || k < 1 || s < 1 || pad < 0 ||
      2 * pad > k || h + 2 * pad < k || w + 2 * pad < k)
    return fail_einval("sb_k_cuda_maxpool2d", "bad shape");
  const int64_t oh = sb_k_out_dim(h, k, s, pad), ow = sb_k_out_dim(w, k, s, pad);
  const int64_t total = n * c * oh * ow;
  maxpool2d_kernel<<<grid_for((size_t)total), 256, 0, AS_STREAM(stream)>>>(in, h, w, k, s, pad, oh,
                                                                          ow, total, out);
  SB_CUDA_CHECK(cudaGetLastError(), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}

/* ---- warp reductions: global_avgpool, linear ---------------------------------- */

static __device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

/* One warp per (image, channel) plane: lanes read consecutive floats, sum in
 * FP32, lane 0 divides once. Bytes: 4.n.c.h.w read. 8 warps per block. */
static __global__ void global_avgpool_kernel(const float *__restrict__ in, int64_t planes, int64_t hw,
                                      float *__restrict__ out)
{
  const int lane = threadIdx.x % 32;
  for (int64_t pl = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32; pl < planes;
       pl += (int64_t)gridDim.x * blockDim.x / 32) {
    const float *src = in + pl * hw;
    float s = 0.0f;
    for (int64_t i = lane; i < hw; i += 32)
      s += src[i];
    s = warp_sum(s);
    if (lane == 0)
      out[pl] = s / (float)hw;
  }
}

extern "C" int sb_k_cuda_global_avgpool(const float *in, int64_t n, int64_t c, int64_t h,
                                        int64_t w, float *out, void *stream)
{
  if (!in || !out || n < 0 || c < 0 || h < 1 || w < 1)
    return fail_einval("sb_k_cuda_global_avgpool", "bad shape");
  const int64_t planes = n * c;
  if (planes == 0)
    return SB_K_CUDA_OK;
  global_avgpool_kernel<<<grid_for((size_t)planes * 32), 256, 0, AS_STREAM(stream)>>>(
      in, planes, h * w, out);
  SB_CUDA_CHECK(cudaGetLastError(), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}

/* One warp per output out[b][o]: lanes stride along k over in[b] and
 * weight[o] (both contiguous), then a shuffle reduction and the bias.
 * Flops: 2.n.m.k; the weight is re-read per image (from L2 for small n). */
static __global__ void linear_kernel(const float *__restrict__ in, int64_t k,
                              const float *__restrict__ weight, const float *__restrict__ bias,
                              int64_t m, int64_t total, float *__restrict__ out)
{
  const int lane = threadIdx.x % 32;
  for (int64_t i = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / 32; i < total;
       i += (int64_t)gridDim.x * blockDim.x / 32) {
    const int64_t b = i / m, o = i % m;
    const float *x = in + b * k, *wr = weight + o * k;
    float s = 0.0f;
    for (int64_t j = lane; j < k; j += 32)
      s = fmaf(x[j], wr[j], s);
    s = warp_sum(s);
    if (lane == 0)
      out[i] = s + (bias ? bias[o] : 0.0f);
  }
}

extern "C" int sb_k_cuda_linear(const float *in, int64_t n, int64_t k, const float *weight,
                                const float *bias, int64_t m, float *out, void *stream)
{
  if (!in || !weight || !out || n < 1 || k < 1 || m < 1)
    return fail_einval("sb_k_cuda_linear", "bad shape");
  const int64_t total = n * m;
  linear_kernel<<<grid_for((size_t)total * 32), 256, 0, AS_STREAM(stream)>>>(in, k, weight, bias,
                                                                            m, total, out);
  SB_CUDA_CHECK(cudaGetLastError(), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}

/* ---- add, relu ------------------------------------------------------------------ */

/* Elementwise, grid-stride. add: 12 bytes/element, relu: 8 bytes/element. */
static __global__ void add_kernel(const float *a, const float *b, float *out, size_t count, int relu)
{
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
       i += (size_t)gridDim.x * blockDim.x) {
    const float v = a[i] + b[i];
    out[i] = relu ? fmaxf(v, 0.0f) : v;
  }
}

static __global__ void relu_kernel(float *x, size_t count)
{
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
       i += (size_t)gridDim.x * blockDim.x)
    x[i] = fmaxf(x[i], 0.0f);
}

extern "C" int sb_k_cuda_add(const float *a, const float *b, float *out, size_t count, int relu,
                             void *stream)
{
  if (count == 0)
    return SB_K_CUDA_OK;
  if (!a || !b || !out)
    return fail_einval("sb_k_cuda_add", "NULL argument");
  add_kernel<<<grid_for(count), 256, 0, AS_STREAM(stream)>>>(a, b, out, count, relu ? 1 : 0);
  SB_CUDA_CHECK(cudaGetLastError(), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}

extern "C" int sb_k_cuda_relu(float *x, size_t count, void *stream)
{
  if (count == 0)
    return SB_K_CUDA_OK;
  if (!x)
    return fail_einval("sb_k_cuda_relu", "NULL argument");
  relu_kernel<<<grid_for(count), 256, 0, AS_STREAM(stream)>>>(x, count);
  SB_CUDA_CHECK(cudaGetLastError(), last_error, sizeof last_error, return SB_K_CUDA_ECUDA);
  return SB_K_CUDA_OK;
}
