/* AI.INFO: run statistics of a model or script, or the module's state.
 *
 *   AI.INFO key            key, type, backend, device, tag, duration, samples,
 *                          calls, errors (RedisAI's layout), then executions
 *                          and disconnected
 *   AI.INFO key RESETSTAT  the same reply (the statistics up to now), then
 *                          zeroes them: a field/value array, which is what
 *                          SmartRedis's get_ai_info(reset_stat=True) parses
 *   AI.INFO                the module: version, backend, devices, GPU status, queue
 *                          and threads
 */
#include "info_cmd.h"

#include "args.h"
#include "builtins.h"
#include "command.h"
#include "device.h"
#include "gpu.h"
#include "model.h"
#include "reply.h"
#include "run.h"
#include "run_queue.h"
#include "sbai.h"
#include "script.h"

static int reply_key_info(RedisModuleCtx *ctx, RedisModuleString *key, const char *type,
                          const char *backend, int device, const char *tag, size_t tag_len,
                          const sbai_stats_t *st, int is_model)
{
  char dev[SBAI_DEVICE_NAME_LEN];
  RedisModule_ReplyWithArray(ctx, 22);
  RedisModule_ReplyWithCString(ctx, "key");
  RedisModule_ReplyWithString(ctx, key);
  RedisModule_ReplyWithCString(ctx, "type");
  RedisModule_ReplyWithCString(ctx, type);
  RedisModule_ReplyWithCString(ctx, "backend");
  RedisModule_ReplyWithCString(ctx, backend);
  RedisModule_ReplyWithCString(ctx, "device");
  RedisModule_ReplyWithCString(ctx, sbai_device_name(device, dev));
  RedisModule_ReplyWithCString(ctx, "tag");
  RedisModule_ReplyWithStringBuffer(ctx, tag, tag_len);
  RedisModule_ReplyWithCString(ctx, "duration");
  RedisModule_ReplyWithLongLong(ctx, st->duration_us);
  RedisModule_ReplyWithCString(ctx, "samples");
  /* RedisAI counts no samples for scripts. */
  RedisModule_ReplyWithLongLong(ctx, is_model ? st->samples : -1);
  RedisModule_ReplyWithCString(ctx, "calls");
  RedisModule_ReplyWithLongLong(ctx, st->calls);
  RedisModule_ReplyWithCString(ctx, "errors");
  RedisModule_ReplyWithLongLong(ctx, st->errors);
  RedisModule_ReplyWithCString(ctx, "executions");
  RedisModule_ReplyWithLongLong(ctx, st->executions);
  RedisModule_ReplyWithCString(ctx, "disconnected");
  RedisModule_ReplyWithLongLong(ctx, st->disconnected);
  return REDISMODULE_OK;
}

static int reply_module_info(RedisModuleCtx *ctx)
{
  size_t n = sbai_builtin_count();
  int gpus = sbai_gpu_count();
  char dev[SBAI_DEVICE_NAME_LEN];
  RedisModule_ReplyWithArray(ctx, 18);
  RedisModule_ReplyWithCString(ctx, "version");
  RedisModule_ReplyWithLongLong(ctx, SBAI_MODULE_VERSION);
  RedisModule_ReplyWithCString(ctx, "backend");
  RedisModule_ReplyWithCString(ctx, SBAI_MODEL_BACKEND);
  /* The devices models can be stored on: the CPU and every visible GPU. */
  RedisModule_ReplyWithCString(ctx, "devices");
  RedisModule_ReplyWithArray(ctx, 1 + gpus);
  RedisModule_ReplyWithCString(ctx, "CPU");
  for (int d = 0; d < gpus; d++)
    RedisModule_ReplyWithCString(ctx, sbai_device_name(d, dev));
  RedisModule_ReplyWithCString(ctx, "gpu");
  RedisModule_ReplyWithCString(ctx, sbai_gpu_status());
  RedisModule_ReplyWithCString(ctx, "threads_per_queue");
  RedisModule_ReplyWithLongLong(ctx, sbai_queue_workers());
  RedisModule_ReplyWithCString(ctx, "kernel_threads");
  RedisModule_ReplyWithLongLong(ctx, sbai_queue_kernel_threads());
  RedisModule_ReplyWithCString(ctx, "queue_length");
  RedisModule_ReplyWithLongLong(ctx, (long long)sbai_queue_length());
  RedisModule_ReplyWithCString(ctx, "disconnected");
  RedisModule_ReplyWithLongLong(ctx, sbai_run_disconnected_total());
  RedisModule_ReplyWithCString(ctx, "builtins");
  RedisModule_ReplyWithArray(ctx, (long)n);
  for (size_t i = 0; i < n; i++)
    RedisModule_ReplyWithCString(ctx, sbai_builtin_at(i)->name);
  return REDISMODULE_OK;
}

static int info_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  sbai_model_t *m;
  sbai_script_t *s;
  sbai_stats_t *st;
  sbai_key_status_t status;
  char q[SBAI_QUOTE_LEN];
  int reset = 0;

  if (argc > 3)
    return RedisModule_WrongArity(ctx);
  if (argc == 1)
    return reply_module_info(ctx);
  if (argc == 3) {
    if (!sbai_arg_is(argv[2], "RESETSTAT"))
      return sbai_reply_error(ctx, "unknown AI.INFO argument '%s' (expected RESETSTAT)",
                              sbai_quote(argv[2], q));
    reset = 1;
  }

  status = sbai_model_lookup(ctx, argv[1], &m);
  if (status == SBAI_KEY_OK) {
    st = &m->stats;
    reply_key_info(ctx, argv[1], "MODEL", sbai_model_backend(m), m->device, m->tag, m->tag_len, st,
                   1);
  } else if (status == SBAI_KEY_EMPTY) {
    return sbai_reply_error(ctx, "cannot find run info for key");
  } else if (sbai_script_lookup(ctx, argv[1], &s) == SBAI_KEY_OK) {
    st = &s->stats;
    reply_key_info(ctx, argv[1], "SCRIPT", sbai_script_backend(s), SBAI_DEVICE_CPU, s->tag,
                   s->tag_len, st, 0);
  } else {
    return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
  }
  /* RESETSTAT: the reply above holds the statistics being reset (RedisAI
   * replies OK, which SmartRedis's get_ai_info cannot parse). */
  if (reset)
    *st = (sbai_stats_t){0};
  return REDISMODULE_OK;
}

int sbai_info_register(RedisModuleCtx *ctx)
{
  /* The key is optional: first key 1 covers the form with one. */
  return sbai_create_command(ctx, "AI.INFO", info_command, "readonly", 1, 1, 1);
}
