/* The ResNet forward pass on a GPU (sb_resnet_cuda.h): the folded weights of
 * an sb_resnet_t uploaded once, then the layers of sb_resnet_forward with the
 * sb_k_cuda_* kernels. Host code only; every kernel it launches lives in
 * sb_kernels_cuda.cu. */
#include "sb_resnet_cuda.h"

#include "sb_cuda_check.h"
#include "sb_err.h"

#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Alignment of every weight and buffer carved out of one allocation. */
#define GALIGN 256
/* The kernels index with 32-bit integers: no activation of 2^31 elements. */
#define MAX_ACT ((double)(INT64_C(1) << 31) - 1.0)

struct gconv {
  char name[40];
  int64_t cin, cout, k, stride, pad;
  const float *weight, *bias; /* device, inside sb_resnet_cuda.base */
};

struct gblock {
  int nconv;
  gconv conv[3];
  int has_down;
  gconv down;
};

struct sb_resnet_cuda {
  int device;
  void *base; /* the one device allocation holding every weight and bias */
  size_t bytes;
  gconv stem;
  gblock *blocks;
  int nblocks;
  const float *fc_w, *fc_b;
  int64_t features, classes;
};

/* ---- errors ------------------------------------------------------------------ */

/* Every CUDA call below is checked by SB_CUDA_CHECK (sb_cuda_check.h) with
 * the message into the caller's err; on failure rc becomes SB_K_CUDA_ECUDA
 * and control goes to `out`, which releases what the function holds. */

static size_t round_up(size_t x)
{
  return (x + GALIGN - 1) / GALIGN * GALIGN;
}

/* ---- upload ------------------------------------------------------------------ */

static size_t conv_bytes(const sb_resnet_conv_view_t *v)
{
  return round_up((size_t)(v->cout * v->cin * v->k * v->k) * sizeof(float)) +
         round_up((size_t)v->cout * sizeof(float));
}

/* Copies conv v's weight and bias into the host staging buffer at *off and
 * points c at where they will sit on the device. */
static void stage_conv(const sb_resnet_conv_view_t *v, unsigned char *host, char *dev, size_t *off,
                       gconv *c)
{
  size_t wb = (size_t)(v->cout * v->cin * v->k * v->k) * sizeof(float);
  snprintf(c->name, sizeof c->name, "%s", v->name);
  c->cin = v->cin, c->cout = v->cout, c->k = v->k, c->stride = v->stride, c->pad = v->pad;
  memcpy(host + *off, v->weight, wb);
  c->weight = (const float *)(dev + *off);
  *off += round_up(wb);
  memcpy(host + *off, v->bias, (size_t)v->cout * sizeof(float));
  c->bias = (const float *)(dev + *off);
  *off += round_up((size_t)v->cout * sizeof(float));
}

