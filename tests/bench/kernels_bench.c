/* Kernel benchmark (not a ctest test): GFLOP/s of sgemm and of conv2d on
 * ResNet-50 layer shapes, beside the machine's FMA peak measured the same way.
 *
 *   kernels_bench [THREADS...]        (default: 1 2)
 *   kernels_bench --resnet50 BATCH THREADS
 *
 * The second form times every convolution of ResNet-50's forward (224x224,
 * torchvision v1.5 shapes) at that batch, each distinct shape once, and
 * prints per shape: how many times the forward runs it, the median ms per
 * call, GFLOP/s and % of the FMA peak, and its share of the summed conv
 * time (calls x ms) — where the forward's time goes, layer by layer. The
 * weights are packed once beforehand, as the model does at load, and the
 * 3x3 stride-1 layers run as Winograd F(2x2,3x3) as in the model
 * (SB_KERNELS_WINOGRAD=0: direct). Flops are always counted as for the direct
 * convolution, so a Winograd layer's GFLOP/s and "% peak" are effective
 * figures (up to 2.25x what its multiplications alone could reach).
 * SB_BENCH_LAYER=TEXT keeps only the layers whose name contains TEXT.
 *
 * Each case is a row of data: its flops follow from its shape, once. A case
 * runs one untimed call, then SB_BENCH_REPEATS (default 7) timed batches of
 * calls, each batch at least 50 ms; the table shows the median batch and the
 * min..max spread. The peak is a loop of independent FMAs on registers (the
 * ISA the GEMM picks: AVX2+FMA where the CPU has it), so "% peak" is what the
 * kernel reaches of what this core can issue, not of a datasheet figure.
 * Lines that are not data start with '#'. SB_BENCH_CLOCK=cpu times with the
 * process's CPU time instead of the wall clock (see now()).
 */
#include "sb_kernels.h"
/* The pre-packed convolution the model runs (kernels/sb_gemm.h); building
 * with -DSB_BENCH_PLAIN_CONV times sb_k_conv2d alone (for a kernel library
 * without it). */
#ifndef SB_BENCH_PLAIN_CONV
#include "sb_gemm.h"
#include "sb_winograd.h"
#endif

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BENCH_X86 1
#else
#define BENCH_X86 0
#endif

/* SB_BENCH_CLOCK=cpu: time is the process's CPU time divided by the thread
 * count instead of wall time, so that on a shared machine the periods this
 * process waits for a core do not count (a 1-thread run then measures the
 * kernel's own work; with more threads, idle spinning counts). */
static int cpu_clock = -1, clock_threads = 1;

