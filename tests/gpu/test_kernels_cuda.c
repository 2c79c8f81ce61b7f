/* Every CUDA kernel (sb_kernels_cuda.h) against its CPU reference
 * (sb_kernels.h) on fresh random inputs: one binary, one ctest entry per
 * behaviour (the argument names it).
 *
 * For each case: inputs uniform in [-1, 1] (0..255 for pre_process_3ch) from a
 * seed printed on the first line (SB_SEED=n repeats a run); outputs are
 * filled with NaN before the kernel runs, so a NaN left afterwards is an
 * element the kernel never wrote; the error is max|gpu - cpu| / max|cpu|
 * over the tensor, against the bound of the kernel:
 *   pre_process_3ch, maxpool2d, add, relu   0      (same operations, exact)
 *   global_avgpool                          1e-5   (summation order)
 *   conv2d FP32, linear                     1e-4   (summation order, K <= 4608)
 *   conv2d TF32                             5e-3   (inputs rounded to 10 bits)
 * An indexing mistake gives errors of order 1, far above any bound.
 *
 * Exit status: 0 pass, 1 fail, 77 skipped (no GPU visible; said on stderr).
 * The behaviour "api" needs no GPU: argument checks and the device count. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime_api.h>

#include "sb_kernels.h"
#include "sb_kernels_cuda.h"

#define SKIP 77

static uint64_t rng_state;

static float frand(float lo, float hi)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return lo + (hi - lo) * (float)((rng_state >> 40) / (double)(1ull << 24));
}

static float *host_random(size_t count, float lo, float hi)
{
  float *p = malloc((count ? count : 1) * sizeof *p);
  for (size_t i = 0; p && i < count; i++)
    p[i] = frand(lo, hi);
  return p;
}

/* ---- device helpers: print the failure and return NULL / nonzero ---------- */

static int cuda_ok(cudaError_t e, const char *what)
{
  if (e == cudaSuccess)
    return 1;
  fprintf(stderr, "CUDA error in %s: %s: %s\n", what, cudaGetErrorName(e), cudaGetErrorString(e));
  return 0;
}

static float *dev_upload(const float *h, size_t count)
{
  void *d = NULL;
  if (!cuda_ok(cudaMalloc(&d, (count ? count : 1) * sizeof(float)), "cudaMalloc"))
    return NULL;
  if (count && !cuda_ok(cudaMemcpy(d, h, count * sizeof(float), cudaMemcpyHostToDevice),
                        "cudaMemcpy H2D")) {
    cudaFree(d);
    return NULL;
  }
  return d;
}

/* A device buffer of `count` floats, every one NaN. */
static float *dev_nan(size_t count)
{
  float *h = malloc((count ? count : 1) * sizeof *h);
  if (!h)
    return NULL;
  for (size_t i = 0; i < count; i++)
    h[i] = NAN;
  float *d = dev_upload(h, count);
  free(h);
  return d;
}

