/* The naive reference forward pass of the model tests (header-only, like
 * model_test.h): direct convolutions in double precision on the *unfolded*
 * weights of the file, batch-norm applied explicitly after each one from its
 * stored statistics (eps 1e-5), relu, the residual add, max pooling, global
 * average pooling and fc — the textbook torchvision ResNet (BasicBlock and
 * Bottleneck v1.5), with the layouts written out below, sharing no code with
 * sb_resnet.c or the kernels.
 *
 * The tensors come from `st`, which the test fills with sb_st_parse before
 * calling reference(). Tolerance of the tests that use it:
 * max |logit - reference| <= TOL × max(1, max |reference|). */
#ifndef SB_MODEL_REFERENCE_H
#define SB_MODEL_REFERENCE_H

#include "model_test.h"
#include "sb_safetensors.h"

#include <math.h>
#include <stdint.h>

#define EPS 1e-5
#define TOL 1e-4

static sb_st_file_t st;

/* 0: the reference in double. 10 or 7: it simulates a GPU convolution in
 * TF32 or BF16 instead: batch-norm folded into the weights and bias (as
 * sb_resnet.c folds), then the folded weights and every convolution input
 * rounded to that many mantissa bits (to nearest, ties away from zero, as
 * the tensor cores' conversion does), products summed in double. */
static int ref_mantissa_bits;

static double ref_round(double x)
{
  float f = (float)x;
  uint32_t u;
  if (ref_mantissa_bits <= 0 || !isfinite(f))
    return x;
  memcpy(&u, &f, sizeof u);
  u += 1u << (22 - ref_mantissa_bits);
  u &= ~((1u << (23 - ref_mantissa_bits)) - 1u);
  memcpy(&f, &u, sizeof f);
  return f;
}

/* A tensor of the file as doubles, checked to have `count` elements. */
static double *tensor(const char *name, size_t count)
{
  const sb_st_tensor_t *t = sb_st_find(&st, name);
  MT_REQUIRE(t && t->dtype == SB_ST_F32 && t->count == count, "tensor %s", name);
  float *f = malloc(count * sizeof *f);
  double *d = malloc(count * sizeof *d);
  MT_REQUIRE(f && d, "out of memory");
  memcpy(f, t->data, count * sizeof *f);
  for (size_t i = 0; i < count; i++)
    d[i] = f[i];
  free(f);
  return d;
}

typedef struct act {
  int n, c, h, w;
  double *d; /* [n][c][h][w] */
} act_t;

static act_t act_new(int n, int c, int h, int w)
{
  act_t a = {n, c, h, w, calloc((size_t)n * c * h * w, sizeof(double))};
  MT_REQUIRE(a.d, "out of memory");
  return a;
}

#define AT(a, b, ch, y, x) (a).d[(((size_t)(b) * (a).c + (ch)) * (a).h + (y)) * (a).w + (x)]

/* conv (no bias) then batch-norm `bn`, straight from the definitions. */
static act_t conv_bn(act_t in, const char *conv, const char *bn, int cout, int k, int s, int pad)
{
  char name[96];
  snprintf(name, sizeof name, "%s.weight", conv);
  double *wt = tensor(name, (size_t)cout * in.c * k * k);
  double *g, *b, *mu, *var;
  snprintf(name, sizeof name, "%s.weight", bn);
  g = tensor(name, (size_t)cout);
  snprintf(name, sizeof name, "%s.bias", bn);
  b = tensor(name, (size_t)cout);
  snprintf(name, sizeof name, "%s.running_mean", bn);
  mu = tensor(name, (size_t)cout);
  snprintf(name, sizeof name, "%s.running_var", bn);
  var = tensor(name, (size_t)cout);
  int oh = (in.h + 2 * pad - k) / s + 1, ow = (in.w + 2 * pad - k) / s + 1;
  act_t out = act_new(in.n, cout, oh, ow);
  if (ref_mantissa_bits > 0) {
    /* Folded (scale into the weights, shift into a bias), then rounded. */
    const size_t per = (size_t)in.c * k * k;
    for (int co = 0; co < cout; co++) {
      double scale = g[co] / sqrt(var[co] + EPS);
      for (size_t i = 0; i < per; i++)
        wt[co * per + i] = ref_round((float)(wt[co * per + i] * scale));
      b[co] = (float)(b[co] - mu[co] * scale);
      mu[co] = 0, var[co] = 1 - EPS, g[co] = 1;
    }
    /* The input rounded in a copy: the caller's (a block's shortcut) is
     * added later at full precision, as on the GPU. */
    act_t r = act_new(in.n, in.c, in.h, in.w);
    for (size_t i = 0; i < (size_t)in.n * in.c * in.h * in.w; i++)
      r.d[i] = ref_round(in.d[i]);
    in = r;
  }
  for (int n = 0; n < in.n; n++)
    for (int co = 0; co < cout; co++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
          double acc = 0;
          for (int ci = 0; ci < in.c; ci++)
            for (int ky = 0; ky < k; ky++)
              for (int kx = 0; kx < k; kx++) {
                int iy = y * s + ky - pad, ix = x * s + kx - pad;
                if (iy >= 0 && iy < in.h && ix >= 0 && ix < in.w)
                  acc += wt[((size_t)(co * in.c + ci) * k + ky) * k + kx] * AT(in, n, ci, iy, ix);
              }
          AT(out, n, co, y, x) = (acc - mu[co]) / sqrt(var[co] + EPS) * g[co] + b[co];
        }
  if (ref_mantissa_bits > 0)
    free(in.d); /* the rounded copy */
  free(wt);
  free(g);
  free(b);
  free(mu);
  free(var);
  return out;
}

