/* sbai's GPU side: which GPUs the server sees, their memory pools, the
 * models' weights on them and a run on one.
 *
 * A device is an int: SBAI_DEVICE_CPU (-1) or n >= 0 for GPU:n (device.h
 * parses and names them). Everything that touches CUDA is in gpu.c,
 * compiled against the CUDA runtime only when the module is built with
 * HAVE_CUDA; without it the same functions exist and refuse with "built
 * without CUDA". No function here exits or replies: they return 0 / -1 and
 * write a one-line reason into err[errlen], which the callers send as
 * "ERR <reason>".
 *
 * Threads: sbai_gpu_count, sbai_gpu_prepare and sbai_gpu_status are for the
 * main thread (AI.MODELSTORE, RDB load, AI.INFO); sbai_gpu_worker_init and
 * sbai_gpu_run are for a GPU queue's worker threads; the model functions are
 * safe from any thread.
 */
#ifndef SBAI_GPU_H
#define SBAI_GPU_H

#include "device.h"
#include "sb_resnet.h"

#include <stddef.h>
#include <stdint.h>

/* How many GPUs the server sees: asked once (cudaGetDeviceCount), then
 * remembered. 0 when built without CUDA, without a driver or without a GPU. */
int sbai_gpu_count(void);

/* One line for AI.INFO: "built without CUDA", "no GPU visible to the server
 * (<why>)", or "<n> visible" and the name of each prepared GPU, followed by
 * " UNUSABLE: <why>" for one in an unrecoverable state ("GPU:0 is in an
 * unrecoverable state (<cuda error>): restart the server") or whose queue
 * has no worker left ("no worker could start on GPU:0: ..."). */
const char *sbai_gpu_status(void);

/* Makes GPU:device ready for models: its memory pool configured
 * (GPU_POOL_INIT reserved, released down to no less than GPU_POOL_MAX at
 * synchronisation), the effective precision decided (TF32 needs sm_80; older
 * GPUs fall back to FP32, logged) and its queue started with
 * THREADS_PER_QUEUE workers. Idempotent; main thread. Fails with "built
 * without CUDA: device 'GPU:0' is not available", "no GPU visible to the
 * server (...)", "device 'GPU:3' does not exist: the server sees 2 GPUs
 * (GPU:0..GPU:1)", a CUDA failure, or for a GPU already prepared "GPU:0 is
 * in an unrecoverable state (...): restart the server" (a run met a sticky
 * CUDA error on it) or "no worker could start on GPU:0: ..." (every worker of
 * its queue failed to start). */
int sbai_gpu_prepare(int device, char *err, size_t errlen);

/* The convolution precision runs on GPU:device use (an
 * sb_k_cuda_precision_t: 0 FP32, 1 TF32), once prepared. */
int sbai_gpu_precision(int device);

/* Model weights on a GPU: uploaded once, at store (or RDB load) time.
 * Freed (the model's last reference gone, usually on the main thread)
 * stream-ordered, without waiting for the device, so deleting a GPU model
 * does not stall the server while other models run there
 * (sb_resnet_cuda_release). Precondition: no run of the model is executing;
 * runs hold a reference on the model until their execution returned, and an
 * execution synchronises its stream before it returns. A failure is logged. */
int sbai_gpu_model_upload(const sb_resnet_t *net, int device, void **gpu_net, char *err,
                          size_t errlen);
void sbai_gpu_model_free(void *gpu_net);

/* Worker side: makes `device` current on the calling thread and creates its
 * own non-blocking stream. sbai_gpu_prepare gives it to the GPU's queue as
 * its workers' start-up (sbai_queue_worker_init_fn, run_queue.h). */
int sbai_gpu_worker_init(int device, void **stream, char *err, size_t errlen);

/* Worker side: logits[n][classes] of in[n][3][h][w] (host memory) on the
 * worker's stream, device memory from the pool (sb_resnet_cuda_infer).
 * Refused when the run's device memory would take the pool's use beyond
 * GPU_POOL_MAX. A sticky CUDA error (SB_K_CUDA_ESTICKY: the device's context
 * is lost) marks the GPU unusable, logged once: that run and every later one
 * on it fail at once with "GPU:<d> is in an unrecoverable state (<cuda
 * error>): restart the server". */
int sbai_gpu_run(void *gpu_net, const float *in, int64_t n, int64_t h, int64_t w, float *logits,
                 void *stream, char *err, size_t errlen);

#endif
