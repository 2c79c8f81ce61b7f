/* sbai: a Redis module that speaks RedisAI's command set.
 *
 *   redis-server --loadmodule sbai.so [NAME VALUE ...]
 *
 * This file is the entry point, the top of the module (only Redis calls
 * it): it binds the module API, reads the load-time options, registers every
 * part's data types and commands, and starts the worker threads of the CPU
 * queue.
 */
#include "sbai.h"

#include "config_cmd.h"
#include "info_cmd.h"
#include "model_cmd.h"
#include "module_options.h"
#include "run_queue.h"
#include "script_cmd.h"
#include "torch_backend.h"
#include "tensor_cmd.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The parts of the module, registered in this order. */
static const sbai_register_fn parts[] = {
  sbai_config_register,
  sbai_tensor_register,
  sbai_model_register,
  sbai_script_register,
  sbai_info_register,
};

/* ---- loading ---------------------------------------------------------------- */

/* BACKEND_TORCH <path>: the TORCH backend plugin to load (not an option of
 * sb_options_t: a path, not a number). */
static char torch_path[4096];

/* Reads `NAME VALUE` pairs into sbai_options; logs and fails on the first
 * bad one. */
static int parse_load_options(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  char err[256];

  sb_options_defaults(&sbai_options);
  if (argc % 2 != 0) {
    RedisModule_Log(ctx, "warning",
                    "sbai: load options come in NAME VALUE pairs; got an odd number (%d)", argc);
    return REDISMODULE_ERR;
  }
  for (int i = 0; i < argc; i += 2) {
    size_t nlen, vlen;
    const char *name = RedisModule_StringPtrLen(argv[i], &nlen);
    const char *value = RedisModule_StringPtrLen(argv[i + 1], &vlen);
    if (nlen == 13 && strncasecmp(name, "BACKEND_TORCH", 13) == 0) {
      if (vlen == 0 || vlen >= sizeof torch_path || memchr(value, '\0', vlen)) {
        RedisModule_Log(ctx, "warning", "sbai: BACKEND_TORCH needs the path of sbai_torch.so");
        return REDISMODULE_ERR;
      }
      memcpy(torch_path, value, vlen);
      torch_path[vlen] = '\0';
      continue;
    }
    if (sb_options_set(&sbai_options, name, nlen, value, vlen, err, sizeof err) != 0) {
      RedisModule_Log(ctx, "warning", "sbai: %s", err);
      return REDISMODULE_ERR;
    }
  }
  if (sb_options_check(&sbai_options, err, sizeof err) != 0) {
    RedisModule_Log(ctx, "warning", "sbai: %s", err);
    return REDISMODULE_ERR;
  }
  return REDISMODULE_OK;
}

static void log_options(RedisModuleCtx *ctx)
{
  char line[512];
  size_t used = 0;

  for (size_t i = 0; i < sb_options_count() && used < sizeof line; i++) {
    const char *name = sb_options_name(i);
    long long v = 0;
    sb_options_get(&sbai_options, name, strlen(name), &v, NULL, 0);
    used += (size_t)snprintf(line + used, sizeof line - used, " %s=%lld", name, v);
  }
  RedisModule_Log(ctx, "notice", "sbai %d loaded:%s", SBAI_MODULE_VERSION, line);
}

/* The one symbol the server looks up (the build hides all others). */
__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx,
                                                              RedisModuleString **argv, int argc);

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  char err[256];

  /* Until the API is bound nothing can be logged; Redis itself reports that
   * the module failed to load. */
  if (sb_rm_bind(ctx, SBAI_MODULE_NAME, SBAI_MODULE_VERSION) != REDISMODULE_OK)
    return REDISMODULE_ERR;
  if (parse_load_options(ctx, argv, argc) != REDISMODULE_OK)
    return REDISMODULE_ERR;
  /* A short read of an RDB or replication stream is reported to our load
   * callbacks (RedisModule_IsIOError) instead of stopping the server. */
  RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS);
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    if (parts[i](ctx) != REDISMODULE_OK)
      return REDISMODULE_ERR;
  /* The TORCH backend, when asked for: a plugin that does not load fails the
   * module (the server would otherwise refuse every TorchScript model). */
  if (torch_path[0]) {
    if (sbai_torch_load(torch_path, sbai_kernel_threads(&sbai_options), err, sizeof err) != 0) {
      RedisModule_Log(ctx, "warning", "sbai: %s", err);
      return REDISMODULE_ERR;
    }
    RedisModule_Log(ctx, "notice", "sbai: TORCH backend %s (ABI %d) from %s", sbai_torch_version(),
                    SBAI_TORCH_ABI_VERSION, torch_path);
  }
  /* Last, so that a failed registration leaves no threads behind. */
  if (sbai_queue_start((int)sbai_options.threads_per_queue, sbai_kernel_threads(&sbai_options), err,
                       sizeof err)
      != 0) {
    RedisModule_Log(ctx, "warning", "sbai: %s", err);
    return REDISMODULE_ERR;
  }
  log_options(ctx);
  RedisModule_Log(ctx, "notice", "sbai: CPU queue with %d worker thread(s), %d kernel thread(s) "
                  "each", sbai_queue_workers(), sbai_queue_kernel_threads());
  return REDISMODULE_OK;
}
