/* Single-precision GEMM for the CPU kernels: packed, cache-blocked, with a
 * register-blocked micro-kernel in plain C.
 *
 * The structure is the usual one (Goto; BLIS): C is cut into NC-column slabs,
 * K into KC-deep blocks and the rows into MC-row blocks. A KC×NC block of B is
 * packed into NR-column micro-panels (it stays in L3, each micro-panel in L1),
 * an MC×KC block of A into MR-row micro-panels (it stays in L2), and the
 * micro-kernel multiplies one A micro-panel by one B micro-panel into an MR×NR
 * tile of accumulators held in registers. Packing zero-pads partial panels, so
 * the micro-kernel always computes a full tile and only the store looks at the
 * edges. When C is narrow (few B micro-panels), a row-major A is read in place
 * instead of packed: it would be used too few times to repay the copy.
 * The store adds the epilogue (bias, residual, relu) in the same pass as the
 * last K block, so conv2d costs no extra sweep over its output.
 *
 * The micro-kernel is 6×16: with AVX2 + FMA that is 12 ymm accumulators, 2
 * loads of B and 6 broadcasts of A per 12 FMAs, which GCC produces at -O2/-O3
 * from the loops below (`omp simd` on the 16-wide row; this file is compiled
 * with -O3 -ffp-contract=fast, see kernels/CMakeLists.txt). The same C is
 * compiled twice, for baseline x86-64 (or whatever the target is) and with
 * target("avx2,fma"), and the CPU picks at run time, so the build never needs
 * -march=native. SB_KERNELS_ISA=generic in the environment forces the baseline
 * version (the tests run both).
 *
 * Threads: C is split into a tm×tn grid of rectangles, one per thread, chosen
 * to balance the work and limit repacking; each thread packs its own panels
 * into its slice of the workspace, so there are no barriers and no sharing.
 */
#include "sb_gemm.h"
#include "sb_kernels.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MR 6
#define NR 16
#define KC 256
#define MC 144  /* multiple of MR */
#define NC 2048 /* multiple of NR */

/* Floats of workspace per thread: one packed A block and one packed B block.
 * Both are multiples of 16 floats, so 64-byte alignment carries over. */
#define PER_THREAD_FLOATS ((size_t)MC * KC + (size_t)KC * NC)

/* Read A in place, unpacked, when a thread's share of C is at most this many
 * columns (16 micro-panels): each A panel is then used too few times for
 * packing to pay (ResNet's 7x7 and 14x14 stages, where A is the weight). */
#define DIRECT_A_MAX_N 256

/* Below this many flops per thread, another thread costs more than it saves. */
#define FLOPS_PER_THREAD 1.0e6

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SB_X86_DISPATCH 1
#else
#define SB_X86_DISPATCH 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SB_INLINE static inline __attribute__((always_inline))
#else
#define SB_INLINE static inline
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#define PREFETCH_W(p) ((void)(p))
#endif

