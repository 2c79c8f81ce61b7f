/* The part of the Redis module API that sbai uses, declared by us.
 *
 * Redis hands a module no symbols to link against. It passes, in the context
 * of RedisModule_OnLoad, the address of a lookup function ("GetApi") that maps
 * an API name such as "RedisModule_OpenKey" to the server's implementation.
 * This header declares one function pointer per API entry the module calls,
 * with the documented name and signature, and sb_rm_bind() fills them all in.
 *
 * Only what the module uses is listed. To call another API function, add one
 * line to SB_RM_FUNCTIONS below with its documented signature; the pointer
 * is then declared, defined and looked up like the others.
 */
#ifndef SB_REDISMODULE_API_H
#define SB_REDISMODULE_API_H

#include <stddef.h>
#include <stdint.h>

/* ---- status codes, versions, flags ---------------------------------------- */

#define REDISMODULE_OK 0
#define REDISMODULE_ERR 1

/* The API generation passed to SetModuleAttribs. */
#define REDISMODULE_APIVER_1 1

/* Modes of RedisModule_OpenKey. */
#define REDISMODULE_READ (1 << 0)
#define REDISMODULE_WRITE (1 << 1)

/* What RedisModule_KeyType reports. */
#define REDISMODULE_KEYTYPE_EMPTY 0
#define REDISMODULE_KEYTYPE_STRING 1
#define REDISMODULE_KEYTYPE_LIST 2
#define REDISMODULE_KEYTYPE_HASH 3
#define REDISMODULE_KEYTYPE_SET 4
#define REDISMODULE_KEYTYPE_ZSET 5
#define REDISMODULE_KEYTYPE_MODULE 6

/* What RedisModule_GetExpire reports for a key without a TTL, and what
 * RedisModule_SetExpire takes to remove one. */
#define REDISMODULE_NO_EXPIRE (-1)

/* Option for RedisModule_SetModuleOptions: the module checks
 * RedisModule_IsIOError itself instead of letting a failed RDB read abort the
 * server. */
#define REDISMODULE_OPTIONS_HANDLE_IO_ERRORS (1 << 0)

/* Version of the RedisModuleTypeMethods layout below. */
#define REDISMODULE_TYPE_METHOD_VERSION 1

/* Bits of RedisModule_GetContextFlags used by the module. */
#define REDISMODULE_CTX_FLAGS_LUA (1 << 0)
#define REDISMODULE_CTX_FLAGS_MULTI (1 << 1)
/* The command came over the replication link (from this server's primary). */
#define REDISMODULE_CTX_FLAGS_REPLICATED (1 << 12)
/* The server is loading its dataset (RDB, or replaying the AOF). */
#define REDISMODULE_CTX_FLAGS_LOADING (1 << 13)
/* The client cannot be blocked: inside MULTI/EXEC, a Lua script, or a
 * RedisModule_Call from another module. */
#define REDISMODULE_CTX_FLAGS_DENY_BLOCKING (1 << 21)

/* The server's own text for a type mismatch, so clients can match it. */
#define REDISMODULE_ERRORMSG_WRONGTYPE \
  "WRONGTYPE Operation against a key holding the wrong kind of value"

/* ---- opaque server objects ------------------------------------------------ */

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleKey RedisModuleKey;
typedef struct RedisModuleString RedisModuleString;
typedef struct RedisModuleType RedisModuleType;
typedef struct RedisModuleIO RedisModuleIO;
typedef struct RedisModuleDigest RedisModuleDigest;
typedef struct RedisModuleBlockedClient RedisModuleBlockedClient;
typedef struct RedisModuleCommand RedisModuleCommand;

/* ---- callbacks the module provides ---------------------------------------- */

/* A command: argv[0] is the command name; returns REDISMODULE_OK once it has
 * replied. */
typedef int (*RedisModuleCmdFunc)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* Frees what a blocked client's privdata holds; called on the main thread
 * after the reply callback (also when the client has disconnected). */
typedef void (*RedisModuleFreePrivdataFunc)(RedisModuleCtx *ctx, void *privdata);

/* Called on the main thread when a blocked client disconnects before the
 * module unblocked it; bc stays valid until RedisModule_UnblockClient. */
typedef void (*RedisModuleDisconnectFunc)(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc);

