/* The verification pattern: the bytes a rank writes in one iteration.
 *
 * Every 8-byte word is a mix (splitmix64) of (rank, iteration, word index),
 * so a buffer from another rank, another iteration (a stale read) or with a
 * shifted or partly overwritten range (a torn read) differs from the
 * expected one in almost every word. Sizes that are not a multiple of 8 end
 * with the first bytes of the next word. Cost: one pass over the buffer,
 * ~1 integer op per byte. The CPU version here is the reference; the CUDA
 * version (sb_pattern_cuda.h) writes the same bytes on a device buffer.
 */
#ifndef SB_PATTERN_H
#define SB_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* The pattern word at index `word` of (rank, iteration). */
static inline uint64_t sb_pattern_word(uint64_t rank, uint64_t iteration, uint64_t word)
{
  uint64_t z = (rank << 48) ^ (iteration << 24) ^ word;
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Fills buf[0..bytes) with the pattern of (rank, iteration). */
void sb_pattern_fill(void *buf, size_t bytes, uint64_t rank, uint64_t iteration);

/* Checks buf against the pattern of (rank, iteration). Returns the number of
 * 8-byte words (counting a short tail as one) that differ; 0 when intact.
 * If first_bad is not NULL it gets the byte offset of the first difference. */
size_t sb_pattern_check(const void *buf, size_t bytes, uint64_t rank, uint64_t iteration,
                        size_t *first_bad);

#endif
