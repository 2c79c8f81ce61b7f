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
 * instead of packed: it would be used too few times to repay the copy. A can
 * also come packed once ahead of time (sb_gemm_pack_a: a model's weights),
 * and B can be a convolution's implicit im2col matrix, packed straight from
 * the images (pack_b_conv), so conv2d never stores an im2col matrix; C's
 * columns may then span several images, each at its own address.
 * The store adds the epilogue (bias, residual, relu) in the same pass as the
 * last K block, so conv2d costs no extra sweep over its output. A last
 * micro-panel of at most NR/2 columns runs a half-width micro-kernel (7×7
 * maps: 49 = 3·16 + 1 columns).
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
#include "sb_isa.h"
#include "sb_kernels.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MR 6
#define NR 16
#define KC 256
#define MC 144  /* multiple of MR */
#define NC 1024 /* multiple of NR; a KC×NC block of B is 1 MiB */

/* Floats of workspace per thread: one packed A block and one packed B block.
 * Both are multiples of 16 floats, so 64-byte alignment carries over. */
#define PER_THREAD_FLOATS ((size_t)MC * KC + (size_t)KC * NC)

/* Read A in place, unpacked, when a thread's share of C is at most this many
 * columns (16 micro-panels): each A panel is then used too few times for
 * packing to pay (ResNet's 7x7 and 14x14 stages, where A is the weight). */
#define DIRECT_A_MAX_N 256

/* Below this many flops per thread, another thread costs more than it saves. */
#define FLOPS_PER_THREAD 1.0e6

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


/* Copies len values into packed-B columns [c, c+len) of row p (d points at
 * row p of panel 0; panels are NR·kc floats apart): src[t·s], or zeros when
 * src is NULL. Whole NR-wide pieces are fixed-length loops (vector moves;
 * stride 2, the stem's and the downsampling convs', vectorises as a pair of
 * loads and a shuffle). */
SB_INLINE void put_run(float *restrict d, int64_t kc, int64_t c, int64_t len,
                       const float *restrict src, int64_t s)
{
  while (len > 0) {
    const int64_t off = c % NR;
    const int64_t chunk = NR - off < len ? NR - off : len;
    float *restrict dd = d + (c - off) * kc + off;
    if (chunk == NR) {
      if (!src) {
        for (int t = 0; t < NR; t++)
          dd[t] = 0.0f;
      } else if (s == 1) {
        for (int t = 0; t < NR; t++)
          dd[t] = src[t];
      } else if (s == 2) {
        for (int t = 0; t < NR; t++)
          dd[t] = src[2 * t];
      } else {
        for (int t = 0; t < NR; t++)
          dd[t] = src[t * s];
      }
    } else if (!src) {
      for (int64_t t = 0; t < chunk; t++)
        dd[t] = 0.0f;
    } else {
      for (int64_t t = 0; t < chunk; t++)
        dd[t] = src[t * s];
    }
    if (src)
      src += chunk * s;
    c += chunk;
    len -= chunk;
  }
}

/* Rows [p0, p0+kc) and columns [j0, j0+nc) of the implicit im2col matrix of
 * cs, packed as pack_b packs B: row by row, each output row of each image a
 * run of input pixels (zeros where the window leaves the image), so the
 * image is read in order and no im2col matrix is ever stored. */
SB_INLINE void pack_b_conv_body(int64_t kc, int64_t nc, int64_t p0, int64_t j0,
                                 const sb_gemm_conv_src_t *cs, float *dst)
{
  const int64_t kh = cs->kh, kw = cs->kw, s = cs->stride, pad = cs->pad;
  const int64_t h = cs->h, w = cs->w, oh = cs->oh, ow = cs->ow, ohw = oh * ow;
  const int64_t b0 = j0 / ohw, r0 = j0 % ohw, oy0 = r0 / ow, ox0 = r0 % ow;
  const int64_t npad = (nc + NR - 1) / NR * NR;
  for (int64_t p = 0; p < kc; p++) {
    const int64_t r = p0 + p;
    const int64_t ci = r / (kh * kw), ky = (r / kw) % kh, kx = r % kw;
    /* ox is inside the image when 0 <= ox·s + kx - pad < w. */
    int64_t x_lo = 0, x_hi = 0;
    if (kx < pad)
      x_lo = (pad - kx + s - 1) / s;
    if (w - 1 + pad - kx >= 0)
      x_hi = (w - 1 + pad - kx) / s + 1;
    if (x_hi > ow)
      x_hi = ow;
    if (x_lo > x_hi)
      x_lo = x_hi;
    float *d = dst + p * NR;
    int64_t b = b0, oy = oy0, ox = ox0, c = 0;
    while (c < nc) {
      const int64_t len = ow - ox < nc - c ? ow - ox : nc - c, end = ox + len;
      const int64_t iy = oy * s + ky - pad;
      if (iy < 0 || iy >= h) {
        put_run(d, kc, c, len, NULL, 0);
      } else {
        const float *srow = cs->x + ((b * cs->cin + ci) * h + iy) * w + kx - pad;
        const int64_t a = x_lo < ox ? ox : x_lo > end ? end : x_lo;
        const int64_t z = x_hi < a ? a : x_hi > end ? end : x_hi;
        put_run(d, kc, c, a - ox, NULL, 0);
        put_run(d, kc, c + (a - ox), z - a, srow + a * s, s);
        put_run(d, kc, c + (z - ox), end - z, NULL, 0);
      }
      c += len;
      ox = 0;
      if (++oy == oh) {
        oy = 0;
        b++;
      }
    }
    put_run(d, kc, nc, npad - nc, NULL, 0);
  }
}

typedef void (*pack_conv_fn)(int64_t, int64_t, int64_t, int64_t, const sb_gemm_conv_src_t *,
                             float *);

static void pack_b_conv_generic(int64_t kc, int64_t nc, int64_t p0, int64_t j0,
                                const sb_gemm_conv_src_t *cs, float *dst)
{
  pack_b_conv_body(kc, nc, p0, j0, cs, dst);
}

#if SB_X86_DISPATCH
__attribute__((target("avx2,fma"))) static void
pack_b_conv_avx2(int64_t kc, int64_t nc, int64_t p0, int64_t j0, const sb_gemm_conv_src_t *cs,
                 float *dst)
{
  pack_b_conv_body(kc, nc, p0, j0, cs, dst);
}
#endif

/* ---- micro-kernel and macro-kernel ---------------------------------------- */

/* The micro-kernel's sums on the first `cols` columns of acc (cols is NR or
 * NR/2, a constant once inlined). The first step initialises, so acc needs
 * no zeroing. */
SB_INLINE void micro_kernel_cols(int64_t kc, const float *restrict a, int64_t si, int64_t sp,
                                 const float *restrict b, float *restrict acc, const int cols)
{
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    const float ai = a[i * si];
#pragma omp simd
    for (int j = 0; j < cols; j++)
      acc[i * NR + j] = ai * b[j];
  }
  for (int64_t p = 1; p < kc; p++) {
    const float *ap = a + p * sp;
    const float *bp = b + p * NR;
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const float ai = ap[i * si];
#pragma omp simd
      for (int j = 0; j < cols; j++)
        acc[i * NR + j] += ai * bp[j];
    }
  }
}