/* Callbacks of a custom data type. The server reads the fields of version 1,
 * which are exactly these, in this order. */
typedef struct RedisModuleTypeMethods {
  uint64_t version;
  void *(*rdb_load)(RedisModuleIO *rdb, int encver);
  void (*rdb_save)(RedisModuleIO *rdb, void *value);
  void (*aof_rewrite)(RedisModuleIO *aof, RedisModuleString *key, void *value);
  size_t (*mem_usage)(const void *value);
  void (*digest)(RedisModuleDigest *digest, void *value);
  void (*free)(void *value);
} RedisModuleTypeMethods;

/* ---- the API entries -------------------------------------------------------
 *
 * X(return type, name without the RedisModule_ prefix, (parameters), attrs)
 */
#define SB_RM_FUNCTIONS(X)                                                              \
  /* module set-up */                                                                   \
  X(void, SetModuleAttribs, (RedisModuleCtx * ctx, const char *name, int ver, int apiver), ) \
  X(int, IsModuleNameBusy, (const char *name), )                                        \
  X(void, SetModuleOptions, (RedisModuleCtx * ctx, int options), )                      \
  X(int, CreateCommand,                                                                 \
    (RedisModuleCtx * ctx, const char *name, RedisModuleCmdFunc fn, const char *flags,  \
     int firstkey, int lastkey, int keystep), )                                         \
  X(RedisModuleType *, CreateDataType,                                                  \
    (RedisModuleCtx * ctx, const char *name, int encver, RedisModuleTypeMethods *methods), ) \
  X(void, Log, (RedisModuleCtx * ctx, const char *level, const char *fmt, ...),         \
    __attribute__((format(printf, 3, 4))))                                              \
  X(int, GetContextFlags, (RedisModuleCtx * ctx), )                                     \
  /* commands flagged "getkeys-api" report where their keys are */                      \
  X(int, IsKeysPositionRequest, (RedisModuleCtx * ctx), )                               \
  X(void, KeyAtPos, (RedisModuleCtx * ctx, int pos), )                                  \
  /* memory from the server's allocator (counted in INFO memory) */                     \
  X(void *, Alloc, (size_t bytes), )                                                    \
  X(void *, Calloc, (size_t nmemb, size_t size), )                                      \
  X(void, Free, (void *ptr), )                                                          \
  /* strings */                                                                         \
  X(const char *, StringPtrLen, (const RedisModuleString *str, size_t *len), )          \
  X(RedisModuleString *, CreateString, (RedisModuleCtx * ctx, const char *ptr, size_t len), ) \
  X(RedisModuleString *, CreateStringFromLongLong, (RedisModuleCtx * ctx, long long ll), ) \
  X(int, StringToLongLong, (const RedisModuleString *str, long long *ll), )             \
  X(RedisModuleString *, HoldString, (RedisModuleCtx * ctx, RedisModuleString *str), )  \
  X(void, FreeString, (RedisModuleCtx * ctx, RedisModuleString *str), )                 \
  /* keys */                                                                            \
  X(RedisModuleKey *, OpenKey, (RedisModuleCtx * ctx, RedisModuleString *name, int mode), ) \
  X(void, CloseKey, (RedisModuleKey * key), )                                           \
  X(int, KeyType, (RedisModuleKey * key), )                                             \
  X(int, ModuleTypeSetValue, (RedisModuleKey * key, RedisModuleType *type, void *value), ) \
  X(RedisModuleType *, ModuleTypeGetType, (RedisModuleKey * key), )                     \
  X(void *, ModuleTypeGetValue, (RedisModuleKey * key), )                               \
  X(int, DeleteKey, (RedisModuleKey * key), )                                           \
  /* a key's TTL in ms (REDISMODULE_NO_EXPIRE: none) */                                 \
  X(long long, GetExpire, (RedisModuleKey * key), )                                     \
  X(int, SetExpire, (RedisModuleKey * key, long long expire), )                         \
  /* replies */                                                                         \
  X(int, WrongArity, (RedisModuleCtx * ctx), )                                          \
  X(int, ReplyWithError, (RedisModuleCtx * ctx, const char *err), )                     \
  X(int, ReplyWithSimpleString, (RedisModuleCtx * ctx, const char *msg), )              \
  X(int, ReplyWithLongLong, (RedisModuleCtx * ctx, long long ll), )                     \
  X(int, ReplyWithDouble, (RedisModuleCtx * ctx, double d), )                           \
  X(int, ReplyWithArray, (RedisModuleCtx * ctx, long len), )                            \
  X(int, ReplyWithStringBuffer, (RedisModuleCtx * ctx, const char *buf, size_t len), )  \
  X(int, ReplyWithCString, (RedisModuleCtx * ctx, const char *buf), )                   \
  X(int, ReplyWithString, (RedisModuleCtx * ctx, RedisModuleString *str), )             \
  /* blocking a client while a worker thread runs its command */                        \
  X(RedisModuleBlockedClient *, BlockClient,                                            \
    (RedisModuleCtx * ctx, RedisModuleCmdFunc reply_callback,                           \
     RedisModuleCmdFunc timeout_callback, RedisModuleFreePrivdataFunc free_privdata,    \
     long long timeout_ms), )                                                           \
  /* thread-safe: queues privdata for the reply callback on the main thread */          \
  X(int, UnblockClient, (RedisModuleBlockedClient * bc, void *privdata), )              \
  X(void *, GetBlockedClientPrivateData, (RedisModuleCtx * ctx), )                      \
  /* main thread: called if the blocked client goes away before it is unblocked */      \
  X(void, SetDisconnectCallback,                                                        \
    (RedisModuleBlockedClient * bc, RedisModuleDisconnectFunc callback), )              \
  /* replication */                                                                     \
  X(int, ReplicateVerbatim, (RedisModuleCtx * ctx), )                                   \
  X(int, Replicate, (RedisModuleCtx * ctx, const char *cmdname, const char *fmt, ...), ) \
  /* persistence of custom types */                                                     \
  X(void, SaveUnsigned, (RedisModuleIO * io, uint64_t value), )                         \
  X(uint64_t, LoadUnsigned, (RedisModuleIO * io), )                                     \
  X(void, SaveStringBuffer, (RedisModuleIO * io, const char *str, size_t len), )        \
  X(char *, LoadStringBuffer, (RedisModuleIO * io, size_t *len), )                      \
  X(int, IsIOError, (RedisModuleIO * io), )                                             \
  X(void, LogIOError, (RedisModuleIO * io, const char *level, const char *fmt, ...),    \
    __attribute__((format(printf, 3, 4))))                                              \
  X(void, EmitAOF, (RedisModuleIO * io, const char *cmdname, const char *fmt, ...), )   \
  X(void, DigestAddStringBuffer, (RedisModuleDigest * md, const char *buf, size_t len), ) \
  X(void, DigestAddLongLong, (RedisModuleDigest * md, long long ll), )                  \
  X(void, DigestEndSequence, (RedisModuleDigest * md), )