static float *align64(void *p)
{
  return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

int sb_cpu_has_avx2_fma(void)
{
  /* -1 unknown, else the answer; a race only computes it twice. */
  static atomic_int cached = -1;
  int v = atomic_load_explicit(&cached, memory_order_relaxed);
  if (v >= 0)
    return v;
  v = 0;
#if SB_X86_DISPATCH
  __builtin_cpu_init();
  v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  const char *isa = getenv("SB_KERNELS_ISA");
  if (isa && strcmp(isa, "generic") == 0)
    v = 0;
  atomic_store_explicit(&cached, v, memory_order_relaxed);
  return v;
}

size_t sb_k_sgemm_workspace_bytes(int threads)
{
  if (threads <= 0)
    threads = 1;
  return 64 + (size_t)threads * PER_THREAD_FLOATS * sizeof(float);
}

/* ---- packing ------------------------------------------------------------ */

/* A[0..mc)[0..kc) (strides rsa, csa) -> MR-row micro-panels: panel q holds
 * dst[q*MR*kc + p*MR + i] = A[q*MR + i][p], rows past mc zero. */
static void pack_a(int64_t mc, int64_t kc, const float *A, int64_t rsa, int64_t csa, float *dst)
{
  for (int64_t ip = 0; ip < mc; ip += MR, dst += MR * kc) {
    const int64_t m = mc - ip < MR ? mc - ip : MR;
    const float *a = A + ip * rsa;
    if (m < MR)
      memset(dst, 0, sizeof(float) * MR * (size_t)kc);
    if (csa == 1) {
      for (int64_t i = 0; i < m; i++)
        for (int64_t p = 0; p < kc; p++)
          dst[p * MR + i] = a[i * rsa + p];
    } else {
      for (int64_t p = 0; p < kc; p++)
        for (int64_t i = 0; i < m; i++)
          dst[p * MR + i] = a[i * rsa + p * csa];
    }
  }
}

/* B[0..kc)[0..nc) (strides rsb, csb) -> NR-column micro-panels: panel q holds
 * dst[q*NR*kc + p*NR + j] = B[p][q*NR + j], columns past nc zero. */
static void pack_b(int64_t kc, int64_t nc, const float *B, int64_t rsb, int64_t csb, float *dst)
{
  const int64_t full = nc / NR * NR;
  if (csb == 1) {
    /* Row by row: B is read sequentially, each row scattered over the panels. */
    for (int64_t p = 0; p < kc; p++) {
      const float *src = B + p * rsb;
      float *d = dst + p * NR;
      for (int64_t jp = 0; jp < full; jp += NR) {
        float *dd = d + jp * kc;
        const float *ss = src + jp;
#pragma omp simd
        for (int j = 0; j < NR; j++)
          dd[j] = ss[j];
      }
      if (full < nc) {
        float *dd = d + full * kc;
        int64_t j = 0;
        for (; j < nc - full; j++)
          dd[j] = src[full + j];
        for (; j < NR; j++)
          dd[j] = 0.0f;
      }
    }
    return;
  }
  for (int64_t jp = 0; jp < nc; jp += NR, dst += NR * kc) {
    const int64_t n = nc - jp < NR ? nc - jp : NR;
    const float *b = B + jp * csb;
    for (int64_t j = 0; j < n; j++)
      for (int64_t p = 0; p < kc; p++)
        dst[p * NR + j] = b[p * rsb + j * csb];
    for (int64_t j = n; j < NR; j++)
      for (int64_t p = 0; p < kc; p++)
        dst[p * NR + j] = 0.0f;
  }
}

/* ---- micro-kernel and macro-kernel ---------------------------------------- */

/* acc[MR][NR] = sum_p a[p][0..MR) ⊗ b[p][0..NR): b a packed micro-panel,
 * element (i, p) of a at a[i*si + p*sp] (packed: si 1, sp MR; read in place
 * from row-major A: si lda, sp 1). kc >= 1; the first step initialises, so
 * acc needs no zeroing. */
SB_INLINE void micro_kernel(int64_t kc, const float *restrict a, int64_t si, int64_t sp,
                            const float *restrict b, float *restrict acc)
{
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    const float ai = a[i * si];
#pragma omp simd
    for (int j = 0; j < NR; j++)
      acc[i * NR + j] = ai * b[j];
  }
  for (int64_t p = 1; p < kc; p++) {
    const float *ap = a + p * sp;
    const float *bp = b + p * NR;
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const float ai = ap[i * si];
#pragma omp simd
      for (int j = 0; j < NR; j++)
        acc[i * NR + j] += ai * bp[j];
    }
  }
}

/* NR zeros: stands in for an absent column bias or residual so that the
 * store is one branch-free pass. */
static const float zeros[NR] __attribute__((aligned(64)));

