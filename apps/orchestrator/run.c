/* The life of a run request (see run.h). */
#include "run.h"

#include "alloc.h"
#include "args.h"
#include "clock.h"
#include "reply.h"
#include "run_queue.h"
#include "run_worker.h"

#include <stdlib.h>
#include <string.h>

/* ---- building a request (main thread) -------------------------------------------- */

sbai_run_t *sbai_run_new(const sbai_run_ops_t *ops, void *target)
{
  sbai_run_t *run = RedisModule_Calloc(1, sizeof *run);
  sbai_run_info_t info = {0};
  run->ops = ops;
  run->target = target;
  ops->retain(target);
  ops->describe(target, &info);
  run->stats = info.stats;
  run->device = info.device;
  run->batching = info.batching;
  run->counts_samples = info.counts_samples;
  return run;
}

void sbai_run_free(sbai_run_t *run)
{
  if (!run)
    return;
  for (int i = 0; i < run->nin; i++)
    free(run->in_data[i]);
  for (int i = 0; i < run->nout; i++) {
    if (run->out[i])
      sbai_tensor_free(run->out[i]);
    if (run->out_keys[i])
      RedisModule_FreeString(NULL, run->out_keys[i]);
  }
  for (int i = 0; run->args && i < run->nargs; i++)
    RedisModule_Free(run->args[i]);
  for (int i = 0; run->keys && i < run->nkeys; i++)
    RedisModule_Free(run->keys[i]);
  RedisModule_Free(run->args);
  RedisModule_Free(run->args_len);
  RedisModule_Free(run->keys);
  RedisModule_Free(run->keys_len);
  if (run->target)
    run->ops->release(run->target);
  RedisModule_Free(run);
}

void sbai_run_set_strings(sbai_run_t *run, RedisModuleString **argv, int from, int n, int keys)
{
  char ***texts = keys ? &run->keys : &run->args;
  size_t **lens = keys ? &run->keys_len : &run->args_len;
  int *count = keys ? &run->nkeys : &run->nargs;

  for (int i = 0; *texts && i < *count; i++)
    RedisModule_Free((*texts)[i]);
  RedisModule_Free(*texts);
  RedisModule_Free(*lens);
  *texts = RedisModule_Calloc((size_t)n + 1, sizeof **texts);
  *lens = RedisModule_Calloc((size_t)n + 1, sizeof **lens);
  for (int i = 0; i < n; i++) {
    const char *p = RedisModule_StringPtrLen(argv[from + i], &(*lens)[i]);
    (*texts)[i] = sbai_dup(p, (*lens)[i]);
  }
  *count = n;
}

/* Looks tensor key `name` up for the run's next input or output (`what`, of
 * which it has `count`). Replies and returns SBAI_KEY_FAILED where the run
 * has SBAI_RUN_MAX_IO of them already or the key holds something other than
 * a tensor (WRONGTYPE); otherwise sbai_tensor_lookup's status, *key open on
 * SBAI_KEY_OK. */
static sbai_key_status_t lookup_io_key(RedisModuleCtx *ctx, int count, const char *what,
                                       RedisModuleString *name, RedisModuleKey **key,
                                       sbai_tensor_t **t)
{
  sbai_key_status_t status;

  if (count == SBAI_RUN_MAX_IO) {
    sbai_reply_error(ctx, "too many %s (at most %d)", what, SBAI_RUN_MAX_IO);
    return SBAI_KEY_FAILED;
  }
  status = sbai_tensor_lookup(ctx, name, key, t);
  if (status == SBAI_KEY_WRONGTYPE) {
    RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    return SBAI_KEY_FAILED;
  }
  return status;
}

int sbai_run_add_input(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString *name)
{
  RedisModuleKey *key;
  sbai_tensor_t *t;
  char q[SBAI_QUOTE_LEN];
  void *copy;

  switch (lookup_io_key(ctx, run->nin, "inputs", name, &key, &t)) {
  case SBAI_KEY_OK:
    break;
  case SBAI_KEY_FAILED:
    return REDISMODULE_ERR;
  default:
    sbai_reply_error(ctx, "input tensor key '%s' is empty", sbai_quote(name, q));
    return REDISMODULE_ERR;
  }
  /* A copy: the worker must not touch the keyspace, and the key may change
   * or go away while the run waits. */
  copy = malloc(t->desc.nbytes ? (size_t)t->desc.nbytes : 1);
  if (!copy) {
    RedisModule_CloseKey(key);
    sbai_reply_error(ctx, "out of memory copying input tensor '%s'", sbai_quote(name, q));
    return REDISMODULE_ERR;
  }
  memcpy(copy, sbai_tensor_data(t), (size_t)t->desc.nbytes);
  run->in_desc[run->nin] = t->desc;
  run->in_data[run->nin] = copy;
  run->nin++;
  RedisModule_CloseKey(key);
  if (run->nin == 1)
    run->batch = run->in_desc[0].dims[0];
  return REDISMODULE_OK;
}

