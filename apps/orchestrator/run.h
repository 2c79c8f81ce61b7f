/* One run request of a model or a script, from the command that asks for it
 * to the reply (RedisAI's execution model):
 *
 *   main thread   parse and check the command, copy the input tensors into
 *                 the request, take a reference on the model or script,
 *                 block the client (sbai_run_submit) and queue the request;
 *   worker        run it (alone, or batched with others: run_queue.c) and
 *                 hand it back with RedisModule_UnblockClient;
 *   main thread   the reply callback stores the outputs under their keys,
 *                 replicates them as AI.TENSORSET, updates the statistics
 *                 and replies; the free callback releases everything.
 *
 * A worker only touches the request's plain-C fields (inputs, outputs'
 * descriptions and data, status, timings) and the model or script it holds a
 * reference on, which is never modified after it is stored.
 */
#ifndef SBAI_RUN_H
#define SBAI_RUN_H

#include "builtins.h"
#include "redismodule_api.h"
#include "tensor.h"
#include "tensor_cmd.h"

#include <stdatomic.h>
#include <stdint.h>

/* Most inputs or outputs of one run. */
#define SBAI_RUN_MAX_IO SBAI_BUILTIN_MAX_IO

typedef struct sbai_model sbai_model_t;   /* model_cmd.h */
typedef struct sbai_script sbai_script_t; /* script_cmd.h */

/* Run statistics of a model or script (AI.INFO). Only the main thread reads
 * or writes them (in the reply callback and in AI.INFO). */
typedef struct sbai_stats {
  long long duration_us; /* time in executions, µs (a batch counts once) */
  long long samples;     /* batch items (dim 0 of the input) of successful runs */
  long long calls;       /* requests run, successfully or not (not TIMEDOUT ones) */
  long long errors;      /* requests that failed while running */
  long long executions;  /* forward passes: a batch of k requests counts 1 */
  long long disconnected; /* requests skipped: their client left before a worker reached them */
} sbai_stats_t;

typedef enum sbai_run_kind { SBAI_RUN_MODEL, SBAI_RUN_SCRIPT } sbai_run_kind_t;

typedef enum sbai_run_status {
  SBAI_RUN_QUEUED = 0,
  SBAI_RUN_DONE,     /* outputs computed */
  SBAI_RUN_FAILED,   /* err says why */
  SBAI_RUN_TIMEDOUT, /* its TIMEOUT passed before a worker started it */
  SBAI_RUN_SKIPPED,  /* its client disconnected before a worker started it */
} sbai_run_status_t;

typedef struct sbai_run {
  sbai_run_kind_t kind;
  sbai_model_t *model;        /* SBAI_RUN_MODEL: a reference held by the run */
  sbai_script_t *script;      /* SBAI_RUN_SCRIPT: a reference held by the run */
  const sbai_builtin_t *fn;   /* SBAI_RUN_SCRIPT: the function to run */
  sbai_stats_t *stats;        /* the model's or script's */
  int device;                 /* the queue it runs on: SBAI_DEVICE_CPU (-1) or GPU:n */

  int nin;
  sb_tensor_desc_t in_desc[SBAI_RUN_MAX_IO];
  void *in_data[SBAI_RUN_MAX_IO]; /* malloc'd copies of the input tensors */
  int nargs;                       /* ARGS given (scripts) */

  int nout;
  sb_tensor_desc_t out_desc[SBAI_RUN_MAX_IO];
  RedisModuleString *out_keys[SBAI_RUN_MAX_IO]; /* held; main thread only */
  sbai_tensor_t *out[SBAI_RUN_MAX_IO];          /* made by the worker */

  int64_t batch;        /* dim 0 of the first input: the samples this run brings */
  uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: no TIMEOUT */

  sbai_run_status_t status;
  char err[256];
  long long duration_us; /* of the execution this run was part of */
  int leader;            /* 1 for one run of each execution (counts it in the stats) */
  int64_t batch_total;   /* batch items of that execution */

  RedisModuleBlockedClient *bc;
  struct sbai_run *next; /* queue link (run_queue.c) */

  /* Set (main thread, disconnect callback) when the client went away while
   * the run was blocked; a worker that reaches a run with it set skips it. */
  atomic_int gone;
  /* The submitted runs not yet freed: main thread only (run.c). */
  struct sbai_run *live_prev, *live_next;
} sbai_run_t;

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t sbai_now_ns(void);

