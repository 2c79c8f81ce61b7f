/* sb_resnet_make_flags(SB_RESNET_MAKE_RANDOM_BN) (`sb-model make
 * --random-bn`), and the forward pass of such a model against the unfused
 * reference of model_reference.h, which applies every batch-norm from its
 * stored statistics instead of folding it.
 *
 * The file: batch-norm gamma in [0.75, 1.25], beta and running_mean in
 * [-0.2, 0.2], running_var in [0.5, 1.5], each spread over most of its range
 * (beyond the mild default's); the convolutions and fc bit-identical to the
 * default file of the same seed (same stream, only the batch-norm ranges
 * differ); "batchnorm": "random" in __metadata__; the same seed gives the
 * same bytes; an unknown flag is refused.
 *
 * The forward pass, as `sb-model run` and the database do it: pixels 0..255
 * (NHWC) through sb_k_pre_process_3ch and sb_resnet_forward, against the
 * reference on the same pixels normalised in double with torchvision's
 * ImageNet mean and std written out here. tiny at batch 1 and 3, 32x32 and
 * 40x24, 1 and 2 threads; max |logit - reference| <= 1e-4 × max(1, max
 * |reference|), as in test_model_forward.c. And the statistics matter: the
 * logits differ from those of the default file of the same seed. */
#include "model_reference.h"
#include "model_test.h"
#include "sb_kernels.h"
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <math.h>
#include <stdint.h>

static const char *const bn_parts[4] = {"weight", "bias", "running_mean", "running_var"};

/* [lo, hi] each part must lie in, and how far into it the values must
 * reach (beyond the default's ± 0.1 / 1 ± 0.2). */
static const double bn_lo[4] = {0.75, -0.2, -0.2, 0.5}, bn_hi[4] = {1.25, 0.2, 0.2, 1.5};
static const double bn_reach_lo[4] = {0.85, -0.15, -0.15, 0.65},
                    bn_reach_hi[4] = {1.15, 0.15, 0.15, 1.35};

/* Whether the tensor `name` belongs to a batch-norm: its prefix (the name
 * less its last component) has a running_var. */
static int is_bn(const sb_st_file_t *f, const char *name)
{
  char probe[160];
  const char *dot = strrchr(name, '.');
  if (!dot || (size_t)(dot - name) + sizeof ".running_var" > sizeof probe)
    return 0;
  snprintf(probe, sizeof probe, "%.*s.running_var", (int)(dot - name), name);
  return sb_st_find(f, probe) != NULL;
}

/* Every batch-norm of the file in range and spread; returns how many
 * batch-norm layers it saw. */
