/* sbai's GPUs (gpu.h). The CUDA half is compiled only when the
 * module is built with CUDA (SBAI_HAVE_CUDA 1); otherwise every GPU request
 * is refused with "built without CUDA". */
#include "gpu.h"
#include "errtext.h"

#include "module_options.h"
#include "redismodule_api.h"
#include "run_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if SBAI_HAVE_CUDA
#include "sb_cuda_check.h"
#include "sb_kernels_cuda.h"
#include "sb_resnet_cuda.h"

#include <cuda_runtime_api.h>
#endif

#if SBAI_HAVE_CUDA

/* ---- the GPUs (main thread, except where said) ------------------------------------ */

typedef struct gpu_state {
  int prepared;
  int precision;          /* sb_k_cuda_precision_t in effect */
  atomic_llong in_use;    /* device bytes of runs in flight (workers) */
  char name[300];
  /* Set once, by the worker that met a sticky CUDA error on this GPU: its
   * context is lost for good. `lost` is read without the lock; lost_why is
   * written once under lost_mu, before lost is set. */
  atomic_int lost;
  char lost_why[160];     /* "<cudaError name>: <text>" */
} gpu_state_t;

static gpu_state_t gpus[SBAI_MAX_GPUS];
static pthread_mutex_t lost_mu = PTHREAD_MUTEX_INITIALIZER;
static int gpu_count = -1; /* not asked yet */
static char none_reason[200];
static char status_line[1024];

/* ---- a GPU in an unrecoverable state ------------------------------------------------- */

/* Writes "GPU:d is in an unrecoverable state (<why>): restart the server"
 * into err and returns -1 when GPU:device is lost; 0 otherwise. Any thread. */
static int refuse_lost(int device, char *err, size_t errlen)
{
  char why[sizeof gpus[0].lost_why];
  if (device < 0 || device >= SBAI_MAX_GPUS || !atomic_load(&gpus[device].lost))
    return 0;
  pthread_mutex_lock(&lost_mu);
  snprintf(why, sizeof why, "%s", gpus[device].lost_why);
  pthread_mutex_unlock(&lost_mu);
  return sbai_errf(err, errlen, "GPU:%d is in an unrecoverable state (%s): restart the server",
                   device, why);
}

/* Marks GPU:device lost (a worker met a sticky error on `stream`; detail:
 * sb_resnet_cuda_infer's text, with the first failure). The first caller
 * records the error and logs it. Worker thread. */
static void mark_lost(int device, void *stream, const char *detail)
{
  gpu_state_t *g = &gpus[device];
  /* The sticky error comes back from every call: ask it for its name. */
  cudaError_t e = cudaStreamQuery((cudaStream_t)stream);
  int first = 0;
  pthread_mutex_lock(&lost_mu);
  if (!atomic_load(&g->lost)) {
    if (e == cudaSuccess || e == cudaErrorNotReady)
      snprintf(g->lost_why, sizeof g->lost_why, "a sticky CUDA error");
    else
      snprintf(g->lost_why, sizeof g->lost_why, "%s: %s", cudaGetErrorName(e),
               cudaGetErrorString(e));
    atomic_store(&g->lost, 1);
    first = 1;
  }
  pthread_mutex_unlock(&lost_mu);
  if (first)
    RedisModule_Log(NULL, "warning",
                    "sbai: GPU:%d is in an unrecoverable state: %s. Every later run on it "
                    "fails; restart the server to use it again", device, detail);
}

/* ---- the GPUs ------------------------------------------------------------------------ */

int sbai_gpu_count(void)
{
  int n = 0;
  if (gpu_count >= 0)
    return gpu_count;
  if (sb_k_cuda_device_count(&n) != SB_K_CUDA_OK) {
    snprintf(none_reason, sizeof none_reason, "%s", sb_k_cuda_last_error());
    n = 0;
  } else if (n == 0) {
    snprintf(none_reason, sizeof none_reason, "cudaGetDeviceCount found no CUDA device");
  }
  gpu_count = n > SBAI_MAX_GPUS ? SBAI_MAX_GPUS : n;
  return gpu_count;
}

const char *sbai_gpu_status(void)
{
  int n = sbai_gpu_count();
  size_t used;
  if (n == 0) {
    snprintf(status_line, sizeof status_line, "no GPU visible to the server (%s)", none_reason);
    return status_line;
  }
  used = (size_t)snprintf(status_line, sizeof status_line, "%d visible", n);
  for (int d = 0; d < n && used < sizeof status_line; d++) {
    char why[300];
    if (!gpus[d].prepared)
      continue;
    used += (size_t)snprintf(status_line + used, sizeof status_line - used, "; GPU:%d %s (%s)", d,
                             gpus[d].name, gpus[d].precision == SB_K_CUDA_TF32 ? "TF32" : "FP32");
    if (used >= sizeof status_line)
      break;
    if (refuse_lost(d, why, sizeof why) != 0)
      used += (size_t)snprintf(status_line + used, sizeof status_line - used, " UNUSABLE: %s", why);
    else if (sbai_queue_live_workers(d, why, sizeof why) == 0)
      used += (size_t)snprintf(status_line + used, sizeof status_line - used, " UNUSABLE: %s", why);
  }
  return status_line;
}