/* A new request for a model or a script function; takes a reference on
 * model / script (released by sbai_run_free). */
sbai_run_t *sbai_run_new_model(sbai_model_t *model);
sbai_run_t *sbai_run_new_script(sbai_script_t *script, const sbai_builtin_t *fn);

/* Frees a request that was never submitted, or (from the free callback) one
 * that was: its input copies, unclaimed outputs, held key names and the
 * reference on its model or script. Main thread only. */
void sbai_run_free(sbai_run_t *run);

/* Reads tensor key `name` as the next input and copies it into the run.
 * On failure replies to the client (input key empty, WRONGTYPE, too many
 * inputs) and returns REDISMODULE_ERR; the caller then frees the run and
 * returns. */
int sbai_run_add_input(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString *name);

/* Adds output key `name` (held until the reply). Replies WRONGTYPE and fails
 * when the key holds something other than a tensor. */
int sbai_run_add_output(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString *name);

/* Adds argv[from..to) as inputs (outputs = 0) or outputs; fails, having
 * replied, at the first key that cannot be added. */
int sbai_run_add_keys(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString **argv, int from,
                      int to, int outputs);

/* Parses a TIMEOUT value (milliseconds, 1..2^31) and sets the deadline.
 * Replies and fails on a bad value. */
int sbai_run_set_timeout(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString *value);

/* Parses the count after INPUTS / OUTPUTS / KEYS / ARGS: an integer from
 * `min` to the number of arguments left (`left`). Replies and fails
 * otherwise. */
int sbai_parse_count(RedisModuleCtx *ctx, RedisModuleString *arg, const char *what, long long min,
                     int left, int *count);

/* Answers RedisModule_IsKeysPositionRequest for a run command (flagged
 * "getkeys-api", so that Redis Cluster routing and ACL key patterns see the
 * input and output keys, not only the model or script): argv[1], and the
 * keys of its INPUTS, OUTPUTS and KEYS sections from argv[start] on. `old`:
 * the older syntax (INPUTS k.. OUTPUTS k.., no counts). Tolerates malformed
 * commands (reports what it can; the command itself then refuses them). */
void sbai_run_report_keys(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int start,
                          int old);

/* Runs skipped since the module loaded because their client disconnected
 * before a worker reached them (AI.INFO's `disconnected`). Main thread. */
long long sbai_run_disconnected_total(void);

/* Blocks the client and queues the run; the reply comes from the reply
 * callback. If the client disconnects while the run still waits in its
 * queue, the run is taken out of the queue and never executed (one a worker
 * already took is skipped when the worker gets to it, unless it runs
 * already: a run is never interrupted); it counts in the statistics'
 * `disconnected`. Refuses (an error reply, the run freed) where the client cannot
 * be blocked: inside MULTI/EXEC, a Lua script or a module's RedisModule_Call.
 * Always returns REDISMODULE_OK, for the command to return. */
int sbai_run_submit(RedisModuleCtx *ctx, sbai_run_t *run);

/* Where a worker runs requests: its queue's device, the kernel threads of a
 * CPU worker, the CUDA stream (cudaStream_t) of a GPU worker. */
typedef struct sbai_exec {
  int device;
  int threads;
  void *stream;
} sbai_exec_t;

/* Worker side: runs `n` queued requests as one execution (n > 1 only for a
 * batch of the same model, inputs of equal shape but for dim 0) where `ex`
 * says, setting each run's status and outputs. */
void sbai_run_execute(sbai_run_t **runs, int n, const sbai_exec_t *ex);

/* Worker side: hands a finished (or timed-out) run back to the main thread.
 * The run must not be touched afterwards. */
void sbai_run_finish(sbai_run_t *run);

#endif
