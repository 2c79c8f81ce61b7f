/* gpu_copy_bw: the GPU's own host<->device copy figure, for beside
 * sb-throughput's d2h/h2d phases (tests/gpu_apps/run.sh).
 *
 *   gpu_copy_bw --probe            prints "devices N" and one line per device
 *                                  ("device K NAME"); exit 0 with a GPU, 77
 *                                  (and the reason on stderr) without
 *   gpu_copy_bw SIZE [REPEATS]     pinned host <-> device 0 with plain
 *                                  cudaMemcpy, REPEATS (20) timed copies
 *                                  each way after one untimed; prints
 *                                  "d2h_gbs X" and "h2d_gbs Y" (median, GB/s
 *                                  = 1e9 bytes/s), then "device NAME"
 *
 * SIZE takes K/M/G (binary). Timed with the host clock around each
 * synchronous copy from pinned memory, as sb-throughput times its copies.
 * Every CUDA call is checked; exit 1 on a CUDA error, 2 on bad arguments.
 */
#include "sb_gpu.h"
#include "sb_size.h"
#include "sb_error.h"
#include "sb_timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int probe(void)
{
  int n = 0;
  char name[256];
  if (sb_gpu_count(&n) != SB_OK) {
    fprintf(stderr, "gpu_copy_bw: %s\n", sb_error_msg());
    return 77;
  }
  printf("devices %d\n", n);
  for (int k = 0; k < n; k++) {
    if (sb_gpu_name(k, name, sizeof name) != SB_OK) {
      fprintf(stderr, "gpu_copy_bw: %s\n", sb_error_msg());
      return 1;
    }
    printf("device %d %s\n", k, name);
  }
  return 0;
}

/* Median seconds of `repeats` copies one way (after one untimed). */
static int time_copies(void *host, void *dev, size_t bytes, int to_host, int repeats,
                       void *stream, double *median)
{
  double *t = calloc((size_t)repeats, sizeof *t);
  if (!t)
    return sb_error("out of memory");
  for (int k = -1; k < repeats; k++) {
    double t0 = sb_now();
    int rc = to_host ? sb_gpu_copy_to_host(host, dev, bytes, stream)
                     : sb_gpu_copy_to_device(dev, host, bytes, stream);
    if (rc != SB_OK) {
      free(t);
      return SB_ERR;
    }
    if (k >= 0)
      t[k] = sb_now() - t0;
  }
  qsort(t, (size_t)repeats, sizeof *t, cmp_double);
  *median = repeats % 2 ? t[repeats / 2] : (t[repeats / 2 - 1] + t[repeats / 2]) / 2;
  free(t);
  return SB_OK;
}

int main(int argc, char **argv)
{
  uint64_t bytes = 0;
  int repeats = 20, n = 0, rc = 1;
  void *host = NULL, *dev = NULL, *stream = NULL;
  double d2h = 0, h2d = 0;
  char name[256] = "";

  if (argc >= 2 && strcmp(argv[1], "--probe") == 0)
    return probe();
  if (argc < 2 || sb_size_parse(argv[1], 0, &bytes) != SB_OK || bytes == 0 ||
      (argc >= 3 && (repeats = atoi(argv[2])) < 1)) {
    fprintf(stderr, "usage: gpu_copy_bw --probe | SIZE [REPEATS]\n");
    return 2;
  }
  if (sb_gpu_count(&n) != SB_OK) {
    fprintf(stderr, "gpu_copy_bw: %s\n", sb_error_msg());
    return 77;
  }
  if (sb_gpu_name(0, name, sizeof name) != SB_OK || sb_gpu_alloc_pinned(&host, bytes) != SB_OK ||
      sb_gpu_alloc(&dev, bytes) != SB_OK || sb_gpu_stream_create(&stream) != SB_OK)
    goto out;
  memset(host, 0x5a, bytes);
  if (time_copies(host, dev, bytes, 0, repeats, stream, &h2d) != SB_OK ||
      time_copies(host, dev, bytes, 1, repeats, stream, &d2h) != SB_OK)
    goto out;
  printf("d2h_gbs %.3f\nh2d_gbs %.3f\ndevice %s\n", (double)bytes / d2h / 1e9,
         (double)bytes / h2d / 1e9, name);
  rc = 0;
out:
  if (rc)
    fprintf(stderr, "gpu_copy_bw: %s\n", sb_error_msg());
  if (sb_gpu_stream_destroy(stream) != SB_OK) {
    fprintf(stderr, "gpu_copy_bw: cleanup: %s\n", sb_error_msg());
    rc = 1;
  }
  if (sb_gpu_free(dev) != SB_OK || sb_gpu_free_pinned(host) != SB_OK) {
    fprintf(stderr, "gpu_copy_bw: cleanup: %s\n", sb_error_msg());
    rc = 1;
  }
  return rc;
}