/* One row of a tile: c = acc (+ c) + rb + cb[j] + rs[j], then relu. */
SB_INLINE void store_row(int64_t n, float *restrict cr, const float *restrict ar, int overwrite,
                         float rb, const float *restrict cb, const float *restrict rs, int relu)
{
  if (overwrite) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) {
      const float v = ar[j] + rb + cb[j] + rs[j];
      cr[j] = relu && v < 0.0f ? 0.0f : v;
    }
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) {
      const float v = ar[j] + cr[j] + rb + cb[j] + rs[j];
      cr[j] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

/* Writes the m×n corner of a tile to C (overwrite or add), with the epilogue
 * when epi is given (this was the last K block). gi, gj: the tile's row and
 * column in the whole C, for the biases and the residual. */
SB_INLINE void store_tile(const float *restrict acc, float *restrict c, int64_t ldc, int64_t m,
                          int64_t n, int overwrite, const sb_gemm_epilogue_t *epi, int64_t gi,
                          int64_t gj)
{
  const float *cb = epi && epi->col_bias ? epi->col_bias + gj : zeros;
  const int relu = epi && epi->relu;
  for (int64_t i = 0; i < m; i++) {
    const float rb = epi && epi->row_bias ? epi->row_bias[gi + i] : 0.0f;
    const float *rs = epi && epi->residual ? epi->residual + (gi + i) * epi->ldr + gj : zeros;
    if (n == NR)
      store_row(NR, c + i * ldc, acc + i * NR, overwrite, rb, cb, rs, relu);
    else
      store_row(n, c + i * ldc, acc + i * NR, overwrite, rb, cb, rs, relu);
  }
}

/* C[0..mc)[0..nc) (+)= A block · packed B block, micro-panel by micro-panel:
 * B's micro-panel stays in L1 while A's panels stream from L2. A is packed
 * (apack) or, when adirect is given, read in place (row stride lda) for its
 * full MR-row panels, with only a last partial panel packed at apack. */
SB_INLINE void macro_body(int64_t mc, int64_t nc, int64_t kc, const float *apack,
                          const float *adirect, int64_t lda, const float *bpack, float *C,
                          int64_t ldc, int overwrite, const sb_gemm_epilogue_t *epi, int64_t gi,
                          int64_t gj)
{
  float acc[MR * NR] __attribute__((aligned(64)));
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t n = nc - jr < NR ? nc - jr : NR;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t m = mc - ir < MR ? mc - ir : MR;
      float *c = C + ir * ldc + jr;
      for (int64_t i = 0; i < m; i++) {
        PREFETCH_W(c + i * ldc);
        PREFETCH_W(c + i * ldc + n - 1);
      }
      if (!adirect)
        micro_kernel(kc, apack + ir * kc, 1, MR, bpack + jr * kc, acc);
      else if (m == MR)
        micro_kernel(kc, adirect + ir * lda, lda, 1, bpack + jr * kc, acc);
      else
        micro_kernel(kc, apack, 1, MR, bpack + jr * kc, acc);
      store_tile(acc, c, ldc, m, n, overwrite, epi, gi + ir, gj + jr);
    }
  }
}

typedef void (*macro_fn)(int64_t, int64_t, int64_t, const float *, const float *, int64_t,
                         const float *, float *, int64_t, int, const sb_gemm_epilogue_t *, int64_t,
                         int64_t);

static void macro_generic(int64_t mc, int64_t nc, int64_t kc, const float *apack,
                          const float *adirect, int64_t lda, const float *bpack, float *C,
                          int64_t ldc, int overwrite, const sb_gemm_epilogue_t *epi, int64_t gi,
                          int64_t gj)
{
  macro_body(mc, nc, kc, apack, adirect, lda, bpack, C, ldc, overwrite, epi, gi, gj);
}

#if SB_X86_DISPATCH
__attribute__((target("avx2,fma"))) static void
macro_avx2(int64_t mc, int64_t nc, int64_t kc, const float *apack, const float *adirect,
           int64_t lda, const float *bpack, float *C, int64_t ldc, int overwrite,
           const sb_gemm_epilogue_t *epi, int64_t gi, int64_t gj)
{
  macro_body(mc, nc, kc, apack, adirect, lda, bpack, C, ldc, overwrite, epi, gi, gj);
}
#endif

static macro_fn pick_macro(void)
{
#if SB_X86_DISPATCH
  if (sb_cpu_has_avx2_fma())
    return macro_avx2;
#endif
  return macro_generic;
}

/* ---- the driver ----------------------------------------------------------- */

typedef struct gemm_args {
  int64_t M, N, K;
  const float *A;
  int64_t rsa, csa;
  const float *B;
  int64_t rsb, csb;
  float *C;
  int64_t ldc;
  int accumulate;
  const sb_gemm_epilogue_t *epi;
  float *ws; /* 64-byte aligned, PER_THREAD_FLOATS per thread */
  macro_fn macro;
} gemm_args_t;

/* The tm×tn grid (tm·tn = team) for C of um MR-row and un NR-column units:
 * the least per-thread cost, counting 2 flops per multiply-add and, per
 * packed float (A rows and B columns, each K deep), about what 24 flops
 * cost. */
static void choose_grid(int64_t um, int64_t un, int team, int *tm, int *tn)
{
  double best = -1.0;
  *tm = 1;
  *tn = team;
  for (int a = 1; a <= team; a++) {
    if (team % a)
      continue;
    const int b = team / a;
    const double rows = (double)((um + a - 1) / a) * MR;
    const double cols = (double)((un + b - 1) / b) * NR;
    const double cost = 2.0 * rows * cols + 24.0 * (rows + cols);
    if (best < 0 || cost < best) {
      best = cost;
      *tm = a;
      *tn = b;
    }
  }
}

