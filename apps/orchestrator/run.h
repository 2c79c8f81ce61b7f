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
 *
 * The run code knows no model or script code: a run holds its target (the
 * model or the script) with the target's ops table (sbai_run_ops_t), filled
 * in by the model code (model_exec.h) and by the script code
 * (script_exec.h), and reaches the target only through it.
 */
#ifndef SBAI_RUN_H
#define SBAI_RUN_H

#include "builtins.h"
#include "redismodule_api.h"
#include "scratch.h"
#include "tensor.h"
#include "tensor_value.h"

#include <stdatomic.h>
#include <stdint.h>

/* Most inputs or outputs of one run. */
#define SBAI_RUN_MAX_IO SBAI_BUILTIN_MAX_IO

typedef struct sbai_run sbai_run_t;

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

typedef enum sbai_run_status {
  SBAI_RUN_QUEUED = 0,
  SBAI_RUN_DONE,     /* outputs computed */
  SBAI_RUN_FAILED,   /* err says why */
  SBAI_RUN_TIMEDOUT, /* its TIMEOUT passed before a worker started it */
  SBAI_RUN_SKIPPED,  /* its client disconnected before a worker started it */
} sbai_run_status_t;

/* How the runs of one target batch together (run_queue.h): up to batchsize
 * items (0: each run alone), waiting for minbatchsize items at most
 * minbatchtimeout ms (0: forever). A model's BATCHSIZE, MINBATCHSIZE and
 * MINBATCHTIMEOUT. */
typedef struct sbai_batching {
  long long batchsize, minbatchsize, minbatchtimeout;
} sbai_batching_t;

/* What a run takes from its target when it is made (sbai_run_ops_t's
 * describe). */
typedef struct sbai_run_info {
  sbai_stats_t *stats;      /* the target's statistics */
  int device;               /* the queue its runs go to */
  sbai_batching_t batching; /* all 0 for a target whose runs run alone */
  int counts_samples;       /* 1: a successful run adds its batch to stats->samples (models;
                               RedisAI counts no samples for scripts) */
} sbai_run_info_t;

/* Where a worker runs requests: its queue's device, the kernel threads of a
 * CPU worker, the CUDA stream (cudaStream_t) of a GPU worker, and the
 * worker's own scratch buffers, reused from run to run (only this worker
 * touches them while it executes; run_queue.c releases them when a model
 * goes away): the forward pass's workspace and the concatenated inputs of a
 * batch. */
typedef struct sbai_exec {
  int device;
  int threads;
  void *stream;
  sbai_scratch_t *workspace;
  sbai_scratch_t *batch_input;
} sbai_exec_t;

/* What the run code calls on a run's target (the nccl-tests testColl
 * pattern): one table for models (model_exec.h), one for scripts
 * (script_exec.h). */
typedef struct sbai_run_ops {
  /* Worker side: runs `n` queued requests of this kind as one execution
   * (n > 1 only for a batch of the same model, inputs of equal shape but for
   * dim 0) where `ex` says, setting each run's status and outputs. */
  void (*execute)(sbai_run_t **runs, int n, const sbai_exec_t *ex);
  /* Releases the reference a run holds on target (the last one frees it).
   * Safe from any thread. */
  void (*release)(void *target);
  /* Takes a reference on target for a new run. */
  void (*retain)(void *target);
  /* Fills *info from target (main thread, when the run is made). */
  void (*describe)(void *target, sbai_run_info_t *info);
} sbai_run_ops_t;

struct sbai_run {
  const sbai_run_ops_t *ops;  /* the target's: the model code's or the script code's */
  void *target;               /* the model or the script: a reference held by the run */
  const sbai_builtin_t *fn;   /* a script's run of a built-in: the function to run */
  const char *torch_fn;       /* a script's run of a TorchScript function: its name (the
                                 script's, which the run holds) */
  sbai_stats_t *stats;        /* the model's or script's */
  int device;                 /* the queue it runs on: SBAI_DEVICE_CPU (-1) or GPU:n */
  sbai_batching_t batching;   /* the target's (describe) */
  int counts_samples;         /* the target's (describe) */

  int nin;
  sb_tensor_desc_t in_desc[SBAI_RUN_MAX_IO];
  void *in_data[SBAI_RUN_MAX_IO]; /* malloc'd copies of the input tensors */
  int nargs;                       /* ARGS given (scripts) */
  /* The texts of the ARGS and KEYS (TorchScript runs only; NULL otherwise):
   * sbai_run_set_strings, freed with the run. */
  char **args, **keys;
  size_t *args_len, *keys_len;
  int nkeys;

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
};

/* A new request for `target` (a model, or a script whose caller then sets
 * run->fn) run by `ops`; takes a reference on target (released by
 * sbai_run_free) and takes its statistics, device and batching from it. */
sbai_run_t *sbai_run_new(const sbai_run_ops_t *ops, void *target);

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

/* Copies argv[from..from+n) as the run's ARGS (keys = 0) or KEYS texts (for a
 * TorchScript function). */
void sbai_run_set_strings(sbai_run_t *run, RedisModuleString **argv, int from, int n, int keys);

/* Parses a TIMEOUT value (milliseconds, 1..2^31) and sets the deadline.
 * Replies and fails on a bad value. */
int sbai_run_set_timeout(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString *value);

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

/* The worker side (sbai_run_execute, sbai_run_finish) is in run_worker.h. */

#endif