/* Waits for the kernels, then copies `count` floats back into a new buffer. */
static float *dev_download(const float *d, size_t count)
{
  if (!cuda_ok(cudaDeviceSynchronize(), "kernel (cudaDeviceSynchronize)"))
    return NULL;
  float *h = malloc((count ? count : 1) * sizeof *h);
  if (h && count &&
      !cuda_ok(cudaMemcpy(h, d, count * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy D2H")) {
    free(h);
    return NULL;
  }
  return h;
}

/* Compares and prints one row; 0 when within bound and every element written. */
static int compare(const char *kernel, const char *shape, const float *gpu, const float *cpu,
                   size_t count, double bound)
{
  size_t unwritten = 0;
  double maxdiff = 0, maxref = 0;
  for (size_t i = 0; i < count; i++) {
    if (isnan(gpu[i])) {
      unwritten++;
      continue;
    }
    double d = fabs((double)gpu[i] - (double)cpu[i]);
    maxdiff = d > maxdiff ? d : maxdiff;
    maxref = fabs(cpu[i]) > maxref ? fabs(cpu[i]) : maxref;
  }
  double rel = maxref > 0 ? maxdiff / maxref : maxdiff;
  int ok = unwritten == 0 && rel <= bound;
  printf("%-16s %-44s %10zu %10zu %10.2e %8.0e  %s\n", kernel, shape, count, unwritten, rel, bound,
         ok ? "ok" : "FAIL");
  return ok ? 0 : 1;
}

static void header(void)
{
  printf("# %-14s %-44s %10s %10s %10s %8s  %s\n", "kernel", "shape", "elements", "unwritten",
         "rel_err", "bound", "result");
}

#define STATUS_OK(call)                                                                 \
  do {                                                                                  \
    int st_ = (call);                                                                   \
    if (st_ != SB_K_CUDA_OK) {                                                          \
      fprintf(stderr, "%s returned %d: %s\n", #call, st_, sb_k_cuda_last_error());      \
      return 1;                                                                         \
    }                                                                                   \
  } while (0)

/* ---- behaviours ---------------------------------------------------------------- */

static int check_pre_process(void)
{
  static const int64_t shapes[][3] = {{1, 1, 1}, {2, 31, 29}, {3, 224, 224}};
  int bad = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int64_t n = shapes[s][0], h = shapes[s][1], w = shapes[s][2];
    size_t count = (size_t)(n * h * w * 3);
    float *in = host_random(count, 0, 255), *ref = malloc(count * sizeof *ref);
    sb_k_pre_process_3ch(in, n, h, w, ref, 1);
    float *din = dev_upload(in, count), *dout = dev_nan(count);
    if (!din || !dout)
      return 1;
    STATUS_OK(sb_k_cuda_pre_process_3ch(din, n, h, w, dout, NULL));
    float *got = dev_download(dout, count);
    if (!got)
      return 1;
    char shape[64];
    snprintf(shape, sizeof shape, "n=%lld h=%lld w=%lld", (long long)n, (long long)h,
             (long long)w);
    bad |= compare("pre_process_3ch", shape, got, ref, count, 0);
    free(in), free(ref), free(got), cudaFree(din), cudaFree(dout);
  }
  return bad;
}

typedef struct conv_case {
  int64_t n, cin, h, w, cout, k, stride, pad;
  int bias, residual, relu;
} conv_case_t;

static int check_conv2d(void)
{
  static const conv_case_t cases[] = {
      {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},       /* smallest */
      {1, 3, 17, 19, 5, 3, 1, 1, 1, 0, 1},     /* odd 3x3, pad 1 */
      {2, 3, 45, 43, 64, 7, 2, 3, 1, 0, 1},    /* ResNet stem shape class */
      {2, 16, 9, 9, 33, 1, 1, 0, 1, 1, 1},     /* 1x1 + residual + relu */
      {1, 64, 15, 15, 130, 1, 2, 0, 1, 0, 0},  /* 1x1 stride 2 (downsample) */
      {3, 32, 14, 13, 70, 3, 2, 1, 0, 1, 0},   /* 3x3 stride 2, residual, no bias */
      {2, 70, 7, 7, 65, 3, 1, 1, 1, 1, 1},     /* K = 630, no multiple of the tile */
      {1, 512, 7, 7, 64, 3, 1, 1, 1, 1, 1},    /* K = 4608 (ResNet's deepest 3x3) */
      {4, 8, 10, 12, 16, 5, 3, 2, 1, 0, 1},    /* 5x5 stride 3, batch 4 */
  };
  int bad = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const conv_case_t *k = &cases[c];
    sb_conv2d_t p = {.n = k->n, .cin = k->cin, .h = k->h, .w = k->w, .cout = k->cout,
                     .kh = k->k, .kw = k->k, .stride = k->stride, .pad = k->pad, .relu = k->relu};
    int64_t oh = sb_k_out_dim(k->h, k->k, k->stride, k->pad);
    int64_t ow = sb_k_out_dim(k->w, k->k, k->stride, k->pad);
    size_t nin = (size_t)(k->n * k->cin * k->h * k->w), nw = (size_t)(k->cout * k->cin * k->k * k->k);
    size_t nout = (size_t)(k->n * k->cout * oh * ow);
    float *in = host_random(nin, -1, 1), *wt = host_random(nw, -1, 1);
    float *bias = k->bias ? host_random((size_t)k->cout, -1, 1) : NULL;
    float *res = k->residual ? host_random(nout, -1, 1) : NULL;
    float *ref = malloc(nout * sizeof *ref);
    p.weight = wt, p.bias = bias, p.residual = res;
    size_t wsb = sb_k_conv2d_workspace_bytes(&p, 1);
    void *ws = malloc(wsb ? wsb : 1);
    if (sb_k_conv2d(&p, in, ref, ws, wsb, 1) != 0) {
      fprintf(stderr, "CPU reference refused case %zu\n", c);
      return 1;
    }
    float *din = dev_upload(in, nin), *dw = dev_upload(wt, nw), *dout = dev_nan(nout);
    float *db = bias ? dev_upload(bias, (size_t)k->cout) : NULL;
    float *dr = res ? dev_upload(res, nout) : NULL;
    if (!din || !dw || !dout || (bias && !db) || (res && !dr))
      return 1;
    sb_conv2d_t dp = p;
    dp.weight = dw, dp.bias = db, dp.residual = dr;
    char shape[96];
    snprintf(shape, sizeof shape, "n%lld c%lld %lldx%lld o%lld k%lld s%lld p%lld%s%s%s",
             (long long)k->n, (long long)k->cin, (long long)k->h, (long long)k->w,
             (long long)k->cout, (long long)k->k, (long long)k->stride, (long long)k->pad,
             k->bias ? " +b" : "", k->residual ? " +r" : "", k->relu ? " relu" : "");
    static const struct {
      sb_k_cuda_precision_t precision;
      const char *name;
      double bound;
    } precisions[] = {{SB_K_CUDA_FP32, "conv2d fp32", 1e-4}, {SB_K_CUDA_TF32, "conv2d tf32", 5e-3}};
    for (size_t q = 0; q < 2; q++) {
      float *nan = dev_nan(nout);
      if (!nan || !cuda_ok(cudaMemcpy(dout, nan, nout * sizeof(float), cudaMemcpyDeviceToDevice),
                           "cudaMemcpy D2D"))
        return 1;
      cudaFree(nan);
      STATUS_OK(sb_k_cuda_conv2d(&dp, din, dout, precisions[q].precision, NULL));
      float *got = dev_download(dout, nout);
      if (!got)
        return 1;
      bad |= compare(precisions[q].name, shape, got, ref, nout, precisions[q].bound);
      free(got);
    }
    free(in), free(wt), free(bias), free(res), free(ref), free(ws);
    cudaFree(din), cudaFree(dw), cudaFree(dout), cudaFree(db), cudaFree(dr);
  }
  return bad;
}

static int check_maxpool2d(void)
{
  static const int64_t cases[][7] = {
      /* n, c, h, w, k, s, pad */
      {2, 64, 112, 112, 3, 2, 1}, /* ResNet */
      {1, 3, 17, 15, 2, 2, 0},    {3, 5, 9, 11, 3, 1, 1}, {1, 1, 1, 1, 1, 1, 0},
      {2, 4, 8, 7, 3, 3, 0},
  };
  int bad = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const int64_t *q = cases[c];
    int64_t oh = sb_k_out_dim(q[2], q[4], q[5], q[6]), ow = sb_k_out_dim(q[3], q[4], q[5], q[6]);
    size_t nin = (size_t)(q[0] * q[1] * q[2] * q[3]), nout = (size_t)(q[0] * q[1] * oh * ow);
    float *in = host_random(nin, -1, 1), *ref = malloc(nout * sizeof *ref);
    if (sb_k_maxpool2d(in, q[0], q[1], q[2], q[3], q[4], q[5], q[6], ref, 1) != 0)
      return 1;
    float *din = dev_upload(in, nin), *dout = dev_nan(nout);
    if (!din || !dout)
      return 1;
    STATUS_OK(sb_k_cuda_maxpool2d(din, q[0], q[1], q[2], q[3], q[4], q[5], q[6], dout, NULL));
    float *got = dev_download(dout, nout);
    if (!got)
      return 1;
    char shape[96];
    snprintf(shape, sizeof shape, "n%lld c%lld %lldx%lld k%lld s%lld p%lld", (long long)q[0],
             (long long)q[1], (long long)q[2], (long long)q[3], (long long)q[4], (long long)q[5],
             (long long)q[6]);
    bad |= compare("maxpool2d", shape, got, ref, nout, 0);
    free(in), free(ref), free(got), cudaFree(din), cudaFree(dout);
  }
  return bad;
}

