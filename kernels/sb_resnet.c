/* ResNet: load a torchvision state_dict from safetensors, fold batch-norm,
 * run the forward pass with the kernels of sb_kernels.h. */
#include "sb_resnet.h"

#include "sb_err.h"
#include "sb_gemm.h"
#include "sb_kernels.h"
#include "sb_safetensors.h"
#include "sb_winograd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS 1e-5f
#define ALIGN 64
#define SUB_BATCH 8 /* images per pass through the network, see the forward */
/* Largest activation (elements) or convolution workspace the forward pass
 * agrees to size; beyond it the arguments are refused. */
#define MAX_ELEMS ((double)(INT64_C(1) << 40))

static const sb_resnet_layout_t layouts[] = {
  {"resnet18", 0, {2, 2, 2, 2}, 64, {64, 128, 256, 512}, 1000, 224},
  {"resnet34", 0, {3, 4, 6, 3}, 64, {64, 128, 256, 512}, 1000, 224},
  {"resnet50", 1, {3, 4, 6, 3}, 64, {64, 128, 256, 512}, 1000, 224},
  {"tiny", 0, {1, 1, 1, 1}, 8, {8, 16, 32, 64}, 10, 32},
};

const sb_resnet_layout_t *sb_resnet_layouts(size_t *count)
{
  if (count)
    *count = sizeof layouts / sizeof layouts[0];
  return layouts;
}

const sb_resnet_layout_t *sb_resnet_layout_find(const char *arch)
{
  for (size_t i = 0; arch && i < sizeof layouts / sizeof layouts[0]; i++)
    if (strcmp(layouts[i].arch, arch) == 0)
      return &layouts[i];
  return NULL;
}

/* One convolution with its batch-norm folded in: always has a bias. */
typedef struct rn_conv {
  char name[40]; /* the weight's prefix, e.g. "layer1.0.conv1", for errors */
  int64_t cin, cout, k, stride, pad;
  float *weight; /* [cout][cin][k][k], 64-byte aligned */
  float *bias;   /* [cout] */
  float *packed; /* weight packed once for the GEMM (sb_gemm_pack_a), 64-byte aligned */
  float *wino;   /* or, for a 3x3 stride-1 conv, its Winograd transform (sb_winograd.h) */
} rn_conv_t;

typedef struct rn_block {
  rn_conv_t conv[3]; /* conv1, conv2 (, conv3 in a Bottleneck) */
  int nconv;
  int has_down;
  rn_conv_t down; /* downsample.0 + downsample.1 */
} rn_block_t;

struct sb_resnet {
  const sb_resnet_layout_t *layout;
  int64_t classes, features, parameters;
  rn_conv_t stem;
  rn_block_t *blocks;
  int nblocks;
  float *fc_w, *fc_b; /* [classes][features], [classes] */
};

static void *alloc_aligned(size_t bytes)
{
  size_t rounded = (bytes + ALIGN - 1) / ALIGN * ALIGN;
  return aligned_alloc(ALIGN, rounded ? rounded : ALIGN);
}

/* ---- loading --------------------------------------------------------------- */

typedef struct loader {
  const sb_st_file_t *st;
  unsigned char *used; /* per tensor of st: claimed by the structure */
  char *err;
  size_t errlen;
  int64_t params;
} loader_t;

static const sb_st_tensor_t *ld_find(loader_t *ld, const char *name)
{
  const sb_st_tensor_t *t = sb_st_find(ld->st, name);
  return t;
}

static const sb_st_tensor_t *ld_claim(loader_t *ld, const char *name)
{
  const sb_st_tensor_t *t = ld_find(ld, name);
  if (!t) {
    sb_set_err(ld->err, ld->errlen, "missing tensor %s", name);
    return NULL;
  }
  ld->used[t - ld->st->tensors] = 1;
  if (t->dtype != SB_ST_F32) {
    sb_set_err(ld->err, ld->errlen, "%s: dtype %s, expected F32", name, sb_st_dtype_name(t->dtype));
    return NULL;
  }
  return t;
}

/* The first dimension of a tensor whose layout is still to be inferred:
 * checks it exists, is F32, has ndim dimensions, none of them zero. */
