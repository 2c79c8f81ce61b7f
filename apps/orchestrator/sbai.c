/* sbai: a Redis module that speaks RedisAI's command set.
 *
 *   redis-server --loadmodule sbai.so [NAME VALUE ...]
 *
 * This file is the entry point: it binds the module API, reads the load-time
 * options, registers every part's data types and commands, starts the worker
 * threads of the CPU queue, and implements AI.CONFIG.
 */
#include "sbai.h"

#include "run_queue.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

sb_options_t sbai_options;

/* The parts of the module, registered in this order. */
static int config_register(RedisModuleCtx *ctx);

static const sbai_register_fn parts[] = {
  config_register,
  sbai_tensor_register,
  sbai_model_register,
  sbai_script_register,
  sbai_info_register,
};

int sbai_create_command(RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc fn,
                        const char *flags, int firstkey, int lastkey, int keystep)
{
  if (RedisModule_CreateCommand(ctx, name, fn, flags, firstkey, lastkey, keystep)
      != REDISMODULE_OK) {
    RedisModule_Log(ctx, "warning", "sbai: cannot register command %s (name taken by another module?)",
                    name);
    return REDISMODULE_ERR;
  }
  if (RedisModule_SetCommandACLCategories != NULL && RedisModule_GetCommand != NULL) {
    char categories[64];
    RedisModuleCommand *cmd = RedisModule_GetCommand(ctx, name);
    sbai_acl_categories(flags, categories, sizeof categories);
    if (cmd == NULL || RedisModule_SetCommandACLCategories(cmd, categories) != REDISMODULE_OK) {
      RedisModule_Log(ctx, "warning", "sbai: cannot put %s into ACL categories '%s'", name,
                      categories);
      return REDISMODULE_ERR;
    }
  }
  return REDISMODULE_OK;
}

/* Whether the space-separated list `flags` holds the word `word`. */
static int has_word(const char *flags, const char *word)
{
  size_t n = strlen(word);
  for (const char *p = flags; (p = strstr(p, word)) != NULL; p += n)
    if ((p == flags || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
      return 1;
  return 0;
}

void sbai_acl_categories(const char *flags, char *out, size_t len)
{
  snprintf(out, len, "%s%s%s", has_word(flags, "write") ? "write " : "",
           has_word(flags, "readonly") ? "read " : "", has_word(flags, "fast") ? "fast" : "slow");
}

char *sbai_dup(const char *src, size_t len)
{
  char *p = RedisModule_Alloc(len + 1);
  if (len)
    memcpy(p, src, len);
  p[len] = '\0';
  return p;
}

int sbai_reply_error(RedisModuleCtx *ctx, const char *fmt, ...)
{
  char msg[512] = "ERR ";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + 4, sizeof msg - 4, fmt, ap);
  va_end(ap);
  /* An error reply is one line: never let client text break it. */
  for (char *p = msg; *p; p++)
    if (*p == '\r' || *p == '\n')
      *p = ' ';
  return RedisModule_ReplyWithError(ctx, msg);
}

int sbai_arg_is(const RedisModuleString *arg, const char *word)
{
  size_t len;
  const char *s = RedisModule_StringPtrLen(arg, &len);
  return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

const char *sbai_quote(const RedisModuleString *arg, char out[SBAI_QUOTE_LEN])
{
  size_t len;
  const char *text = RedisModule_StringPtrLen(arg, &len);
  return sbai_printable(text, len, out);
}

int sbai_parse_device(RedisModuleCtx *ctx, const RedisModuleString *arg)
{
  size_t len;
  const char *s = RedisModule_StringPtrLen(arg, &len);
  char q[SBAI_QUOTE_LEN];

  if (len == 3 && strncasecmp(s, "CPU", 3) == 0)
    return REDISMODULE_OK;
  if ((len == 3 && strncasecmp(s, "GPU", 3) == 0) || (len > 4 && strncasecmp(s, "GPU:", 4) == 0))
    sbai_reply_error(ctx, "device '%s': scripts run on the CPU in sbai (store the script with "
                     "device CPU; models take GPU devices)", sbai_quote(arg, q));
  else
    sbai_reply_error(ctx, "unknown device '%s' (expected CPU)", sbai_quote(arg, q));
  return REDISMODULE_ERR;
}

int sbai_kernel_threads(const sb_options_t *opts)
{
  long cpus;
  if (opts->intra_op_parallelism > 0)
    return (int)opts->intra_op_parallelism;
  cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1)
    cpus = 1;
  cpus /= opts->threads_per_queue;
  return cpus < 1 ? 1 : (int)cpus;
}

/* ---- AI.CONFIG -------------------------------------------------------------
 *
 * AI.CONFIG GET <option>     ->  the option's value as an integer.
 * AI.CONFIG <option> <value> ->  OK: changes an option that may change after
 *                                loading (MODEL_CHUNK_SIZE, as in RedisAI).
 *
 * RedisAI's BACKENDSPATH and LOADBACKEND set things this module does not
 * have; they are refused with an error rather than accepted and ignored.
 */
static int config_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  size_t len, vlen;
  const char *text, *value;
  char err[256];
  long long v;

  if (argc < 2)
    return RedisModule_WrongArity(ctx);
  text = RedisModule_StringPtrLen(argv[1], &len);
  if (sbai_arg_is(argv[1], "GET")) {
    if (argc != 3)
      return RedisModule_WrongArity(ctx);
    text = RedisModule_StringPtrLen(argv[2], &len);
    if (sb_options_get(&sbai_options, text, len, &v, err, sizeof err) != 0)
      return sbai_reply_error(ctx, "%s", err);
    return RedisModule_ReplyWithLongLong(ctx, v);
  }
  /* AI.CONFIG NAME VALUE, for a NAME that is an option of ours. */
  if (sb_options_get(&sbai_options, text, len, &v, NULL, 0) == 0) {
    if (argc != 3)
      return RedisModule_WrongArity(ctx);
    value = RedisModule_StringPtrLen(argv[2], &vlen);
    if (sb_options_set_runtime(&sbai_options, text, len, value, vlen, err, sizeof err) != 0)
      return sbai_reply_error(ctx, "%s", err);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
  }
  return sbai_reply_error(ctx, "unsupported AI.CONFIG subcommand '%.*s' (this server has GET "
                          "<option> and MODEL_CHUNK_SIZE <bytes>; it loads no backends)",
                          len > 32 ? 32 : (int)len, text);
}

static int config_register(RedisModuleCtx *ctx)
{
  return sbai_create_command(ctx, "AI.CONFIG", config_command, "readonly fast", 0, 0, 0);
}

/* ---- loading ---------------------------------------------------------------- */

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
