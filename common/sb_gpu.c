#include "sb_gpu.h"

#include "sb_config.h"
#include "sb_error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if HAVE_CUDA
#include "sb_cuda_check.h"
#include "sb_pattern_cuda.h"

#include <cuda_runtime_api.h>
#endif

/* The one message every function of a build without CUDA returns. */
#define SB_GPU_NOT_BUILT                                                      \
  "stagebench was built without CUDA (no CUDA compiler found at configure "   \
  "time, or -DSB_ENABLE_CUDA=OFF); rebuild with CUDA for --device gpu"

int sb_gpu_built(void) { return HAVE_CUDA; }

int sb_error_cuda(const char *file, int line, const char *expr, int code)
{
#if HAVE_CUDA
  /* The text of SB_CUDA_CHECK (sb_cuda_check.h). */
  return sb_error("%s:%d: %s: %s: %s", file, line, expr, cudaGetErrorName((cudaError_t)code),
                  cudaGetErrorString((cudaError_t)code));
#else
  return sb_error("%s:%d: %s failed: CUDA error %d (%s)", file, line, expr, code,
                  SB_GPU_NOT_BUILT);
#endif
}

#if HAVE_CUDA

/* Every CUDA call below is checked by the one CUDA check, SB_CUDA_CHECK
 * (sb_cuda_check.h), writing into the thread's sb_error message: GPU_CHECK
 * is only its shorthand for "return SB_ERR" here. */
#define GPU_CHECK(expr) SB_CUDA_CHECK(expr, sb_error_buffer(), SB_ERRMSG_MAX, return SB_ERR)

#define AS_STREAM(s) ((cudaStream_t)(s))

int sb_gpu_count(int *count)
{
  const char *vis = getenv("CUDA_VISIBLE_DEVICES");
  cudaError_t e;
  *count = 0;
  e = cudaGetDeviceCount(count);
  if (e == cudaSuccess && *count > 0)
    return SB_OK;
  *count = 0;
  (void)cudaGetLastError(); /* leave no error behind for the next check */
  if (e == cudaSuccess || e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver)
    return sb_error("no CUDA device visible (cudaGetDeviceCount: %s: %s%s%s%s)",
                    cudaGetErrorName(e), cudaGetErrorString(e),
                    vis ? "; CUDA_VISIBLE_DEVICES='" : "", vis ? vis : "", vis ? "'" : "");
  return sb_error_cuda(__FILE__, __LINE__, "cudaGetDeviceCount(count)", (int)e);
}

int sb_gpu_name(int device, char *buf, size_t len)
{
  struct cudaDeviceProp prop;
  GPU_CHECK(cudaGetDeviceProperties(&prop, device));
  snprintf(buf, len, "%s", prop.name);
  return SB_OK;
}

int sb_gpu_versions(char *runtime, size_t rlen, char *driver, size_t dlen)
{
  int r = 0, d = 0;
  GPU_CHECK(cudaRuntimeGetVersion(&r));
  GPU_CHECK(cudaDriverGetVersion(&d));
  snprintf(runtime, rlen, "%d.%d", r / 1000, (r % 1000) / 10);
  snprintf(driver, dlen, "%d.%d", d / 1000, (d % 1000) / 10);
  return SB_OK;
}

/* Device memory, or pinned host memory, of at least one byte (*p NULL on
 * failure), and its release (NULL: nothing to do). */
static int gpu_alloc(void **p, size_t bytes, int pinned)
{
  *p = NULL;
  if (pinned)
    GPU_CHECK(cudaMallocHost(p, bytes ? bytes : 1));
  else
    GPU_CHECK(cudaMalloc(p, bytes ? bytes : 1));
  return SB_OK;
}

static int gpu_free(void *p, int pinned)
{
  if (p && pinned)
    GPU_CHECK(cudaFreeHost(p));
  else if (p)
    GPU_CHECK(cudaFree(p));
  return SB_OK;
}

int sb_gpu_stream_create(void **stream)
{
  cudaStream_t s = NULL;
  *stream = NULL;
  GPU_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  *stream = s;
  return SB_OK;
}

int sb_gpu_stream_destroy(void *stream)
{
  if (stream)
    GPU_CHECK(cudaStreamDestroy(AS_STREAM(stream)));
  return SB_OK;
}

/* Copies bytes host->device (to_device) or device->host on stream and waits. */
static int gpu_copy(void *dst, const void *src, size_t bytes, int to_device, void *stream)
{
  GPU_CHECK(cudaMemcpyAsync(dst, src, bytes,
                            to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                            AS_STREAM(stream)));
  GPU_CHECK(cudaStreamSynchronize(AS_STREAM(stream)));
  return SB_OK;
}

int sb_gpu_memset(void *dev, int value, size_t bytes, void *stream)
{
  GPU_CHECK(cudaMemsetAsync(dev, value, bytes, AS_STREAM(stream)));
  return SB_OK;
}

int sb_gpu_sync(void *stream)
{
  GPU_CHECK(cudaStreamSynchronize(AS_STREAM(stream)));
  return SB_OK;
}

