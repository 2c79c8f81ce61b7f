/* The verification pattern on the GPU (sb_pattern_cuda.h). Whole-program
 * compilation like sb_kernels_cuda.cu; every launch is followed by a check
 * of the last error, and a failure is returned as its cudaError_t. */
#include "sb_pattern_cuda.h"

#include "sb_cuda_check.h"

#include <cuda_runtime.h>

#define AS_STREAM(s) ((cudaStream_t)(s))

/* Every CUDA call and launch below is checked by SB_CUDA_CHECK
 * (sb_cuda_check.h) with no message (err NULL): the function returns the
 * failing cudaError_t, as sb_pattern_cuda.h promises. */

/* sb_pattern_word (sb_pattern.h) for device code: the same splitmix64 mix
 * of (rank, iteration, word), constant for constant. The host header's
 * inline function is not a __device__ function, hence this twin; the test
 * tests/gpu_apps/test_pattern_cuda.c compares the two byte for byte. */
static __device__ __forceinline__ uint64_t pattern_word(uint64_t rank, uint64_t iteration,
                                                        uint64_t word)
{
  uint64_t z = (rank << 48) ^ (iteration << 24) ^ word;
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Grid for a grid-stride loop over `count` items with 256-thread blocks. */
static unsigned grid_for(size_t count)
{
  size_t blocks = (count + 255) / 256;
  if (blocks == 0)
    blocks = 1;
  return (unsigned)(blocks > 65535u * 16u ? 65535u * 16u : blocks);
}

/* One thread per word; `aligned` (the buffer starts on an 8-byte boundary)
 * is uniform over the launch, so the byte-wise branch costs nothing where it
 * is not taken. The last, short word (bytes % 8) keeps its first bytes, as
 * on the host (little-endian, like every CUDA platform). */
static __global__ void fill_kernel(unsigned char *p, size_t bytes, uint64_t rank,
                                   uint64_t iteration, int aligned)
{
  const size_t words = (bytes + 7) / 8;
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < words;
       k += (size_t)gridDim.x * blockDim.x) {
    uint64_t w = pattern_word(rank, iteration, k);
    size_t n = bytes - 8 * k < 8 ? bytes - 8 * k : 8;
    if (aligned && n == 8) {
      reinterpret_cast<uint64_t *>(p)[k] = w;
    } else {
      for (size_t b = 0; b < n; b++)
        p[8 * k + b] = (unsigned char)(w >> (8 * b));
    }
  }
}

/* counters[0]: words that differ; counters[1]: the smallest such word
 * index (starts at ~0). Atomics only on a mismatch. */
static __global__ void check_kernel(const unsigned char *p, size_t bytes, uint64_t rank,
                                    uint64_t iteration, int aligned,
                                    unsigned long long *counters)
{
  const size_t words = (bytes + 7) / 8;
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < words;
       k += (size_t)gridDim.x * blockDim.x) {
    uint64_t w = pattern_word(rank, iteration, k);
    size_t n = bytes - 8 * k < 8 ? bytes - 8 * k : 8;
    int differs = 0;
    if (aligned && n == 8) {
      differs = reinterpret_cast<const uint64_t *>(p)[k] != w;
    } else {
      for (size_t b = 0; b < n; b++)
        differs |= p[8 * k + b] != (unsigned char)(w >> (8 * b));
    }
    if (differs) {
      atomicAdd(&counters[0], 1ull);
      atomicMin(&counters[1], (unsigned long long)k);
    }
  }
}

extern "C" int sb_pattern_cuda_fill(void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                                    void *stream)
{
  if (bytes == 0)
    return 0;
  if (!dev)
    return (int)cudaErrorInvalidValue;
  fill_kernel<<<grid_for((bytes + 7) / 8), 256, 0, AS_STREAM(stream)>>>(
      (unsigned char *)dev, bytes, rank, iteration, ((uintptr_t)dev % 8) == 0);
  SB_CUDA_CHECK(cudaGetLastError(), NULL, 0, return (int)sb_cuda_err);
  return 0;
}

extern "C" int sb_pattern_cuda_check(const void *dev, size_t bytes, uint64_t rank,
                                     uint64_t iteration, void *scratch, void *stream,
                                     size_t *bad, size_t *first_bad)
{
  unsigned long long init[2] = {0ull, ~0ull}, got[2];
  if (!bad || !scratch || (bytes && !dev) || ((uintptr_t)scratch % 8) != 0)
    return (int)cudaErrorInvalidValue;
  *bad = 0;
  if (first_bad)
    *first_bad = SIZE_MAX;
  if (bytes == 0)
    return 0;
  SB_CUDA_CHECK(cudaMemcpyAsync(scratch, init, sizeof init, cudaMemcpyHostToDevice,
                                AS_STREAM(stream)),
                NULL, 0, return (int)sb_cuda_err);
  check_kernel<<<grid_for((bytes + 7) / 8), 256, 0, AS_STREAM(stream)>>>(
      (const unsigned char *)dev, bytes, rank, iteration, ((uintptr_t)dev % 8) == 0,
      (unsigned long long *)scratch);
  SB_CUDA_CHECK(cudaGetLastError(), NULL, 0, return (int)sb_cuda_err);
  SB_CUDA_CHECK(cudaMemcpyAsync(got, scratch, sizeof got, cudaMemcpyDeviceToHost,
                                AS_STREAM(stream)),
                NULL, 0, return (int)sb_cuda_err);
  SB_CUDA_CHECK(cudaStreamSynchronize(AS_STREAM(stream)), NULL, 0, return (int)sb_cuda_err);
  *bad = (size_t)got[0];
  if (first_bad && got[0])
    *first_bad = (size_t)(8 * got[1]);
  return 0;
}
