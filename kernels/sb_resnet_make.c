/* sb_resnet_make: a deterministic, torchvision-named ResNet state_dict as a
 * safetensors file, for tests and benchmarks (no download, no Python).
 * sb_resnet_make_flags(.., SB_RESNET_MAKE_RANDOM_BN, ..) widens the
 * batch-norm statistics so that folding them at load changes the weights
 * substantially. (sb_st_writer_meta failures are remembered by the writer
 * and reported by sb_st_writer_finish.) */
#include "sb_resnet.h"

#include "sb_err.h"
#include "sb_safetensors.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* splitmix64 (Steele, Lea, Flood 2014): a 64-bit counter through a mixing
 * function; every seed gives a full-period, well-mixed stream. */
typedef struct rng {
  uint64_t state;
  int have_spare;
  double spare;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
  uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 bits. */
static double rng_uniform(rng_t *r)
{
  return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [-a, a). */
static double rng_sym(rng_t *r, double a)
{
  return a * (2.0 * rng_uniform(r) - 1.0);
}

/* Standard normal by Box-Muller, two per pair of uniforms. */
static double rng_normal(rng_t *r)
{
  if (r->have_spare) {
    r->have_spare = 0;
    return r->spare;
  }
  double u1 = 1.0 - rng_uniform(r); /* (0, 1]: log is finite */
  double u2 = rng_uniform(r);
  double rad = sqrt(-2.0 * log(u1)), th = 2.0 * 3.14159265358979323846 * u2;
  r->spare = rad * sin(th);
  r->have_spare = 1;
  return rad * cos(th);
}

typedef struct maker {
  sb_st_writer_t *w;
  rng_t rng;
  int random_bn; /* SB_RESNET_MAKE_RANDOM_BN */
  int failed;
} maker_t;

static float *reserve_f32(maker_t *mk, const char *name, int ndim, const int64_t *shape)
{
  float *p = sb_st_writer_reserve(mk->w, name, SB_ST_F32, ndim, shape);
  if (!p)
    mk->failed = 1;
  return p;
}

/* Kaiming normal, mode fan_out, relu gain: std = sqrt(2 / (cout·k·k)). */
static void make_conv(maker_t *mk, const char *prefix, int64_t cout, int64_t cin, int64_t k)
{
  char name[96];
  const int64_t shape[4] = {cout, cin, k, k};
  snprintf(name, sizeof name, "%s.weight", prefix);
  float *p = reserve_f32(mk, name, 4, shape);
  if (!p)
    return;
  double sd = sqrt(2.0 / (double)(cout * k * k));
  for (int64_t i = 0, n = cout * cin * k * k; i < n; i++)
    p[i] = (float)(sd * rng_normal(&mk->rng));
}

/* Per channel, uniform: gamma 1 ± 0.1, beta ± 0.1, mean ± 0.1, var 1 ± 0.2;
 * with SB_RESNET_MAKE_RANDOM_BN gamma 1 ± 0.25, beta ± 0.2, mean ± 0.2,
 * var 1 ± 0.5 (in [0.5, 1.5]). Then the I64 counter. The same number of
 * draws either way. */
static void make_bn(maker_t *mk, const char *prefix, int64_t c)
{
  typedef struct {
    const char *part;
    double center, spread;
  } bn_part_t;
  static const bn_part_t mild[4] = {
    {"weight", 1.0, 0.1}, {"bias", 0.0, 0.1}, {"running_mean", 0.0, 0.1},
    {"running_var", 1.0, 0.2}};
  static const bn_part_t wide[4] = {
    {"weight", 1.0, 0.25}, {"bias", 0.0, 0.2}, {"running_mean", 0.0, 0.2},
    {"running_var", 1.0, 0.5}};
  const bn_part_t *parts = mk->random_bn ? wide : mild;
  char name[96];
  for (int j = 0; j < 4; j++) {
    snprintf(name, sizeof name, "%s.%s", prefix, parts[j].part);
    float *p = reserve_f32(mk, name, 1, &c);
    if (!p)
      return;
    for (int64_t i = 0; i < c; i++)
      p[i] = (float)(parts[j].center + rng_sym(&mk->rng, parts[j].spread));
  }
  snprintf(name, sizeof name, "%s.num_batches_tracked", prefix);
  if (!sb_st_writer_reserve(mk->w, name, SB_ST_I64, 0, NULL)) /* zeroed: 0 */
    mk->failed = 1;
}

static void make_fc(maker_t *mk, int64_t classes, int64_t features)
{
  const int64_t shape[2] = {classes, features};
  double bound = 1.0 / sqrt((double)features);
  float *p = reserve_f32(mk, "fc.weight", 2, shape);
  if (!p)
    return;
  for (int64_t i = 0; i < classes * features; i++)
    p[i] = (float)rng_sym(&mk->rng, bound);
  p = reserve_f32(mk, "fc.bias", 1, &classes);
  if (!p)
    return;
  for (int64_t i = 0; i < classes; i++)
    p[i] = (float)rng_sym(&mk->rng, bound);
}

int sb_resnet_make(const char *arch, uint64_t seed, void **blob, size_t *len, char *err,
                   size_t errlen)
{
  return sb_resnet_make_flags(arch, seed, 0, blob, len, err, errlen);
}

int sb_resnet_make_flags(const char *arch, uint64_t seed, unsigned flags, void **blob,
                         size_t *len, char *err, size_t errlen)
{
  const sb_resnet_layout_t *l = sb_resnet_layout_find(arch);
  *blob = NULL;
  *len = 0;
  if (flags & ~(unsigned)SB_RESNET_MAKE_RANDOM_BN) {
    sb_set_err(err, errlen, "%s: unknown make flags 0x%x", arch ? arch : "(null)",
               flags & ~(unsigned)SB_RESNET_MAKE_RANDOM_BN);
    return -1;
  }
  if (!l) {
    sb_set_err(err, errlen, "unknown architecture \"%s\" (known: resnet18, resnet34, resnet50, tiny)",
            arch ? arch : "(null)");
    return -1;
  }
  maker_t mk = {.w = sb_st_writer_new(),
                .rng = {.state = seed},
                .random_bn = (flags & SB_RESNET_MAKE_RANDOM_BN) != 0};
  if (!mk.w) {
    sb_set_err(err, errlen, "%s: out of memory", arch);
    return -1;
  }
  char seedstr[32], cn[64], bn[64];
  snprintf(seedstr, sizeof seedstr, "%" PRIu64, seed);
  sb_st_writer_meta(mk.w, "format", "pt");
  sb_st_writer_meta(mk.w, "arch", l->arch);
  sb_st_writer_meta(mk.w, "seed", seedstr);
  sb_st_writer_meta(mk.w, "generator", "stagebench sb_resnet_make");
  if (mk.random_bn) /* only then: the default files keep their bytes */
    sb_st_writer_meta(mk.w, "batchnorm", "random");

  /* state_dict order: conv1, bn1, layer1..4 block by block, fc. */
  make_conv(&mk, "conv1", l->stem, 3, 7);
  make_bn(&mk, "bn1", l->stem);
  const int expansion = l->bottleneck ? 4 : 1;
  int64_t inplanes = l->stem;
  for (int s = 0; s < 4 && !mk.failed; s++) {
    const int64_t p = l->planes[s], out = p * expansion;
    for (int b = 0; b < l->blocks[s] && !mk.failed; b++) {
      const int stride = (s > 0 && b == 0) ? 2 : 1;
      const int nconv = l->bottleneck ? 3 : 2;
      for (int i = 0; i < nconv; i++) {
        int64_t cin = i == 0 ? inplanes : p;
        int64_t cout = (l->bottleneck && i == 2) ? out : p;
        int64_t k = l->bottleneck ? (i == 1 ? 3 : 1) : 3;
        snprintf(cn, sizeof cn, "layer%d.%d.conv%d", s + 1, b, i + 1);
        snprintf(bn, sizeof bn, "layer%d.%d.bn%d", s + 1, b, i + 1);
        make_conv(&mk, cn, cout, cin, k);
        make_bn(&mk, bn, cout);
      }
      if (stride != 1 || inplanes != out) {
        snprintf(cn, sizeof cn, "layer%d.%d.downsample.0", s + 1, b);
        snprintf(bn, sizeof bn, "layer%d.%d.downsample.1", s + 1, b);
        make_conv(&mk, cn, out, inplanes, 1);
        make_bn(&mk, bn, out);
      }
      inplanes = out;
    }
  }
  make_fc(&mk, l->classes, inplanes);

  char werr[256];
  int rc = sb_st_writer_finish(mk.w, blob, len, werr, sizeof werr);
  if (rc != 0)
    sb_set_err(err, errlen, "%s: %s", arch, werr);
  sb_st_writer_free(mk.w);
  return rc;
}