static int ld_dim0(loader_t *ld, const char *name, int ndim, const char *want, int64_t *d0)
{
  char s[160];
  const sb_st_tensor_t *t = ld_claim(ld, name);
  if (!t)
    return -1;
  int zero = 0;
  for (int i = 0; i < t->ndim; i++)
    zero |= t->shape[i] == 0;
  if (t->ndim != ndim || zero) {
    sb_set_err(ld->err, ld->errlen, "%s: shape %s expected %s", name,
            sb_st_shape_str(t->shape, t->ndim, s, sizeof s), want);
    return -1;
  }
  *d0 = t->shape[0];
  return 0;
}

/* Claims name and checks it is F32 of exactly shape want[ndim]. */
static const sb_st_tensor_t *ld_take(loader_t *ld, const char *name, int ndim,
                                     const int64_t *want)
{
  char s1[160], s2[160];
  const sb_st_tensor_t *t = ld_claim(ld, name);
  if (!t)
    return NULL;
  int same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++)
    same = t->shape[i] == want[i];
  if (!same) {
    sb_set_err(ld->err, ld->errlen, "%s: shape %s expected %s", name,
            sb_st_shape_str(t->shape, t->ndim, s1, sizeof s1),
            sb_st_shape_str(want, ndim, s2, sizeof s2));
    return NULL;
  }
  return t;
}

/* Loads conv `cname`.weight [cout][cin][k][k] and batch-norm `bname`.* [cout],
 * and folds the batch-norm into a copy of the weights. */
static int ld_conv_bn(loader_t *ld, const char *cname, const char *bname, int64_t cin,
                      int64_t cout, int64_t k, int64_t stride, int64_t pad, rn_conv_t *c)
{
  static const char *const bn_parts[4] = {"weight", "bias", "running_mean", "running_var"};
  char name[96];
  snprintf(c->name, sizeof c->name, "%s", cname);
  c->cin = cin;
  c->cout = cout;
  c->k = k;
  c->stride = stride;
  c->pad = pad;

  snprintf(name, sizeof name, "%s.weight", cname);
  const int64_t wshape[4] = {cout, cin, k, k};
  const sb_st_tensor_t *w = ld_take(ld, name, 4, wshape);
  if (!w)
    return -1;
  const sb_st_tensor_t *bn[4];
  for (int i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "%s.%s", bname, bn_parts[i]);
    if (!(bn[i] = ld_take(ld, name, 1, &cout)))
      return -1;
  }
  /* torchvision's running counter: accepted in any dtype, ignored. */
  snprintf(name, sizeof name, "%s.num_batches_tracked", bname);
  const sb_st_tensor_t *nbt = ld_find(ld, name);
  if (nbt)
    ld->used[nbt - ld->st->tensors] = 1;

  /* The blob's data may be unaligned: copy the statistics out before use. */
  float *stats = malloc(4 * (size_t)cout * sizeof(float));
  c->weight = alloc_aligned(w->count * sizeof(float));
  c->bias = alloc_aligned((size_t)cout * sizeof(float));
  if (!stats || !c->weight || !c->bias) {
    free(stats);
    sb_set_err(ld->err, ld->errlen, "%s: out of memory", cname);
    return -1;
  }
  for (int i = 0; i < 4; i++)
    memcpy(stats + (size_t)i * (size_t)cout, bn[i]->data, (size_t)cout * sizeof(float));
  const float *var = stats + 3 * (size_t)cout;
  for (int64_t i = 0; i < cout; i++)
    if (!(var[i] >= 0.0f) || !isfinite(var[i])) {
      sb_set_err(ld->err, ld->errlen, "%s.running_var: element %lld is %g, not a variance", bname,
              (long long)i, (double)var[i]);
      free(stats);
      return -1;
    }
  memcpy(c->weight, w->data, w->count * sizeof(float));
  sb_k_fold_batchnorm(c->weight, c->bias, cout, cin * k * k, stats, stats + cout,
                      stats + 2 * cout, var, BN_EPS);
  free(stats);
  /* The forward multiplies by the folded weight in the GEMM's packed layout:
   * packed here once rather than in every forward (the weight is the GEMM's
   * A, and late layers have too few output pixels to repay packing it); a
   * 3x3 stride-1 conv runs as Winograd F(2x2,3x3), its weight transformed
   * and packed here instead. The unpacked copy stays for the views
   * (sb_resnet.h). */
  const int64_t row = cin * k * k;
  const sb_conv2d_t shape = {.n = 1, .cin = cin, .h = 1, .w = 1, .cout = cout, .kh = k,
                             .kw = k, .stride = stride, .pad = pad};
  if (sb_wino_applies(&shape)) {
    c->wino = alloc_aligned(sb_wino_weight_floats(cout, cin) * sizeof(float));
    if (!c->wino || sb_wino_pack_weight(cout, cin, c->weight, c->wino) != 0) {
      sb_set_err(ld->err, ld->errlen, "%s: out of memory", cname);
      return -1;
    }
  } else {
    c->packed = alloc_aligned(sb_gemm_packed_a_floats(cout, row) * sizeof(float));
    if (!c->packed) {
      sb_set_err(ld->err, ld->errlen, "%s: out of memory", cname);
      return -1;
    }
    sb_gemm_pack_a(cout, row, c->weight, row, 1, c->packed);
  }
  ld->params += (int64_t)w->count + 2 * cout;
  return 0;
}