static int check_global_avgpool(void)
{
  static const int64_t cases[][4] = {{2, 2048, 7, 7}, {3, 5, 13, 11}, {1, 1, 1, 1}, {1, 7, 64, 65}};
  int bad = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const int64_t *q = cases[c];
    size_t nin = (size_t)(q[0] * q[1] * q[2] * q[3]), nout = (size_t)(q[0] * q[1]);
    float *in = host_random(nin, -1, 1), *ref = malloc(nout * sizeof *ref);
    sb_k_global_avgpool(in, q[0], q[1], q[2], q[3], ref, 1);
    float *din = dev_upload(in, nin), *dout = dev_nan(nout);
    if (!din || !dout)
      return 1;
    STATUS_OK(sb_k_cuda_global_avgpool(din, q[0], q[1], q[2], q[3], dout, NULL));
    float *got = dev_download(dout, nout);
    if (!got)
      return 1;
    char shape[64];
    snprintf(shape, sizeof shape, "n%lld c%lld %lldx%lld", (long long)q[0], (long long)q[1],
             (long long)q[2], (long long)q[3]);
    bad |= compare("global_avgpool", shape, got, ref, nout, 1e-5);
    free(in), free(ref), free(got), cudaFree(din), cudaFree(dout);
  }
  return bad;
}