static double now(void)
{
  struct timespec ts;
  if (cpu_clock < 0) {
    const char *c = getenv("SB_BENCH_CLOCK");
    cpu_clock = c && !strcmp(c, "cpu");
  }
  if (cpu_clock) {
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ((double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec) / clock_threads;
  }
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static float *random_floats(size_t count, unsigned seed)
{
  float *p = malloc(count * sizeof(float));
  if (!p) {
    fprintf(stderr, "kernels_bench: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < count; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (float)(seed >> 8) * (1.0f / 16777216.0f) - 0.5f;
  }
  return p;
}

/* ---- peak ------------------------------------------------------------------- */

/* FMA_CHAINS independent chains of LANES-wide FMAs: enough to cover the FMA
 * latency × issue width of current cores. Returns the flops done. */
#define LANES 8
#define FMA_CHAINS 12
#define FMA_BODY(OP)                                                            \
  float acc[FMA_CHAINS * LANES];                                                \
  for (int i = 0; i < FMA_CHAINS * LANES; i++)                                  \
    acc[i] = (float)i * 1e-3f;                                                  \
  for (long it = 0; it < iters; it++) {                                         \
    _Pragma("GCC unroll 12") for (int c = 0; c < FMA_CHAINS; c++) {             \
      _Pragma("omp simd") for (int l = 0; l < LANES; l++) acc[c * LANES + l] =  \
          OP(acc[c * LANES + l], m, a);                                         \
    }                                                                           \
  }                                                                             \
  float s = 0.0f;                                                               \
  for (int i = 0; i < FMA_CHAINS * LANES; i++)                                  \
    s += acc[i];                                                                \
  *sink = s;                                                                    \
  return 2.0 * FMA_CHAINS * LANES * (double)iters;

/* Without FMA the baseline ISA issues a multiply and an add: still 2 flops. */
#define MUL_ADD(x, y, z) ((x) * (y) + (z))

static double fma_loop_generic(long iters, float m, float a, float *sink)
{
  FMA_BODY(MUL_ADD)
}

#if BENCH_X86
__attribute__((target("avx2,fma"))) static double fma_loop_avx2(long iters, float m, float a,
                                                                 float *sink)
{
  FMA_BODY(__builtin_fmaf)
}
#endif

static int use_avx2(void)
{
#if BENCH_X86
  const char *isa = getenv("SB_KERNELS_ISA");
  if (isa && strcmp(isa, "generic") == 0)
    return 0;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

/* ---- cases ------------------------------------------------------------------- */

typedef struct bench_case {
  const char *name;
  const char *kind; /* "peak", "sgemm", "conv2d", "linear" */
  int64_t a, b, c;  /* sgemm: M N K; linear: n k m */
  sb_conv2d_t conv; /* conv2d: shape (pointers filled in at run time) */
} bench_case_t;

#define CONV(N_, CIN, H, COUT, K, S, P)                                              \
  {.n = N_, .cin = CIN, .h = H, .w = H, .cout = COUT, .kh = K, .kw = K, .stride = S, \
   .pad = P}

static const bench_case_t cases[] = {
    {"fma loop (peak)", "peak", 0, 0, 0, {0}},
    {"sgemm 512x512x512", "sgemm", 512, 512, 512, {0}},
    {"sgemm 1024x1024x1024", "sgemm", 1024, 1024, 1024, {0}},
    {"conv1 7x7/2 3->64 224", "conv2d", 0, 0, 0, CONV(1, 3, 224, 64, 7, 2, 3)},
    {"l1 3x3 64->64 56", "conv2d", 0, 0, 0, CONV(1, 64, 56, 64, 3, 1, 1)},
    {"l1 1x1 256->64 56", "conv2d", 0, 0, 0, CONV(1, 256, 56, 64, 1, 1, 0)},
    {"l1 1x1 64->256 56", "conv2d", 0, 0, 0, CONV(1, 64, 56, 256, 1, 1, 0)},
    {"l2 3x3 128->128 28", "conv2d", 0, 0, 0, CONV(1, 128, 28, 128, 3, 1, 1)},
    {"l3 3x3 256->256 14", "conv2d", 0, 0, 0, CONV(1, 256, 14, 256, 3, 1, 1)},
    {"l4 3x3 512->512 7", "conv2d", 0, 0, 0, CONV(1, 512, 7, 512, 3, 1, 1)},
    {"l4 ds 1x1/2 1024->2048 14", "conv2d", 0, 0, 0, CONV(1, 1024, 14, 2048, 1, 2, 0)},
    {"l1 3x3 64->64 56 batch 8", "conv2d", 0, 0, 0, CONV(8, 64, 56, 64, 3, 1, 1)},
    {"fc 2048->1000 batch 1", "linear", 1, 2048, 1000, {0}},
    {"fc 2048->1000 batch 32", "linear", 32, 2048, 1000, {0}},
};

/* Buffers of one case, set up once outside the timing. */
typedef struct bench_run {
  const bench_case_t *bc;
  int threads;
  float *x, *y, *z, *bias, *res;
  int prepacked; /* conv2d: weight packed once in setup, as sb_resnet does */
  float *packed;
  float *wino;   /* prepacked 3x3 stride-1 conv: Winograd weight, as sb_resnet does */
  void *ws;
  size_t ws_bytes;
  sb_conv2d_t conv;
  float sink;
} bench_run_t;

static double case_flops(const bench_case_t *bc)
{
  if (!strcmp(bc->kind, "sgemm"))
    return 2.0 * (double)bc->a * (double)bc->b * (double)bc->c;
  if (!strcmp(bc->kind, "linear"))
    return 2.0 * (double)bc->a * (double)bc->b * (double)bc->c;
  if (!strcmp(bc->kind, "conv2d")) {
    const sb_conv2d_t *p = &bc->conv;
    const double oh = (double)sb_k_out_dim(p->h, p->kh, p->stride, p->pad);
    const double ow = (double)sb_k_out_dim(p->w, p->kw, p->stride, p->pad);
    return 2.0 * (double)p->n * (double)p->cout * oh * ow * (double)p->cin * (double)p->kh *
           (double)p->kw;
  }
  return 0.0;
}

static void setup(bench_run_t *r)
{
  const bench_case_t *bc = r->bc;
  if (!strcmp(bc->kind, "sgemm")) {
    r->x = random_floats((size_t)(bc->a * bc->c), 1);
    r->y = random_floats((size_t)(bc->c * bc->b), 2);
    r->z = random_floats((size_t)(bc->a * bc->b), 3);
    r->ws_bytes = sb_k_sgemm_workspace_bytes(r->threads);
    r->ws = malloc(r->ws_bytes);
  } else if (!strcmp(bc->kind, "linear")) {
    r->x = random_floats((size_t)(bc->a * bc->b), 1);
    r->y = random_floats((size_t)(bc->c * bc->b), 2);
    r->bias = random_floats((size_t)bc->c, 3);
    r->z = random_floats((size_t)(bc->a * bc->c), 4);
  } else if (!strcmp(bc->kind, "conv2d")) {
    r->conv = bc->conv;
    sb_conv2d_t *p = &r->conv;
    const int64_t oh = sb_k_out_dim(p->h, p->kh, p->stride, p->pad);
    const int64_t ow = sb_k_out_dim(p->w, p->kw, p->stride, p->pad);
    r->x = random_floats((size_t)(p->n * p->cin * p->h * p->w), 1);
    r->y = random_floats((size_t)(p->cout * p->cin * p->kh * p->kw), 2);
    r->z = random_floats((size_t)(p->n * p->cout * oh * ow), 3);
    r->bias = random_floats((size_t)p->cout, 4);
    p->weight = r->y;
    p->bias = r->bias;
    p->relu = 1; /* the usual epilogue: bias + relu */
    r->ws_bytes = sb_k_conv2d_workspace_bytes(p, r->threads);
#ifndef SB_BENCH_PLAIN_CONV
    if (r->prepacked && sb_wino_applies(p)) {
      r->ws_bytes = sb_wino_workspace_bytes(p, r->threads);
      r->wino = malloc(sb_wino_weight_floats(p->cout, p->cin) * sizeof(float));
      if (!r->wino || sb_wino_pack_weight(p->cout, p->cin, p->weight, r->wino) != 0) {
        fprintf(stderr, "kernels_bench: out of memory\n");
        exit(1);
      }
    } else if (r->prepacked) {
      const int64_t k = p->cin * p->kh * p->kw;
      r->packed = malloc(sb_gemm_packed_a_floats(p->cout, k) * sizeof(float));
      if (!r->packed) {
        fprintf(stderr, "kernels_bench: out of memory\n");
        exit(1);
      }
      sb_gemm_pack_a(p->cout, k, p->weight, k, 1, r->packed);
    }
#endif
    r->ws = malloc(r->ws_bytes);
  }
}

static void teardown(bench_run_t *r)
{
  free(r->x);
  free(r->y);
  free(r->z);
  free(r->bias);
  free(r->res);
  free(r->packed);
  free(r->wino);
  free(r->ws);
}

/* One call; returns its flops. */
static double run_once(bench_run_t *r)
{
  const bench_case_t *bc = r->bc;
  clock_threads = r->threads;
  if (!strcmp(bc->kind, "peak")) {
    const long iters = 1L << 20;
    double flops = 0.0;
    int avx2 = use_avx2();
#pragma omp parallel num_threads(r->threads) reduction(+ : flops)
    {
      float sink;
#if BENCH_X86
      flops += avx2 ? fma_loop_avx2(iters, 0.9999f, 1e-4f, &sink)
                    : fma_loop_generic(iters, 0.9999f, 1e-4f, &sink);
#else
      (void)avx2;
      flops += fma_loop_generic(iters, 0.9999f, 1e-4f, &sink);
#endif
      if (sink == 12345.0f)
        r->sink = sink;
    }
    return flops;
  }
  if (!strcmp(bc->kind, "sgemm")) {
    sb_k_sgemm(bc->a, bc->b, bc->c, r->x, bc->c, r->y, bc->b, r->z, bc->b, 0, r->ws, r->threads);
  } else if (!strcmp(bc->kind, "linear")) {
    if (sb_k_linear(r->x, bc->a, bc->b, r->y, r->bias, bc->c, r->z, r->threads) != 0) {
      fprintf(stderr, "kernels_bench: linear refused %s\n", bc->name);
      exit(1);
    }
  } else if (r->wino) {
#ifndef SB_BENCH_PLAIN_CONV
    if (sb_conv2d_winograd(&r->conv, r->wino, r->x, r->z, r->ws, r->ws_bytes, r->threads) != 0) {
      fprintf(stderr, "kernels_bench: winograd conv2d refused %s\n", bc->name);
      exit(1);
    }
#endif
  } else if (r->packed) {
#ifndef SB_BENCH_PLAIN_CONV
    if (sb_conv2d_prepacked(&r->conv, r->packed, r->x, r->z, r->ws, r->ws_bytes, r->threads) !=
        0) {
      fprintf(stderr, "kernels_bench: conv2d refused %s\n", bc->name);
      exit(1);
    }
#endif
  } else if (sb_k_conv2d(&r->conv, r->x, r->z, r->ws, r->ws_bytes, r->threads) != 0) {
    fprintf(stderr, "kernels_bench: conv2d refused %s\n", bc->name);
    exit(1);
  }
  return case_flops(bc);
}

#define MAX_REPEATS 31

/* Median, min and max GFLOP/s over `repeats` batches of >= 50 ms. */
static void measure(bench_run_t *r, int repeats, double *med, double *lo, double *hi)
{
  double g[MAX_REPEATS];
  run_once(r); /* warm-up: page faults, caches, thread pool */
  for (int k = 0; k < repeats; k++) {
    double flops = 0.0, t0 = now(), t;
    do {
      flops += run_once(r);
      t = now() - t0;
    } while (t < 0.05);
    g[k] = flops / t * 1e-9;
  }
  qsort(g, (size_t)repeats, sizeof g[0], cmp_double);
  *med = g[repeats / 2];
  *lo = g[0];
  *hi = g[repeats - 1];
}

static void cpu_model(char *buf, size_t len)
{
  snprintf(buf, len, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "model name", 10)) {
      const char *v = strchr(line, ':');
      if (v) {
        v++;
        while (*v == ' ')
          v++;
        snprintf(buf, len, "%s", v);
        buf[strcspn(buf, "\n")] = '\0';
      }
      break;
    }
  }
  fclose(f);
}

/* ---- ResNet-50, layer by layer ------------------------------------------------ */

typedef struct rn_shape {
  const char *name;
  int count; /* times the forward runs it */
  int64_t cin, h, cout, k, s, p;
} rn_shape_t;

/* Every convolution of torchvision's resnet50 at 224x224, by distinct shape. */
static const rn_shape_t rn50[] = {
    {"conv1 7x7/2 3->64 224", 1, 3, 224, 64, 7, 2, 3},
    {"l1.0 1x1 64->64 56", 1, 64, 56, 64, 1, 1, 0},
    {"l1 3x3 64->64 56", 3, 64, 56, 64, 3, 1, 1},
    {"l1 1x1 64->256 56 (+ds)", 4, 64, 56, 256, 1, 1, 0},
    {"l1 1x1 256->64 56", 2, 256, 56, 64, 1, 1, 0},
    {"l2.0 1x1 256->128 56", 1, 256, 56, 128, 1, 1, 0},
    {"l2.0 3x3/2 128->128 56", 1, 128, 56, 128, 3, 2, 1},
    {"l2.0 ds 1x1/2 256->512 56", 1, 256, 56, 512, 1, 2, 0},
    {"l2 1x1 128->512 28", 4, 128, 28, 512, 1, 1, 0},
    {"l2 1x1 512->128 28", 3, 512, 28, 128, 1, 1, 0},
    {"l2 3x3 128->128 28", 3, 128, 28, 128, 3, 1, 1},
    {"l3.0 1x1 512->256 28", 1, 512, 28, 256, 1, 1, 0},
    {"l3.0 3x3/2 256->256 28", 1, 256, 28, 256, 3, 2, 1},
    {"l3.0 ds 1x1/2 512->1024 28", 1, 512, 28, 1024, 1, 2, 0},
    {"l3 1x1 256->1024 14", 6, 256, 14, 1024, 1, 1, 0},
    {"l3 1x1 1024->256 14", 5, 1024, 14, 256, 1, 1, 0},
    {"l3 3x3 256->256 14", 5, 256, 14, 256, 3, 1, 1},
    {"l4.0 1x1 1024->512 14", 1, 1024, 14, 512, 1, 1, 0},
    {"l4.0 3x3/2 512->512 14", 1, 512, 14, 512, 3, 2, 1},
    {"l4.0 ds 1x1/2 1024->2048 14", 1, 1024, 14, 2048, 1, 2, 0},
    {"l4 1x1 512->2048 7", 3, 512, 7, 2048, 1, 1, 0},
    {"l4 1x1 2048->512 7", 2, 2048, 7, 512, 1, 1, 0},
    {"l4 3x3 512->512 7", 2, 512, 7, 512, 3, 1, 1},
};
#define RN50_SHAPES (sizeof rn50 / sizeof rn50[0])

static int resnet50_layers(int64_t batch, int threads, int repeats)
{
  double peak = 0.0, lo, hi;
  {
    bench_run_t r;
    memset(&r, 0, sizeof r);
    r.bc = &cases[0];
    r.threads = threads;
    measure(&r, repeats, &peak, &lo, &hi);
  }
  printf("# resnet50 convolutions at batch %lld, %d thread(s); peak %.1f GFLOP/s; bias + relu%s%s\n",
         (long long)batch, threads, peak, cpu_clock ? "; CPU time" : "",
#ifdef SB_BENCH_PLAIN_CONV
         "; sb_k_conv2d"
#else
         "; pre-packed weights"
#endif
  );
  printf("%-29s %5s %9s %9s %6s %7s %7s\n", "layer", "calls", "ms/call", "GFLOP/s", "%peak",
         "ms", "share");
  /* SB_BENCH_LAYER=TEXT: only the layers whose name contains TEXT. */
  const char *only = getenv("SB_BENCH_LAYER");
  double ms[RN50_SHAPES], gf[RN50_SHAPES], total = 0.0, flops = 0.0;
  for (size_t i = 0; i < RN50_SHAPES; i++) {
    const rn_shape_t *s = &rn50[i];
    ms[i] = gf[i] = 0.0;
    if (only && !strstr(s->name, only))
      continue;
    bench_case_t bc = {.name = s->name, .kind = "conv2d"};
    bc.conv = (sb_conv2d_t)CONV(batch, s->cin, s->h, s->cout, s->k, s->s, s->p);
    bench_run_t r;
    memset(&r, 0, sizeof r);
    r.bc = &bc;
    r.threads = threads;
    r.prepacked = 1;
    setup(&r);
    measure(&r, repeats, &gf[i], &lo, &hi);
    teardown(&r);
    ms[i] = case_flops(&bc) / (gf[i] * 1e9) * 1e3;
    total += ms[i] * s->count;
    flops += case_flops(&bc) * s->count;
  }
  for (size_t i = 0; i < RN50_SHAPES; i++)
    if (gf[i] > 0.0)
      printf("%-29s %5d %9.3f %9.1f %5.0f%% %7.2f %6.1f%%\n", rn50[i].name, rn50[i].count,
             ms[i], gf[i], 100.0 * gf[i] / peak, ms[i] * rn50[i].count,
             100.0 * ms[i] * rn50[i].count / total);
  printf("%-29s %5s %9s %9.1f %5.0f%% %7.2f %6s\n", "all convolutions", "", "",
         flops / (total * 1e-3) * 1e-9, 100.0 * flops / (total * 1e-3) * 1e-9 / peak, total,
         "100%");
  return 0;
}

int main(int argc, char **argv)
{
  int repeats = 7;
  const char *rep = getenv("SB_BENCH_REPEATS");
  if (rep && atoi(rep) > 0)
    repeats = atoi(rep) < MAX_REPEATS ? atoi(rep) : MAX_REPEATS;
  if (argc > 1 && !strcmp(argv[1], "--resnet50")) {
    if (argc != 4 || atoll(argv[2]) < 1 || atoi(argv[3]) < 1) {
      fprintf(stderr, "usage: %s --resnet50 BATCH THREADS\n", argv[0]);
      return 2;
    }
    return resnet50_layers(atoll(argv[2]), atoi(argv[3]), repeats);
  }
  int threads[8], nthreads = 0;
  for (int a = 1; a < argc && nthreads < 8; a++) {
    threads[nthreads] = atoi(argv[a]);
    if (threads[nthreads] < 1) {
      fprintf(stderr, "usage: %s [THREADS...]   (default: 1 2)\n", argv[0]);
      return 2;
    }
    nthreads++;
  }
  if (!nthreads) {
    threads[0] = 1;
    threads[1] = 2;
    nthreads = 2;
  }

  char cpu[256];
  cpu_model(cpu, sizeof cpu);
  time_t t = time(NULL);
  char date[32];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", gmtime(&t));
  printf("# kernels_bench: CPU kernels of sb_kernels.h, %s UTC\n", date);
  printf("# cpu: %s, %d logical CPUs online to OpenMP\n", cpu, omp_get_num_procs());
  printf("# isa: %s (SB_KERNELS_ISA=%s)\n", use_avx2() ? "avx2+fma" : "generic",
         getenv("SB_KERNELS_ISA") ? getenv("SB_KERNELS_ISA") : "unset");
#if defined(__VERSION__)
  printf("# compiler: %s\n", __VERSION__);
#endif
  printf("# %d batches of >= 50 ms per case; GFLOP/s of the median batch, [min..max]\n",
         repeats);
  printf("# conv2d: batch 1 unless stated, bias + relu epilogue, flops = 2*n*cout*oh*ow*cin*kh*kw\n");
  printf("%-27s %7s %10s %10s %7s %21s\n", "case", "threads", "MFLOP", "GFLOP/s", "%peak",
         "min..max GFLOP/s");
  printf("%-27s %7s %10s %10s %7s %21s\n", "", "", "per call", "median", "", "");

  double peak[8] = {0}, gemm512[8] = {0};
  for (int ti = 0; ti < nthreads; ti++) {
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      bench_run_t r;
      memset(&r, 0, sizeof r);
      r.bc = &cases[c];
      r.threads = threads[ti];
      setup(&r);
      double med, lo, hi;
      measure(&r, repeats, &med, &lo, &hi);
      teardown(&r);
      const int is_peak = !strcmp(cases[c].kind, "peak");
      if (is_peak)
        peak[ti] = med;
      if (!strcmp(cases[c].name, "sgemm 512x512x512"))
        gemm512[ti] = med;
      char pct[16] = "-";
      if (!is_peak && peak[ti] > 0)
        snprintf(pct, sizeof pct, "%.0f%%", 100.0 * med / peak[ti]);
      char range[32];
      snprintf(range, sizeof range, "[%.1f..%.1f]", lo, hi);
      char mflop[24] = "-";
      if (!is_peak)
        snprintf(mflop, sizeof mflop, "%.1f", case_flops(&cases[c]) * 1e-6);
      printf("%-27s %7d %10s %10.1f %7s %21s\n", cases[c].name, threads[ti], mflop, med, pct,
             range);
      fflush(stdout);
    }
  }
  /* The figure of merit: sgemm 512^3 against the measured peak, per thread
   * count. */
  printf("# kernels_bench: sgemm 512^3");
  for (int ti = 0; ti < nthreads; ti++)
    printf("%s %.1f GFLOP/s on %d thread(s) = %.0f%% of the measured peak %.1f",
           ti ? ";" : "", gemm512[ti], threads[ti],
           peak[ti] > 0 ? 100.0 * gemm512[ti] / peak[ti] : 0.0, peak[ti]);
  printf("\n");
  return 0;
}