static void free_conv(rn_conv_t *c)
{
  free(c->weight);
  free(c->bias);
  free(c->packed);
  free(c->wino);
  c->weight = c->bias = c->packed = c->wino = NULL;
}

void sb_resnet_free(sb_resnet_t *m)
{
  if (!m)
    return;
  free_conv(&m->stem);
  for (int b = 0; m->blocks && b < m->nblocks; b++) {
    for (int i = 0; i < 3; i++)
      free_conv(&m->blocks[b].conv[i]);
    free_conv(&m->blocks[b].down);
  }
  free(m->blocks);
  free(m->fc_w);
  free(m->fc_b);
  free(m);
}

/* Infers the structure from the names and shapes, checking every tensor
 * against it; fills m (its blocks array already sized by the caller) and
 * the counts. */
static int load_structure(loader_t *ld, sb_resnet_t *m, int *bottleneck, int blocks[4],
                          int64_t *stem, int64_t planes[4])
{
  char name[96], cn[64], bn[64];
  if (ld_dim0(ld, "conv1.weight", 4, "[C,3,7,7]", stem) != 0)
    return -1;
  if (ld_conv_bn(ld, "conv1", "bn1", 3, *stem, 7, 2, 3, &m->stem) != 0)
    return -1;
  *bottleneck = sb_st_find(ld->st, "layer1.0.conv3.weight") != NULL;
  const int expansion = *bottleneck ? 4 : 1;

  int64_t inplanes = *stem;
  int nb = 0;
  for (int s = 0; s < 4; s++) {
    snprintf(name, sizeof name, "layer%d.0.conv1.weight", s + 1);
    if (ld_dim0(ld, name, 4, *bottleneck ? "[C,in,1,1]" : "[C,in,3,3]", &planes[s]) != 0)
      return -1;
    for (blocks[s] = 0;; blocks[s]++) {
      snprintf(name, sizeof name, "layer%d.%d.conv1.weight", s + 1, blocks[s]);
      if (!sb_st_find(ld->st, name))
        break;
    }
    const int64_t p = planes[s], out = p * expansion;
    for (int b = 0; b < blocks[s]; b++) {
      rn_block_t *blk = &m->blocks[nb++];
      m->nblocks = nb;
      const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
      blk->nconv = *bottleneck ? 3 : 2;
      for (int i = 0; i < blk->nconv; i++) {
        int64_t cin, cout, k, st;
        if (*bottleneck) { /* v1.5: the stride sits on the 3x3 conv2 */
          cin = i == 0 ? inplanes : p;
          cout = i == 2 ? out : p;
          k = i == 1 ? 3 : 1;
          st = i == 1 ? stride : 1;
        } else {
          cin = i == 0 ? inplanes : p;
          cout = p;
          k = 3;
          st = i == 0 ? stride : 1;
        }
        snprintf(cn, sizeof cn, "layer%d.%d.conv%d", s + 1, b, i + 1);
        snprintf(bn, sizeof bn, "layer%d.%d.bn%d", s + 1, b, i + 1);
        if (ld_conv_bn(ld, cn, bn, cin, cout, k, st, k / 2, &blk->conv[i]) != 0)
          return -1;
      }
      /* torchvision adds the projection exactly when the shape changes. */
      if (stride != 1 || inplanes != out) {
        blk->has_down = 1;
        snprintf(cn, sizeof cn, "layer%d.%d.downsample.0", s + 1, b);
        snprintf(bn, sizeof bn, "layer%d.%d.downsample.1", s + 1, b);
        if (ld_conv_bn(ld, cn, bn, inplanes, out, 1, stride, 0, &blk->down) != 0)
          return -1;
      }
      inplanes = out;
    }
  }

  m->features = inplanes;
  if (ld_dim0(ld, "fc.weight", 2, "[classes,features]", &m->classes) != 0)
    return -1;
  const int64_t fcw[2] = {m->classes, m->features};
  const sb_st_tensor_t *w = ld_take(ld, "fc.weight", 2, fcw);
  const sb_st_tensor_t *b = w ? ld_take(ld, "fc.bias", 1, &m->classes) : NULL;
  if (!b)
    return -1;
  m->fc_w = alloc_aligned(w->count * sizeof(float));
  m->fc_b = alloc_aligned(b->count * sizeof(float));
  if (!m->fc_w || !m->fc_b) {
    sb_set_err(ld->err, ld->errlen, "fc: out of memory");
    return -1;
  }
  memcpy(m->fc_w, w->data, w->count * sizeof(float));
  memcpy(m->fc_b, b->data, b->count * sizeof(float));
  ld->params += (int64_t)w->count + (int64_t)b->count;
  return 0;
}