static int check_linear(void)
{
  static const int64_t cases[][4] = {/* n, k, m, bias */
                                     {3, 2048, 1000, 1}, {1, 37, 5, 0}, {5, 1, 3, 1}, {2, 33, 65, 1}};
  int bad = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const int64_t *q = cases[c];
    int64_t n = q[0], k = q[1], m = q[2];
    float *in = host_random((size_t)(n * k), -1, 1), *wt = host_random((size_t)(m * k), -1, 1);
    float *bias = q[3] ? host_random((size_t)m, -1, 1) : NULL;
    float *ref = malloc((size_t)(n * m) * sizeof *ref);
    if (sb_k_linear(in, n, k, wt, bias, m, ref, 1) != 0)
      return 1;
    float *din = dev_upload(in, (size_t)(n * k)), *dw = dev_upload(wt, (size_t)(m * k));
    float *db = bias ? dev_upload(bias, (size_t)m) : NULL, *dout = dev_nan((size_t)(n * m));
    if (!din || !dw || !dout || (bias && !db))
      return 1;
    STATUS_OK(sb_k_cuda_linear(din, n, k, dw, db, m, dout, NULL));
    float *got = dev_download(dout, (size_t)(n * m));
    if (!got)
      return 1;
    char shape[64];
    snprintf(shape, sizeof shape, "n%lld k%lld m%lld%s", (long long)n, (long long)k, (long long)m,
             bias ? " +b" : "");
    bad |= compare("linear", shape, got, ref, (size_t)(n * m), 1e-4);
    free(in), free(wt), free(bias), free(ref), free(got);
    cudaFree(din), cudaFree(dw), cudaFree(db), cudaFree(dout);
  }
  return bad;
}

/* add (into a fresh buffer, then in place on a), relu (in place). In place
 * there is no NaN fill: the comparison alone checks those writes. */
static int check_add_relu(void)
{
  static const size_t counts[] = {1, 100003, 802816};
  int bad = 0;
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    size_t count = counts[c];
    float *a = host_random(count, -1, 1), *b = host_random(count, -1, 1);
    float *ref = malloc(count * sizeof *ref), *ref2 = malloc(count * sizeof *ref2);
    char shape[64];
    for (int relu = 0; relu <= 1; relu++) {
      sb_k_add(a, b, ref, count, relu, 1);
      float *da = dev_upload(a, count), *db = dev_upload(b, count), *dout = dev_nan(count);
      if (!da || !db || !dout)
        return 1;
      STATUS_OK(sb_k_cuda_add(da, db, dout, count, relu, NULL));
      float *got = dev_download(dout, count);
      if (!got)
        return 1;
      snprintf(shape, sizeof shape, "count=%zu%s", count, relu ? " relu" : "");
      bad |= compare("add", shape, got, ref, count, 0);
      free(got);
      STATUS_OK(sb_k_cuda_add(da, db, da, count, relu, NULL)); /* out aliases a */
      if (!(got = dev_download(da, count)))
        return 1;
      snprintf(shape, sizeof shape, "count=%zu%s, out=a", count, relu ? " relu" : "");
      bad |= compare("add", shape, got, ref, count, 0);
      free(got), cudaFree(da), cudaFree(db), cudaFree(dout);
    }
    memcpy(ref2, a, count * sizeof *ref2);
    sb_k_relu(ref2, count, 1);
    float *dx = dev_upload(a, count);
    if (!dx)
      return 1;
    STATUS_OK(sb_k_cuda_relu(dx, count, NULL));
    float *got = dev_download(dx, count);
    if (!got)
      return 1;
    snprintf(shape, sizeof shape, "count=%zu, in place", count);
    bad |= compare("relu", shape, got, ref2, count, 0);
    free(a), free(b), free(ref), free(ref2), free(got), cudaFree(dx);
  }
  return bad;
}