int sbai_run_add_keys(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString **argv, int from,
                      int to, int outputs)
{
  for (int i = from; i < to; i++) {
    int rc = outputs ? sbai_run_add_output(ctx, run, argv[i]) : sbai_run_add_input(ctx, run, argv[i]);
    if (rc != REDISMODULE_OK)
      return REDISMODULE_ERR;
  }
  return REDISMODULE_OK;
}

int sbai_run_add_output(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString *name)
{
  RedisModuleKey *key;
  sbai_tensor_t *t;

  /* Checked now so the client hears at once; checked again at the reply,
   * as the key may change meanwhile. */
  switch (lookup_io_key(ctx, run->nout, "outputs", name, &key, &t)) {
  case SBAI_KEY_OK:
    RedisModule_CloseKey(key);
    break;
  case SBAI_KEY_FAILED:
    return REDISMODULE_ERR;
  default:
    break;
  }
  run->out_keys[run->nout++] = RedisModule_HoldString(ctx, name);
  return REDISMODULE_OK;
}

int sbai_run_set_timeout(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString *value)
{
  long long ms;
  char q[SBAI_QUOTE_LEN];
  if (RedisModule_StringToLongLong(value, &ms) != REDISMODULE_OK || ms < 1 || ms > (1LL << 31)) {
    sbai_reply_error(ctx, "invalid TIMEOUT '%s': expected milliseconds, 1 to 2147483648",
                     sbai_quote(value, q));
    return REDISMODULE_ERR;
  }
  run->deadline_ns = sbai_now_ns() + (uint64_t)ms * 1000000u;
  return REDISMODULE_OK;
}

void sbai_run_report_keys(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int start,
                          int old)
{
  int i = start;

  if (argc > 1)
    RedisModule_KeyAtPos(ctx, 1);
  if (old) {
    int outputs = 0;
    while (i < argc && !sbai_arg_is(argv[i], "INPUTS"))
      i++;
    for (i++; i < argc; i++) {
      if (!outputs && sbai_arg_is(argv[i], "OUTPUTS"))
        outputs = 1;
      else if (!sbai_arg_is(argv[i], "$"))
        RedisModule_KeyAtPos(ctx, i);
    }
    return;
  }
  while (i < argc) {
    int keys = sbai_arg_is(argv[i], "INPUTS") || sbai_arg_is(argv[i], "OUTPUTS")
               || sbai_arg_is(argv[i], "KEYS");
    long long n;
    if ((keys || sbai_arg_is(argv[i], "ARGS")) && i + 1 < argc
        && RedisModule_StringToLongLong(argv[i + 1], &n) == REDISMODULE_OK && n >= 0
        && n <= argc - i - 2) {
      if (keys)
        for (int k = i + 2; k < i + 2 + (int)n; k++)
          RedisModule_KeyAtPos(ctx, k);
      i += 2 + (int)n;
    } else {
      i += sbai_arg_is(argv[i], "TIMEOUT") ? 2 : 1;
    }
  }
}

/* ---- the reply (main thread) ----------------------------------------------------- */

/* AI.TENSORSET key FLOAT d1 .. dn BLOB data: what a replica and the AOF get
 * for every output written. */
static void replicate_output(RedisModuleCtx *ctx, RedisModuleString *key, const sbai_tensor_t *t)
{
  RedisModuleString *dims[SB_TENSOR_RANK_CAP];
  for (int i = 0; i < t->desc.ndims; i++)
    dims[i] = RedisModule_CreateStringFromLongLong(NULL, t->desc.dims[i]);
  if (RedisModule_Replicate(ctx, "AI.TENSORSET", "scvcb", key, sb_dtype_info(t->desc.dtype)->name,
                            dims, (size_t)t->desc.ndims, "BLOB", (const char *)sbai_tensor_data(t),
                            (size_t)t->desc.nbytes)
      != REDISMODULE_OK)
    RedisModule_Log(ctx, "warning", "sbai: an output could not be queued for replication");
  for (int i = 0; i < t->desc.ndims; i++)
    RedisModule_FreeString(NULL, dims[i]);
}

/* Called by Redis on the main thread once a worker has unblocked the client
 * (not when the client has disconnected meanwhile: its outputs are then
 * dropped, as in RedisAI). */