static int check_bn_stats(const sb_st_file_t *f)
{
  double lo[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
  double hi[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
  int layers = 0;
  char name[160];
  for (size_t i = 0; i < f->ntensors; i++) {
    const char *tn = f->tensors[i].name;
    size_t nl = strlen(tn), sl = strlen(".running_var");
    if (nl <= sl || strcmp(tn + nl - sl, ".running_var") != 0)
      continue;
    layers++;
    for (int p = 0; p < 4; p++) {
      snprintf(name, sizeof name, "%.*s.%s", (int)(nl - sl), tn, bn_parts[p]);
      const sb_st_tensor_t *t = sb_st_find(f, name);
      MT_CHECK(t && t->dtype == SB_ST_F32 && t->ndim == 1, "%s missing or not F32 [c]", name);
      if (!t || t->dtype != SB_ST_F32)
        continue;
      for (size_t k = 0; k < t->count; k++) {
        float x;
        memcpy(&x, (const unsigned char *)t->data + k * sizeof x, sizeof x);
        MT_CHECK(x >= bn_lo[p] && x <= bn_hi[p], "%s[%zu] = %g outside [%g, %g]", name, k, x,
                 bn_lo[p], bn_hi[p]);
        lo[p] = fmin(lo[p], x);
        hi[p] = fmax(hi[p], x);
      }
    }
  }
  for (int p = 0; p < 4; p++) {
    printf("batch-norm %-12s in [%.4f, %.4f]\n", bn_parts[p], lo[p], hi[p]);
    MT_CHECK(lo[p] <= bn_reach_lo[p] && hi[p] >= bn_reach_hi[p],
             "%s spans only [%g, %g]: not randomised beyond the default", bn_parts[p], lo[p],
             hi[p]);
  }
  return layers;
}

/* Every tensor that is not a batch-norm's: the same bytes in both files. */
static void check_same_weights(const sb_st_file_t *a, const sb_st_file_t *b)
{
  MT_CHECK(a->ntensors == b->ntensors, "tensor counts %zu and %zu", a->ntensors, b->ntensors);
  size_t same = 0;
  for (size_t i = 0; i < a->ntensors; i++) {
    const sb_st_tensor_t *t = &a->tensors[i];
    if (is_bn(a, t->name))
      continue;
    const sb_st_tensor_t *u = sb_st_find(b, t->name);
    size_t bytes = (size_t)(t->end - t->begin);
    MT_CHECK(u && (size_t)(u->end - u->begin) == bytes && memcmp(u->data, t->data, bytes) == 0,
             "%s differs between the default and the random-bn file", t->name);
    same++;
  }
  MT_CHECK(same >= 10, "only %zu weight tensors compared", same);
}

/* Pixels 0..255, NHWC. */
static float *pixels(int n, int h, int w, unsigned long long seed)
{
  size_t count = (size_t)n * h * w * 3;
  float *p = malloc(count * sizeof *p);
  MT_REQUIRE(p, "out of memory");
  for (size_t i = 0; i < count; i++)
    p[i] = (float)floor(128.0 * (mt_rand(&seed) + 1.0)); /* 0..255 */
  return p;
}

/* torchvision's normalisation, in double, NHWC -> NCHW (as float: the
 * reference reads its input as float32 like the model does). */
static float *normalise(const float *px, int n, int h, int w)
{
  static const double mean[3] = {0.485, 0.456, 0.406}, sd[3] = {0.229, 0.224, 0.225};
  float *out = malloc((size_t)n * 3 * h * w * sizeof *out);
  MT_REQUIRE(out, "out of memory");
  for (int b = 0; b < n; b++)
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          out[(((size_t)b * 3 + c) * h + y) * w + x] =
            (float)(((double)px[(((size_t)b * h + y) * w + x) * 3 + c] / 255.0 - mean[c]) /
                    sd[c]);
  return out;
}

/* pre_process_3ch + forward of m on px; logits malloc'd (NULL on failure,
 * counted). */
static float *run(const sb_resnet_t *m, const float *px, int n, int h, int w, int threads)
{
  char err[512] = "";
  size_t count = (size_t)n * 3 * h * w, ws = sb_resnet_workspace_bytes(m, n, h, w, threads);
  float *pre = malloc(count * sizeof *pre);
  float *logits = malloc((size_t)n * sb_resnet_classes(m) * sizeof *logits);
  void *work = malloc(ws ? ws : 1);
  MT_REQUIRE(pre && logits && work && ws > 0, "setup");
  sb_k_pre_process_3ch(px, n, h, w, pre, threads);
  int rc = sb_resnet_forward(m, pre, n, h, w, logits, work, ws, threads, err, sizeof err);
  MT_CHECK(rc == 0, "forward n=%d %dx%d threads=%d: %s", n, h, w, threads, err);
  free(pre);
  free(work);
  if (rc != 0) {
    free(logits);
    return NULL;
  }
  return logits;
}

static void check_forward(const sb_resnet_t *m, int n, int h, int w, int threads)
{
  float *px = pixels(n, h, w, 77 + (unsigned)(n * h + w));
  float *got = run(m, px, n, h, w, threads);
  float *in = normalise(px, n, h, w);
  double *ref = reference(&ref_tiny, in, n, h, w);
  const int classes = ref_tiny.classes;
  double maxref = 0, maxdiff = 0;
  for (int i = 0; got && i < n * classes; i++) {
    maxref = fmax(maxref, fabs(ref[i]));
    maxdiff = fmax(maxdiff, fabs((double)got[i] - ref[i]));
  }
  double bound = TOL * fmax(1.0, maxref);
  printf("random-bn tiny n=%d %dx%d threads=%d: max |ref| %.4f, max diff %.3g (bound %.3g)\n", n,
         h, w, threads, maxref, maxdiff, bound);
  MT_CHECK(got && maxdiff <= bound, "n=%d %dx%d threads=%d: max diff %.3g > %.3g", n, h, w,
           threads, maxdiff, bound);
  MT_CHECK(maxref > 1e-3, "logits all ~0 (max %.3g)", maxref);
  free(ref);
  free(in);
  free(got);
  free(px);
}

int main(void)
{
  const uint64_t seed = 11;
  void *blob, *blob2, *plain;
  size_t len, len2, plen;
  char err[512] = "";
  MT_REQUIRE(sb_resnet_make_flags("tiny", seed, SB_RESNET_MAKE_RANDOM_BN, &blob, &len, err,
                                  sizeof err) == 0,
             "make --random-bn: %s", err);
  MT_REQUIRE(sb_resnet_make_flags("tiny", seed, SB_RESNET_MAKE_RANDOM_BN, &blob2, &len2, err,
                                  sizeof err) == 0,
             "make --random-bn again: %s", err);
  MT_CHECK(len == len2 && memcmp(blob, blob2, len) == 0, "same seed, different bytes");
  free(blob2);
  MT_REQUIRE(sb_resnet_make("tiny", seed, &plain, &plen, err, sizeof err) == 0, "make: %s", err);

  /* An unknown flag: refused, nothing returned. */
  blob2 = (void *)1;
  MT_CHECK(sb_resnet_make_flags("tiny", seed, 1u << 7, &blob2, &len2, err, sizeof err) != 0 &&
               blob2 == NULL && strstr(err, "unknown make flags"),
           "flag 0x80: '%s'", err);

  sb_st_file_t plain_st;
  MT_REQUIRE(sb_st_parse(blob, len, &st, err, sizeof err) == 0, "parse: %s", err);
  MT_REQUIRE(sb_st_parse(plain, plen, &plain_st, err, sizeof err) == 0, "parse: %s", err);
  const char *meta = sb_st_meta(&st, "batchnorm");
  MT_CHECK(meta && strcmp(meta, "random") == 0, "metadata batchnorm = %s",
           meta ? meta : "(none)");
  MT_CHECK(sb_st_meta(&plain_st, "batchnorm") == NULL, "the default file has batchnorm metadata");
  int layers = check_bn_stats(&st);
  MT_CHECK(layers == 1 + 4 * 2 + 3, "%d batch-norm layers, expected 12 for tiny", layers);
  check_same_weights(&st, &plain_st);

  sb_resnet_t *m, *pm;
  MT_REQUIRE(sb_resnet_load(blob, len, &m, err, sizeof err) == 0, "load: %s", err);
  MT_REQUIRE(sb_resnet_load(plain, plen, &pm, err, sizeof err) == 0, "load default: %s", err);

  check_forward(m, 1, 32, 32, 1);
  check_forward(m, 3, 32, 32, 2);
  check_forward(m, 2, 40, 24, 2);

  /* The statistics change the result: same weights, same pixels, the
   * default file's logits differ well beyond rounding. */
  float *px = pixels(2, 32, 32, 5);
  float *a = run(m, px, 2, 32, 32, 2), *b = run(pm, px, 2, 32, 32, 2);
  double d = 0, mx = 0;
  for (int i = 0; a && b && i < 2 * ref_tiny.classes; i++) {
    d = fmax(d, fabs(a[i] - b[i]));
    mx = fmax(mx, fabs(b[i]));
  }
  printf("random-bn vs default batch-norm: max logit difference %.4g (max |default| %.4g)\n", d,
         mx);
  MT_CHECK(a && b && d > 1e-2 * fmax(1.0, mx), "random batch-norm barely changes the logits");
  free(a);
  free(b);
  free(px);

  sb_resnet_free(pm);
  sb_resnet_free(m);
  sb_st_free(&plain_st);
  sb_st_free(&st);
  free(plain);
  free(blob);
  return mt_finish("random batch-norm vs unfused reference");
}