int sb_gpu_pattern_fill(void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                        void *stream)
{
  GPU_CHECK(sb_pattern_cuda_fill(dev, bytes, rank, iteration, stream));
  GPU_CHECK(cudaStreamSynchronize(AS_STREAM(stream)));
  return SB_OK;
}

int sb_gpu_pattern_check(const void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                         void *scratch, void *stream, size_t *bad, size_t *first_bad)
{
  GPU_CHECK(sb_pattern_cuda_check(dev, bytes, rank, iteration, scratch, stream, bad, first_bad));
  return SB_OK;
}

/* This rank's part of sb_gpu_place: SB_OK or SB_ERR with the message set. */
static int place_local(int one_per_rank, sb_gpu_place_t *p)
{
  if (sb_gpu_count(&p->count) != SB_OK)
    return SB_ERR;
  if (one_per_rank && p->local_size > p->count)
    return sb_error("%d ranks on this node but %d visible CUDA device%s: NCCL needs one device "
                    "per rank (run at most %d ranks per node, or make more devices visible)",
                    p->local_size, p->count, p->count == 1 ? "" : "s", p->count);
  p->device = p->local_rank % p->count;
  GPU_CHECK(cudaSetDevice(p->device));
  return SB_OK;
}

#else /* !HAVE_CUDA: every function answers "built without CUDA" */

int sb_gpu_count(int *count)
{
  *count = 0;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

int sb_gpu_name(int device, char *buf, size_t len)
{
  (void)device;
  if (len)
    buf[0] = '\0';
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

int sb_gpu_versions(char *runtime, size_t rlen, char *driver, size_t dlen)
{
  snprintf(runtime, rlen, "none");
  snprintf(driver, dlen, "none");
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

static int gpu_alloc(void **p, size_t bytes, int pinned)
{
  (void)bytes, (void)pinned;
  *p = NULL;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

static int gpu_free(void *p, int pinned)
{
  (void)p, (void)pinned;
  return SB_OK;
}

int sb_gpu_stream_create(void **stream)
{
  *stream = NULL;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

int sb_gpu_stream_destroy(void *stream)
{
  (void)stream;
  return SB_OK;
}

static int gpu_copy(void *dst, const void *src, size_t bytes, int to_device, void *stream)
{
  (void)dst, (void)src, (void)bytes, (void)to_device, (void)stream;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

int sb_gpu_memset(void *dev, int value, size_t bytes, void *stream)
{
  (void)dev, (void)value, (void)bytes, (void)stream;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

int sb_gpu_sync(void *stream)
{
  (void)stream;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

int sb_gpu_pattern_fill(void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                        void *stream)
{
  (void)dev, (void)bytes, (void)rank, (void)iteration, (void)stream;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

int sb_gpu_pattern_check(const void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                         void *scratch, void *stream, size_t *bad, size_t *first_bad)
{
  (void)dev, (void)bytes, (void)rank, (void)iteration, (void)scratch, (void)stream;
  *bad = 0;
  if (first_bad)
    *first_bad = (size_t)-1;
  return sb_error("%s", SB_GPU_NOT_BUILT);
}

static int place_local(int one_per_rank, sb_gpu_place_t *p)
{
  (void)one_per_rank;
  return sb_gpu_count(&p->count);
}

#endif /* HAVE_CUDA */

int sb_gpu_alloc(void **dev, size_t bytes) { return gpu_alloc(dev, bytes, 0); }

int sb_gpu_free(void *dev) { return gpu_free(dev, 0); }

int sb_gpu_alloc_pinned(void **host, size_t bytes) { return gpu_alloc(host, bytes, 1); }

int sb_gpu_free_pinned(void *host) { return gpu_free(host, 1); }

int sb_gpu_copy_to_host(void *host, const void *dev, size_t bytes, void *stream)
{
  return gpu_copy(host, dev, bytes, 0, stream);
}

int sb_gpu_copy_to_device(void *dev, const void *host, size_t bytes, void *stream)
{
  return gpu_copy(dev, host, bytes, 1, stream);
}

int sb_gpu_place(MPI_Comm comm, int local_rank, int local_size, int one_per_rank,
                 sb_gpu_place_t *place)
{
  char msg[512] = "", host[128] = "unknown";
  int rank = 0, mine, first_bad = INT_MAX;

  memset(place, 0, sizeof *place);
  place->device = -1;
  place->local_rank = local_rank;
  place->local_size = local_size;
  SB_MPI(MPI_Comm_rank(comm, &rank));
  if (place_local(one_per_rank, place) != SB_OK) {
    gethostname(host, sizeof host - 1);
    snprintf(msg, sizeof msg, "rank %d on host %s: %s", rank, host, sb_error_msg());
    place->device = -1;
  }
  /* Agree: the lowest failing rank's message becomes everyone's. */
  mine = msg[0] ? rank : INT_MAX;
  SB_MPI(MPI_Allreduce(&mine, &first_bad, 1, MPI_INT, MPI_MIN, comm));
  if (first_bad != INT_MAX) {
    SB_MPI(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first_bad, comm));
    msg[sizeof msg - 1] = '\0';
    return sb_error("%s", msg);
  }
  return SB_OK;
fail:
  return SB_ERR;
}
