/* Registering the module's commands and data types: RedisModule_CreateCommand
 * and the ACL categories a command joins, RedisModule_CreateDataType.
 *
 * Calls nothing of the module: every part's registration uses it.
 */
#ifndef SBAI_COMMAND_H
#define SBAI_COMMAND_H

#include "redismodule_api.h"

#include <stddef.h>

/* RedisModule_CreateCommand, logging the command's name on failure. On a
 * server with RedisModule_SetCommandACLCategories (Redis >= 7.2) the command
 * also joins the ACL categories its flags name (sbai_acl_categories), so
 * rules such as +@read or -@write cover it; older servers put module commands
 * in no category and the command is registered without. */
int sbai_create_command(RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc fn,
                        const char *flags, int firstkey, int lastkey, int keystep);

/* RedisModule_CreateDataType, logging the type's name on failure: the
 * type, or NULL. */
RedisModuleType *sbai_create_type(RedisModuleCtx *ctx, const char *name, int encver,
                                  RedisModuleTypeMethods *methods);

/* The ACL categories for a command with these CreateCommand flags, as the
 * space-separated list SetCommandACLCategories takes: "write" for write,
 * "read" for readonly, "fast" for fast, otherwise "slow"; for example
 * "write deny-oom" -> "write slow". Writes at most len bytes to out. */
void sbai_acl_categories(const char *flags, char *out, size_t len);

#endif