/* acc[MR][NR] = sum_p a[p][0..MR) ⊗ b[p][0..NR): b a packed micro-panel,
 * element (i, p) of a at a[i*si + p*sp] (packed: si 1, sp MR; read in place
 * from row-major A: si lda, sp 1). kc >= 1; the first step initialises, so
 * acc needs no zeroing. */
SB_INLINE void micro_kernel(int64_t kc, const float *restrict a, int64_t si, int64_t sp,
                            const float *restrict b, float *restrict acc)
{
  micro_kernel_cols(kc, a, si, sp, b, acc, NR);
}

/* The micro-kernel for a last micro-panel of at most NR/2 columns: the same
 * sums (same order) on the first NR/2 columns of acc only, half the work of
 * a full tile (ResNet's 7×7 maps: 49 = 3·16 + 1 columns at batch 1). */
SB_INLINE void micro_kernel_half(int64_t kc, const float *restrict a, int64_t si, int64_t sp,
                                 const float *restrict b, float *restrict acc)
{
  micro_kernel_cols(kc, a, si, sp, b, acc, NR / 2);
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

/* Where C (and the residual) lives: element (i, j) at c[(j / cg)·cgs +
 * i·ldc + j % cg] (r likewise with ldr, rgs); cg >= N means one group. */
typedef struct cmap {
  float *c;
  int64_t ldc, cg, cgs;
  const float *r;
  int64_t ldr, rgs;
} cmap_t;

/* Writes the m×n corner of a tile to C (overwrite or add), with the epilogue
 * when epi is given (this was the last K block). gi, gj: the tile's row and
 * column in the whole C; (grp, col): gj's column group and column within it.
 * A tile that crosses into the next group(s) is stored in pieces. */
SB_INLINE void store_tile(const float *restrict acc, const cmap_t *cm, int64_t m, int64_t n,
                          int overwrite, const sb_gemm_epilogue_t *epi, int64_t gi, int64_t gj,
                          int64_t grp, int64_t col)
{
  const int relu = epi && epi->relu;
  const float *rb = epi && epi->row_bias ? epi->row_bias + gi : NULL;
  int64_t done = 0;
  while (done < n) {
    const int64_t seg = n - done < cm->cg - col ? n - done : cm->cg - col;
    float *c = cm->c + grp * cm->cgs + gi * cm->ldc + col;
    const float *cb = epi && epi->col_bias ? epi->col_bias + gj + done : zeros;
    const float *rs = epi && cm->r ? cm->r + grp * cm->rgs + gi * cm->ldr + col : NULL;
    for (int64_t i = 0; i < m; i++) {
      const float b = rb ? rb[i] : 0.0f;
      const float *ri = rs ? rs + i * cm->ldr : zeros;
      if (seg == NR)
        store_row(NR, c + i * cm->ldc, acc + i * NR, overwrite, b, cb, ri, relu);
      else
        store_row(seg, c + i * cm->ldc, acc + i * NR + done, overwrite, b, cb, ri, relu);
    }
    done += seg;
    grp++;
    col = 0;
  }
}

/* C[0..mc)[0..nc) of the block at (gi, gj) (+)= A block · packed B block,
 * micro-panel by micro-panel: B's micro-panel stays in L1 while A's panels
 * stream from L2. A is packed (apack: MR-row panels kc deep) or, when adirect
 * is given, read in place (row stride lda) for its full MR-row panels, with
 * only a last partial panel packed at apack. */
SB_INLINE void macro_body(int64_t mc, int64_t nc, int64_t kc, const float *apack,
                          const float *adirect, int64_t lda, const float *bpack,
                          const cmap_t *cm, int overwrite, const sb_gemm_epilogue_t *epi,
                          int64_t gi, int64_t gj)
{
  float acc[MR * NR] __attribute__((aligned(64)));
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t n = nc - jr < NR ? nc - jr : NR;
    const int64_t grp = (gj + jr) / cm->cg, col = (gj + jr) - grp * cm->cg;
    float *cbase = cm->c + grp * cm->cgs + col;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t m = mc - ir < MR ? mc - ir : MR;
      float *c = cbase + (gi + ir) * cm->ldc;
      for (int64_t i = 0; i < m; i++) {
        PREFETCH_W(c + i * cm->ldc);
        PREFETCH_W(c + i * cm->ldc + n - 1);
      }
      /* Constant strides at each call, so that each inlined copy keeps its
       * accumulators in registers. */
      const float *b = bpack + jr * kc;
      if (adirect && m == MR) {
        if (n <= NR / 2)
          micro_kernel_half(kc, adirect + ir * lda, lda, 1, b, acc);
        else
          micro_kernel(kc, adirect + ir * lda, lda, 1, b, acc);
      } else {
        const float *ap = adirect ? apack : apack + ir * kc;
        if (n <= NR / 2)
          micro_kernel_half(kc, ap, 1, MR, b, acc);
        else
          micro_kernel(kc, ap, 1, MR, b, acc);
      }
      store_tile(acc, cm, m, n, overwrite, epi, gi + ir, gj + jr, grp, col);
    }
  }
}

