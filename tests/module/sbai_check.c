/* sbai_check: the in-process side of the module's model and script tests.
 *
 *   sbai_check image N H W SEED OUT         N×H×W×3 floats in 0..255 (HWC images)
 *   sbai_check nchw N H W SEED OUT          N×3×H×W floats in about ±2 (model inputs)
 *   sbai_check slice IN OFFSET COUNT OUT    floats [OFFSET, OFFSET+COUNT) of IN
 *   sbai_check preprocess IN N H W GOT      GOT (NCHW) = pre_process_3ch(IN) (computed
 *                                           here from the formula, not the kernel)
 *   sbai_check forward MODEL IN N H W GOT   GOT = logits of MODEL (safetensors, loaded
 *                                           with sb_resnet_load) on IN ([N][3][H][W])
 *   sbai_check time MODEL N H W             seconds of one forward pass, 1 thread
 *
 * Comparisons pass when max |got - want| <= 1e-4 · max(max |want|, 1) and the
 * sizes agree. Exit status: 0 pass, 1 mismatch, 2 usage, I/O or load error.
 */
#include "sb_kernels.h"
#include "sb_resnet.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOLERANCE 1e-4

static int usage(void)
{
  fprintf(stderr, "usage: sbai_check image|nchw N H W SEED OUT | slice IN OFF COUNT OUT |\n"
                  "       preprocess IN N H W GOT | forward MODEL IN N H W GOT | "
                  "time MODEL N H W\n");
  return 2;
}

/* Reads a whole file; NULL (after a message) on failure. */
static void *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  void *buf = NULL;
  long size;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "sbai_check: cannot read %s\n", path);
    if (f)
      fclose(f);
    return NULL;
  }
  buf = malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "sbai_check: cannot read %s\n", path);
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *len = (size_t)size;
  return buf;
}

static int write_file(const char *path, const void *buf, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "sbai_check: cannot write %s\n", path);
    return 2;
  }
  return 0;
}

/* Reads `count` floats from path, exactly. */
static float *read_floats(const char *path, size_t count)
{
  size_t len;
  float *v = read_file(path, &len);
  if (v && len != count * sizeof(float)) {
    fprintf(stderr, "sbai_check: %s has %zu bytes, expected %zu (%zu floats)\n", path, len,
            count * sizeof(float), count);
    free(v);
    return NULL;
  }
  return v;
}

static int64_t arg_int(const char *s)
{
  char *end;
  long long v = strtoll(s, &end, 10);
  return (*end || v < 0) ? -1 : (int64_t)v;
}

/* A small deterministic generator (64-bit LCG, top bits). */
static double next_unit(uint64_t *state)
{
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*state >> 11) / 9007199254740992.0;
}

static int compare(const float *got, const float *want, size_t count, const char *what)
{
  double max_want = 0, max_diff = 0;
  size_t worst = 0;
  for (size_t i = 0; i < count; i++)
    if (fabs(want[i]) > max_want)
      max_want = fabs(want[i]);
  for (size_t i = 0; i < count; i++) {
    double d = fabs((double)got[i] - (double)want[i]);
    if (!(d <= max_diff)) { /* also catches NaN */
      max_diff = isnan(d) ? INFINITY : d;
      worst = i;
    }
  }
  if (max_diff > TOLERANCE * (max_want > 1 ? max_want : 1)) {
    fprintf(stderr, "sbai_check: %s differs: max |diff| %.3g at element %zu (got %.9g, want %.9g;"
                    " max |want| %.3g)\n",
            what, max_diff, worst, got[worst], want[worst], max_want);
    return 1;
  }
  printf("%s: %zu values match (max |diff| %.3g, max |value| %.3g)\n", what, count, max_diff,
         max_want);
  return 0;
}

static int load_model(const char *path, sb_resnet_t **net)
{
  char err[256] = "";
  size_t len;
  void *blob = read_file(path, &len);
  if (!blob)
    return 2;
  if (sb_resnet_load(blob, len, net, err, sizeof err) != 0) {
    free(blob);
    fprintf(stderr, "sbai_check: cannot load %s: %s\n", path, err);
    return 2;
  }
  free(blob);
  return 0;
}

/* logits of net on in[n][3][h][w] with one thread; NULL after a message. */
static float *forward(const sb_resnet_t *net, const float *in, int64_t n, int64_t h, int64_t w)
{
  size_t ws = sb_resnet_workspace_bytes(net, n, h, w, 1);
  float *logits = malloc((size_t)(n * sb_resnet_classes(net)) * sizeof(float));
  void *workspace = malloc(ws ? ws : 1);
  char err[256] = "";
  if (!logits || !workspace
      || sb_resnet_forward(net, in, n, h, w, logits, workspace, ws, 1, err, sizeof err) != 0) {
    fprintf(stderr, "sbai_check: forward failed: %s\n", err);
    free(logits);
    logits = NULL;
  }
  free(workspace);
  return logits;
}

