/* The verification pattern on the GPU (kernels/sb_pattern_cuda.h, through
 * common/sb_gpu.h) against the host reference (kernels/sb_pattern.h):
 *
 * - fill on the device, copy back: byte-identical to sb_pattern_fill, for
 *   sizes 1..17, odd sizes, 1M+3, and at offsets 0..7 into the buffer (an
 *   all-gather chunk of odd size starts unaligned);
 * - check on the device: 0 words differ on the intact buffer; one flipped
 *   byte is one word, at the right offset; the wrong iteration or rank makes
 *   every word differ.
 *
 * Exit 0 pass, 1 fail, 77 (reason on stderr) when no GPU is visible.
 */
#include "sb_check.h"
#include "sb_error.h"
#include "sb_gpu.h"
#include "sb_pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int one_case(unsigned char *dev, void *scratch, void *stream, size_t bytes, size_t offset,
                    uint64_t rank, uint64_t iter)
{
  unsigned char *want = malloc(bytes + 1), *got = malloc(bytes + 1), flip;
  size_t bad = 0, first = 0, words = (bytes + 7) / 8;
  int rc = 1;
  if (!want || !got)
    goto out;
  sb_pattern_fill(want, bytes, rank, iter);
  if (sb_gpu_pattern_fill(dev + offset, bytes, rank, iter, stream) != SB_OK ||
      sb_gpu_copy_to_host(got, dev + offset, bytes, stream) != SB_OK)
    goto cuda_fail;
  CHECK(memcmp(want, got, bytes) == 0, "fill: %zu bytes at offset %zu differ from the host", bytes,
        offset);
  if (sb_gpu_pattern_check(dev + offset, bytes, rank, iter, scratch, stream, &bad, &first) != SB_OK)
    goto cuda_fail;
  CHECK(bad == 0, "check: %zu bytes at offset %zu: %zu words differ on an intact buffer", bytes,
        offset, bad);
  /* Against another iteration and another rank, the device's count and
   * first offset are the host check's (nearly every word differs; a short
   * tail may match by chance, on both). */
  for (int other = 0; other < 2; other++) {
    uint64_t r2 = rank + (uint64_t)other, i2 = iter + (uint64_t)!other;
    size_t hfirst = 0, hbad = sb_pattern_check(want, bytes, r2, i2, &hfirst);
    if (sb_gpu_pattern_check(dev + offset, bytes, r2, i2, scratch, stream, &bad, &first) != SB_OK)
      goto cuda_fail;
    CHECK(bad == hbad && first == hfirst && (bytes < 8 || bad >= words - 1),
          "check, wrong %s: %zu bytes: device %zu words (first %zu), host %zu (first %zu) of %zu",
          other ? "rank" : "iteration", bytes, bad, first, hbad, hfirst, words);
  }
  /* One flipped byte near the end: one word, found at its offset. */
  {
    size_t at = bytes - 1 - (bytes > 9 ? 9 : 0);
    flip = (unsigned char)(got[at] ^ 0x40);
    if (sb_gpu_copy_to_device(dev + offset + at, &flip, 1, stream) != SB_OK ||
        sb_gpu_pattern_check(dev + offset, bytes, rank, iter, scratch, stream, &bad, &first) !=
            SB_OK)
      goto cuda_fail;
    CHECK(bad == 1 && first == at / 8 * 8, "check, byte %zu flipped in %zu: %zu words, first %zu",
          at, bytes, bad, first);
  }
  rc = 0;
  goto out;
cuda_fail:
  fprintf(stderr, "FAIL: %zu bytes at offset %zu: %s\n", bytes, offset, sb_error_msg());
out:
  free(want);
  free(got);
  return rc;
}

int main(void)
{
  static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 1003, 4096, 65537, (1u << 20) + 3};
  unsigned char *dev = NULL;
  void *scratch = NULL, *stream = NULL;
  int n = 0, cases = 0;
  char name[256] = "";
  if (sb_gpu_count(&n) != SB_OK) {
    fprintf(stderr, "SKIP: %s\n", sb_error_msg());
    return 77;
  }
  REQUIRE(sb_gpu_name(0, name, sizeof name) == SB_OK, "%s", sb_error_msg());
  REQUIRE(sb_gpu_alloc((void **)&dev, (1u << 20) + 64) == SB_OK, "%s", sb_error_msg());
  REQUIRE(sb_gpu_alloc(&scratch, 16) == SB_OK, "%s", sb_error_msg());
  REQUIRE(sb_gpu_stream_create(&stream) == SB_OK, "%s", sb_error_msg());
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
    for (size_t off = 0; off < 8; off++, cases++)
      if (one_case(dev, scratch, stream, sizes[k], off, 3 + off, 1000 + k) != 0)
        return 1;
  REQUIRE(sb_gpu_stream_destroy(stream) == SB_OK, "%s", sb_error_msg());
  REQUIRE(sb_gpu_free(scratch) == SB_OK, "%s", sb_error_msg());
  REQUIRE(sb_gpu_free(dev) == SB_OK, "%s", sb_error_msg());
  printf("%d cases on %s\n", cases, name);
  return CHECK_DONE();
}