/* Needs no GPU: the device count answers, bad shapes are refused with -1 and
 * a message before anything touches the device, TF32 is refused (not built). */
static int check_api(void)
{
  int n = -1, bad = 0;
  int st = sb_k_cuda_device_count(&n);
  printf("# sb_k_cuda_device_count: status %d, %d device(s)%s%s\n", st, n,
         st ? ": " : "", st ? sb_k_cuda_last_error() : "");
  bad |= st != SB_K_CUDA_OK || n < 0;
  float dummy = 0;
  sb_conv2d_t p = {.n = 1, .cin = 1, .h = 2, .w = 2, .cout = 1, .kh = 3, .kw = 3, .stride = 1,
                   .pad = 0, .weight = &dummy};
  st = sb_k_cuda_conv2d(&p, &dummy, &dummy, SB_K_CUDA_FP32, NULL); /* 3x3 on 2x2, no pad */
  printf("# conv2d 3x3 on 2x2 unpadded: %d (%s)\n", st, sb_k_cuda_last_error());
  bad |= st != SB_K_CUDA_EINVAL || !*sb_k_cuda_last_error();
  p.h = p.w = 3;
  st = sb_k_cuda_conv2d(&p, &dummy, &dummy, (sb_k_cuda_precision_t)7, NULL);
  printf("# conv2d precision 7: %d (%s)\n", st, sb_k_cuda_last_error());
  bad |= st != SB_K_CUDA_EINVAL;
  st = sb_k_cuda_maxpool2d(&dummy, 1, 1, 4, 4, 3, 2, 2, &dummy, NULL); /* 2*pad > k */
  printf("# maxpool2d pad 2 with k 3: %d (%s)\n", st, sb_k_cuda_last_error());
  bad |= st != SB_K_CUDA_EINVAL;
  st = sb_k_cuda_linear(&dummy, 0, 1, &dummy, NULL, 1, &dummy, NULL);
  bad |= st != SB_K_CUDA_EINVAL;
  bad |= sb_k_cuda_add(NULL, NULL, NULL, 0, 0, NULL) != SB_K_CUDA_OK; /* empty: nothing to do */
  printf("%s\n", bad ? "FAIL" : "ok");
  return bad;
}

static const struct {
  const char *name;
  int (*run)(void);
  int needs_gpu;
} behaviours[] = {
    {"api", check_api, 0},
    {"pre_process_3ch", check_pre_process, 1},
    {"conv2d", check_conv2d, 1},
    {"maxpool2d", check_maxpool2d, 1},
    {"global_avgpool", check_global_avgpool, 1},
    {"linear", check_linear, 1},
    {"add_relu", check_add_relu, 1},
};

int main(int argc, char **argv)
{
  const char *seed = getenv("SB_SEED");
  rng_state = seed && *seed ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL) * 2654435761u;
  if (!rng_state)
    rng_state = 1;
  printf("# seed %llu (SB_SEED=%llu repeats this run)\n", (unsigned long long)rng_state,
         (unsigned long long)rng_state);
  int bad = 0, ran = 0, skipped = 0, gpus = -1;
  for (size_t b = 0; b < sizeof behaviours / sizeof behaviours[0]; b++) {
    if (argc > 1 && strcmp(argv[1], "all") && strcmp(argv[1], behaviours[b].name))
      continue;
    ran++;
    if (behaviours[b].needs_gpu) {
      if (gpus < 0) {
        if (sb_k_cuda_device_count(&gpus) != SB_K_CUDA_OK) {
          fprintf(stderr, "cannot count CUDA devices: %s\n", sb_k_cuda_last_error());
          return 1;
        }
        if (gpus > 0) {
          struct cudaDeviceProp prop;
          if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
            printf("# device 0: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
          header();
        }
      }
      if (gpus == 0) {
        fprintf(stderr, "SKIPPED %s: no CUDA device visible (no GPU or no driver)\n",
                behaviours[b].name);
        skipped++;
        continue;
      }
    }
    bad |= behaviours[b].run();
  }
  if (!ran) {
    fprintf(stderr, "usage: %s [all|api|pre_process_3ch|conv2d|maxpool2d|global_avgpool|linear|add_relu]\n",
            argv[0]);
    return 2;
  }
  /* A run that skipped a GPU behaviour says so (77), even if "api" passed. */
  return bad ? 1 : skipped ? SKIP : 0;
}
