/* Benchmark helper (not a test): the inference path in-process, with the
 * kernel layer and no database — the reference the end-to-end figures of
 * tests/bench/inference_bench.sh are divided by.
 *
 *   sb-bench-inprocess ARCH BATCH THREADS ITERATIONS [IMAGE]
 *
 * Times pre_process_3ch + forward over ITERATIONS batches (after one
 * untimed warm-up) and prints one line:
 *   ARCH BATCH THREADS images_per_s forward_gflops_per_s
 */
#include "sb_kernels.h"
#include "sb_resnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
  char err[256];
  void *blob = NULL, *work;
  size_t len = 0, wbytes;
  sb_resnet_t *m = NULL;
  if (argc < 5) {
    fprintf(stderr, "usage: %s ARCH BATCH THREADS ITERATIONS [IMAGE]\n", argv[0]);
    return 2;
  }
  const char *arch = argv[1];
  int64_t n = atoll(argv[2]), iters = atoll(argv[4]);
  int threads = atoi(argv[3]);
  if (n < 1 || iters < 1 || threads < 1) {
    fprintf(stderr, "%s: BATCH, THREADS and ITERATIONS must be >= 1\n", argv[0]);
    return 2;
  }
  if (sb_resnet_make(arch, 1, &blob, &len, err, sizeof err) != 0 ||
      sb_resnet_load(blob, len, &m, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n", arch, err);
    return 1;
  }
  int64_t hw = argc > 5 ? atoll(argv[5]) : sb_resnet_image_size(m);
  size_t img = (size_t)(n * hw * hw * 3);
  float *image = malloc(img * sizeof(float)), *pre = malloc(img * sizeof(float));
  float *logits = malloc((size_t)(n * sb_resnet_classes(m)) * sizeof(float));
  wbytes = sb_resnet_workspace_bytes(m, n, hw, hw, threads);
  work = malloc(wbytes ? wbytes : 1);
  if (!image || !pre || !logits || !work) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < img; i++)
    image[i] = (float)((i * 2654435761u) % 256);
  double t0 = 0;
  for (int64_t it = -1; it < iters; it++) {
    if (it == 0)
      t0 = now();
    sb_k_pre_process_3ch(image, n, hw, hw, pre, threads);
    if (sb_resnet_forward(m, pre, n, hw, hw, logits, work, wbytes, threads, err, sizeof err) != 0) {
      fprintf(stderr, "forward: %s\n", err);
      return 1;
    }
  }
  double dt = now() - t0;
  printf("%s %lld %d %.3f %.2f\n", arch, (long long)n, threads, (double)(n * iters) / dt,
         sb_resnet_flops(m, n, hw, hw) * (double)iters / dt / 1e9);
  free(image), free(pre), free(logits), free(work), free(blob);
  sb_resnet_free(m);
  return 0;
}