static int count_blocks(const sb_st_file_t *st)
{
  int n = 0;
  char name[64];
  for (int s = 1; s <= 4; s++)
    for (int b = 0;; b++, n++) {
      snprintf(name, sizeof name, "layer%d.%d.conv1.weight", s, b);
      if (!sb_st_find(st, name))
        break;
    }
  return n;
}

int sb_resnet_load(const void *blob, size_t len, sb_resnet_t **model, char *err, size_t errlen)
{
  sb_st_file_t st;
  loader_t ld = {0};
  sb_resnet_t *m = NULL;
  int rc = -1;
  *model = NULL;
  if (sb_st_parse(blob, len, &st, err, errlen) != 0)
    return -1;
  ld.st = &st;
  ld.err = err;
  ld.errlen = errlen;
  ld.used = calloc(st.ntensors ? st.ntensors : 1, 1);
  m = calloc(1, sizeof *m);
  int nblocks = count_blocks(&st);
  if (m)
    m->blocks = calloc(nblocks ? (size_t)nblocks : 1, sizeof *m->blocks);
  if (!ld.used || !m || !m->blocks) {
    sb_set_err(err, errlen, "out of memory loading a model of %zu tensors", st.ntensors);
    goto out;
  }

  int bottleneck = 0, blocks[4] = {0};
  int64_t stem = 0, planes[4] = {0};
  if (load_structure(&ld, m, &bottleneck, blocks, &stem, planes) != 0)
    goto out;
  for (size_t i = 0; i < st.ntensors; i++)
    if (!ld.used[i]) {
      sb_set_err(err, errlen, "unexpected tensor %s", st.tensors[i].name);
      goto out;
    }
  m->parameters = ld.params;

  size_t nl;
  const sb_resnet_layout_t *known = sb_resnet_layouts(&nl);
  for (size_t i = 0; i < nl && !m->layout; i++) {
    const sb_resnet_layout_t *l = &known[i];
    int same = l->bottleneck == bottleneck && l->stem == stem;
    for (int s = 0; s < 4; s++)
      same = same && l->blocks[s] == blocks[s] && l->planes[s] == planes[s];
    if (same)
      m->layout = l;
  }
  if (!m->layout) {
    sb_set_err(err, errlen,
            "unknown layout: %s blocks [%d,%d,%d,%d], stem %lld, widths [%lld,%lld,%lld,%lld] "
            "(known: resnet18, resnet34, resnet50, tiny)",
            bottleneck ? "Bottleneck" : "BasicBlock", blocks[0], blocks[1], blocks[2],
            blocks[3], (long long)stem, (long long)planes[0], (long long)planes[1],
            (long long)planes[2], (long long)planes[3]);
    goto out;
  }
  *model = m;
  m = NULL;
  rc = 0;
out:
  sb_resnet_free(m);
  free(ld.used);
  sb_st_free(&st);
  return rc;
}

const char *sb_resnet_arch(const sb_resnet_t *m)
{
  return m->layout->arch;
}

