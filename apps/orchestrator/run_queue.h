/* The device queues: requests waiting for a worker, and the worker threads.
 *
 * One queue per device: the CPU's, started when the module loads, and one
 * per GPU, started when the first model is stored on it (sbai_gpu_prepare).
 * Each is served by THREADS_PER_QUEUE pthreads; a GPU queue's workers each
 * make their device current and create their own CUDA stream when they
 * start (the start-up function the queue was given: the queues know no GPU
 * code). A worker whose start-up fails leaves the queue without taking any
 * request, and the server log says why; when no worker of a queue is left,
 * the requests waiting in it and every request given to it later fail at
 * once with "no worker could start on GPU:0: <why>" (never waiting for a
 * worker that will not come). A request goes to the queue of its device
 * (run->device). Each worker takes the oldest request of its queue that no
 * batch in formation is waiting for and:
 *
 * - skips a request whose client disconnected (run->gone), without running
 *   it;
 * - replies TIMEDOUT, without running it, when the request's TIMEOUT has
 *   passed (checked when a worker reaches it, so the reply comes then);
 * - for a model stored with BATCHSIZE b > 0 (run->batching, from the run's
 *   ops), also takes the other queued requests for the same model
 *   (run->target) whose input has the same height and width,
 *   oldest first, while the batch stays <= b items (dim 0); a first request
 *   of more than b items runs alone. If the batch has fewer than MINBATCHSIZE
 *   items it waits, at most MINBATCHTIMEOUT ms (forever when that is 0, as in
 *   RedisAI), for more to arrive. While it waits, the other workers leave the
 *   requests that would fit in to it. A request whose TIMEOUT passes while
 *   its batch forms is dropped from the batch and replied TIMEDOUT;
 * - runs the batch as one execution with the kernel thread count, and hands
 *   every request back to the main thread.
 */
#ifndef SBAI_RUN_QUEUE_H
#define SBAI_RUN_QUEUE_H

#include "run.h"

#include <stddef.h>

/* Starts the CPU queue's `workers` threads, each running kernels with
 * `kernel_threads` threads. Fails (with a message) when a thread cannot be
 * created. Call once, while the module loads. */
int sbai_queue_start(int workers, int kernel_threads, char *err, size_t errlen);

/* What a GPU queue's worker runs once when it starts, on its own thread:
 * makes `device` current and sets *stream to the worker's own stream
 * (sbai_exec_t.stream). Returns 0, or -1 with a reason in err; the worker
 * then leaves the queue (above) and its thread ends. */
typedef int (*sbai_queue_worker_init_fn)(int device, void **stream, char *err, size_t errlen);

/* Starts GPU:gpu's queue with `workers` threads, each starting with
 * worker_init (once; later calls do nothing). Main thread. */
int sbai_queue_start_gpu(int gpu, int workers, sbai_queue_worker_init_fn worker_init, char *err,
                         size_t errlen);

/* Whether the queue of device (SBAI_DEVICE_CPU or n for GPU:n) runs. */
int sbai_queue_started(int device);

/* Queues a submitted run on its device's queue (main thread). A run for a
 * device without a queue is failed at once (its client gets the error). */
void sbai_queue_push(sbai_run_t *run);

/* Takes a queued run out of its queue (main thread, for a client that
 * disconnected). Returns 1 if it was there (the caller then owns it and must
 * finish it), 0 if a worker has taken it already. */
int sbai_queue_remove(sbai_run_t *run);

/* How many workers of device's queue serve it or are still starting (0 for
 * a queue not started). When none is left and why is not NULL, why gets the
 * error its requests fail with. Any thread. */
int sbai_queue_live_workers(int device, char *why, size_t whylen);

/* Asks the workers of device's queue to free their scratch memory (the
 * forward pass's workspace, kept from run to run: sbai_exec_t) as soon as
 * they are idle or take their next run, which then allocates afresh: called
 * when a model goes away, so that its largest workspace does not outlive it.
 * Nothing for a queue not started. Any thread that does not hold the
 * queue's lock. */
void sbai_queue_trim(int device);

/* Requests waiting in all queues now (not counting those being run). */
size_t sbai_queue_length(void);

/* What sbai_queue_start was given (the CPU queue). */
int sbai_queue_workers(void);
int sbai_queue_kernel_threads(void);

#endif
