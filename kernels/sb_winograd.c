/* Winograd F(2×2, 3×3) for the 3×3, stride-1, pad-1 convolutions (see
 * sb_winograd.h for what it computes).
 *
 * Notation: a tile is a 2×2 block of outputs, at tile row ty and column tx of
 * an image (th × tw tiles cover oh × ow, the last row or column of tiles
 * overhanging an odd size); it reads input rows 2ty-1 .. 2ty+2 and columns
 * 2tx-1 .. 2tx+2 (zeros outside). With
 *   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *   G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],
 *   Aᵀ = [1 1 1 0; 0 1 -1 -1],
 * a tile's outputs for one output channel are Aᵀ·(Σ_c U_c ⊙ V_c)·A, where
 * U_c = G·g_c·Gᵀ (the 3×3 filter g_c of input channel c, transformed once)
 * and V_c = Bᵀ·d_c·B (d_c the 4×4 input patch). Element ξ of the 4×4 sum over
 * c is a GEMM over the channels: M_ξ = U_ξ·V_ξ with U_ξ [cout][cin] and V_ξ
 * [cin][tiles].
 *
 * The tiles are taken a chunk of whole tile rows at a time (rows of several
 * images when the maps are small), sized so that the chunk's V and M stay in
 * the outer caches. Per chunk, in one OpenMP team:
 *   1. input transform, channels split among the threads: each tile row of a
 *      channel is combined row-wise (4 contiguous rows), split into even and
 *      odd columns, and combined column-wise, all as contiguous vector loops,
 *      into V_ξ[c][tiles];
 *   2. the 16 GEMMs (each cut into column pieces when there are more than 16
 *      threads), a thread each, single-threaded, with A the pre-packed U_ξ;
 *   3. output transform, output channels split among the threads: Aᵀ·M·A for
 *      each tile as contiguous vector loops, then bias, residual and relu as
 *      the two output rows are stored.
 * No element's sum depends on the chunking or the thread count.
 */
#include "sb_winograd.h"
#include "sb_isa.h"

#include "sb_gemm.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Bytes a chunk's V and M (16 · (cin + cout) floats per tile) aim at: about
 * what two cores' L2 and a slice of L3 hold. */
#define CHUNK_BYTES (3u << 20)
/* Tiles per chunk, at least and at most (the GEMM's N). */
#define CHUNK_MIN_TILES 64
#define CHUNK_MAX_TILES 1024
/* The GEMM's micro-panel width (sb_gemm.c's NR): column pieces of a GEMM
 * start at multiples of it. */
#define PANEL 16