int64_t sb_resnet_classes(const sb_resnet_t *m)
{
  return m->classes;
}

int64_t sb_resnet_image_size(const sb_resnet_t *m)
{
  return m->layout->image_size;
}

int64_t sb_resnet_parameters(const sb_resnet_t *m)
{
  return m->parameters;
}

/* ---- planning: sizes, flops, workspace -------------------------------------- */

typedef struct plan {
  int64_t n, h, w; /* current activation */
  int threads;
  double max_act;  /* elements of the largest activation */
  size_t max_cws;  /* bytes of the largest conv workspace */
  double flops;
  int bad;
} plan_t;

static sb_conv2d_t conv_params(const rn_conv_t *c, int64_t n, int64_t h, int64_t w)
{
  sb_conv2d_t p = {.n = n,
                   .cin = c->cin,
                   .h = h,
                   .w = w,
                   .cout = c->cout,
                   .kh = c->k,
                   .kw = c->k,
                   .stride = c->stride,
                   .pad = c->pad,
                   .weight = c->weight,
                   .bias = c->bias};
  return p;
}

static void act(plan_t *p, int64_t c, int64_t h, int64_t w)
{
  double e = (double)p->n * (double)c * (double)h * (double)w;
  if (h < 1 || w < 1 || e > MAX_ELEMS)
    p->bad = 1;
  if (e > p->max_act)
    p->max_act = e;
}

/* Visits conv c on an input of (h, w); returns its output size in *oh, *ow. */
static void plan_conv(plan_t *p, const rn_conv_t *c, int64_t h, int64_t w, int64_t *oh,
                      int64_t *ow)
{
  *oh = sb_k_out_dim(h, c->k, c->stride, c->pad);
  *ow = sb_k_out_dim(w, c->k, c->stride, c->pad);
  act(p, c->cout, *oh, *ow);
  if (p->bad)
    return;
  p->flops += 2.0 * (double)p->n * (double)c->cout * (double)*oh * (double)*ow *
              (double)c->cin * (double)(c->k * c->k);
  sb_conv2d_t cp = conv_params(c, p->n, h, w);
  size_t ws = c->wino ? sb_wino_workspace_bytes(&cp, p->threads)
                      : sb_k_conv2d_workspace_bytes(&cp, p->threads);
  if (ws > p->max_cws)
    p->max_cws = ws;
}

static int plan(const sb_resnet_t *m, int64_t n, int64_t h, int64_t w, int threads,
                plan_t *p)
{
  memset(p, 0, sizeof *p);
  p->n = n;
  p->threads = threads;
  if (!m || n < 1 || h < 1 || w < 1 || (double)n * 3 * (double)h * (double)w > MAX_ELEMS)
    return -1;
  int64_t oh, ow;
  plan_conv(p, &m->stem, h, w, &oh, &ow);
  h = sb_k_out_dim(oh, 3, 2, 1);
  w = sb_k_out_dim(ow, 3, 2, 1);
  act(p, m->stem.cout, h, w);
  for (int b = 0; b < m->nblocks && !p->bad; b++) {
    const rn_block_t *blk = &m->blocks[b];
    int64_t ch = h, cw = w;
    for (int i = 0; i < blk->nconv; i++)
      plan_conv(p, &blk->conv[i], ch, cw, &ch, &cw);
    if (blk->has_down)
      plan_conv(p, &blk->down, h, w, &oh, &ow);
    h = ch;
    w = cw;
  }
  p->flops += 2.0 * (double)n * (double)m->classes * (double)m->features;
  return p->bad ? -1 : 0;
}

static size_t round_up(size_t x)
{
  return (x + ALIGN - 1) / ALIGN * ALIGN;
}

double sb_resnet_flops(const sb_resnet_t *m, int64_t n, int64_t h, int64_t w)
{
  plan_t p;
  return plan(m, n, h, w, 1, &p) == 0 ? p.flops : 0.0;
}

size_t sb_resnet_workspace_bytes(const sb_resnet_t *m, int64_t n, int64_t h, int64_t w,
                                 int threads)
{
  plan_t p;
  /* The whole batch must be valid; the scratch is one sub-batch's. */
  if (plan(m, n, h, w, threads, &p) != 0)
    return 0;
  if (n > SUB_BATCH && plan(m, SUB_BATCH, h, w, threads, &p) != 0)
    return 0;
  return ALIGN + 3 * round_up((size_t)p.max_act * sizeof(float)) + round_up(p.max_cws);
}