static int run_reply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  sbai_run_t *run = RedisModule_GetBlockedClientPrivateData(ctx);
  sbai_stats_t *st = run->stats;
  (void)argv, (void)argc;

  if (run->status == SBAI_RUN_TIMEDOUT)
    return RedisModule_ReplyWithSimpleString(ctx, "TIMEDOUT");
  /* Skipped for a client that left: Redis calls no reply callback for it,
   * but never leave such a run unanswered should it. */
  if (run->status == SBAI_RUN_SKIPPED)
    return sbai_reply_error(ctx, "the run was skipped: its client disconnected");

  st->calls++;
  if (run->leader) {
    st->executions++;
    st->duration_us += run->duration_us;
  }
  if (run->status != SBAI_RUN_DONE) {
    st->errors++;
    return sbai_reply_error(ctx, "%s", run->err[0] ? run->err : "the run failed");
  }
  for (int i = 0; i < run->nout; i++) {
    sbai_key_status_t status = sbai_tensor_store(ctx, run->out_keys[i], &run->out[i]);
    if (status != SBAI_KEY_OK) {
      char q[SBAI_QUOTE_LEN];
      st->errors++;
      if (status == SBAI_KEY_WRONGTYPE)
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
      return sbai_reply_error(ctx, "could not write output tensor '%s'",
                              sbai_quote(run->out_keys[i], q));
    }
    /* run->out[i] is now the key's value (perhaps the tensor that was
     * there, updated in place): read it, never free it. */
    replicate_output(ctx, run->out_keys[i], run->out[i]);
    run->out[i] = NULL; /* the key owns it now */
  }
  if (run->counts_samples)
    st->samples += run->batch;
  return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* The submitted runs not yet freed, newest first (main thread only): the
 * disconnect callback finds its run here, as Redis passes it only the
 * blocked client's handle. */
static sbai_run_t *live_runs;
static long long disconnected_total;

long long sbai_run_disconnected_total(void)
{
  return disconnected_total;
}

static void live_add(sbai_run_t *run)
{
  run->live_prev = NULL;
  run->live_next = live_runs;
  if (live_runs)
    live_runs->live_prev = run;
  live_runs = run;
}

static void live_remove(sbai_run_t *run)
{
  if (run->live_prev)
    run->live_prev->live_next = run->live_next;
  else if (live_runs == run)
    live_runs = run->live_next;
  if (run->live_next)
    run->live_next->live_prev = run->live_prev;
  run->live_prev = run->live_next = NULL;
}

/* Called after the reply callback, or instead of it when the client has
 * disconnected: the run is done with either way. */
static void run_free_privdata(RedisModuleCtx *ctx, void *privdata)
{
  sbai_run_t *run = privdata;
  (void)ctx;
  live_remove(run);
  if (run->status == SBAI_RUN_SKIPPED) {
    run->stats->disconnected++;
    disconnected_total++;
  }
  sbai_run_free(run);
}

/* The client of a blocked run went away (main thread). A run still in its
 * queue is taken out and handed back at once; one a worker holds is marked,
 * and the worker skips it unless it is already executing. */
static void run_disconnected(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc)
{
  sbai_run_t *run;
  (void)ctx;
  for (run = live_runs; run && run->bc != bc; run = run->live_next)
    ;
  if (!run)
    return; /* not one of ours (cannot happen) */
  atomic_store(&run->gone, 1);
  if (sbai_queue_remove(run)) {
    run->status = SBAI_RUN_SKIPPED;
    sbai_run_finish(run);
  }
}

int sbai_run_submit(RedisModuleCtx *ctx, sbai_run_t *run)
{
  int flags = RedisModule_GetContextFlags(ctx);
  if (flags & (REDISMODULE_CTX_FLAGS_DENY_BLOCKING | REDISMODULE_CTX_FLAGS_MULTI
               | REDISMODULE_CTX_FLAGS_LUA)) {
    sbai_run_free(run);
    return sbai_reply_error(ctx, "models and scripts run on worker threads: they cannot run "
                                 "inside MULTI/EXEC, a Lua script or a module's call");
  }
  run->bc = RedisModule_BlockClient(ctx, run_reply, NULL, run_free_privdata, 0);
  if (!run->bc) {
    sbai_run_free(run);
    return sbai_reply_error(ctx, "could not block the client for the run");
  }
  RedisModule_SetDisconnectCallback(run->bc, run_disconnected);
  live_add(run);
  sbai_queue_push(run);
  return REDISMODULE_OK;
}