/* The device's name before the message of a failed CUDA call. */
static int device_err(char *err, size_t errlen, int device)
{
  char what[512];
  snprintf(what, sizeof what, "%s", err ? err : "");
  return sbai_errf(err, errlen, "GPU:%d: %s", device, what);
}

/* A CUDA call on `device`, checked the suite's one way (sb_cuda_check.h):
 * -1 with "GPU:d: file:line: call: error" in err. */
#define CK(EXPR) SB_CUDA_CHECK(EXPR, err, errlen, return device_err(err, errlen, device))

/* The device's pool: kept up to GPU_POOL_MAX (or everything when that is
 * 0) across synchronisations, and GPU_POOL_INIT reserved now by one
 * allocation freed at once, which the pool keeps. */
static int setup_pool(int device, char *err, size_t errlen)
{
  cudaMemPool_t pool;
  cudaStream_t s;
  uint64_t threshold = sbai_options.gpu_pool_max > 0 ? (uint64_t)sbai_options.gpu_pool_max
                                                      : UINT64_MAX;
  void *p = NULL;
  cudaError_t e;

  CK(cudaDeviceGetDefaultMemPool(&pool, device));
  CK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  if (sbai_options.gpu_pool_init <= 0)
    return 0;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  e = cudaMallocAsync(&p, (size_t)sbai_options.gpu_pool_init, s);
  if (e == cudaSuccess)
    e = cudaFreeAsync(p, s);
  if (e == cudaSuccess)
    e = cudaStreamSynchronize(s);
  (void)cudaStreamDestroy(s);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return sbai_errf(err, errlen,
                     "GPU:%d: cannot reserve GPU_POOL_INIT (%lld bytes) in its memory "
                     "pool: %s: %s",
                     device, sbai_options.gpu_pool_init, cudaGetErrorName(e),
                     cudaGetErrorString(e));
  }
  return 0;
}

int sbai_gpu_prepare(int device, char *err, size_t errlen)
{
  int n = sbai_gpu_count(), major = 0;
  struct cudaDeviceProp prop;
  gpu_state_t *g;

  if (n == 0)
    return sbai_errf(err, errlen,
                     "no GPU visible to the server (%s): device 'GPU:%d' is not available",
                     none_reason, device);
  if (device < 0 || device >= n)
    return sbai_errf(err, errlen,
                     "device 'GPU:%d' does not exist: the server sees %d GPU%s (GPU:0..GPU:%d)",
                     device, n, n == 1 ? "" : "s", n - 1);
  g = &gpus[device];
  if (refuse_lost(device, err, errlen) != 0)
    return -1;
  if (g->prepared) {
    /* Its workers start on their own threads: one that could not start
     * left the queue (run_queue.h); with none left, storing is refused. */
    char why[300];
    if (sbai_queue_live_workers(device, why, sizeof why) == 0)
      return sbai_errf(err, errlen, "%s", why);
    return 0;
  }
  CK(cudaSetDevice(device));
  CK(cudaGetDeviceProperties(&prop, device));
  snprintf(g->name, sizeof g->name, "%s sm_%d%d", prop.name, prop.major, prop.minor);
  major = prop.major;
  g->precision = (int)sbai_options.gpu_precision;
  if (g->precision == SB_K_CUDA_TF32 && major < 8) {
    g->precision = SB_K_CUDA_FP32;
    RedisModule_Log(NULL, "notice", "sbai: GPU:%d (%s) has no TF32 tensor cores (sm_80+): its "
                    "convolutions run in FP32", device, g->name);
  }
  atomic_init(&g->in_use, 0);
  if (setup_pool(device, err, errlen) != 0)
    return -1;
  if (sbai_queue_start_gpu(device, (int)sbai_options.threads_per_queue, sbai_gpu_worker_init, err,
                           errlen)
      != 0)
    return -1;
  g->prepared = 1;
  RedisModule_Log(NULL, "notice", "sbai: GPU:%d %s ready: %d worker(s), one stream each, %s "
                  "convolutions, pool %lld bytes reserved, limit %lld (0: none)", device, g->name,
                  (int)sbai_options.threads_per_queue,
                  g->precision == SB_K_CUDA_TF32 ? "TF32" : "FP32", sbai_options.gpu_pool_init,
                  sbai_options.gpu_pool_max);
  return 0;
}

int sbai_gpu_precision(int device)
{
  return device >= 0 && device < SBAI_MAX_GPUS ? gpus[device].precision : SB_K_CUDA_FP32;
}

