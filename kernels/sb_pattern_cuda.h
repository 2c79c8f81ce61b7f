/* The verification pattern (sb_pattern.h) on a device buffer: the same bytes
 * sb_pattern_fill writes on the host, written and checked by the GPU, so a
 * tensor can be produced and verified where it lives without a copy.
 *
 * Plain C declarations (the stream is a cudaStream_t passed as void *, NULL
 * for the default stream), implemented in sb_pattern_cuda.cu; present only
 * in builds with CUDA (HAVE_CUDA 1). Every function returns 0 or the
 * cudaError_t of the call or launch that failed (cudaGetErrorString turns
 * it into text); nothing prints or exits.
 */
#ifndef SB_PATTERN_CUDA_H
#define SB_PATTERN_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of device scratch sb_pattern_cuda_check needs (two counters). */
#define SB_PATTERN_CUDA_SCRATCH 16

/* Fills dev[0..bytes) with the pattern of (rank, iteration), enqueued on
 * stream (not waited for). One thread per 8-byte word, grid-stride; a word
 * at an address that is not 8-byte aligned (a chunk of an all-gather buffer
 * of odd size) is stored byte by byte. Cost: one write pass. */
int sb_pattern_cuda_fill(void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                         void *stream);

/* Checks dev[0..bytes) against the pattern of (rank, iteration) on the GPU
 * and waits for the answer: *bad gets the number of differing 8-byte words
 * (a short tail counts as one), *first_bad the byte offset of the first
 * (SIZE_MAX when none). scratch: SB_PATTERN_CUDA_SCRATCH bytes of device
 * memory, 8-byte aligned, owned by the caller. Cost: one read pass, atomics
 * only where words differ, one 16-byte copy back. */
int sb_pattern_cuda_check(const void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                          void *scratch, void *stream, size_t *bad, size_t *first_bad);

#ifdef __cplusplus
}
#endif

#endif