/* Entries of newer servers, used when present: sb_rm_bind() leaves the
 * pointer NULL on a server without them, so every call site checks it.
 *   GetCommand                the handle of a command this module created
 *                             (Redis 7.0)
 *   SetCommandACLCategories   puts a module command into ACL categories,
 *                             given as space-separated names such as
 *                             "write fast" (Redis 7.2) */
#define SB_RM_OPTIONAL_FUNCTIONS(X)                                                     \
  X(RedisModuleCommand *, GetCommand, (RedisModuleCtx * ctx, const char *name), )       \
  X(int, SetCommandACLCategories, (RedisModuleCommand * command, const char *aclflags), )

#define SB_RM_DECLARE(ret, name, params, attrs) extern ret(*RedisModule_##name) params attrs;
SB_RM_FUNCTIONS(SB_RM_DECLARE)
SB_RM_OPTIONAL_FUNCTIONS(SB_RM_DECLARE)
#undef SB_RM_DECLARE

/* Looks up every entry of SB_RM_FUNCTIONS (and, where the server has them,
 * of SB_RM_OPTIONAL_FUNCTIONS) through the GetApi function that
 * Redis stores in the first pointer-size field of the OnLoad context, then
 * registers the module as `name` version `version` (API version 1).
 * Call it first in RedisModule_OnLoad. Returns REDISMODULE_ERR when the server
 * lacks an entry (too old a Redis) or the name is already taken by another
 * loaded module; nothing can then be logged through the API. */
int sb_rm_bind(RedisModuleCtx *ctx, const char *name, int version);

#endif