/* ---- forward ---------------------------------------------------------------- */

typedef struct fwd {
  int64_t n;
  void *cws;
  size_t cws_bytes;
  int threads;
  char *err;
  size_t errlen;
} fwd_t;

static int run_conv(fwd_t *f, const rn_conv_t *c, const float *in, int64_t *h, int64_t *w,
                    const float *residual, int relu, float *out)
{
  sb_conv2d_t p = conv_params(c, f->n, *h, *w);
  p.residual = residual;
  p.relu = relu;
  const int rc = c->wino
                     ? sb_conv2d_winograd(&p, c->wino, in, out, f->cws, f->cws_bytes, f->threads)
                     : sb_conv2d_prepacked(&p, c->packed, in, out, f->cws, f->cws_bytes,
                                           f->threads);
  if (rc != 0) {
    sb_set_err(f->err, f->errlen, "%s: the convolution kernel refused [%lld,%lld,%lld,%lld]",
            c->name, (long long)f->n, (long long)c->cin, (long long)*h, (long long)*w);
    return -1;
  }
  *h = sb_k_out_dim(*h, c->k, c->stride, c->pad);
  *w = sb_k_out_dim(*w, c->k, c->stride, c->pad);
  return 0;
}

/* The index among three buffers that is neither a nor b. */
static int other(int a, int b)
{
  for (int i = 0; i < 3; i++)
    if (i != a && i != b)
      return i;
  return -1;
}

static int forward_part(const sb_resnet_t *m, const float *in, int64_t n, int64_t h, int64_t w,
                        float *logits, void *workspace, size_t workspace_bytes, int threads,
                        char *err, size_t errlen);

int sb_resnet_forward(const sb_resnet_t *m, const float *in, int64_t n, int64_t h, int64_t w,
                      float *logits, void *workspace, size_t workspace_bytes, int threads,
                      char *err, size_t errlen)
{
  plan_t p;
  if (!m || !in || !logits || !workspace)
    return sb_fail(err, errlen, -1, "forward: a NULL model, input, output or workspace");
  if (plan(m, n, h, w, threads, &p) != 0)
    return sb_fail(err, errlen, -1, "forward: invalid input [%lld,3,%lld,%lld]", (long long)n,
                   (long long)h, (long long)w);
  /* SUB_BATCH images at a time: beyond that, a layer's activations no
   * longer fit the caches and every layer streams them from memory, while
   * the weights, read once per pass, are already well amortised. The logits
   * are those of each pass run as a batch of its own, bit for bit. */
  for (int64_t b = 0; b < n; b += SUB_BATCH) {
    const int64_t cnt = n - b < SUB_BATCH ? n - b : SUB_BATCH;
    if (forward_part(m, in + (size_t)b * 3 * (size_t)h * (size_t)w, cnt, h, w,
                     logits + (size_t)b * (size_t)m->classes, workspace, workspace_bytes,
                     threads, err, errlen) != 0)
      return -1;
  }
  return 0;
}

