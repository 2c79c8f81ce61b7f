/* Private to the CPU kernels: the 3×3, stride-1, pad-1 convolution as
 * Winograd F(2×2, 3×3) (Lavin and Gray's formulation of Winograd's minimal
 * filtering): each 2×2 block of outputs ("tile") comes from a 4×4 patch of
 * the input with 16 multiplications per input channel instead of 36, as 16
 * independent GEMMs, M_ξ[cout][tiles] = U_ξ[cout][cin] · V_ξ[cin][tiles],
 * between the transformed weights U (computed and packed once, at model
 * load) and the transformed input V; an output transform turns M back into
 * the 2×2 outputs and applies the epilogue (bias, residual, relu).
 *
 * The transforms of F(2×2, 3×3) multiply only by 0, ±1 and ±1/2, so the
 * result differs from the direct convolution by float rounding alone (the
 * sums run in another order); sb_resnet.c uses it for every 3×3 stride-1
 * convolution unless SB_KERNELS_WINOGRAD=0 is set in the environment.
 * Like the GEMM, each output is summed in the same order whatever `threads`.
 */
#ifndef SB_WINOGRAD_H
#define SB_WINOGRAD_H

#include "sb_kernels.h"

#include <stddef.h>
#include <stdint.h>

/* 1 when p is a convolution this file computes (3×3 kernel, stride 1,
 * pad 1, valid sizes) and SB_KERNELS_WINOGRAD=0 is not set (read once);
 * else 0. */
int sb_wino_applies(const sb_conv2d_t *p);

/* Floats of the transformed, packed weight of a cout×cin 3×3 convolution
 * (16 matrices packed by sb_gemm_pack_a); 0 when a size is < 1. */
size_t sb_wino_weight_floats(int64_t cout, int64_t cin);

/* Transforms weight [cout][cin][3][3] (U = G·g·Gᵀ per output and input
 * channel, in double, rounded once) and packs the 16 resulting cout×cin
 * matrices for the GEMM. dst: sb_wino_weight_floats(cout, cin) floats, any
 * alignment (64 bytes is best). Returns 0, or -1 for a size < 1, a NULL
 * pointer or no memory for its scratch (16·cout·cin floats). */
int sb_wino_pack_weight(int64_t cout, int64_t cin, const float *weight, float *dst);

/* Scratch bytes sb_conv2d_winograd needs for p with `threads` threads (the
 * transformed input and products of one chunk of tiles, and each thread's
 * GEMM packing buffer); 0 when p is not one sb_wino_applies accepts. The
 * workspace may have any alignment. */
size_t sb_wino_workspace_bytes(const sb_conv2d_t *p, int threads);

/* sb_k_conv2d of p (3×3, stride 1, pad 1) with the weight given as
 * transformed by sb_wino_pack_weight(p->cout, p->cin, p->weight, ...);
 * p->weight is not read. Same shapes, bias, residual and relu as
 * sb_k_conv2d; results equal its up to float rounding. Returns 0, or -1
 * when p is not accepted, an argument is NULL or the workspace is too
 * small. */
int sb_conv2d_winograd(const sb_conv2d_t *p, const float *wino_weight, const float *in,
                       float *out, void *workspace, size_t workspace_bytes, int threads);

#endif
