/* Private to the CPU kernels: what the files that compile one body twice
 * (baseline and target("avx2,fma"), chosen at run time by
 * sb_cpu_has_avx2_fma, sb_gemm.h) share.
 *   SB_X86_DISPATCH  1 where GCC or clang builds x86-64 code, so that an
 *                    AVX2 + FMA copy of a kernel can be compiled beside the
 *                    baseline one; 0 elsewhere (baseline only).
 *   SB_INLINE        a kernel body forced inline into each copy, so each is
 *                    compiled for its own ISA.
 */
#ifndef SB_ISA_H
#define SB_ISA_H

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

#endif