static float *align64(void *p)
{
  return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

static size_t round16(size_t n)
{
  return (n + 15) / 16 * 16;
}

static int env_allows(void)
{
  static atomic_int cached = -1;
  int v = atomic_load_explicit(&cached, memory_order_relaxed);
  if (v >= 0)
    return v;
  const char *e = getenv("SB_KERNELS_WINOGRAD");
  v = !(e && strcmp(e, "0") == 0);
  atomic_store_explicit(&cached, v, memory_order_relaxed);
  return v;
}

static int shape_ok(const sb_conv2d_t *p)
{
  return p && p->n >= 1 && p->cin >= 1 && p->cout >= 1 && p->h >= 1 && p->w >= 1 &&
         p->kh == 3 && p->kw == 3 && p->stride == 1 && p->pad == 1;
}

int sb_wino_applies(const sb_conv2d_t *p)
{
  return shape_ok(p) && env_allows();
}

size_t sb_wino_weight_floats(int64_t cout, int64_t cin)
{
  return 16 * sb_gemm_packed_a_floats(cout, cin);
}

int sb_wino_pack_weight(int64_t cout, int64_t cin, const float *weight, float *dst)
{
  const size_t per = sb_gemm_packed_a_floats(cout, cin);
  if (!per || !weight || !dst)
    return -1;
  /* The 16 U_ξ row-major first ([ξ][cout][cin]), then each packed. */
  float *u = malloc(16 * (size_t)cout * (size_t)cin * sizeof(float));
  if (!u)
    return -1;
  for (int64_t k = 0; k < cout; k++)
    for (int64_t c = 0; c < cin; c++) {
      const float *g = weight + (k * cin + c) * 9;
      double gg[4][3]; /* G·g */
      for (int j = 0; j < 3; j++) {
        const double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        gg[0][j] = g0;
        gg[1][j] = 0.5 * (g0 + g1 + g2);
        gg[2][j] = 0.5 * (g0 - g1 + g2);
        gg[3][j] = g2;
      }
      for (int i = 0; i < 4; i++) {
        const double a0 = gg[i][0], a1 = gg[i][1], a2 = gg[i][2];
        const double row[4] = {a0, 0.5 * (a0 + a1 + a2), 0.5 * (a0 - a1 + a2), a2};
        for (int j = 0; j < 4; j++)
          u[((size_t)(i * 4 + j) * (size_t)cout + (size_t)k) * (size_t)cin + (size_t)c] =
              (float)row[j];
      }
    }
  for (int xi = 0; xi < 16; xi++)
    sb_gemm_pack_a(cout, cin, u + (size_t)xi * (size_t)cout * (size_t)cin, cin, 1,
                   dst + (size_t)xi * per);
  free(u);
  return 0;
}

/* ---- geometry ------------------------------------------------------------------ */

typedef struct geom {
  int64_t th, tw, rows; /* tiles per column and row of an image; tile rows in all */
  int64_t rpc, nb;      /* tile rows per chunk; tiles per chunk (rpc · tw) */
  int64_t w2;           /* a padded input row: 2·tw + 2 */
  size_t v_floats, m_floats, scratch_floats, gemm_bytes;
  int threads;
} geom_t;

static void geometry(const sb_conv2d_t *p, int threads, geom_t *g)
{
  g->threads = threads < 1 ? 1 : threads;
  g->th = (p->h + 1) / 2;
  g->tw = (p->w + 1) / 2;
  g->rows = p->n * g->th;
  int64_t want = (int64_t)(CHUNK_BYTES / (64 * (size_t)(p->cin + p->cout)));
  if (want < CHUNK_MIN_TILES)
    want = CHUNK_MIN_TILES;
  if (want > CHUNK_MAX_TILES)
    want = CHUNK_MAX_TILES;
  g->rpc = want / g->tw;
  if (g->rpc < 1)
    g->rpc = 1;
  if (g->rpc > g->rows)
    g->rpc = g->rows;
  g->nb = g->rpc * g->tw;
  g->w2 = 2 * g->tw + 2;
  g->v_floats = round16(16 * (size_t)p->cin * (size_t)g->nb);
  g->m_floats = round16(16 * (size_t)p->cout * (size_t)g->nb);
  /* Per thread: 4 combined rows of w2, then even and odd halves of each
   * (8 of tw + 1), then two output rows of 2·tw. */
  g->scratch_floats = round16(4 * (size_t)g->w2) + round16(8 * (size_t)(g->tw + 1)) +
                      round16(4 * (size_t)g->tw);
  g->gemm_bytes = (sb_k_sgemm_workspace_bytes(1) + 63) / 64 * 64;
}

/* Workspace bytes of geometry g (for p): V, M, a row of zeros, then each
 * thread's scratch and GEMM buffer, plus alignment slack. */
static size_t workspace_need(const sb_conv2d_t *p, const geom_t *g)
{
  const size_t zero_row = round16((size_t)p->w);
  return 64 + (g->v_floats + g->m_floats + zero_row) * sizeof(float) +
         (size_t)g->threads * (g->scratch_floats * sizeof(float) + g->gemm_bytes);
}

size_t sb_wino_workspace_bytes(const sb_conv2d_t *p, int threads)
{
  if (!shape_ok(p))
    return 0;
  geom_t g;
  geometry(p, threads, &g);
  return workspace_need(p, &g);
}

/* ---- the transforms, per tile row ------------------------------------------ */

/* Input transform of one tile row of one channel: r[0..3] are the input
 * rows 2ty-1 .. 2ty+2 (w floats each; a row of zeros outside the image);
 * writes V_ξ[tx] = v[ξ·vs + tx] for the tw tiles. */
SB_INLINE void in_row_body(const float *const r[4], int64_t w, int64_t tw, float *restrict t,
                           float *restrict eo, float *restrict v, int64_t vs)
{
  const int64_t w2 = 2 * tw + 2, h1 = tw + 1;
  const float *restrict r0 = r[0], *restrict r1 = r[1], *restrict r2 = r[2], *restrict r3 = r[3];
  float *restrict t0 = t, *restrict t1 = t + w2, *restrict t2 = t + 2 * w2,
                  *restrict t3 = t + 3 * w2;
  /* Bᵀ·d: the rows combined, at padded column x + 1. */
  t0[0] = t1[0] = t2[0] = t3[0] = 0.0f;
#pragma omp simd
  for (int64_t x = 0; x < w; x++) {
    t0[x + 1] = r0[x] - r2[x];
    t1[x + 1] = r1[x] + r2[x];
    t2[x + 1] = r2[x] - r1[x];
    t3[x + 1] = r1[x] - r3[x];
  }
  for (int64_t x = w + 1; x < w2; x++)
    t0[x] = t1[x] = t2[x] = t3[x] = 0.0f;
  /* ·B: for each combined row i, even and odd padded columns apart, then
   * the columns combined: tile tx reads padded columns 2tx .. 2tx+3, i.e.
   * e[tx], o[tx], e[tx+1], o[tx+1]. */
  for (int i = 0; i < 4; i++) {
    const float *restrict ti = t + i * w2;
    float *restrict e = eo + 2 * i * h1, *restrict o = e + h1;
#pragma omp simd
    for (int64_t q = 0; q < h1; q++) {
      e[q] = ti[2 * q];
      o[q] = ti[2 * q + 1];
    }
    float *restrict v0 = v + (4 * i) * vs, *restrict v1 = v0 + vs, *restrict v2 = v1 + vs,
                    *restrict v3 = v2 + vs;
#pragma omp simd
    for (int64_t x = 0; x < tw; x++) {
      v0[x] = e[x] - e[x + 1];
      v1[x] = o[x] + e[x + 1];
      v2[x] = e[x + 1] - o[x];
      v3[x] = o[x] - o[x + 1];
    }
  }
}

/* Output transform of one tile row of one output channel: M_ξ[tx] =
 * m[ξ·ms + tx]; stores output rows y0 and (when y1 is not NULL) y1, w floats
 * each, with the bias, the residual rows (NULL: none) and relu. o: 4·tw
 * floats of scratch. */
SB_INLINE void out_row_body(const float *restrict m, int64_t ms, int64_t w, int64_t tw,
                            float *restrict o, float bias, const float *restrict res0,
                            const float *restrict res1, int relu, float *restrict y0,
                            float *restrict y1)
{
  float *restrict o0 = o, *restrict o1 = o + 2 * tw;
  const float *restrict m0 = m, *restrict m1 = m + ms, *restrict m2 = m + 2 * ms,
                        *restrict m3 = m + 3 * ms, *restrict m4 = m + 4 * ms,
                        *restrict m5 = m + 5 * ms, *restrict m6 = m + 6 * ms,
                        *restrict m7 = m + 7 * ms, *restrict m8 = m + 8 * ms,
                        *restrict m9 = m + 9 * ms, *restrict m10 = m + 10 * ms,
                        *restrict m11 = m + 11 * ms, *restrict m12 = m + 12 * ms,
                        *restrict m13 = m + 13 * ms, *restrict m14 = m + 14 * ms,
                        *restrict m15 = m + 15 * ms;
#pragma omp simd
  for (int64_t x = 0; x < tw; x++) {
    /* Aᵀ·M: rows 0+1+2 and 1-2-3, for each of the 4 columns. */
    const float s00 = m0[x] + m4[x] + m8[x], s01 = m1[x] + m5[x] + m9[x],
                s02 = m2[x] + m6[x] + m10[x], s03 = m3[x] + m7[x] + m11[x];
    const float s10 = m4[x] - m8[x] - m12[x], s11 = m5[x] - m9[x] - m13[x],
                s12 = m6[x] - m10[x] - m14[x], s13 = m7[x] - m11[x] - m15[x];
    /* ·A: columns 0+1+2 and 1-2-3. */
    o0[2 * x] = s00 + s01 + s02;
    o0[2 * x + 1] = s01 - s02 - s03;
    o1[2 * x] = s10 + s11 + s12;
    o1[2 * x + 1] = s11 - s12 - s13;
  }
  for (int r = 0; r < 2; r++) {
    float *restrict y = r ? y1 : y0;
    const float *restrict src = r ? o1 : o0;
    const float *restrict res = r ? res1 : res0;
    if (!y)
      continue;
    if (res) {
#pragma omp simd
      for (int64_t x = 0; x < w; x++) {
        const float v = src[x] + bias + res[x];
        y[x] = relu && v < 0.0f ? 0.0f : v;
      }
    } else {
#pragma omp simd
      for (int64_t x = 0; x < w; x++) {
        const float v = src[x] + bias;
        y[x] = relu && v < 0.0f ? 0.0f : v;
      }
    }
  }
}

typedef void (*in_row_fn)(const float *const r[4], int64_t, int64_t, float *, float *, float *,
                          int64_t);
typedef void (*out_row_fn)(const float *, int64_t, int64_t, int64_t, float *, float,
                           const float *, const float *, int, float *, float *);

static void in_row_generic(const float *const r[4], int64_t w, int64_t tw, float *t, float *eo,
                           float *v, int64_t vs)
{
  in_row_body(r, w, tw, t, eo, v, vs);
}

static void out_row_generic(const float *m, int64_t ms, int64_t w, int64_t tw, float *o,
                            float bias, const float *res0, const float *res1, int relu,
                            float *y0, float *y1)
{
  out_row_body(m, ms, w, tw, o, bias, res0, res1, relu, y0, y1);
}

#if SB_X86_DISPATCH
__attribute__((target("avx2,fma"))) static void
in_row_avx2(const float *const r[4], int64_t w, int64_t tw, float *t, float *eo, float *v,
            int64_t vs)
{
  in_row_body(r, w, tw, t, eo, v, vs);
}

__attribute__((target("avx2,fma"))) static void
out_row_avx2(const float *m, int64_t ms, int64_t w, int64_t tw, float *o, float bias,
             const float *res0, const float *res1, int relu, float *y0, float *y1)
{
  out_row_body(m, ms, w, tw, o, bias, res0, res1, relu, y0, y1);
}
#endif

/* ---- the convolution ------------------------------------------------------- */

int sb_conv2d_winograd(const sb_conv2d_t *p, const float *wino_weight, const float *in,
                       float *out, void *workspace, size_t workspace_bytes, int threads)
{
  if (!shape_ok(p) || !wino_weight || !in || !out || !workspace)
    return -1;
  geom_t g;
  geometry(p, threads, &g);
  if (workspace_bytes < workspace_need(p, &g))
    return -1;
  const int64_t C = p->cin, K = p->cout, H = p->h, W = p->w, th = g.th, tw = g.tw;
  const int64_t nb = g.nb;
  const size_t per_u = sb_gemm_packed_a_floats(K, C);

  float *V = align64(workspace);
  float *Mx = V + g.v_floats;
  float *zero_row = Mx + g.m_floats;
  unsigned char *thread_base = (unsigned char *)(zero_row + round16((size_t)W));
  memset(zero_row, 0, (size_t)W * sizeof(float));

  in_row_fn in_row = in_row_generic;
  out_row_fn out_row = out_row_generic;
#if SB_X86_DISPATCH
  if (sb_cpu_has_avx2_fma()) {
    in_row = in_row_avx2;
    out_row = out_row_avx2;
  }
#endif
  /* More than 16 threads: each ξ's GEMM in column pieces. */
  const int pieces = (g.threads + 15) / 16;
  const size_t per_thread = g.scratch_floats * sizeof(float) + g.gemm_bytes;

#pragma omp parallel num_threads(g.threads)
  {
    const int tid = omp_get_thread_num();
    unsigned char *mine = thread_base + (size_t)tid * per_thread;
    float *scratch = (float *)mine;
    void *gws = mine + g.scratch_floats * sizeof(float);
    float *t = scratch, *eo = t + round16(4 * (size_t)g.w2),
          *o = eo + round16(8 * (size_t)(tw + 1));

    for (int64_t r0 = 0; r0 < g.rows; r0 += g.rpc) {
      const int64_t rows = g.rows - r0 < g.rpc ? g.rows - r0 : g.rpc;
      const int64_t ncol = rows * tw;

#pragma omp for schedule(static)
      for (int64_t c = 0; c < C; c++)
        for (int64_t rr = 0; rr < rows; rr++) {
          const int64_t b = (r0 + rr) / th, ty = (r0 + rr) % th;
          const float *img = in + (b * C + c) * H * W;
          const float *r[4];
          for (int i = 0; i < 4; i++) {
            const int64_t y = 2 * ty - 1 + i;
            r[i] = y >= 0 && y < H ? img + y * W : zero_row;
          }
          in_row(r, W, tw, t, eo, V + c * nb + rr * tw, C * nb);
        }

#pragma omp for schedule(static)
      for (int u = 0; u < 16 * pieces; u++) {
        const int xi = u / pieces, piece = u % pieces;
        const int64_t panels = (ncol + PANEL - 1) / PANEL;
        const int64_t j0 = panels * piece / pieces * PANEL;
        int64_t j1 = panels * (piece + 1) / pieces * PANEL;
        if (j1 > ncol)
          j1 = ncol;
        if (j0 >= j1)
          continue;
        const sb_gemm_op_t op = {.M = K,
                                 .N = j1 - j0,
                                 .K = C,
                                 .apacked = wino_weight + (size_t)xi * per_u,
                                 .B = V + (size_t)xi * (size_t)(C * nb) + j0,
                                 .rsb = nb,
                                 .csb = 1,
                                 .C = Mx + (size_t)xi * (size_t)(K * nb) + j0,
                                 .ldc = nb};
        sb_gemm_run(&op, NULL, gws, 1);
      }

#pragma omp for schedule(static)
      for (int64_t k = 0; k < K; k++) {
        const float bias = p->bias ? p->bias[k] : 0.0f;
        for (int64_t rr = 0; rr < rows; rr++) {
          const int64_t b = (r0 + rr) / th, ty = (r0 + rr) % th;
          const int64_t y = 2 * ty;
          const size_t plane = (size_t)(b * K + k) * (size_t)(H * W);
          float *y0 = out + plane + (size_t)(y * W);
          float *y1 = y + 1 < H ? y0 + W : NULL;
          const float *res0 = p->residual ? p->residual + plane + (size_t)(y * W) : NULL;
          const float *res1 = res0 && y1 ? res0 + W : NULL;
          out_row(Mx + k * nb + rr * tw, K * nb, W, tw, o, bias, res0, res1, p->relu, y0, y1);
        }
      }
    }
  }
  return 0;
}
