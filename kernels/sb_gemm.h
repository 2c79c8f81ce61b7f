/* Private to the CPU kernels: the general GEMM behind sb_k_sgemm and
 * sb_k_conv2d, with arbitrary strides on A and B (so a transposed operand
 * costs nothing but its packing), an epilogue applied as the last K block is
 * stored (so conv2d's bias, residual and relu cost no extra pass over the
 * output), A optionally packed once ahead of time (a model's weights), B
 * optionally read straight from an image as its implicit im2col matrix, and C
 * optionally cut into column groups at their own addresses (a batch of
 * images in NCHW as one GEMM).
 * Not part of the kernel contract (sb_kernels.h); the CUDA side need not
 * mirror it. sb_resnet.c uses the pre-packed convolution below.
 */
#ifndef SB_GEMM_H
#define SB_GEMM_H

#include "sb_kernels.h"

#include <stddef.h>
#include <stdint.h>

/* What happens to an element of C after the last product is added:
 * c = c + row_bias[i] + col_bias[j] + residual(i, j), then max(0, c).
 * residual(i, j) is residual[i*ldr + j] or, when C is grouped (sb_gemm_op_t
 * cgroup), residual[(j / cgroup)*rgs + i*ldr + j % cgroup].
 * Any pointer may be NULL (that term is skipped); relu 0 or 1. */
typedef struct sb_gemm_epilogue {
  const float *row_bias;  /* [M] */
  const float *col_bias;  /* [N] */
  const float *residual;  /* laid out as C */
  int64_t ldr;
  int64_t rgs;            /* stride between column groups (grouped C only) */
  int relu;
} sb_gemm_epilogue_t;

/* C[M][N] (row stride ldc) = A · B (+ C if accumulate), then the epilogue
 * (epi may be NULL). Element (i,p) of A is A[i*rsa + p*csa], (p,j) of B is
 * B[p*rsb + j*csb]. workspace: sb_k_sgemm_workspace_bytes(threads) bytes,
 * any alignment. M or N <= 0 does nothing; K <= 0 stores 0 (or keeps C)
 * and applies the epilogue. */
void sb_gemm_ex(int64_t M, int64_t N, int64_t K, const float *A, int64_t rsa, int64_t csa,
                const float *B, int64_t rsb, int64_t csb, float *C, int64_t ldc, int accumulate,
                const sb_gemm_epilogue_t *epi, void *workspace, int threads);

/* B as the im2col matrix of a batch of images, never stored: row
 * p = (ci·kh + ky)·kw + kx, column j = (b·oh + oy)·ow + ox,
 * B[p][j] = x[b][ci][oy·stride + ky - pad][ox·stride + kx - pad], 0 outside
 * the image. K = cin·kh·kw; N may cover any number of whole or partial
 * images. */
typedef struct sb_gemm_conv_src {
  const float *x; /* [n][cin][h][w] */
  int64_t cin, h, w, kh, kw, stride, pad, oh, ow;
} sb_gemm_conv_src_t;

/* One GEMM, C = A · B (+ C) then the epilogue, with its operands described:
 * - A: apacked (laid out by sb_gemm_pack_a for this M and K) when not NULL,
 *   else A[i*rsa + p*csa];
 * - B: the implicit im2col of *conv when conv is not NULL, else
 *   B[p*rsb + j*csb];
 * - C: element (i, j) at C[i*ldc + j], or, when cgroup > 0, at
 *   C[(j / cgroup)*cgs + i*ldc + j % cgroup] (the residual likewise, with ldr
 *   and rgs): the columns of a batch of NCHW outputs, cgroup = oh·ow and
 *   cgs = cout·oh·ow.
 * Sizes and K <= 0 as sb_gemm_ex (M or N <= 0: nothing; K <= 0 needs a
 * strided C). Each element of C is summed in the same order whatever
 * `threads` and whichever way A and B are given. */
typedef struct sb_gemm_op {
  int64_t M, N, K;
  const float *A;
  int64_t rsa, csa;
  const float *apacked;
  const float *B;
  int64_t rsb, csb;
  const sb_gemm_conv_src_t *conv;
  float *C;
  int64_t ldc;
  int64_t cgroup, cgs;
  int accumulate;
} sb_gemm_op_t;

void sb_gemm_run(const sb_gemm_op_t *op, const sb_gemm_epilogue_t *epi, void *workspace,
                 int threads);

/* Floats sb_gemm_pack_a writes for an M×K matrix: M rounded up to the
 * micro-kernel's row count, times K. 0 when M or K <= 0. */
size_t sb_gemm_packed_a_floats(int64_t M, int64_t K);

/* Packs A[M][K] (element (i,p) at A[i*rsa + p*csa]) once into the layout the
 * GEMM's micro-kernel reads, for sb_gemm_op_t.apacked: K cut into the GEMM's
 * K blocks, each block a run of row micro-panels, rows past M zero.
 * dst: sb_gemm_packed_a_floats(M, K) floats, any alignment (64 bytes is
 * best). The layout depends only on compile-time block sizes, not on the
 * ISA chosen at run time. */
void sb_gemm_pack_a(int64_t M, int64_t K, const float *A, int64_t rsa, int64_t csa, float *dst);

/* sb_k_conv2d with the weight given pre-packed: packed_weight is
 * p->weight ([cout][cin·kh·kw]) packed by sb_gemm_pack_a(cout, cin·kh·kw,
 * weight, cin·kh·kw, 1, ...); p->weight itself is not read (it may be NULL).
 * Same shapes, workspace (sb_k_conv2d_workspace_bytes of p with a weight,
 * which is sb_k_sgemm_workspace_bytes(threads)), results (bit for bit) and
 * errors (-1, also for a NULL packed_weight) as sb_k_conv2d. */
int sb_conv2d_prepacked(const sb_conv2d_t *p, const float *packed_weight, const float *in,
                        float *out, void *workspace, size_t workspace_bytes, int threads);

/* 1 when this CPU (and OS) runs AVX2 + FMA code and SB_KERNELS_ISA=generic
 * is not set in the environment (read once), else 0. */
int sb_cpu_has_avx2_fma(void);

#endif
