/* Private to the CPU kernels: the general GEMM behind sb_k_sgemm, with
 * arbitrary strides on A and B (so a transposed operand costs nothing but its
 * packing) and an epilogue applied as the last K block is stored (so conv2d's
 * bias, residual and relu cost no extra pass over the output).
 * Not part of the kernel contract (sb_kernels.h); the CUDA side need not
 * mirror it.
 */
#ifndef SB_GEMM_H
#define SB_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* What happens to an element of C after the last product is added:
 * c = c + row_bias[i] + col_bias[j] + residual[i*ldr + j], then max(0, c).
 * Any pointer may be NULL (that term is skipped); relu 0 or 1. */
typedef struct sb_gemm_epilogue {
  const float *row_bias;  /* [M] */
  const float *col_bias;  /* [N] */
  const float *residual;  /* [M][ldr] */
  int64_t ldr;
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

/* 1 when this CPU (and OS) runs AVX2 + FMA code and SB_KERNELS_ISA=generic
 * is not set in the environment (read once), else 0. */
int sb_cpu_has_avx2_fma(void);

#endif
