/* sb_resnet_make is a function of (arch, seed): the same seed gives the same
 * bytes, another seed other weights; and the statistics of what it draws are
 * the ones documented (He std for convs, batch-norm ranges, fc bound). */
#include "model_test.h"
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <math.h>
#include <stdint.h>

static void stats(const sb_st_file_t *st, const char *name, double *mean, double *sd,
                  double *lo, double *hi)
{
  const sb_st_tensor_t *t = sb_st_find(st, name);
  MT_REQUIRE(t && t->dtype == SB_ST_F32, "tensor %s", name);
  const float *f = t->data; /* the writer aligns tensors: safe here */
  double s = 0, s2 = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < t->count; i++) {
    s += f[i];
    s2 += (double)f[i] * f[i];
    *lo = fmin(*lo, f[i]);
    *hi = fmax(*hi, f[i]);
  }
  *mean = s / (double)t->count;
  *sd = sqrt(s2 / (double)t->count - *mean * *mean);
}

int main(void)
{
  char err[512] = "";
  void *a, *b, *c;
  size_t la, lb, lc;
  MT_REQUIRE(sb_resnet_make("resnet18", 1234, &a, &la, err, sizeof err) == 0, "%s", err);
  MT_REQUIRE(sb_resnet_make("resnet18", 1234, &b, &lb, err, sizeof err) == 0, "%s", err);
  MT_REQUIRE(sb_resnet_make("resnet18", 1235, &c, &lc, err, sizeof err) == 0, "%s", err);
  MT_CHECK(la == lb && memcmp(a, b, la) == 0, "same seed, different bytes");

  sb_st_file_t sa, sc;
  MT_REQUIRE(sb_st_parse(a, la, &sa, err, sizeof err) == 0, "%s", err);
  MT_REQUIRE(sb_st_parse(c, lc, &sc, err, sizeof err) == 0, "%s", err);
  MT_CHECK(sa.ntensors == sc.ntensors, "same layout for both seeds");
  /* Every float tensor differs between seeds (each draws from the stream). */
  for (size_t i = 0; i < sa.ntensors && i < sc.ntensors; i++) {
    const sb_st_tensor_t *x = &sa.tensors[i], *y = &sc.tensors[i];
    MT_CHECK(strcmp(x->name, y->name) == 0 && x->begin == y->begin, "%s placed alike", x->name);
    if (x->dtype == SB_ST_F32)
      MT_CHECK(memcmp(x->data, y->data, x->end - x->begin) != 0, "%s same for seeds 1234, 1235",
               x->name);
  }
  MT_CHECK(sb_st_meta(&sa, "seed") && strcmp(sb_st_meta(&sa, "seed"), "1234") == 0, "seed meta");

  double mean, sd, lo, hi;
  /* layer4.0.conv2: [512,512,3,3], std sqrt(2/(512·9)) = 0.02083. */
  stats(&sa, "layer4.0.conv2.weight", &mean, &sd, &lo, &hi);
  MT_CHECK(fabs(mean) < 1e-3 && fabs(sd / sqrt(2.0 / (512 * 9)) - 1) < 0.01,
           "He init: mean %g sd %g", mean, sd);
  stats(&sa, "layer3.1.bn2.weight", &mean, &sd, &lo, &hi);
  MT_CHECK(lo >= 0.9 && hi <= 1.1 && hi - lo > 0.1, "gamma in 1±0.1: [%g, %g]", lo, hi);
  stats(&sa, "layer3.1.bn2.bias", &mean, &sd, &lo, &hi);
  MT_CHECK(lo >= -0.1 && hi <= 0.1 && hi - lo > 0.1, "beta in ±0.1: [%g, %g]", lo, hi);
  stats(&sa, "layer3.1.bn2.running_mean", &mean, &sd, &lo, &hi);
  MT_CHECK(lo >= -0.1 && hi <= 0.1 && hi - lo > 0.1, "mean in ±0.1: [%g, %g]", lo, hi);
  stats(&sa, "layer3.1.bn2.running_var", &mean, &sd, &lo, &hi);
  MT_CHECK(lo >= 0.8 && hi <= 1.2 && hi - lo > 0.2, "var in 1±0.2: [%g, %g]", lo, hi);
  stats(&sa, "fc.weight", &mean, &sd, &lo, &hi);
  MT_CHECK(lo >= -1 / sqrt(512.0) && hi <= 1 / sqrt(512.0) && hi - lo > 1.9 / sqrt(512.0),
           "fc in ±1/sqrt(512): [%g, %g]", lo, hi);
  const sb_st_tensor_t *nbt = sb_st_find(&sa, "layer2.0.downsample.1.num_batches_tracked");
  MT_CHECK(nbt && nbt->dtype == SB_ST_I64 && nbt->ndim == 0 && nbt->count == 1,
           "num_batches_tracked I64 scalar");

  /* Unknown architectures are refused by name. */
  void *d = (void *)1;
  size_t ld = 1;
  MT_CHECK(sb_resnet_make("resnet9000", 1, &d, &ld, err, sizeof err) != 0 && d == NULL &&
               strstr(err, "resnet9000"),
           "unknown arch: '%s'", err);

  sb_st_free(&sa);
  sb_st_free(&sc);
  free(a);
  free(b);
  free(c);
  return mt_finish("model determinism");
}
