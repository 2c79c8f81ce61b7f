/* What the parts of the sbai module share: the load options, the error-reply
 * helper, and the registration hook of each part.
 *
 * A part (tensors today; models and scripts later) lives in its own
 * <part>_cmd.c, exports one sbai_<part>_register() that creates its data
 * type and commands during RedisModule_OnLoad, and is listed once in the
 * `parts` table of sbai.c.
 */
#ifndef SBAI_H
#define SBAI_H

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

/* RedisModule_CreateCommand, logging the command's name on failure. */
int sbai_create_command(RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc fn,
                        const char *flags, int firstkey, int lastkey, int keystep);

/* Replies with the error "ERR <message>", the message printf-formatted. */
int sbai_reply_error(RedisModuleCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when a client argument equals word, ignoring case. */
int sbai_arg_is(const RedisModuleString *arg, const char *word);

#endif