typedef void (*macro_fn)(int64_t, int64_t, int64_t, const float *, const float *, int64_t,
                         const float *, const cmap_t *, int, const sb_gemm_epilogue_t *, int64_t,
                         int64_t);

static void macro_generic(int64_t mc, int64_t nc, int64_t kc, const float *apack,
                          const float *adirect, int64_t lda, const float *bpack,
                          const cmap_t *cm, int overwrite, const sb_gemm_epilogue_t *epi,
                          int64_t gi, int64_t gj)
{
  macro_body(mc, nc, kc, apack, adirect, lda, bpack, cm, overwrite, epi, gi, gj);
}

#if SB_X86_DISPATCH
__attribute__((target("avx2,fma"))) static void
macro_avx2(int64_t mc, int64_t nc, int64_t kc, const float *apack, const float *adirect,
           int64_t lda, const float *bpack, const cmap_t *cm, int overwrite,
           const sb_gemm_epilogue_t *epi, int64_t gi, int64_t gj)
{
  macro_body(mc, nc, kc, apack, adirect, lda, bpack, cm, overwrite, epi, gi, gj);
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

static pack_conv_fn pick_pack_conv(void)
{
#if SB_X86_DISPATCH
  if (sb_cpu_has_avx2_fma())
    return pack_b_conv_avx2;
#endif
  return pack_b_conv_generic;
}

/* ---- pre-packed A ------------------------------------------------------------ */

static int64_t round_mr(int64_t m)
{
  return (m + MR - 1) / MR * MR;
}

size_t sb_gemm_packed_a_floats(int64_t M, int64_t K)
{
  if (M <= 0 || K <= 0)
    return 0;
  return (size_t)round_mr(M) * (size_t)K;
}

/* K block pc (KC deep, the last one shorter) starts at pc·round_mr(M): all
 * blocks before it are KC deep. Within a block, rows ic.. start at ic·kc. */
void sb_gemm_pack_a(int64_t M, int64_t K, const float *A, int64_t rsa, int64_t csa, float *dst)
{
  if (M <= 0 || K <= 0)
    return;
  const int64_t mp = round_mr(M);
  for (int64_t pc = 0; pc < K; pc += KC) {
    const int64_t kc = K - pc < KC ? K - pc : KC;
    pack_a(M, kc, A + pc * csa, rsa, csa, dst + pc * mp);
  }
}

/* ---- the driver ----------------------------------------------------------- */

typedef struct gemm_args {
  const sb_gemm_op_t *op;
  cmap_t cm;
  const sb_gemm_epilogue_t *epi;
  float *ws; /* 64-byte aligned, PER_THREAD_FLOATS per thread */
  macro_fn macro;
  pack_conv_fn pack_conv;
} gemm_args_t;

/* The tm×tn grid (tm·tn = team) for C of um MR-row and un NR-column units:
 * the least cost of the busiest thread, counting 2 flops per multiply-add
 * (a last micro-panel of at most NR/2 columns, which the half micro-kernel
 * computes, as half a panel) and, per packed float (A rows and B columns,
 * each K deep), about what 24 flops cost; a pre-packed A costs nothing to
 * pack. */
static void choose_grid(int64_t um, int64_t un, int half_tail, int team, int a_packed, int *tm,
                        int *tn)
{
  double best = -1.0;
  *tm = 1;
  *tn = team;
  for (int a = 1; a <= team; a++) {
    if (team % a)
      continue;
    const int b = team / a;
    const double rows = (double)((um + a - 1) / a) * MR;
    double panels = 0.0;
    for (int t = 0; t < b; t++) {
      double p = (double)(un * (t + 1) / b - un * t / b);
      if (t == b - 1 && half_tail && p > 0)
        p -= 0.5;
      panels = p > panels ? p : panels;
    }
    const double cols = panels * NR;
    const double cost = 2.0 * rows * cols + 24.0 * ((a_packed ? 0.0 : rows) + cols);
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
  const sb_gemm_op_t *op = g->op;
  const int64_t um = (op->M + MR - 1) / MR, un = (op->N + NR - 1) / NR;
  int tm, tn;
  const int64_t tail = op->N % NR;
  choose_grid(um, un, tail > 0 && tail <= NR / 2, team, op->apacked != NULL, &tm, &tn);
  const int ti = tid / tn, tj = tid % tn;
  const int64_t m0 = um * ti / tm * MR, m1u = um * (ti + 1) / tm * MR;
  const int64_t n0 = un * tj / tn * NR, n1u = un * (tj + 1) / tn * NR;
  const int64_t m1 = m1u < op->M ? m1u : op->M, n1 = n1u < op->N ? n1u : op->N;
  if (m0 >= m1 || n0 >= n1)
    return;

  /* With few B micro-panels per A block, packing A costs more than it saves:
   * a row-major A is then read in place. */
  const int direct_a = !op->apacked && op->csa == 1 && n1 - n0 <= DIRECT_A_MAX_N;
  const int64_t mp = round_mr(op->M);
  float *apack = g->ws + (size_t)tid * PER_THREAD_FLOATS;
  float *bpack = apack + (size_t)MC * KC;
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = n1 - jc < NC ? n1 - jc : NC;
    for (int64_t pc = 0; pc < op->K; pc += KC) {
      const int64_t kc = op->K - pc < KC ? op->K - pc : KC;
      const int overwrite = pc == 0 && !op->accumulate;
      const sb_gemm_epilogue_t *epi = pc + kc >= op->K ? g->epi : NULL;
      if (op->conv)
        g->pack_conv(kc, nc, pc, jc, op->conv, bpack);
      else
        pack_b(kc, nc, op->B + pc * op->rsb + jc * op->csb, op->rsb, op->csb, bpack);
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = m1 - ic < MC ? m1 - ic : MC;
        if (op->apacked) {
          g->macro(mc, nc, kc, op->apacked + pc * mp + ic * kc, NULL, 0, bpack, &g->cm,
                   overwrite, epi, ic, jc);
          continue;
        }
        const float *a = op->A + ic * op->rsa + pc * op->csa;
        if (direct_a) {
          const int64_t full = mc / MR * MR;
          if (full < mc)
            pack_a(mc - full, kc, a + full * op->rsa, op->rsa, op->csa, apack);
        } else {
          pack_a(mc, kc, a, op->rsa, op->csa, apack);
        }
        g->macro(mc, nc, kc, apack, direct_a ? a : NULL, op->rsa, bpack, &g->cm, overwrite,
                 epi, ic, jc);
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

void sb_gemm_run(const sb_gemm_op_t *op, const sb_gemm_epilogue_t *epi, void *workspace,
                 int threads)
{
  const int64_t M = op->M, N = op->N, K = op->K;
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0) {
    gemm_empty_k(M, N, op->C, op->ldc, op->accumulate, epi);
    return;
  }
  if (threads <= 0)
    threads = 1;
  const int grouped = op->cgroup > 0 && op->cgroup < N;
  const gemm_args_t g = {
      .op = op,
      .cm = {.c = op->C,
             .ldc = op->ldc,
             .cg = grouped ? op->cgroup : N,
             .cgs = grouped ? op->cgs : 0,
             .r = epi ? epi->residual : NULL,
             .ldr = epi ? epi->ldr : 0,
             .rgs = epi && grouped ? epi->rgs : 0},
      .epi = epi,
      .ws = align64(workspace),
      .macro = pick_macro(),
      .pack_conv = pick_pack_conv()};

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

void sb_gemm_ex(int64_t M, int64_t N, int64_t K, const float *A, int64_t rsa, int64_t csa,
                const float *B, int64_t rsb, int64_t csb, float *C, int64_t ldc, int accumulate,
                const sb_gemm_epilogue_t *epi, void *workspace, int threads)
{
  const sb_gemm_op_t op = {.M = M, .N = N, .K = K, .A = A, .rsa = rsa, .csa = csa, .B = B,
                           .rsb = rsb, .csb = csb, .C = C, .ldc = ldc, .accumulate = accumulate};
  sb_gemm_run(&op, epi, workspace, threads);
}

void sb_k_sgemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                int64_t ldb, float *C, int64_t ldc, int accumulate, void *workspace, int threads)
{
  sb_gemm_ex(M, N, K, A, lda, 1, B, ldb, 1, C, ldc, accumulate, NULL, workspace, threads);
}
