/* Registering the module's commands and data types: RedisModule_CreateCommand
 * and the ACL categories a command joins, RedisModule_CreateDataType and the
 * data types created.
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

/* A command whose one key is argv[1], as a part lists its commands for
 * sbai_create_commands. */
typedef struct sbai_command_def {
  const char *name;
  RedisModuleCmdFunc fn;
  const char *flags; /* RedisModule_CreateCommand's */
} sbai_command_def_t;

/* sbai_create_command for each of the n commands (key positions 1, 1, 1),
 * in order; stops at the first that fails. */
int sbai_create_commands(RedisModuleCtx *ctx, const sbai_command_def_t *defs, size_t n);

/* The module's data types. */
typedef enum sbai_type_id {
  SBAI_TYPE_TENSOR,
  SBAI_TYPE_MODEL,
  SBAI_TYPE_SCRIPT,
  SBAI_TYPE_COUNT
} sbai_type_id_t;

/* A data type as its part defines it: the name Redis derives the type id
 * from (exactly 9 characters; every RDB file holding one of its values
 * carries it, so it never changes), the encoding version its rdb_save
 * writes, and its callbacks (`version` is left to sbai_create_type). */
typedef struct sbai_type_def {
  sbai_type_id_t id;
  const char *name;
  int encver;
  RedisModuleTypeMethods methods;
} sbai_type_def_t;

/* RedisModule_CreateDataType, logging the type's name on failure; the type
 * created is then sbai_type(def->id). REDISMODULE_OK or REDISMODULE_ERR. */
int sbai_create_type(RedisModuleCtx *ctx, const sbai_type_def_t *def);

/* The data type that sbai_create_type created for id (once, while the
 * module loads, before any command runs), which whatever opens keys of that
 * type looks them up with. */
RedisModuleType *sbai_type(sbai_type_id_t id);

/* The ACL categories for a command with these CreateCommand flags, as the
 * space-separated list SetCommandACLCategories takes: "write" for write,
 * "read" for readonly, "fast" for fast, otherwise "slow"; for example
 * "write deny-oom" -> "write slow". Writes at most len bytes to out. */
void sbai_acl_categories(const char *flags, char *out, size_t len);

#endif
