/* Unit tests of the CPU kernels (sb_kernels.h) against naive references.
 *
 *   test_kernels BEHAVIOUR      (one ctest entry per behaviour, see CMakeLists)
 *
 * References are the definitions written as straight loops, summed in double.
 * Error measure for float results: max|out - ref| / (max|ref| + 1e-30), which
 * must be <= TOL (1e-4). The kernels sum in float over up to a few hundred
 * terms per block, so the expected error is ~1e-6; 1e-4 leaves room for
 * rounding while any wrong index or missing term shows up as O(1).
 * Exact kernels (pooling maxima, relu, add, layout moves) are compared exactly.
 *
 * The GEMM computes each output element in the same order whatever the
 * thread count, so results with 1 and 3 threads are also checked to be
 * bitwise equal (reproducibility across INTRA_OP_PARALLELISM settings), and
 * in the same order whether the weight is packed per call or once ahead
 * (sb_gemm.h's pre-packed paths, also checked bitwise against the plain ones).
 * The Winograd 3×3 convolution (sb_winograd.h) sums in another order than the
 * direct one: it is held to the same TOL against the definition, and to bit
 * equality across thread counts.
 */
#include "sb_check.h"
#include "sb_gemm.h"
#include "sb_kernels.h"
#include "sb_winograd.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL 1e-4

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
  /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi). */
static float rng_uniform(float lo, float hi)
{
  return lo + (hi - lo) * (float)((rng_next() >> 40) * (1.0 / 16777216.0));
}

/* Integer in [lo, hi]. */
static int64_t rng_int(int64_t lo, int64_t hi)
{
  return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

static float *alloc_floats(size_t count)
{
  float *p = malloc((count ? count : 1) * sizeof(float));
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static float *random_floats(size_t count, float lo, float hi)
{
  float *p = alloc_floats(count);
  for (size_t i = 0; i < count; i++)
    p[i] = rng_uniform(lo, hi);
  return p;
}

/* max|a - ref| / (max|ref| + tiny) over count elements. */
static double rel_error(const float *a, const double *ref, size_t count)
{
  double diff = 0.0, mag = 0.0;
  for (size_t i = 0; i < count; i++) {
    const double d = fabs((double)a[i] - ref[i]);
    if (!(d <= diff)) /* also catches NaN */
      diff = d;
    if (fabs(ref[i]) > mag)
      mag = fabs(ref[i]);
  }
  return diff / (mag + 1e-30);
}

/* Workspace of exactly `bytes`, deliberately misaligned by 4 bytes, with a
 * canary behind it to catch writes past the end. */
typedef struct ws {
  unsigned char *raw;
  void *p;
  size_t bytes;
} ws_t;

#define CANARY 64

static ws_t ws_alloc(size_t bytes)
{
  ws_t w;
  w.raw = malloc(bytes + 4 + CANARY);
  if (!w.raw) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  w.p = w.raw + 4;
  w.bytes = bytes;
  memset(w.raw + 4 + bytes, 0xA5, CANARY);
  return w;
}

static int ws_canary_ok(const ws_t *w)
{
  for (size_t i = 0; i < CANARY; i++)
    if (w->raw[4 + w->bytes + i] != 0xA5)
      return 0;
  return 1;
}

static void ws_free(ws_t *w)
{
  free(w->raw);
}

/* ---- sgemm ------------------------------------------------------------------ */

/* C = A·B (+ C0): the definition, in double. */
static void ref_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *B, int64_t ldb, const float *C0, int64_t ldc, int accumulate,
                     double *ref)
{
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = accumulate ? (double)C0[i * ldc + j] : 0.0;
      for (int64_t p = 0; p < K; p++)
        s += (double)A[i * lda + p] * (double)B[p * ldb + j];
      ref[i * N + j] = s;
    }
}

/* One sgemm case with padded leading dimensions: the padding of A and B holds
 * NaN (must never be read), the padding of C a sentinel (must be untouched).
 * Without accumulate, C starts as NaN (must be overwritten, not read). */
static void check_sgemm_case(int64_t M, int64_t N, int64_t K, int64_t pad, int accumulate)
{
  const int64_t lda = K + pad, ldb = N + pad, ldc = N + pad;
  float *A = random_floats((size_t)(M * lda), -1.0f, 1.0f);
  float *B = random_floats((size_t)(K * ldb), -1.0f, 1.0f);
  float *C0 = random_floats((size_t)(M * ldc), -1.0f, 1.0f);
  for (int64_t i = 0; i < M; i++)
    for (int64_t p = K; p < lda; p++)
      A[i * lda + p] = NAN;
  for (int64_t p = 0; p < K; p++)
    for (int64_t j = N; j < ldb; j++)
      B[p * ldb + j] = NAN;
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = N; j < ldc; j++)
      C0[i * ldc + j] = 4242.0f;
  double *ref = malloc(sizeof(double) * (size_t)(M * N + 1));
  ref_gemm(M, N, K, A, lda, B, ldb, C0, ldc, accumulate, ref);

  float *C1 = NULL;
  const int thread_counts[2] = {1, 3};
  for (int t = 0; t < 2; t++) {
    const int threads = thread_counts[t];
    float *C = alloc_floats((size_t)(M * ldc));
    memcpy(C, C0, sizeof(float) * (size_t)(M * ldc));
    if (!accumulate)
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
          C[i * ldc + j] = NAN;
    ws_t w = ws_alloc(sb_k_sgemm_workspace_bytes(threads));
    sb_k_sgemm(M, N, K, A, lda, B, ldb, C, ldc, accumulate, w.p, threads);

    float *packed = alloc_floats((size_t)(M * N + 1));
    int pad_ok = 1;
    for (int64_t i = 0; i < M; i++) {
      for (int64_t j = 0; j < N; j++)
        packed[i * N + j] = C[i * ldc + j];
      for (int64_t j = N; j < ldc; j++)
        pad_ok &= C[i * ldc + j] == 4242.0f;
    }
    const double err = rel_error(packed, ref, (size_t)(M * N));
    printf("sgemm M=%-4lld N=%-5lld K=%-4lld ld+%lld accumulate=%d threads=%d: rel err %.2e\n",
           (long long)M, (long long)N, (long long)K, (long long)pad, accumulate, threads, err);
    CHECK(err <= TOL, "sgemm %lldx%lldx%lld threads %d: rel err %.3e > %.0e", (long long)M,
          (long long)N, (long long)K, threads, err, TOL);
    CHECK(pad_ok, "sgemm wrote into C's padding (ldc %lld > N %lld)", (long long)ldc,
          (long long)N);
    CHECK(ws_canary_ok(&w), "sgemm wrote past its workspace (threads %d)", threads);
    if (t == 0) {
      C1 = packed;
    } else {
      CHECK(memcmp(C1, packed, sizeof(float) * (size_t)(M * N)) == 0,
            "sgemm %lldx%lldx%lld: 3 threads differ from 1 thread", (long long)M, (long long)N,
            (long long)K);
      free(packed);
    }
    ws_free(&w);
    free(C);
  }
  free(C1);
  free(ref);
  free(A);
  free(B);
  free(C0);
}

