/* The error reply every command sends: "ERR <message>", kept to one line.
 *
 * Calls nothing of the module: any file may use it.
 */
#ifndef SBAI_REPLY_H
#define SBAI_REPLY_H

#include "redismodule_api.h"

/* Replies with the error "ERR <message>", the message printf-formatted. */
int sbai_reply_error(RedisModuleCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