extern "C" int sb_resnet_cuda_upload(const sb_resnet_t *model, int device, sb_resnet_cuda_t **out,
                                     char *err, size_t errlen)
{
  sb_resnet_cuda_t *g = NULL;
  unsigned char *host = NULL;
  cudaStream_t s = NULL;
  int rc = SB_K_CUDA_OK, count = 0;
  sb_resnet_conv_view_t stem;
  const float *fw, *fb;
  size_t total, off = 0;

  if (!out)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL, "upload: NULL output");
  *out = NULL;
  if (!model || device < 0)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL, "upload: NULL model or negative device %d",
                   device);
  g = (sb_resnet_cuda_t *)calloc(1, sizeof *g);
  if (g)
    g->nblocks = sb_resnet_block_count(model);
  if (g)
    g->blocks = (gblock *)calloc(g->nblocks > 0 ? (size_t)g->nblocks : 1, sizeof *g->blocks);
  if (!g || !g->blocks) {
    rc = sb_fail(err, errlen, SB_K_CUDA_EINVAL, "upload: out of host memory");
    goto out;
  }
  g->device = device;

  /* Sizes first, then one staging buffer and one copy. */
  sb_resnet_stem_view(model, &stem);
  sb_resnet_fc_view(model, &fw, &fb, &g->features, &g->classes);
  total = conv_bytes(&stem) + round_up((size_t)(g->classes * g->features) * sizeof(float)) +
          round_up((size_t)g->classes * sizeof(float));
  for (int b = 0; b < g->nblocks; b++) {
    sb_resnet_block_view_t v;
    sb_resnet_block_view(model, b, &v);
    for (int i = 0; i < v.nconv; i++)
      total += conv_bytes(&v.conv[i]);
    if (v.has_down)
      total += conv_bytes(&v.down);
  }

  SB_CUDA_CHECK(cudaGetDeviceCount(&count), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  if (device >= count) {
    rc = sb_fail(err, errlen, SB_K_CUDA_EINVAL, "upload: device %d does not exist (%d visible)",
                 device, count);
    goto out;
  }
  SB_CUDA_CHECK(cudaSetDevice(device), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  host = (unsigned char *)malloc(total);
  if (!host) {
    rc = sb_fail(err, errlen, SB_K_CUDA_EINVAL, "upload: out of host memory staging %zu bytes",
                 total);
    goto out;
  }
  /* Stream-ordered, from the device's current memory pool, on a stream of
   * its own that is synchronised before returning: the weights are then
   * usable from every stream, and sb_resnet_cuda_release gives them back
   * with cudaFreeAsync, which does not wait for the device (cudaFree waits
   * for every stream of it). */
  SB_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), err, errlen,
                { rc = SB_K_CUDA_ECUDA; goto out; });
  SB_CUDA_CHECK(cudaMallocAsync(&g->base, total, s), err, errlen,
                { rc = SB_K_CUDA_ECUDA; goto out; });
  g->bytes = total;
  stage_conv(&stem, host, (char *)g->base, &off, &g->stem);
  for (int b = 0; b < g->nblocks; b++) {
    sb_resnet_block_view_t v;
    gblock *blk = &g->blocks[b];
    sb_resnet_block_view(model, b, &v);
    blk->nconv = v.nconv;
    for (int i = 0; i < v.nconv; i++)
      stage_conv(&v.conv[i], host, (char *)g->base, &off, &blk->conv[i]);
    blk->has_down = v.has_down;
    if (v.has_down)
      stage_conv(&v.down, host, (char *)g->base, &off, &blk->down);
  }
  memcpy(host + off, fw, (size_t)(g->classes * g->features) * sizeof(float));
  g->fc_w = (const float *)((char *)g->base + off);
  off += round_up((size_t)(g->classes * g->features) * sizeof(float));
  memcpy(host + off, fb, (size_t)g->classes * sizeof(float));
  g->fc_b = (const float *)((char *)g->base + off);
  off += round_up((size_t)g->classes * sizeof(float));
  SB_CUDA_CHECK(cudaMemcpyAsync(g->base, host, off, cudaMemcpyHostToDevice, s), err, errlen,
                { rc = SB_K_CUDA_ECUDA; goto out; });
  SB_CUDA_CHECK(cudaStreamSynchronize(s), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  {
    /* Synchronised: nothing is pending on it. NULL first, so that `out`
     * does not use it again whatever the call answers. */
    cudaStream_t done = s;
    s = NULL;
    SB_CUDA_CHECK(cudaStreamDestroy(done), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  }
  *out = g;
  g = NULL;

out:
  /* Failed: give back what was taken; the first error is the one reported
   * (rc is not OK here whenever g or s is left). */
  if (s) {
    if (g && g->base) {
      void *p = g->base;
      g->base = NULL;
      SB_CUDA_CHECK(cudaFreeAsync(p, s), NULL, 0, (void)0);
    }
    /* The staging buffer is read until the copy is done. */
    SB_CUDA_CHECK(cudaStreamSynchronize(s), NULL, 0, (void)0);
    SB_CUDA_CHECK(cudaStreamDestroy(s), NULL, 0, (void)0);
  }
  free(host);
  (void)sb_resnet_cuda_release(g, NULL, 0);
  if (rc != SB_K_CUDA_OK)
    (void)cudaGetLastError(); /* the failure is reported: not the next caller's */
  return rc;
}

extern "C" int sb_resnet_cuda_release(sb_resnet_cuda_t *g, char *err, size_t errlen)
{
  int rc = SB_K_CUDA_OK;
  if (!g)
    return SB_K_CUDA_OK;
  if (g->base) {
    void *p = g->base;
    g->base = NULL;
    /* cudaStreamPerThread: the calling thread's own stream, which has no
     * implicit synchronisation with the non-blocking streams the model runs
     * on (only with the legacy default stream), so the free is ordered
     * after nothing but this thread's work. By the precondition no kernel
     * reading the weights is in flight. */
    SB_CUDA_CHECK(cudaSetDevice(g->device), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
    SB_CUDA_CHECK(cudaFreeAsync(p, cudaStreamPerThread), err, errlen,
                  { rc = SB_K_CUDA_ECUDA; goto out; });
  }
out:
  if (rc != SB_K_CUDA_OK)
    (void)cudaGetLastError(); /* reported in err: not the next caller's failure */
  free(g->blocks);
  free(g);
  return rc;
}

extern "C" void sb_resnet_cuda_free(sb_resnet_cuda_t *g)
{
  (void)sb_resnet_cuda_release(g, NULL, 0);
}

extern "C" int sb_resnet_cuda_device(const sb_resnet_cuda_t *g)
{
  return g ? g->device : -1;
}

extern "C" size_t sb_resnet_cuda_weight_bytes(const sb_resnet_cuda_t *g)
{
  return g ? g->bytes : 0;
}

/* ---- planning ------------------------------------------------------------------ */

/* The largest activation (elements) of a forward pass at n x h x w; -1 when
 * an activation is empty or too big for the kernels. */
static double max_activation(const sb_resnet_cuda_t *g, int64_t n, int64_t h, int64_t w)
{
  double most = 0;
  int bad = 0;
#define ACT(c, hh, ww)                                                  \
  do {                                                                  \
    double e_ = (double)n * (double)(c) * (double)(hh) * (double)(ww); \
    if ((hh) < 1 || (ww) < 1 || e_ > MAX_ACT)                          \
      bad = 1;                                                          \
    if (e_ > most)                                                      \
      most = e_;                                                        \
  } while (0)
  if (!g || n < 1 || h < 1 || w < 1 || (double)n * 3.0 * (double)h * (double)w > MAX_ACT)
    return -1;
  h = sb_k_out_dim(h, g->stem.k, g->stem.stride, g->stem.pad);
  w = sb_k_out_dim(w, g->stem.k, g->stem.stride, g->stem.pad);
  ACT(g->stem.cout, h, w);
  if (bad)
    return -1;
  h = sb_k_out_dim(h, 3, 2, 1);
  w = sb_k_out_dim(w, 3, 2, 1);
  ACT(g->stem.cout, h, w);
  for (int b = 0; b < g->nblocks && !bad; b++) {
    const gblock *blk = &g->blocks[b];
    int64_t ch = h, cw = w;
    for (int i = 0; i < blk->nconv && !bad; i++) {
      const gconv *c = &blk->conv[i];
      ch = sb_k_out_dim(ch, c->k, c->stride, c->pad);
      cw = sb_k_out_dim(cw, c->k, c->stride, c->pad);
      ACT(c->cout, ch, cw);
    }
    if (blk->has_down) {
      const gconv *c = &blk->down;
      ACT(c->cout, sb_k_out_dim(h, c->k, c->stride, c->pad),
          sb_k_out_dim(w, c->k, c->stride, c->pad));
    }
    h = ch, w = cw;
  }
#undef ACT
  return bad ? -1 : most;
}

extern "C" size_t sb_resnet_cuda_workspace_bytes(const sb_resnet_cuda_t *g, int64_t n, int64_t h,
                                                 int64_t w)
{
  double most = max_activation(g, n, h, w);
  if (most < 0)
    return 0;
  return 3 * round_up((size_t)most * sizeof(float)) +
         round_up((size_t)(n * g->features) * sizeof(float));
}

extern "C" size_t sb_resnet_cuda_infer_bytes(const sb_resnet_cuda_t *g, int64_t n, int64_t h,
                                             int64_t w)
{
  size_t ws = sb_resnet_cuda_workspace_bytes(g, n, h, w);
  if (ws == 0)
    return 0;
  return ws + round_up((size_t)(n * 3 * h * w) * sizeof(float)) +
         round_up((size_t)(n * g->classes) * sizeof(float));
}

/* ---- forward ------------------------------------------------------------------- */

struct fwd {
  int64_t n;
  sb_k_cuda_precision_t precision;
  void *stream;
  char *err;
  size_t errlen;
};

static int run_conv(const fwd *f, const gconv *c, const float *in, int64_t *h, int64_t *w,
                    const float *residual, int relu, float *out)
{
  sb_conv2d_t p;
  memset(&p, 0, sizeof p);
  p.n = f->n, p.cin = c->cin, p.h = *h, p.w = *w;
  p.cout = c->cout, p.kh = c->k, p.kw = c->k, p.stride = c->stride, p.pad = c->pad;
  p.weight = c->weight, p.bias = c->bias, p.residual = residual, p.relu = relu;
  int rc = sb_k_cuda_conv2d(&p, in, out, f->precision, f->stream);
  if (rc != SB_K_CUDA_OK)
    return sb_fail(f->err, f->errlen, rc, "%s [%lld,%lld,%lld,%lld]: %s", c->name, (long long)f->n,
                   (long long)c->cin, (long long)*h, (long long)*w, sb_k_cuda_last_error());
  *h = sb_k_out_dim(*h, c->k, c->stride, c->pad);
  *w = sb_k_out_dim(*w, c->k, c->stride, c->pad);
  return SB_K_CUDA_OK;
}

/* The index among three buffers that is neither a nor b (as sb_resnet.c). */
static int other(int a, int b)
{
  for (int i = 0; i < 3; i++)
    if (i != a && i != b)
      return i;
  return -1;
}

extern "C" int sb_resnet_cuda_forward(const sb_resnet_cuda_t *g, const float *in, int64_t n,
                                      int64_t h, int64_t w, float *logits, void *workspace,
                                      size_t workspace_bytes, sb_k_cuda_precision_t precision,
                                      void *stream, char *err, size_t errlen)
{
  int rc = SB_K_CUDA_OK, dev = -1;
  if (!g || !in || !logits || !workspace)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL,
                   "forward: a NULL model, input, output or workspace");
  double most = max_activation(g, n, h, w);
  if (most < 0)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL, "forward: invalid input [%lld,3,%lld,%lld]",
                   (long long)n, (long long)h, (long long)w);
  size_t act = round_up((size_t)most * sizeof(float));
  size_t need = 3 * act + round_up((size_t)(n * g->features) * sizeof(float));
  if (workspace_bytes < need)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL, "forward: workspace of %zu bytes, %zu needed",
                   workspace_bytes, need);
  if ((uintptr_t)workspace % GALIGN != 0)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL, "forward: workspace not %d-byte aligned", GALIGN);
  SB_CUDA_CHECK(cudaGetDevice(&dev), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  if (dev != g->device)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL,
                   "forward: the model lives on device %d but device %d is current", g->device,
                   dev);

  {
    float *buf[3];
    for (int i = 0; i < 3; i++)
      buf[i] = (float *)((char *)workspace + (size_t)i * act);
    float *pooled = (float *)((char *)workspace + 3 * act);
    fwd f = {n, precision, stream, err, errlen};

    if ((rc = run_conv(&f, &g->stem, in, &h, &w, NULL, 1, buf[0])) != SB_K_CUDA_OK)
      return rc;
    if ((rc = sb_k_cuda_maxpool2d(buf[0], n, g->stem.cout, h, w, 3, 2, 1, buf[1], stream)) !=
        SB_K_CUDA_OK)
      return sb_fail(err, errlen, rc, "maxpool: %s", sb_k_cuda_last_error());
    h = sb_k_out_dim(h, 3, 2, 1);
    w = sb_k_out_dim(w, 3, 2, 1);

    int x = 1; /* buffer holding the block input */
    for (int b = 0; b < g->nblocks; b++) {
      const gblock *blk = &g->blocks[b];
      int64_t ch = h, cw = w;
      int prev = x, t;
      for (int i = 0; i + 1 < blk->nconv; i++) {
        t = other(x, prev);
        if ((rc = run_conv(&f, &blk->conv[i], buf[prev], &ch, &cw, NULL, 1, buf[t])) !=
            SB_K_CUDA_OK)
          return rc;
        prev = t;
      }
      int res = x;
      if (blk->has_down) {
        int64_t dh = h, dw = w;
        res = other(x, prev);
        if ((rc = run_conv(&f, &blk->down, buf[x], &dh, &dw, NULL, 0, buf[res])) != SB_K_CUDA_OK)
          return rc;
      }
      int o = other(prev, res);
      if ((rc = run_conv(&f, &blk->conv[blk->nconv - 1], buf[prev], &ch, &cw, buf[res], 1,
                         buf[o])) != SB_K_CUDA_OK)
        return rc;
      x = o;
      h = ch, w = cw;
    }
    if ((rc = sb_k_cuda_global_avgpool(buf[x], n, g->features, h, w, pooled, stream)) !=
        SB_K_CUDA_OK)
      return sb_fail(err, errlen, rc, "avgpool: %s", sb_k_cuda_last_error());
    if ((rc = sb_k_cuda_linear(pooled, n, g->features, g->fc_w, g->fc_b, g->classes, logits,
                               stream)) != SB_K_CUDA_OK)
      return sb_fail(err, errlen, rc, "fc: %s", sb_k_cuda_last_error());
  }