static void relu(act_t a)
{
  for (size_t i = 0; i < (size_t)a.n * a.c * a.h * a.w; i++)
    a.d[i] = a.d[i] > 0 ? a.d[i] : 0;
}

static act_t maxpool(act_t in)
{
  int oh = (in.h + 2 - 3) / 2 + 1, ow = (in.w + 2 - 3) / 2 + 1;
  act_t out = act_new(in.n, in.c, oh, ow);
  for (int n = 0; n < in.n; n++)
    for (int c = 0; c < in.c; c++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
          double m = -INFINITY;
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
              int iy = 2 * y + ky - 1, ix = 2 * x + kx - 1;
              if (iy >= 0 && iy < in.h && ix >= 0 && ix < in.w && AT(in, n, c, iy, ix) > m)
                m = AT(in, n, c, iy, ix);
            }
          AT(out, n, c, y, x) = m;
        }
  return out;
}

/* The layouts, written out (torchvision's resnet50; the project's tiny). */
typedef struct ref_layout {
  const char *arch;
  int bottleneck, blocks[4], stem, planes[4], classes;
} ref_layout_t;

static const ref_layout_t ref_tiny = {"tiny", 0, {1, 1, 1, 1}, 8, {8, 16, 32, 64}, 10};
static const ref_layout_t ref_resnet50 = {"resnet50", 1, {3, 4, 6, 3}, 64, {64, 128, 256, 512},
                                          1000};

/* A torchvision block: BasicBlock relu(bn2(conv2(relu(bn1(conv1(x))))) + sc),
 * Bottleneck relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + sc),
 * the stride on conv1 (BasicBlock) or conv2 (Bottleneck), sc = x or
 * downsample(x) when the stride or the channel count changes. */
static act_t block(const ref_layout_t *L, act_t x, int stage, int b, int planes, int stride)
{
  char c[64], bn[64];
  int nconv = L->bottleneck ? 3 : 2, out = L->bottleneck ? 4 * planes : planes;
  act_t t = x;
  for (int i = 0; i < nconv; i++) {
    int k = L->bottleneck && i != 1 ? 1 : 3;
    int s = (L->bottleneck ? i == 1 : i == 0) ? stride : 1;
    snprintf(c, sizeof c, "layer%d.%d.conv%d", stage, b, i + 1);
    snprintf(bn, sizeof bn, "layer%d.%d.bn%d", stage, b, i + 1);
    act_t o = conv_bn(t, c, bn, i == nconv - 1 ? out : planes, k, s, k / 2);
    if (i < nconv - 1)
      relu(o);
    if (t.d != x.d)
      free(t.d);
    t = o;
  }
  act_t sc = x;
  if (stride != 1 || x.c != out) {
    snprintf(c, sizeof c, "layer%d.%d.downsample.0", stage, b);
    snprintf(bn, sizeof bn, "layer%d.%d.downsample.1", stage, b);
    sc = conv_bn(x, c, bn, out, 1, stride, 0);
  }
  for (size_t i = 0; i < (size_t)t.n * t.c * t.h * t.w; i++)
    t.d[i] += sc.d[i];
  relu(t);
  if (sc.d != x.d)
    free(sc.d);
  return t;
}

static double *reference(const ref_layout_t *L, const float *in, int n, int h, int w)
{
  act_t x = act_new(n, 3, h, w);
  for (size_t i = 0; i < (size_t)n * 3 * h * w; i++)
    x.d[i] = in[i];
  act_t a = conv_bn(x, "conv1", "bn1", L->stem, 7, 2, 3);
  free(x.d);
  relu(a);
  x = maxpool(a);
  free(a.d);
  for (int s = 0; s < 4; s++)
    for (int b = 0; b < L->blocks[s]; b++) {
      a = block(L, x, s + 1, b, L->planes[s], s > 0 && b == 0 ? 2 : 1);
      free(x.d);
      x = a;
    }
  const int classes = L->classes, feat = x.c;
  double *fw = tensor("fc.weight", (size_t)classes * feat), *fb = tensor("fc.bias", classes);
  double *logits = malloc((size_t)n * classes * sizeof *logits);
  MT_REQUIRE(logits, "out of memory");
  for (int b = 0; b < n; b++)
    for (int o = 0; o < classes; o++) {
      double acc = fb[o];
      for (int c = 0; c < feat; c++) {
        double mean = 0;
        for (int y = 0; y < x.h; y++)
          for (int xx = 0; xx < x.w; xx++)
            mean += AT(x, b, c, y, xx);
        acc += fw[(size_t)o * feat + c] * mean / (x.h * x.w);
      }
      logits[(size_t)b * classes + o] = acc;
    }
  free(fw);
  free(fb);
  free(x.d);
  return logits;
}

#endif
