/* What the parts of the sbai module share: the load options, the error-reply
 * helper, and the registration hook of each part.
 *
 * A part (tensors, models, scripts, AI.INFO) lives in its own
 * <part>_cmd.c, exports one sbai_<part>_register() that creates its data
 * type and commands during RedisModule_OnLoad, and is listed once in the
 * `parts` table of sbai.c.
 */
#ifndef SBAI_H
#define SBAI_H

#include "errtext.h"
#include "options.h"
#include "redismodule_api.h"

#define SBAI_MODULE_NAME "sbai"
#define SBAI_MODULE_VERSION 1

/* The options the module was loaded with. Written once in OnLoad, read-only
 * afterwards (and so safe to read from worker threads). */
extern sb_options_t sbai_options;

/* Registers a part's data types and commands. Returns REDISMODULE_OK, or
 * REDISMODULE_ERR after logging what failed (the module then refuses to
 * load). */
typedef int (*sbai_register_fn)(RedisModuleCtx *ctx);

int sbai_tensor_register(RedisModuleCtx *ctx); /* tensor_cmd.c */
int sbai_model_register(RedisModuleCtx *ctx);  /* model_cmd.c */
int sbai_script_register(RedisModuleCtx *ctx); /* script_cmd.c */
int sbai_info_register(RedisModuleCtx *ctx);   /* info_cmd.c */

/* RedisModule_CreateCommand, logging the command's name on failure. On a
 * server with RedisModule_SetCommandACLCategories (Redis >= 7.2) the command
 * also joins the ACL categories its flags name (sbai_acl_categories), so
 * rules such as +@read or -@write cover it; older servers put module commands
 * in no category and the command is registered without. */
int sbai_create_command(RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc fn,
                        const char *flags, int firstkey, int lastkey, int keystep);

/* The ACL categories for a command with these CreateCommand flags, as the
 * space-separated list SetCommandACLCategories takes: "write" for write,
 * "read" for readonly, "fast" for fast, otherwise "slow"; for example
 * "write deny-oom" -> "write slow". Writes at most len bytes to out. */
void sbai_acl_categories(const char *flags, char *out, size_t len);

/* A NUL-terminated copy of len bytes of src, from RedisModule_Alloc. */
char *sbai_dup(const char *src, size_t len);

/* Replies with the error "ERR <message>", the message printf-formatted. */
int sbai_reply_error(RedisModuleCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when a client argument equals word, ignoring case. */
int sbai_arg_is(const RedisModuleString *arg, const char *word);

/* A client argument made safe to quote in a message: at most 48
 * characters, control and non-ASCII bytes as '?', "..." when cut. Returns
 * out. */
#define SBAI_QUOTE_LEN SBAI_TEXT_LEN
const char *sbai_quote(const RedisModuleString *arg, char out[SBAI_QUOTE_LEN]);

/* Checks a script's device argument: CPU (any case) passes; GPU and GPU:n
 * are refused (scripts run on the CPU; models take GPU devices, gpu.h),
 * anything else is unknown. Replies and fails on refusal. */
int sbai_parse_device(RedisModuleCtx *ctx, const RedisModuleString *arg);

/* The number of kernel threads a worker uses: INTRA_OP_PARALLELISM, or when
 * that is 0, the online CPUs divided by THREADS_PER_QUEUE (at least 1). */
int sbai_kernel_threads(const sb_options_t *opts);

#endif
