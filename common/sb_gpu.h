/* The GPU as the apps use it (--device gpu): which device a rank drives,
 * device and pinned host buffers, copies, and the verification pattern on
 * the device. Plain C over the CUDA runtime API; the kernels live in
 * kernels/sb_pattern_cuda.cu.
 *
 * Every function returns SB_OK or SB_ERR with the message set (sb_error.h):
 * a failing CUDA call is named with its file, line, expression and CUDA's
 * error name and text. In a build without CUDA (HAVE_CUDA 0) every function
 * compiles and returns SB_ERR "built without CUDA ..." (the free functions
 * do nothing), so the apps need no #if of their own.
 *
 * Streams are cudaStream_t passed as void * (NULL: the default stream).
 */
#ifndef SB_GPU_H
#define SB_GPU_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

/* 1 when this build has CUDA (HAVE_CUDA), else 0. */
int sb_gpu_built(void);

/* The CUDA devices this process sees. SB_OK with *count >= 1, or SB_ERR
 * with *count 0 and the reason: built without CUDA, no driver, no device
 * (also CUDA_VISIBLE_DEVICES empty), or the runtime's own error. */
int sb_gpu_count(int *count);

/* Where a rank runs on the GPU. */
typedef struct {
  int device;          /* local_rank mod count: the rank's device */
  int count;           /* devices this rank sees */
  int local_rank;      /* rank among the ranks on its node */
  int local_size;      /* ranks on its node */
} sb_gpu_place_t;

/* Collective over comm. Given the rank's place on its node (the driver's
 * ctx->local_rank and local_size), picks device = local_rank mod count and
 * makes it current for the calling thread. one_per_rank: also refuse a node with
 * more ranks than devices (NCCL cannot put two ranks of one communicator on
 * the same device). The outcome is agreed: SB_OK on every rank, or SB_ERR on
 * every rank with the message of the lowest failing rank ("rank 3 on host
 * n17: no CUDA device visible ..."). */
int sb_gpu_place(MPI_Comm comm, int local_rank, int local_size, int one_per_rank,
                 sb_gpu_place_t *place);

/* The device's name ("NVIDIA H100 80GB HBM3") into buf. SB_OK or SB_ERR. */
int sb_gpu_name(int device, char *buf, size_t len);

/* CUDA runtime and driver versions as "13.0" strings. SB_OK or SB_ERR. */
int sb_gpu_versions(char *runtime, size_t rlen, char *driver, size_t dlen);

/* Device memory (cudaMalloc) and pinned, page-locked host memory
 * (cudaMallocHost, which copies run from at the copy engines' speed). The
 * free functions accept NULL (SB_OK) and return SB_ERR with the message
 * when CUDA reports an error (typically one left by an earlier kernel). */
int sb_gpu_alloc(void **dev, size_t bytes);
int sb_gpu_free(void *dev);
int sb_gpu_alloc_pinned(void **host, size_t bytes);
int sb_gpu_free_pinned(void *host);

/* A stream of the current device (non-blocking with respect to the default
 * stream), and its release (NULL accepted, SB_OK). */
int sb_gpu_stream_create(void **stream);
int sb_gpu_stream_destroy(void *stream);

/* Copies bytes device->host or host->device on stream and waits until the
 * copy is complete, so a timer around the call measures the transfer. */
int sb_gpu_copy_to_host(void *host, const void *dev, size_t bytes, void *stream);
int sb_gpu_copy_to_device(void *dev, const void *host, size_t bytes, void *stream);

/* Sets bytes of device memory to value on stream (not waited for). */
int sb_gpu_memset(void *dev, int value, size_t bytes, void *stream);

/* Waits for everything enqueued on stream. */
int sb_gpu_sync(void *stream);

/* The pattern of (rank, iteration) (kernels/sb_pattern.h) written into
 * device memory by a kernel on stream, and waited for. */
int sb_gpu_pattern_fill(void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                        void *stream);

/* Checks device memory against the pattern of (rank, iteration) on the GPU.
 * scratch: 16 bytes from sb_gpu_alloc, reused across calls. *bad: words that
 * differ (0: intact), *first_bad: byte offset of the first (may be NULL). */
int sb_gpu_pattern_check(const void *dev, size_t bytes, uint64_t rank, uint64_t iteration,
                         void *scratch, void *stream, size_t *bad, size_t *first_bad);

/* Records a failed CUDA runtime call (code is a cudaError_t) as the error
 * message, with where and what: the text SB_CUDA_CHECK (sb_cuda_check.h)
 * writes, for a code already in hand. Returns SB_ERR. */
int sb_error_cuda(const char *file, int line, const char *expr, int code);

#endif
