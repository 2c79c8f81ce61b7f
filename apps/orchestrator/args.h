/* Reading a command's client arguments: keywords, counts, a script's
 * device, and client text quoted safely in an error message.
 *
 * On a bad argument these functions reply the error themselves
 * (sbai_reply_error) and fail; the command then just returns. They call
 * nothing above reply.c and errtext.c.
 */
#ifndef SBAI_ARGS_H
#define SBAI_ARGS_H

#include "errtext.h"
#include "redismodule_api.h"

/* True when a client argument equals word, ignoring case. */
int sbai_arg_is(const RedisModuleString *arg, const char *word);

/* A client argument made safe to quote in a message: at most 48
 * characters, control and non-ASCII bytes as '?', "..." when cut. Returns
 * out. */
#define SBAI_QUOTE_LEN SBAI_TEXT_LEN
const char *sbai_quote(const RedisModuleString *arg, char out[SBAI_QUOTE_LEN]);

/* Parses the count after INPUTS / OUTPUTS / KEYS / ARGS: an integer from
 * `min` to the number of arguments left (`left`). Replies and fails
 * otherwise. */
int sbai_parse_count(RedisModuleCtx *ctx, RedisModuleString *arg, const char *what, long long min,
                     int left, int *count);

/* Checks a script's device argument: CPU (any case) passes; GPU and GPU:n
 * are refused (scripts run on the CPU; models take GPU devices, gpu.h),
 * anything else is unknown. Replies and fails on refusal. */
int sbai_parse_device(RedisModuleCtx *ctx, const RedisModuleString *arg);

#endif