/* The model of a forward or time command and its batch (N H W in dims[0],
 * dims[1], dims[2]): 0, else the exit status (usage for a bad dimension, 2
 * when the model does not load). */
static int model_and_batch(const char *path, char *const *dims, sb_resnet_t **net, int64_t *n,
                           int64_t *h, int64_t *w)
{
  *n = arg_int(dims[0]);
  *h = arg_int(dims[1]);
  *w = arg_int(dims[2]);
  if (*n < 1 || *h < 1 || *w < 1)
    return usage();
  return load_model(path, net);
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return usage();

  if ((strcmp(argv[1], "image") == 0 || strcmp(argv[1], "nchw") == 0) && argc == 7) {
    int64_t n = arg_int(argv[2]), h = arg_int(argv[3]), w = arg_int(argv[4]);
    uint64_t state = (uint64_t)arg_int(argv[5]) * 2654435761u + 1;
    size_t count;
    float *v;
    int rc;
    if (n < 1 || h < 1 || w < 1)
      return usage();
    count = (size_t)(n * h * w * 3);
    v = malloc(count * sizeof *v);
    for (size_t i = 0; i < count; i++)
      v[i] = argv[1][0] == 'i' ? (float)floor(next_unit(&state) * 256.0)
                               : (float)(next_unit(&state) * 4.0 - 2.0);
    rc = write_file(argv[6], v, count * sizeof *v);
    free(v);
    return rc;
  }

  if (strcmp(argv[1], "slice") == 0 && argc == 6) {
    size_t len;
    int64_t off = arg_int(argv[3]), count = arg_int(argv[4]);
    float *v = read_file(argv[2], &len);
    int rc;
    if (!v)
      return 2;
    if (off < 0 || count < 1 || (size_t)(off + count) * sizeof(float) > len) {
      fprintf(stderr, "sbai_check: slice out of range\n");
      free(v);
      return 2;
    }
    rc = write_file(argv[5], v + off, (size_t)count * sizeof(float));
    free(v);
    return rc;
  }

  if (strcmp(argv[1], "preprocess") == 0 && argc == 7) {
    static const float mean[3] = {SB_IMAGENET_MEAN_R, SB_IMAGENET_MEAN_G, SB_IMAGENET_MEAN_B};
    static const float stdv[3] = {SB_IMAGENET_STD_R, SB_IMAGENET_STD_G, SB_IMAGENET_STD_B};
    int64_t n = arg_int(argv[3]), h = arg_int(argv[4]), w = arg_int(argv[5]);
    size_t count;
    float *in, *got, *want;
    int rc;
    if (n < 1 || h < 1 || w < 1)
      return usage();
    count = (size_t)(n * h * w * 3);
    in = read_floats(argv[2], count);
    got = read_floats(argv[6], count);
    if (!in || !got)
      return free(in), free(got), 2;
    want = malloc(count * sizeof *want);
    for (int64_t b = 0; b < n; b++)
      for (int64_t c = 0; c < 3; c++)
        for (int64_t y = 0; y < h; y++)
          for (int64_t x = 0; x < w; x++)
            want[((b * 3 + c) * h + y) * w + x] =
              (in[((b * h + y) * w + x) * 3 + c] / 255.0f - mean[c]) / stdv[c];
    rc = compare(got, want, count, "pre_process_3ch");
    free(in), free(got), free(want);
    return rc;
  }

  if (strcmp(argv[1], "forward") == 0 && argc == 8) {
    int64_t n, h, w;
    sb_resnet_t *net = NULL;
    float *in, *got, *want;
    int rc = model_and_batch(argv[2], &argv[4], &net, &n, &h, &w);
    if (rc != 0)
      return rc;
    in = read_floats(argv[3], (size_t)(n * 3 * h * w));
    got = read_floats(argv[7], (size_t)(n * sb_resnet_classes(net)));
    want = in && got ? forward(net, in, n, h, w) : NULL;
    rc = want ? compare(got, want, (size_t)(n * sb_resnet_classes(net)), "logits") : 2;
    free(in), free(got), free(want);
    sb_resnet_free(net);
    return rc;
  }

  if (strcmp(argv[1], "time") == 0 && argc == 6) {
    int64_t n, h, w;
    sb_resnet_t *net = NULL;
    struct timespec t0, t1;
    float *in, *out;
    int rc = model_and_batch(argv[2], &argv[3], &net, &n, &h, &w);
    if (rc != 0)
      return rc;
    in = calloc((size_t)(n * 3 * h * w), sizeof *in);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    out = forward(net, in, n, h, w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (out)
      printf("%.6f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    free(in), free(out);
    sb_resnet_free(net);
    return out ? 0 : 2;
  }
  return usage();
}