out:
  return rc;
}

/* ---- the round trip from host memory ---------------------------------------------- */

/* After a failure on stream s (already synchronised): clears the thread's
 * last error, then probes the stream. An ordinary error is gone after
 * cudaGetLastError and the probe answers cudaSuccess (or cudaErrorNotReady);
 * a sticky one comes back from every call, the probe included. Then the
 * reason becomes "<error name>: <text> (first failure: <err so far>)" and
 * the result SB_K_CUDA_ESTICKY; otherwise rc is returned unchanged. */
static int sticky_or(int rc, cudaStream_t s, char *err, size_t errlen)
{
  cudaError_t probe;
  char first[200];
  (void)cudaGetLastError(); /* the failure is already in err */
  probe = cudaStreamQuery(s);
  if (probe == cudaSuccess || probe == cudaErrorNotReady)
    return rc;
  (void)cudaGetLastError();
  snprintf(first, sizeof first, "%s", err ? err : "");
  return sb_fail(err, errlen, SB_K_CUDA_ESTICKY, "%s: %s (first failure: %s)",
                 cudaGetErrorName(probe), cudaGetErrorString(probe), first);
}

extern "C" int sb_resnet_cuda_infer(const sb_resnet_cuda_t *g, const float *host_in, int64_t n,
                                    int64_t h, int64_t w, float *host_logits,
                                    sb_k_cuda_precision_t precision, void *stream, char *err,
                                    size_t errlen)
{
  cudaStream_t s = (cudaStream_t)stream;
  void *d_in = NULL, *d_ws = NULL, *d_out = NULL;
  int rc = SB_K_CUDA_OK;
  size_t ws, in_bytes, out_bytes;

  if (!g || !host_in || !host_logits)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL, "infer: a NULL model, input or output");
  ws = sb_resnet_cuda_workspace_bytes(g, n, h, w);
  if (ws == 0)
    return sb_fail(err, errlen, SB_K_CUDA_EINVAL, "infer: invalid input [%lld,3,%lld,%lld]",
                   (long long)n, (long long)h, (long long)w);
  in_bytes = (size_t)(n * 3 * h * w) * sizeof(float);
  out_bytes = (size_t)(n * g->classes) * sizeof(float);

  SB_CUDA_CHECK(cudaMallocAsync(&d_in, in_bytes, s), err, errlen,
                { rc = SB_K_CUDA_ECUDA; goto out; });
  SB_CUDA_CHECK(cudaMallocAsync(&d_ws, ws, s), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  SB_CUDA_CHECK(cudaMallocAsync(&d_out, out_bytes, s), err, errlen,
                { rc = SB_K_CUDA_ECUDA; goto out; });
  SB_CUDA_CHECK(cudaMemcpyAsync(d_in, host_in, in_bytes, cudaMemcpyHostToDevice, s), err, errlen,
                { rc = SB_K_CUDA_ECUDA; goto out; });
  rc = sb_resnet_cuda_forward(g, (const float *)d_in, n, h, w, (float *)d_out, d_ws, ws, precision,
                              stream, err, errlen);
  if (rc != SB_K_CUDA_OK)
    goto out;
  SB_CUDA_CHECK(cudaMemcpyAsync(host_logits, d_out, out_bytes, cudaMemcpyDeviceToHost, s),
                err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  /* Each pointer is NULLed before its free is tried: a failed cudaFreeAsync
   * is not retried by `out` (a second free of the same pointer). */
  {
    void *p[3] = {d_in, d_ws, d_out};
    d_in = d_ws = d_out = NULL;
    for (int i = 0; i < 3; i++) {
      void *q = p[i];
      p[i] = NULL;
      SB_CUDA_CHECK(cudaFreeAsync(q, s), err, errlen, {
        rc = SB_K_CUDA_ECUDA;
        d_in = p[0];
        d_ws = p[1];
        d_out = p[2];
        goto out;
      });
    }
  }
  SB_CUDA_CHECK(cudaStreamSynchronize(s), err, errlen, { rc = SB_K_CUDA_ECUDA; goto out; });
  return SB_K_CUDA_OK;

out:
  /* Release what is still allocated; the first error is the one reported. */
  {
    void *p[3] = {d_in, d_ws, d_out};
    for (int i = 0; i < 3; i++)
      if (p[i])
        SB_CUDA_CHECK(cudaFreeAsync(p[i], s), NULL, 0, (void)0);
  }
  SB_CUDA_CHECK(cudaStreamSynchronize(s), NULL, 0, (void)0);
  return sticky_or(rc, s, err, errlen);
}