/* sb_resnet_forward of n <= SUB_BATCH images (n, h, w already checked). */
static int forward_part(const sb_resnet_t *m, const float *in, int64_t n, int64_t h, int64_t w,
                        float *logits, void *workspace, size_t workspace_bytes, int threads,
                        char *err, size_t errlen)
{
  plan_t p;
  if (plan(m, n, h, w, threads, &p) != 0)
    return sb_fail(err, errlen, -1, "forward: invalid input [%lld,3,%lld,%lld]", (long long)n,
                   (long long)h, (long long)w);
  size_t act_bytes = round_up((size_t)p.max_act * sizeof(float));
  size_t need = ALIGN + 3 * act_bytes + round_up(p.max_cws);
  if (workspace_bytes < need)
    return sb_fail(err, errlen, -1, "forward: workspace of %zu bytes, %zu needed", workspace_bytes,
                   need);
  /* Three activation buffers: a block reads its input x and writes its
   * output into whichever buffer neither its last input nor its residual
   * occupies (see the block code), so three always suffice. */
  unsigned char *base = workspace;
  base += (ALIGN - (uintptr_t)base % ALIGN) % ALIGN;
  float *buf[3];
  for (int i = 0; i < 3; i++)
    buf[i] = (float *)(base + (size_t)i * act_bytes);
  fwd_t f = {.n = n,
             .cws = base + 3 * act_bytes,
             .cws_bytes = workspace_bytes - (size_t)(base - (unsigned char *)workspace) -
                          3 * act_bytes,
             .threads = threads,
             .err = err,
             .errlen = errlen};

  if (run_conv(&f, &m->stem, in, &h, &w, NULL, 1, buf[0]) != 0)
    return -1;
  if (sb_k_maxpool2d(buf[0], n, m->stem.cout, h, w, 3, 2, 1, buf[1], threads) != 0)
    return sb_fail(err, errlen, -1, "maxpool: the kernel refused [%lld,%lld,%lld,%lld]",
                   (long long)n, (long long)m->stem.cout, (long long)h, (long long)w);
  h = sb_k_out_dim(h, 3, 2, 1);
  w = sb_k_out_dim(w, 3, 2, 1);

  int x = 1; /* buffer holding the block input */
  for (int b = 0; b < m->nblocks; b++) {
    const rn_block_t *blk = &m->blocks[b];
    int64_t ch = h, cw = w;
    /* conv1 .. conv(n-1) with relu, each into a buffer other than the
     * previous one and x (x is still needed for the shortcut). */
    int prev = x, t = -1;
    for (int i = 0; i + 1 < blk->nconv; i++) {
      t = other(x, prev);
      if (run_conv(&f, &blk->conv[i], buf[prev], &ch, &cw, NULL, 1, buf[t]) != 0)
        return -1;
      prev = t;
    }
    /* The shortcut: x itself, or its projection into the free buffer. */
    int res = x;
    if (blk->has_down) {
      int64_t dh = h, dw = w;
      res = other(x, prev);
      if (run_conv(&f, &blk->down, buf[x], &dh, &dw, NULL, 0, buf[res]) != 0)
        return -1;
    }
    /* Last conv: + shortcut, relu, into the buffer neither input holds. */
    int o = other(prev, res);
    if (run_conv(&f, &blk->conv[blk->nconv - 1], buf[prev], &ch, &cw, buf[res], 1, buf[o]) != 0)
      return -1;
    x = o;
    h = ch;
    w = cw;
  }
  float *pooled = buf[other(x, x)];
  sb_k_global_avgpool(buf[x], n, m->features, h, w, pooled, threads);
  if (sb_k_linear(pooled, n, m->features, m->fc_w, m->fc_b, m->classes, logits, threads) != 0)
    return sb_fail(err, errlen, -1, "fc: the linear kernel refused [%lld,%lld] x [%lld,%lld]",
                   (long long)n, (long long)m->features, (long long)m->classes,
                   (long long)m->features);
  return 0;
}

/* ---- read-only views (sb_resnet.h) ---------------------------------------------- */

static void conv_view(const rn_conv_t *c, sb_resnet_conv_view_t *v)
{
  v->name = c->name;
  v->cin = c->cin;
  v->cout = c->cout;
  v->k = c->k;
  v->stride = c->stride;
  v->pad = c->pad;
  v->weight = c->weight;
  v->bias = c->bias;
}

void sb_resnet_stem_view(const sb_resnet_t *m, sb_resnet_conv_view_t *v)
{
  conv_view(&m->stem, v);
}

int sb_resnet_block_count(const sb_resnet_t *m)
{
  return m->nblocks;
}

int sb_resnet_block_view(const sb_resnet_t *m, int b, sb_resnet_block_view_t *v)
{
  if (b < 0 || b >= m->nblocks)
    return -1;
  const rn_block_t *blk = &m->blocks[b];
  memset(v, 0, sizeof *v);
  v->nconv = blk->nconv;
  for (int i = 0; i < blk->nconv; i++)
    conv_view(&blk->conv[i], &v->conv[i]);
  v->has_down = blk->has_down;
  if (blk->has_down)
    conv_view(&blk->down, &v->down);
  return 0;
}

void sb_resnet_fc_view(const sb_resnet_t *m, const float **weight, const float **bias,
                       int64_t *features, int64_t *classes)
{
  *weight = m->fc_w;
  *bias = m->fc_b;
  *features = m->features;
  *classes = m->classes;
}