int sbai_gpu_model_upload(const sb_resnet_t *net, int device, void **gpu_net, char *err,
                          size_t errlen)
{
  sb_resnet_cuda_t *g = NULL;
  char why[256];
  if (sb_resnet_cuda_upload(net, device, &g, why, sizeof why) != SB_K_CUDA_OK)
    return sbai_errf(err, errlen, "cannot upload the model to GPU:%d: %s", device, why);
  *gpu_net = g;
  return 0;
}

void sbai_gpu_model_free(void *gpu_net)
{
  char why[256];
  int device = sb_resnet_cuda_device(gpu_net);
  /* Stream-ordered: returns without waiting for the runs of other models on
   * the device (sb_resnet_cuda.h). No run of this model is in flight: each
   * holds a reference until its execution returned. */
  if (gpu_net && sb_resnet_cuda_release(gpu_net, why, sizeof why) != SB_K_CUDA_OK)
    RedisModule_Log(NULL, "warning", "sbai: GPU:%d: freeing a model's weights failed: %s", device,
                    why);
}

int sbai_gpu_worker_init(int device, void **stream, char *err, size_t errlen)
{
  cudaStream_t s;
  CK(cudaSetDevice(device));
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  *stream = s;
  return 0;
}

int sbai_gpu_run(void *gpu_net, const float *in, int64_t n, int64_t h, int64_t w, float *logits,
                 void *stream, char *err, size_t errlen)
{
  const sb_resnet_cuda_t *g = gpu_net;
  int device = sb_resnet_cuda_device(g);
  gpu_state_t *st = &gpus[device];
  long long need = (long long)sb_resnet_cuda_infer_bytes(g, n, h, w);
  long long limit = sbai_options.gpu_pool_max;
  char why[300];
  int rc;

  if (refuse_lost(device, err, errlen) != 0)
    return -1;
  if (need <= 0)
    return sbai_errf(err, errlen, "GPU:%d: invalid input [%lld,3,%lld,%lld]", device, (long long)n,
                     (long long)h, (long long)w);
  /* GPU_POOL_MAX bounds what the runs in flight on the device take. */
  if (limit > 0) {
    long long before = atomic_fetch_add(&st->in_use, need);
    if (before + need > limit) {
      atomic_fetch_sub(&st->in_use, need);
      if (need > limit)
        return sbai_errf(err, errlen,
                         "GPU:%d: this batch needs %lld bytes of device memory, more than "
                         "GPU_POOL_MAX (%lld): use smaller batches or a larger GPU_POOL_MAX",
                         device, need, limit);
      return sbai_errf(err, errlen,
                       "GPU:%d: this batch needs %lld bytes of device memory and runs in "
                       "flight hold %lld of GPU_POOL_MAX (%lld)",
                       device, need, before, limit);
    }
  }
  rc = sb_resnet_cuda_infer(g, in, n, h, w, logits, (sb_k_cuda_precision_t)st->precision, stream,
                            why, sizeof why);
  if (limit > 0)
    atomic_fetch_sub(&st->in_use, need);
  if (rc == SB_K_CUDA_ESTICKY) {
    mark_lost(device, stream, why);
    refuse_lost(device, err, errlen);
    return -1;
  }
  if (rc != SB_K_CUDA_OK)
    return sbai_errf(err, errlen, "GPU:%d: %s", device, why);
  return 0;
}

#else /* !SBAI_HAVE_CUDA: every GPU request is refused */

int sbai_gpu_count(void)
{
  return 0;
}

const char *sbai_gpu_status(void)
{
  return "built without CUDA";
}

int sbai_gpu_prepare(int device, char *err, size_t errlen)
{
  return sbai_errf(err, errlen,
                   "built without CUDA: device 'GPU:%d' is not available (rebuild sbai "
                   "with the CUDA toolkit)",
                   device);
}

int sbai_gpu_precision(int device)
{
  (void)device;
  return 0;
}

int sbai_gpu_model_upload(const sb_resnet_t *net, int device, void **gpu_net, char *err,
                          size_t errlen)
{
  (void)net, (void)gpu_net;
  return sbai_gpu_prepare(device, err, errlen);
}

void sbai_gpu_model_free(void *gpu_net)
{
  (void)gpu_net;
}

int sbai_gpu_worker_init(int device, void **stream, char *err, size_t errlen)
{
  (void)stream;
  return sbai_gpu_prepare(device, err, errlen);
}

int sbai_gpu_run(void *gpu_net, const float *in, int64_t n, int64_t h, int64_t w, float *logits,
                 void *stream, char *err, size_t errlen)
{
  (void)gpu_net, (void)in, (void)n, (void)h, (void)w, (void)logits, (void)stream;
  return sbai_errf(err, errlen, "built without CUDA");
}

#endif