static void test_sgemm(void)
{
  /* Odd sizes everywhere; K > 256 and M > 144 cross the cache blocks;
   * N > 2048 crosses the column slabs; N > 256 packs A, narrower C reads it
   * in place; the last three are big enough (> 3 Mflop) for 3 threads to be
   * used, split along N, along M, and both; K = 0 stores zeros (or keeps C). */
  static const int64_t cases[][3] = {
      {1, 1, 1},      {7, 13, 5},     {6, 16, 8},    {5, 17, 3},   {37, 29, 300},
      {150, 33, 257}, {13, 2100, 19}, {61, 67, 71},  {3, 100, 1},  {200, 5, 40},
      {97, 301, 150}, {301, 45, 200}, {151, 530, 41}, {4, 3, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (int acc = 0; acc <= 1; acc++)
      check_sgemm_case(cases[c][0], cases[c][1], cases[c][2], c % 2 ? 3 : 0, acc);
  for (int r = 0; r < 6; r++)
    check_sgemm_case(rng_int(1, 90), rng_int(1, 90), rng_int(1, 300), rng_int(0, 5),
                     (int)rng_int(0, 1));
}

/* ---- conv2d ---------------------------------------------------------------- */

/* The definition: out = relu?(bias + residual + sum w·x), zero padding. */
static void ref_conv(const sb_conv2d_t *p, const float *in, double *ref)
{
  const int64_t oh = sb_k_out_dim(p->h, p->kh, p->stride, p->pad);
  const int64_t ow = sb_k_out_dim(p->w, p->kw, p->stride, p->pad);
  for (int64_t b = 0; b < p->n; b++)
    for (int64_t co = 0; co < p->cout; co++)
      for (int64_t y = 0; y < oh; y++)
        for (int64_t x = 0; x < ow; x++) {
          double s = p->bias ? p->bias[co] : 0.0;
          for (int64_t ci = 0; ci < p->cin; ci++)
            for (int64_t ky = 0; ky < p->kh; ky++)
              for (int64_t kx = 0; kx < p->kw; kx++) {
                const int64_t iy = y * p->stride + ky - p->pad;
                const int64_t ix = x * p->stride + kx - p->pad;
                if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
                  continue;
                s += (double)p->weight[((co * p->cin + ci) * p->kh + ky) * p->kw + kx] *
                     (double)in[((b * p->cin + ci) * p->h + iy) * p->w + ix];
              }
          const int64_t o = ((b * p->cout + co) * oh + y) * ow + x;
          if (p->residual)
            s += p->residual[o];
          if (p->relu && s < 0.0)
            s = 0.0;
          ref[o] = s;
        }
}

typedef struct conv_case {
  int64_t n, cin, h, w, cout, kh, kw, stride, pad;
  int bias, residual, relu;
} conv_case_t;

static void check_conv_case(const conv_case_t *cc)
{
  sb_conv2d_t p = {.n = cc->n, .cin = cc->cin, .h = cc->h, .w = cc->w, .cout = cc->cout,
                   .kh = cc->kh, .kw = cc->kw, .stride = cc->stride, .pad = cc->pad,
                   .relu = cc->relu};
  const int64_t oh = sb_k_out_dim(p.h, p.kh, p.stride, p.pad);
  const int64_t ow = sb_k_out_dim(p.w, p.kw, p.stride, p.pad);
  const size_t nin = (size_t)(p.n * p.cin * p.h * p.w);
  const size_t nout = (size_t)(p.n * p.cout * oh * ow);
  float *in = random_floats(nin, -1.0f, 1.0f);
  float *weight = random_floats((size_t)(p.cout * p.cin * p.kh * p.kw), -0.5f, 0.5f);
  float *bias = cc->bias ? random_floats((size_t)p.cout, -1.0f, 1.0f) : NULL;
  float *res = cc->residual ? random_floats(nout, -1.0f, 1.0f) : NULL;
  p.weight = weight;
  p.bias = bias;
  p.residual = res;
  double *ref = malloc(sizeof(double) * nout);
  ref_conv(&p, in, ref);

  float *out1 = NULL;
  const int thread_counts[2] = {1, 3};
  for (int t = 0; t < 2; t++) {
    const int threads = thread_counts[t];
    float *out = alloc_floats(nout);
    for (size_t i = 0; i < nout; i++)
      out[i] = NAN;
    ws_t w = ws_alloc(sb_k_conv2d_workspace_bytes(&p, threads));
    const int rc = sb_k_conv2d(&p, in, out, w.p, w.bytes, threads);
    const double err = rel_error(out, ref, nout);
    printf("conv2d n=%lld cin=%-3lld %lldx%lld cout=%-3lld k=%lldx%lld s=%lld pad=%lld%s%s%s "
           "threads=%d: rel err %.2e\n",
           (long long)p.n, (long long)p.cin, (long long)p.h, (long long)p.w, (long long)p.cout,
           (long long)p.kh, (long long)p.kw, (long long)p.stride, (long long)p.pad,
           bias ? " +bias" : "", res ? " +residual" : "", p.relu ? " +relu" : "", threads, err);
    CHECK(rc == 0, "conv2d returned %d", rc);
    CHECK(err <= TOL, "conv2d rel err %.3e > %.0e", err, TOL);
    CHECK(ws_canary_ok(&w), "conv2d wrote past its workspace");
    if (p.relu) {
      int neg = 0;
      for (size_t i = 0; i < nout; i++)
        neg |= out[i] < 0.0f;
      CHECK(!neg, "conv2d with relu left a negative output");
    }
    /* The same conv with the weight packed once ahead (sb_resnet's path):
     * bit for bit the same result, and the weight pointer never read. */
    const int64_t K = p.cin * p.kh * p.kw;
    float *packed = alloc_floats(sb_gemm_packed_a_floats(p.cout, K));
    sb_gemm_pack_a(p.cout, K, weight, K, 1, packed);
    float *outp = alloc_floats(nout);
    for (size_t i = 0; i < nout; i++)
      outp[i] = NAN;
    sb_conv2d_t pp = p;
    pp.weight = NULL;
    const int rcp = sb_conv2d_prepacked(&pp, packed, in, outp, w.p, w.bytes, threads);
    CHECK(rcp == 0, "conv2d pre-packed returned %d", rcp);
    CHECK(memcmp(out, outp, sizeof(float) * nout) == 0,
          "conv2d pre-packed differs from conv2d (threads %d)", threads);
    CHECK(ws_canary_ok(&w), "conv2d pre-packed wrote past its workspace");
    CHECK(sb_conv2d_prepacked(&pp, NULL, in, outp, w.p, w.bytes, threads) == -1,
          "conv2d pre-packed accepted a NULL packed weight");
    free(outp);
    free(packed);
    if (t == 0) {
      out1 = out;
    } else {
      CHECK(memcmp(out1, out, sizeof(float) * nout) == 0, "conv2d: 3 threads differ from 1");
      free(out);
    }
    ws_free(&w);
  }
  free(out1);
  free(ref);
  free(in);
  free(weight);
  free(bias);
  free(res);
}

static void test_conv2d(void)
{
  static const conv_case_t cases[] = {
      /* n cin  h   w cout kh kw s pad  bias res relu */
      {1, 3, 9, 11, 5, 3, 3, 1, 1, 0, 0, 0},      /* 3x3 same padding */
      {2, 3, 23, 19, 8, 7, 7, 2, 3, 1, 0, 1},     /* ResNet stem shape, batch 2 */
      {2, 13, 7, 5, 17, 1, 1, 1, 0, 1, 1, 1},     /* 1x1/1/0: input is the B matrix */
      {1, 8, 9, 9, 6, 1, 1, 2, 0, 1, 0, 0},       /* 1x1 stride 2 (downsample) */
      {3, 19, 15, 14, 33, 3, 3, 2, 1, 1, 1, 1},   /* stride 2, residual + relu, batch 3 */
      {1, 5, 8, 8, 4, 3, 3, 1, 0, 0, 1, 0},       /* no padding */
      {1, 7, 2, 3, 3, 3, 3, 1, 1, 1, 0, 0},       /* image smaller than the kernel */
      {2, 6, 10, 7, 9, 5, 5, 2, 2, 0, 0, 1},      /* 5x5/2 pad 2 */
      {1, 4, 6, 9, 5, 1, 3, 1, 1, 1, 1, 0},       /* kh != kw */
      {1, 37, 48, 48, 150, 3, 3, 1, 1, 1, 1, 1},  /* K=333 > KC, M > MC, N > NC */
      /* Small images are batched into one GEMM, side by side in N: tiles
       * that cross from one image into the next (and the next after),
       * images smaller than a tile, uneven groups, K > KC. */
      {5, 9, 1, 1, 7, 1, 1, 1, 0, 1, 1, 1},       /* 1x1 images: 1 column each */
      {7, 6, 3, 1, 13, 3, 3, 1, 1, 1, 1, 0},      /* 3 columns per image, 3x3 pad 1 */
      {4, 20, 7, 7, 31, 3, 3, 1, 1, 1, 1, 1},     /* 7x7 (ResNet's last stage), batch 4 */
      {3, 12, 14, 14, 64, 1, 1, 2, 0, 1, 1, 0},   /* 1x1/2 downsample across images */
      {3, 30, 30, 30, 20, 3, 3, 1, 1, 1, 1, 1},   /* 3 images, K = 270 > KC */
      {7, 5, 10, 20, 9, 3, 3, 1, 1, 1, 1, 1},     /* 200 px: images in groups of 4 + 3 */
      {40, 4, 5, 5, 11, 1, 1, 1, 0, 1, 1, 0},     /* 25 px x 40 images: 1000 columns */
      {2, 3, 40, 37, 16, 7, 7, 2, 3, 1, 0, 1},    /* stem 7x7/2, odd width */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    check_conv_case(&cases[c]);
  for (int r = 0; r < 6; r++) {
    conv_case_t cc;
    cc.n = rng_int(1, 3);
    cc.cin = rng_int(1, 21);
    cc.kh = rng_int(1, 4) * 2 - 1; /* 1, 3, 5, 7 */
    cc.kw = cc.kh;
    cc.stride = rng_int(1, 3);
    cc.pad = rng_int(0, cc.kh / 2);
    cc.h = rng_int(cc.kh > 2 * cc.pad ? cc.kh - 2 * cc.pad : 1, 20);
    cc.w = rng_int(cc.kw > 2 * cc.pad ? cc.kw - 2 * cc.pad : 1, 20);
    cc.cout = rng_int(1, 40);
    cc.bias = (int)rng_int(0, 1);
    cc.residual = (int)rng_int(0, 1);
    cc.relu = (int)rng_int(0, 1);
    check_conv_case(&cc);
  }
}

/* ---- Winograd F(2x2,3x3) (sb_winograd.h) --------------------------------------- */

/* sb_conv2d_winograd against the definition, with 1, 3 and 17 threads (17:
 * more threads than the 16 GEMMs, so each GEMM is cut into column pieces),
 * the three bitwise equal; the workspace exact and misaligned. */
static void check_wino_case(const conv_case_t *cc)
{
  sb_conv2d_t p = {.n = cc->n, .cin = cc->cin, .h = cc->h, .w = cc->w, .cout = cc->cout,
                   .kh = 3, .kw = 3, .stride = 1, .pad = 1, .relu = cc->relu};
  const size_t nin = (size_t)(p.n * p.cin * p.h * p.w);
  const size_t nout = (size_t)(p.n * p.cout * p.h * p.w);
  float *in = random_floats(nin, -1.0f, 1.0f);
  float *weight = random_floats((size_t)(p.cout * p.cin * 9), -0.5f, 0.5f);
  float *bias = cc->bias ? random_floats((size_t)p.cout, -1.0f, 1.0f) : NULL;
  float *res = cc->residual ? random_floats(nout, -1.0f, 1.0f) : NULL;
  p.weight = weight;
  p.bias = bias;
  p.residual = res;
  double *ref = malloc(sizeof(double) * nout);
  ref_conv(&p, in, ref);
  float *u = alloc_floats(sb_wino_weight_floats(p.cout, p.cin));
  CHECK(sb_wino_pack_weight(p.cout, p.cin, weight, u) == 0, "winograd weight transform failed");
  CHECK(sb_wino_applies(&p), "winograd refuses a 3x3/1 pad 1 convolution");

  float *first = NULL;
  const int thread_counts[3] = {1, 3, 17};
  for (int t = 0; t < 3; t++) {
    const int threads = thread_counts[t];
    float *out = alloc_floats(nout);
    for (size_t i = 0; i < nout; i++)
      out[i] = NAN;
    ws_t w = ws_alloc(sb_wino_workspace_bytes(&p, threads));
    sb_conv2d_t pw = p;
    pw.weight = NULL; /* never read */
    const int rc = sb_conv2d_winograd(&pw, u, in, out, w.p, w.bytes, threads);
    const double err = rel_error(out, ref, nout);
    printf("winograd n=%lld cin=%-3lld %lldx%lld cout=%-3lld%s%s%s threads=%d: rel err %.2e\n",
           (long long)p.n, (long long)p.cin, (long long)p.h, (long long)p.w, (long long)p.cout,
           bias ? " +bias" : "", res ? " +residual" : "", p.relu ? " +relu" : "", threads, err);
    CHECK(rc == 0, "winograd conv2d returned %d", rc);
    CHECK(err <= TOL, "winograd conv2d rel err %.3e > %.0e", err, TOL);
    CHECK(ws_canary_ok(&w), "winograd conv2d wrote past its workspace");
    CHECK(sb_conv2d_winograd(&pw, u, in, out, w.p, w.bytes - 1, threads) == -1,
          "winograd conv2d accepted a workspace one byte short");
    CHECK(sb_conv2d_winograd(&pw, NULL, in, out, w.p, w.bytes, threads) == -1,
          "winograd conv2d accepted a NULL weight");
    ws_free(&w);
    if (!first) {
      first = out;
    } else {
      CHECK(memcmp(first, out, sizeof(float) * nout) == 0, "winograd: %d threads differ from 1",
            threads);
      free(out);
    }
  }
  free(first);
  free(u);
  free(ref);
  free(in);
  free(weight);
  free(bias);
  free(res);
}

static void test_winograd(void)
{
  static const conv_case_t cases[] = {
      /* n cin  h   w cout kh kw s pad  bias res relu */
      {1, 3, 9, 11, 5, 3, 3, 1, 1, 0, 0, 0},     /* odd sizes: overhanging tiles */
      {1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 0, 0},      /* a single pixel */
      {2, 7, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1},      /* image smaller than a 4x4 patch */
      {4, 20, 7, 7, 31, 3, 3, 1, 1, 1, 1, 1},    /* 7x7 (ResNet's last stage), batch 4 */
      {3, 16, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1},  /* 14x14, tile rows of 3 images */
      {2, 70, 30, 30, 80, 3, 3, 1, 1, 1, 1, 1},  /* several chunks, one across images */
      {1, 37, 48, 48, 150, 3, 3, 1, 1, 1, 1, 1}, /* K > MC, cin not a multiple of 8 */
      {1, 300, 6, 5, 20, 3, 3, 1, 1, 0, 1, 0},   /* cin > KC: the GEMM's K blocks */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    check_wino_case(&cases[c]);
  for (int r = 0; r < 4; r++) {
    conv_case_t cc = {.kh = 3, .kw = 3, .stride = 1, .pad = 1};
    cc.n = rng_int(1, 3);
    cc.cin = rng_int(1, 40);
    cc.h = rng_int(1, 25);
    cc.w = rng_int(1, 25);
    cc.cout = rng_int(1, 40);
    cc.bias = (int)rng_int(0, 1);
    cc.residual = (int)rng_int(0, 1);
    cc.relu = (int)rng_int(0, 1);
    check_wino_case(&cc);
  }
  /* What it refuses. */
  sb_conv2d_t bad = {.n = 1, .cin = 2, .h = 5, .w = 5, .cout = 2, .kh = 3, .kw = 3, .stride = 2,
                     .pad = 1};
  CHECK(!sb_wino_applies(&bad) && sb_wino_workspace_bytes(&bad, 1) == 0,
        "winograd accepts stride 2");
  bad.stride = 1;
  bad.pad = 0;
  CHECK(!sb_wino_applies(&bad), "winograd accepts pad 0");
  bad.pad = 1;
  bad.kh = bad.kw = 5;
  CHECK(!sb_wino_applies(&bad), "winograd accepts a 5x5 kernel");
  CHECK(sb_wino_pack_weight(0, 2, NULL, NULL) == -1, "winograd packs an empty weight");
}

/* ---- pre-packed A and grouped C (sb_gemm.h) ---------------------------------- */

/* sb_gemm_run with A packed once (sb_gemm_pack_a) against the definition
 * and, bit for bit, against sb_k_sgemm on the same operands: row counts
 * around the micro-kernel's (6) and the row block's, K around the K block
 * (256), with accumulate. Also a transposed A (csa != 1) packed ahead. */
static void check_prepacked_case(int64_t M, int64_t N, int64_t K, int accumulate, int trans)
{
  float *A = random_floats((size_t)(M * K), -1.0f, 1.0f);
  float *B = random_floats((size_t)(K * N), -1.0f, 1.0f);
  float *C0 = random_floats((size_t)(M * N), -1.0f, 1.0f);
  /* trans: A is stored [K][M] and read as its transpose. */
  float *Arm = A;
  if (trans) {
    Arm = alloc_floats((size_t)(M * K));
    for (int64_t i = 0; i < M; i++)
      for (int64_t p = 0; p < K; p++)
        Arm[i * K + p] = A[p * M + i];
  }
  double *ref = malloc(sizeof(double) * (size_t)(M * N));
  ref_gemm(M, N, K, Arm, K, B, N, C0, N, accumulate, ref);
  float *packed = alloc_floats(sb_gemm_packed_a_floats(M, K) + 1);
  packed[sb_gemm_packed_a_floats(M, K)] = 4242.0f;
  if (trans)
    sb_gemm_pack_a(M, K, A, 1, M, packed);
  else
    sb_gemm_pack_a(M, K, A, K, 1, packed);
  CHECK(packed[sb_gemm_packed_a_floats(M, K)] == 4242.0f, "sb_gemm_pack_a wrote past its size");
  const int thread_counts[2] = {1, 3};
  for (int t = 0; t < 2; t++) {
    const int threads = thread_counts[t];
    ws_t w = ws_alloc(sb_k_sgemm_workspace_bytes(threads));
    float *C = alloc_floats((size_t)(M * N)), *Cp = alloc_floats((size_t)(M * N));
    memcpy(C, C0, sizeof(float) * (size_t)(M * N));
    memcpy(Cp, C0, sizeof(float) * (size_t)(M * N));
    sb_k_sgemm(M, N, K, Arm, K, B, N, C, N, accumulate, w.p, threads);
    const sb_gemm_op_t op = {.M = M, .N = N, .K = K, .apacked = packed, .B = B, .rsb = N,
                             .csb = 1, .C = Cp, .ldc = N, .accumulate = accumulate};
    sb_gemm_run(&op, NULL, w.p, threads);
    const double err = rel_error(Cp, ref, (size_t)(M * N));
    printf("gemm pre-packed M=%-4lld N=%-4lld K=%-4lld accumulate=%d%s threads=%d: rel err "
           "%.2e\n",
           (long long)M, (long long)N, (long long)K, accumulate, trans ? " A transposed" : "",
           threads, err);
    CHECK(err <= TOL, "pre-packed gemm rel err %.3e > %.0e", err, TOL);
    CHECK(memcmp(C, Cp, sizeof(float) * (size_t)(M * N)) == 0,
          "pre-packed gemm differs from sb_k_sgemm (M %lld N %lld K %lld threads %d)",
          (long long)M, (long long)N, (long long)K, threads);
    CHECK(ws_canary_ok(&w), "pre-packed gemm wrote past its workspace");
    free(C);
    free(Cp);
    ws_free(&w);
  }
  if (trans)
    free(Arm);
  free(A);
  free(B);
  free(C0);
  free(ref);
  free(packed);
}

static void test_gemm_prepacked(void)
{
  static const int64_t shapes[][3] = {
      /* M N K */
      {1, 1, 1},     {5, 17, 3},    {6, 16, 256},  {7, 33, 257},  {13, 49, 600},
      {145, 40, 300}, {300, 9, 520}, {64, 300, 147}, {2, 2100, 20},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    check_prepacked_case(shapes[i][0], shapes[i][1], shapes[i][2], (int)(i % 2), 0);
  check_prepacked_case(37, 50, 270, 0, 1);
  CHECK(sb_gemm_packed_a_floats(0, 5) == 0 && sb_gemm_packed_a_floats(5, 0) == 0,
        "packed size of an empty matrix is not 0");
  CHECK(sb_gemm_packed_a_floats(7, 3) >= 7 * 3, "packed size smaller than the matrix");
}

/* ---- workspace and shape errors ------------------------------------------- */

static void test_workspace(void)
{
  float weight[2 * 3 * 3 * 3], in[1 * 3 * 8 * 8], out[1 * 2 * 8 * 8];
  for (size_t i = 0; i < sizeof weight / sizeof weight[0]; i++)
    weight[i] = 0.1f;
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
    in[i] = 1.0f;
  sb_conv2d_t p = {.n = 1, .cin = 3, .h = 8, .w = 8, .cout = 2, .kh = 3, .kw = 3,
                   .stride = 1, .pad = 1, .weight = weight};
  const int threads[2] = {1, 3};
  for (int t = 0; t < 2; t++) {
    const size_t need = sb_k_conv2d_workspace_bytes(&p, threads[t]);
    CHECK(need > 0, "workspace size 0 for a valid conv");
    unsigned char *buf = malloc(need);
    CHECK(sb_k_conv2d(&p, in, out, buf, need - 1, threads[t]) == -1,
          "workspace one byte short not refused (threads %d)", threads[t]);
    CHECK(sb_k_conv2d(&p, in, out, NULL, need, threads[t]) == -1, "NULL workspace not refused");
    CHECK(sb_k_conv2d(&p, in, out, buf, need, threads[t]) == 0, "exact workspace refused");
    printf("conv2d threads=%d: workspace %zu bytes accepted, %zu refused, NULL refused\n",
           threads[t], need, need - 1);
    free(buf);
  }
  /* No conv stores an im2col matrix (B is packed straight from the image):
   * a 1x1/1/0 conv needs no more workspace than the same conv with k=3. */
  sb_conv2d_t q = p;
  q.kh = q.kw = 1;
  q.pad = 0;
  CHECK(sb_k_conv2d_workspace_bytes(&q, 1) <= sb_k_conv2d_workspace_bytes(&p, 1),
        "1x1 conv asks for more workspace than 3x3");

  /* Invalid shapes: -1 (and workspace size 0). */
  unsigned char *big = malloc(1 << 22);
  sb_conv2d_t bad = p;
  bad.stride = 0;
  CHECK(sb_k_conv2d(&bad, in, out, big, 1 << 22, 1) == -1, "stride 0 accepted");
  CHECK(sb_k_conv2d_workspace_bytes(&bad, 1) == 0, "stride 0 has a workspace size");
  bad = p;
  bad.pad = 0;
  bad.h = 2; /* 3x3 kernel on a 2-row unpadded image */
  CHECK(sb_k_conv2d(&bad, in, out, big, 1 << 22, 1) == -1, "kernel taller than image accepted");
  bad = p;
  bad.cin = 0;
  CHECK(sb_k_conv2d(&bad, in, out, big, 1 << 22, 1) == -1, "cin 0 accepted");
  bad = p;
  bad.weight = NULL;
  CHECK(sb_k_conv2d(&bad, in, out, big, 1 << 22, 1) == -1, "NULL weight accepted");
  bad = p;
  bad.pad = -1;
  CHECK(sb_k_conv2d(&bad, in, out, big, 1 << 22, 1) == -1, "negative pad accepted");
  free(big);
  printf("conv2d: stride 0, kernel > image, cin 0, NULL weight, pad -1 refused\n");

  CHECK(sb_k_sgemm_workspace_bytes(3) > sb_k_sgemm_workspace_bytes(1),
        "sgemm workspace does not grow with threads");
  CHECK(sb_k_sgemm_workspace_bytes(0) == sb_k_sgemm_workspace_bytes(1),
        "threads 0 is not treated as 1");
}

/* ---- linear ------------------------------------------------------------------- */

static void check_linear_case(int64_t n, int64_t k, int64_t m, int with_bias)
{
  float *in = random_floats((size_t)(n * k), -1.0f, 1.0f);
  float *wt = random_floats((size_t)(m * k), -1.0f, 1.0f);
  float *bias = with_bias ? random_floats((size_t)m, -1.0f, 1.0f) : NULL;
  double *ref = malloc(sizeof(double) * (size_t)(n * m));
  for (int64_t b = 0; b < n; b++)
    for (int64_t o = 0; o < m; o++) {
      double s = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < k; i++)
        s += (double)in[b * k + i] * (double)wt[o * k + i];
      ref[b * m + o] = s;
    }
  float *out1 = NULL;
  const int thread_counts[2] = {1, 3};
  for (int t = 0; t < 2; t++) {
    float *out = alloc_floats((size_t)(n * m));
    for (int64_t i = 0; i < n * m; i++)
      out[i] = NAN;
    const int rc = sb_k_linear(in, n, k, wt, bias, m, out, thread_counts[t]);
    const double err = rel_error(out, ref, (size_t)(n * m));
    printf("linear n=%-3lld k=%-5lld m=%-5lld%s threads=%d: rel err %.2e\n", (long long)n,
           (long long)k, (long long)m, bias ? " +bias" : "      ", thread_counts[t], err);
    CHECK(rc == 0, "linear returned %d", rc);
    CHECK(err <= TOL, "linear rel err %.3e > %.0e", err, TOL);
    if (t == 0) {
      out1 = out;
    } else {
      CHECK(memcmp(out1, out, sizeof(float) * (size_t)(n * m)) == 0,
            "linear: 3 threads differ from 1");
      free(out);
    }
  }
  free(out1);
  free(ref);
  free(in);
  free(wt);
  free(bias);
}

static void test_linear(void)
{
  static const int64_t cases[][4] = {
      {1, 1, 1, 1},      {1, 7, 1, 0},      {2, 8, 3, 1},     {5, 9, 4, 1},
      {4, 33, 7, 0},     {9, 100, 10, 1},   {1, 2048, 1000, 1}, {33, 512, 67, 1},
      {3, 17, 2, 1},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    check_linear_case(cases[c][0], cases[c][1], cases[c][2], (int)cases[c][3]);
  float x = 1.0f;
  CHECK(sb_k_linear(&x, 0, 1, &x, NULL, 1, &x, 1) == -1, "linear n=0 accepted");
  CHECK(sb_k_linear(&x, 1, 1, NULL, NULL, 1, &x, 1) == -1, "linear NULL weight accepted");
}

/* ---- fold_batchnorm --------------------------------------------------------------- */

/* conv (no bias) then inference batch-norm, in double, against the folded
 * conv run by the kernel. */
static void test_fold_batchnorm(void)
{
  const float eps = 1e-5f;
  const int64_t cout = 7, cin = 5, k = 3, row = cin * k * k;
  sb_conv2d_t p = {.n = 2, .cin = cin, .h = 9, .w = 8, .cout = cout, .kh = k, .kw = k,
                   .stride = 1, .pad = 1};
  const int64_t oh = 9, ow = 8;
  const size_t nout = (size_t)(p.n * cout * oh * ow);
  float *in = random_floats((size_t)(p.n * cin * p.h * p.w), -1.0f, 1.0f);
  float *weight = random_floats((size_t)(cout * row), -0.5f, 0.5f);
  float gamma[7], beta[7], mean[7], var[7], bias[7];
  for (int c = 0; c < 7; c++) {
    gamma[c] = rng_uniform(0.5f, 2.0f);
    beta[c] = rng_uniform(-1.0f, 1.0f);
    mean[c] = rng_uniform(-0.5f, 0.5f);
    var[c] = rng_uniform(0.1f, 3.0f);
    bias[c] = NAN; /* must be overwritten */
  }
  var[0] = 0.0f; /* eps alone keeps it finite */

  p.weight = weight;
  double *ref = malloc(sizeof(double) * nout);
  ref_conv(&p, in, ref);
  for (int64_t b = 0; b < p.n; b++)
    for (int64_t c = 0; c < cout; c++)
      for (int64_t i = 0; i < oh * ow; i++) {
        double *v = &ref[(b * cout + c) * oh * ow + i];
        *v = (double)gamma[c] * (*v - (double)mean[c]) / sqrt((double)var[c] + (double)eps) +
             (double)beta[c];
      }

  sb_k_fold_batchnorm(weight, bias, cout, row, gamma, beta, mean, var, eps);
  p.bias = bias;
  float *out = alloc_floats(nout);
  ws_t w = ws_alloc(sb_k_conv2d_workspace_bytes(&p, 1));
  CHECK(sb_k_conv2d(&p, in, out, w.p, w.bytes, 1) == 0, "conv2d failed");
  const double err = rel_error(out, ref, nout);
  printf("fold_batchnorm cout=%lld row=%lld (var[0]=0): folded conv vs conv-then-BN rel err "
         "%.2e\n",
         (long long)cout, (long long)row, err);
  CHECK(err <= TOL, "folded conv rel err %.3e > %.0e", err, TOL);
  ws_free(&w);
  free(out);
  free(ref);
  free(in);
  free(weight);
}

/* ---- pre_process_3ch ------------------------------------------------------------------ */

static void test_pre_process(void)
{
  /* Values worked out by hand from the definition (v/255 - mean)/std:
   *   R: 0 -> -0.485/0.229 = -2.1179039..., 255 -> 0.515/0.229 = 2.2489083...
   *   G: 0 -> -0.456/0.224 = -2.0357143..., 255 -> 0.544/0.224 = 2.4285714...
   *   B: 0 -> -0.406/0.225 = -1.8044444..., 255 -> 0.594/0.225 = 2.64
   *   R: 127.5 -> 0.015/0.229 = 0.0655022...                               */
  const float in_px[4][3] = {{0, 0, 0}, {255, 255, 255}, {127.5f, 0, 255}, {0, 255, 0}};
  const double want[4][3] = {
      {-2.1179039301310043, -2.0357142857142856, -1.8044444444444445},
      {2.2489082969432315, 2.4285714285714284, 2.64},
      {0.0655021834061136, -2.0357142857142856, 2.64},
      {-2.1179039301310043, 2.4285714285714284, -1.8044444444444445},
  };
  /* A batch of 2 images of 2x3 pixels: image b, pixel (y, x) takes row
   * (b + y + x) % 4 of the table, so every position is distinguishable. */
  const int64_t n = 2, h = 2, w = 3;
  float in[2 * 2 * 3 * 3], out[2 * 3 * 2 * 3];
  for (int64_t b = 0; b < n; b++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        for (int c = 0; c < 3; c++)
          in[((b * h + y) * w + x) * 3 + c] = in_px[(b + y + x) % 4][c];
  for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
    out[i] = NAN;
  for (int threads = 1; threads <= 3; threads += 2) {
    sb_k_pre_process_3ch(in, n, h, w, out, threads);
    double worst = 0.0;
    for (int64_t b = 0; b < n; b++)
      for (int c = 0; c < 3; c++)
        for (int64_t y = 0; y < h; y++)
          for (int64_t x = 0; x < w; x++) {
            const double got = out[((b * 3 + c) * h + y) * w + x];
            const double d = fabs(got - want[(b + y + x) % 4][c]);
            if (!(d <= worst))
              worst = d;
          }
    /* |value| < 3, so 2e-6 is a few float ulps. */
    printf("pre_process_3ch 2x2x3 HWC->CHW threads=%d: max |out - hand value| %.2e\n", threads,
           worst);
    CHECK(worst <= 2e-6, "pre_process_3ch off by %.3e", worst);
  }
}

/* ---- pooling ------------------------------------------------------------------------ */

static void check_maxpool_case(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s,
                               int64_t pad)
{
  /* All-negative input: a zero from padding would win if padding counted. */
  float *in = random_floats((size_t)(n * c * h * w), -10.0f, -1.0f);
  const int64_t oh = sb_k_out_dim(h, k, s, pad), ow = sb_k_out_dim(w, k, s, pad);
  const size_t nout = (size_t)(n * c * oh * ow);
  float *out = alloc_floats(nout);
  int bad = 0;
  for (int threads = 1; threads <= 3; threads += 2) {
    CHECK(sb_k_maxpool2d(in, n, c, h, w, k, s, pad, out, threads) == 0, "maxpool refused");
    for (int64_t pl = 0; pl < n * c; pl++)
      for (int64_t y = 0; y < oh; y++)
        for (int64_t x = 0; x < ow; x++) {
          float m = -INFINITY;
          for (int64_t ky = 0; ky < k; ky++)
            for (int64_t kx = 0; kx < k; kx++) {
              const int64_t iy = y * s + ky - pad, ix = x * s + kx - pad;
              if (iy >= 0 && iy < h && ix >= 0 && ix < w && in[(pl * h + iy) * w + ix] > m)
                m = in[(pl * h + iy) * w + ix];
            }
          bad += out[(pl * oh + y) * ow + x] != m;
        }
    printf("maxpool2d n=%lld c=%lld %lldx%lld k=%lld s=%lld pad=%lld all-negative threads=%d: "
           "%d mismatches\n",
           (long long)n, (long long)c, (long long)h, (long long)w, (long long)k, (long long)s,
           (long long)pad, threads, bad);
  }
  CHECK(bad == 0, "maxpool: %d outputs differ from the window maximum", bad);
  free(in);
  free(out);
}

static void test_maxpool(void)
{
  check_maxpool_case(2, 3, 112, 112, 3, 2, 1); /* ResNet's */
  check_maxpool_case(1, 5, 7, 9, 3, 2, 1);     /* odd sizes */
  check_maxpool_case(3, 2, 6, 5, 2, 2, 0);
  check_maxpool_case(1, 4, 5, 5, 3, 1, 1);
  check_maxpool_case(1, 1, 1, 1, 3, 2, 1);     /* one pixel, all padding around */
  float x[16] = {0}, y[16];
  CHECK(sb_k_maxpool2d(x, 1, 1, 4, 4, 3, 2, 2, y, 1) == -1, "pad > k/2 accepted");
  CHECK(sb_k_maxpool2d(x, 1, 1, 4, 4, 3, 0, 1, y, 1) == -1, "stride 0 accepted");
  CHECK(sb_k_maxpool2d(x, 1, 1, 2, 2, 5, 1, 1, y, 1) == -1, "window larger than image accepted");
}

static void test_avgpool(void)
{
  static const int64_t cases[][4] = {{1, 1, 1, 1}, {2, 5, 7, 7}, {3, 33, 3, 5}, {4, 2048, 7, 7}};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    const int64_t n = cases[t][0], c = cases[t][1], h = cases[t][2], w = cases[t][3];
    float *in = random_floats((size_t)(n * c * h * w), -2.0f, 3.0f);
    double *ref = malloc(sizeof(double) * (size_t)(n * c));
    for (int64_t pl = 0; pl < n * c; pl++) {
      double s = 0.0;
      for (int64_t i = 0; i < h * w; i++)
        s += in[pl * h * w + i];
      ref[pl] = s / (double)(h * w);
    }
    float *out = alloc_floats((size_t)(n * c));
    for (int threads = 1; threads <= 3; threads += 2) {
      sb_k_global_avgpool(in, n, c, h, w, out, threads);
      const double err = rel_error(out, ref, (size_t)(n * c));
      printf("global_avgpool n=%lld c=%-4lld %lldx%lld threads=%d: rel err %.2e\n",
             (long long)n, (long long)c, (long long)h, (long long)w, threads, err);
      CHECK(err <= 1e-6, "global_avgpool rel err %.3e > 1e-6", err);
    }
    free(in);
    free(ref);
    free(out);
  }
}

/* ---- relu and add ------------------------------------------------------------------------- */

static void test_relu_add(void)
{
  /* Odd counts; 300001 is large enough to be split between threads. */
  const size_t counts[3] = {1, 1001, 300001};
  for (int ci = 0; ci < 3; ci++) {
    const size_t count = counts[ci];
    float *a = random_floats(count, -1.0f, 1.0f), *b = random_floats(count, -1.0f, 1.0f);
    float *out = alloc_floats(count), *x = alloc_floats(count);
    for (int threads = 1; threads <= 3; threads += 2) {
      size_t bad_relu = 0, bad_add = 0, bad_add_relu = 0, bad_alias = 0;
      memcpy(x, a, sizeof(float) * count);
      sb_k_relu(x, count, threads);
      for (size_t i = 0; i < count; i++)
        bad_relu += x[i] != (a[i] > 0.0f ? a[i] : 0.0f);
      sb_k_add(a, b, out, count, 0, threads);
      for (size_t i = 0; i < count; i++)
        bad_add += out[i] != a[i] + b[i];
      sb_k_add(a, b, out, count, 1, threads);
      for (size_t i = 0; i < count; i++) {
        const float v = a[i] + b[i];
        bad_add_relu += out[i] != (v > 0.0f ? v : 0.0f);
      }
      memcpy(x, a, sizeof(float) * count);
      sb_k_add(x, b, x, count, 1, threads); /* out aliases a */
      for (size_t i = 0; i < count; i++) {
        const float v = a[i] + b[i];
        bad_alias += x[i] != (v > 0.0f ? v : 0.0f);
      }
      printf("relu/add/add+relu/add in place, count=%zu threads=%d: %zu/%zu/%zu/%zu mismatches\n",
             count, threads, bad_relu, bad_add, bad_add_relu, bad_alias);
      CHECK(bad_relu + bad_add + bad_add_relu + bad_alias == 0, "element-wise mismatch");
    }
    free(a);
    free(b);
    free(out);
    free(x);
  }
}

/* ---- reentrancy ------------------------------------------------------------------------------ */

/* Three threads (as the module's workers) each run the same conv2d, with 2
 * OpenMP threads and their own workspace and output, several times at once;
 * every result must equal the one computed alone. */
typedef struct worker {
  const sb_conv2d_t *p;
  const float *in;
  float *out;
  size_t nout;
  const float *expect;
  int rc, mismatch;
} worker_t;

static void *worker_main(void *arg)
{
  worker_t *wk = arg;
  const size_t bytes = sb_k_conv2d_workspace_bytes(wk->p, 2);
  void *ws = malloc(bytes);
  for (int it = 0; it < 4; it++) {
    wk->rc |= sb_k_conv2d(wk->p, wk->in, wk->out, ws, bytes, 2);
    wk->mismatch |= memcmp(wk->out, wk->expect, sizeof(float) * wk->nout) != 0;
  }
  free(ws);
  return NULL;
}

static void test_reentrant(void)
{
  float *in = random_floats(2 * 16 * 20 * 20, -1.0f, 1.0f);
  float *weight = random_floats(24 * 16 * 9, -0.5f, 0.5f);
  float *bias = random_floats(24, -1.0f, 1.0f);
  sb_conv2d_t p = {.n = 2, .cin = 16, .h = 20, .w = 20, .cout = 24, .kh = 3, .kw = 3,
                   .stride = 1, .pad = 1, .weight = weight, .bias = bias, .relu = 1};
  const size_t nout = 2 * 24 * 20 * 20;
  float *expect = alloc_floats(nout);
  const size_t bytes = sb_k_conv2d_workspace_bytes(&p, 2);
  void *ws = malloc(bytes);
  CHECK(sb_k_conv2d(&p, in, expect, ws, bytes, 2) == 0, "conv2d failed");
  free(ws);

  enum { NW = 3 };
  pthread_t tid[NW];
  worker_t wk[NW];
  for (int i = 0; i < NW; i++) {
    wk[i] = (worker_t){.p = &p, .in = in, .out = alloc_floats(nout), .nout = nout,
                       .expect = expect};
    CHECK(pthread_create(&tid[i], NULL, worker_main, &wk[i]) == 0, "pthread_create");
  }
  int bad = 0;
  for (int i = 0; i < NW; i++) {
    pthread_join(tid[i], NULL);
    bad += wk[i].rc != 0 || wk[i].mismatch;
    free(wk[i].out);
  }
  printf("conv2d from %d threads at once (2 OpenMP threads each, 4 runs): %d differ from the "
         "result computed alone\n",
         NW, bad);
  CHECK(bad == 0, "concurrent conv2d results differ");
  free(expect);
  free(in);
  free(weight);
  free(bias);
}

/* ---- main ------------------------------------------------------------------------------------- */

static const struct {
  const char *name;
  void (*fn)(void);
} tests[] = {
    {"sgemm", test_sgemm},
    {"conv2d", test_conv2d},
    {"winograd", test_winograd},
    {"gemm_prepacked", test_gemm_prepacked},
    {"workspace", test_workspace},
    {"linear", test_linear},
    {"fold_batchnorm", test_fold_batchnorm},
    {"pre_process_3ch", test_pre_process},
    {"maxpool2d", test_maxpool},
    {"global_avgpool", test_avgpool},
    {"relu_add", test_relu_add},
    {"reentrant", test_reentrant},
};

int main(int argc, char **argv)
{
  const size_t ntests = sizeof tests / sizeof tests[0];
  int ran = 0;
  const char *isa = getenv("SB_KERNELS_ISA");
  printf("# kernels test, SB_KERNELS_ISA=%s, tolerance %.0e relative to max|ref|\n",
         isa ? isa : "(unset: best available)", TOL);
  for (size_t t = 0; t < ntests; t++) {
    int want = argc < 2;
    for (int a = 1; a < argc; a++)
      want |= strcmp(argv[a], tests[t].name) == 0;
    if (!want)
      continue;
    tests[t].fn();
    ran++;
  }
  if (!ran) {
    fprintf(stderr, "usage: %s [", argv[0]);
    for (size_t t = 0; t < ntests; t++)
      fprintf(stderr, "%s%s", t ? "|" : "", tests[t].name);
    fprintf(stderr, "]...\n");
    return 2;
  }
  return CHECK_DONE();
}