/* Thread `tid` of `team` computes its rectangle of C. */
static void gemm_part(const gemm_args_t *g, int tid, int team)
{
  const int64_t um = (g->M + MR - 1) / MR, un = (g->N + NR - 1) / NR;
  int tm, tn;
  choose_grid(um, un, team, &tm, &tn);
  const int ti = tid / tn, tj = tid % tn;
  const int64_t m0 = um * ti / tm * MR, m1u = um * (ti + 1) / tm * MR;
  const int64_t n0 = un * tj / tn * NR, n1u = un * (tj + 1) / tn * NR;
  const int64_t m1 = m1u < g->M ? m1u : g->M, n1 = n1u < g->N ? n1u : g->N;
  if (m0 >= m1 || n0 >= n1)
    return;

  /* With few B micro-panels per A block, packing A costs more than it saves:
   * a row-major A is then read in place. */
  const int direct_a = g->csa == 1 && n1 - n0 <= DIRECT_A_MAX_N;
  float *apack = g->ws + (size_t)tid * PER_THREAD_FLOATS;
  float *bpack = apack + (size_t)MC * KC;
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = n1 - jc < NC ? n1 - jc : NC;
    for (int64_t pc = 0; pc < g->K; pc += KC) {
      const int64_t kc = g->K - pc < KC ? g->K - pc : KC;
      const int overwrite = pc == 0 && !g->accumulate;
      const sb_gemm_epilogue_t *epi = pc + kc >= g->K ? g->epi : NULL;
      pack_b(kc, nc, g->B + pc * g->rsb + jc * g->csb, g->rsb, g->csb, bpack);
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = m1 - ic < MC ? m1 - ic : MC;
        const float *a = g->A + ic * g->rsa + pc * g->csa;
        if (direct_a) {
          const int64_t full = mc / MR * MR;
          if (full < mc)
            pack_a(mc - full, kc, a + full * g->rsa, g->rsa, g->csa, apack);
        } else {
          pack_a(mc, kc, a, g->rsa, g->csa, apack);
        }
        g->macro(mc, nc, kc, apack, direct_a ? a : NULL, g->rsa, bpack, g->C + ic * g->ldc + jc,
                 g->ldc, overwrite, epi, ic, jc);
      }
    }
  }
}

/* K == 0: C = 0 (or C kept), then the epilogue; plain loops. */
static void gemm_empty_k(int64_t M, int64_t N, float *C, int64_t ldc, int accumulate,
                         const sb_gemm_epilogue_t *epi)
{
  for (int64_t i = 0; i < M; i++) {
    float *cr = C + i * ldc;
    for (int64_t j = 0; j < N; j++) {
      float v = accumulate ? cr[j] : 0.0f;
      if (epi) {
        if (epi->row_bias)
          v += epi->row_bias[i];
        if (epi->col_bias)
          v += epi->col_bias[j];
        if (epi->residual)
          v += epi->residual[i * epi->ldr + j];
        if (epi->relu && v < 0.0f)
          v = 0.0f;
      }
      cr[j] = v;
    }
  }
}

void sb_gemm_ex(int64_t M, int64_t N, int64_t K, const float *A, int64_t rsa, int64_t csa,
                const float *B, int64_t rsb, int64_t csb, float *C, int64_t ldc, int accumulate,
                const sb_gemm_epilogue_t *epi, void *workspace, int threads)
{
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0) {
    gemm_empty_k(M, N, C, ldc, accumulate, epi);
    return;
  }
  if (threads <= 0)
    threads = 1;
  const gemm_args_t g = {
      .M = M, .N = N, .K = K, .A = A, .rsa = rsa, .csa = csa, .B = B, .rsb = rsb, .csb = csb,
      .C = C, .ldc = ldc, .accumulate = accumulate, .epi = epi, .ws = align64(workspace),
      .macro = pick_macro()};

  /* As many threads as the work pays for, and no more than there are tiles. */
  const double flops = 2.0 * (double)M * (double)N * (double)K;
  const double tiles = (double)((M + MR - 1) / MR) * (double)((N + NR - 1) / NR);
  int nt = threads;
  if (nt > flops / FLOPS_PER_THREAD)
    nt = (int)(flops / FLOPS_PER_THREAD);
  if (nt > tiles)
    nt = (int)tiles;
  if (nt < 1)
    nt = 1;

  if (nt == 1) {
    gemm_part(&g, 0, 1);
    return;
  }
  /* The runtime may give fewer threads than asked (nesting, limits): the
   * grid follows the team actually formed. */
#pragma omp parallel num_threads(nt)
  gemm_part(&g, omp_get_thread_num(), omp_get_num_threads());
}

void sb_k_sgemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                int64_t ldb, float *C, int64_t ldc, int accumulate, void *workspace, int threads)
{
  sb_gemm_ex(M, N, K, A, lda, 1, B, ldb, 1, C, ldc, accumulate, NULL, workspace, threads);
}
