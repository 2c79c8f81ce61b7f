/* libFuzzer target: the sbai module's commands, run inside an in-process
 * Redis host.
 *
 * THIS IS AN IN-PROCESS HOST FOR FUZZING ONLY. It implements the part of the
 * Redis module API that sbai binds (apps/orchestrator/redismodule_api.h) well
 * enough to run every AI.* command, the blocking run commands with their
 * worker threads, and the data types' RDB, AOF and digest callbacks, and it
 * checks on the way what Redis would rely on (replies well formed, keys
 * closed, blocked clients unblocked once, worker threads calling only the
 * thread-safe entries, getkeys-api positions inside the command). It is not
 * Redis: tests/module runs the same commands against a real redis-server.
 *
 * Input: one command per line, arguments separated by spaces. In an
 * argument, \xHH is a byte, \\ a backslash, and "" alone an empty argument.
 * Arguments the harness expands (so seeds stay short and readable):
 *   $TINY          the bytes of a tiny ResNet model (sb_resnet_make "tiny")
 *   $TINY:a:b      bytes [a, b) of it
 *   $ZEROS:n       n zero bytes             $BYTES:n:HH   n bytes 0xHH
 * A line starting with '&' is sent by another client: the harness does not
 * wait for its reply before the next line (so runs can batch). Lines
 * starting with '!' are harness directives:
 *   !wait                 deliver every blocked client's reply
 *   !disconnect           the clients still blocked go away (free callback only)
 *   !reload               RDB save + load of every key, digests compared
 *   !aof                  AOF rewrite, flush, replay, digests compared
 *   !rdb TYPE ENCVER tok..  load a value of TYPE from a stream of tokens:
 *                         uN (an unsigned) or sBYTES (a string); the result,
 *                         if any, goes to key "rdb"
 *   !multi CMD.. / !lua CMD.. / !noblock CMD..   CMD with those context flags
 * Host commands besides the module's: SET key value, DEL key.., FLUSHALL.
 *
 * Set SB_FUZZ_VERBOSE=1 to print every command and its reply.
 */
#include "redismodule_api.h"

#include "model_cmd.h"
#include "sb_resnet.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Newer optional entries; declared here too in case the header lacks them. */
typedef struct RedisModuleCommand RedisModuleCommand;

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* The module's load options: small limits keep each input fast. */
static const char *const load_args[] = {"THREADS_PER_QUEUE", "2", "INTRA_OP_PARALLELISM", "1",
                                        "MAX_TENSOR_BYTES",  "64K", "MAX_TENSOR_RANK", "8"};

/* A blocked client must be unblocked within this bound, or it is a finding. */
#define UNBLOCK_LIMIT_S 10
/* The host caps MINBATCHTIMEOUT: a model with MINBATCHSIZE and no timeout
 * waits for more requests forever (RedisAI's documented behaviour), which a
 * host with one input at a time cannot feed. */
#define MINBATCH_CAP_MS 5
#define MAX_ARGS 4096
#define MAX_EXPAND (1u << 20)

static int verbose;
static pthread_t main_thread;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "fuzz_module: host check failed: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

static void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p)
    die("out of memory (%zu bytes)", n);
  return p;
}

static void on_main(const char *what)
{
  if (!pthread_equal(pthread_self(), main_thread))
    die("RedisModule_%s called from a worker thread (only UnblockClient and the allocator are "
        "thread-safe)", what);
}

/* ---- strings ------------------------------------------------------------------ */

struct RedisModuleString {
  int refs;
  size_t len;
  char *ptr; /* NUL-terminated */
};

static long live_strings;

static RedisModuleString *str_new(const char *p, size_t len)
{
  RedisModuleString *s = xmalloc(sizeof *s);
  s->refs = 1;
  s->len = len;
  s->ptr = xmalloc(len + 1);
  if (len)
    memcpy(s->ptr, p, len);
  s->ptr[len] = '\0';
  live_strings++;
  return s;
}

static void str_release(RedisModuleString *s)
{
  if (s->refs <= 0)
    die("a RedisModuleString freed more often than created or held");
  if (--s->refs == 0) {
    free(s->ptr);
    free(s);
    live_strings--;
  }
}

/* ---- contexts, clients, blocked clients ---------------------------------------------- */

typedef struct reply_check {
  int top;        /* top-level replies */
  int depth;      /* open arrays */
  int errors;     /* error replies */
  long left[64];  /* elements each open array still needs */
} reply_check_t;

struct RedisModuleBlockedClient {
  RedisModuleCmdFunc reply_cb;
  RedisModuleFreePrivdataFunc free_cb;
  /* SetDisconnectCallback's: called by the `!disconnect` directive. */
  RedisModuleDisconnectFunc disconnect_cb;
  void *privdata;
  int unblocked;   /* set by UnblockClient (any thread) */
  int gone;        /* the client disconnected */
  RedisModuleString **argv;
  int argc;
  struct RedisModuleBlockedClient *next;
};

struct RedisModuleCtx {
  void *getapi; /* must be first: sb_rm_bind reads it */
  int flags;
  int keys_request;   /* a getkeys-api call */
  int argc;
  int nkeys, keypos[MAX_ARGS];
  int blocked;        /* the command blocked its client */
  int can_block;
  void *privdata;     /* in a reply callback */
  int open_keys;
  reply_check_t reply;
};

static pthread_mutex_t bc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bc_cond = PTHREAD_COND_INITIALIZER;
static RedisModuleBlockedClient *blocked_list; /* main thread links; lock for 'unblocked' */
static int module_options;

static void ctx_init(RedisModuleCtx *ctx, int flags);

/* ---- the keyspace ------------------------------------------------------------------ */

struct RedisModuleType {
  char name[10];
  int encver;
  RedisModuleTypeMethods m;
};

static RedisModuleType types[8];
static int ntypes;

typedef struct entry {
  char *name;
  size_t len;
  RedisModuleType *type; /* NULL: a plain string value */
  void *value;           /* module value, or a RedisModuleString * for a string */
  struct entry *next;
} entry_t;

static entry_t *keyspace;

struct RedisModuleKey {
  RedisModuleCtx *ctx;
  char *name;
  size_t len;
  int mode;
};

static entry_t **find_entry(const char *name, size_t len)
{
  for (entry_t **e = &keyspace; *e; e = &(*e)->next)
    if ((*e)->len == len && memcmp((*e)->name, name, len) == 0)
      return e;
  return NULL;
}

static void entry_free_value(entry_t *e)
{
  if (e->type)
    e->type->m.free(e->value);
  else
    str_release(e->value);
  e->value = NULL;
}

static void entry_delete(entry_t **pe)
{
  entry_t *e = *pe;
  *pe = e->next;
  entry_free_value(e);
  free(e->name);
  free(e);
}

static entry_t *entry_set(const char *name, size_t len, RedisModuleType *type, void *value)
{
  entry_t **pe = find_entry(name, len), *e;
  if (pe) {
    e = *pe;
    entry_free_value(e);
  } else {
    e = xmalloc(sizeof *e);
    e->name = xmalloc(len + 1);
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    e->len = len;
    e->next = keyspace;
    keyspace = e;
  }
  e->type = type;
  e->value = value;
  return e;
}

static void flush_all(void)
{
  while (keyspace)
    entry_delete(&keyspace);
}

/* ---- replies ----------------------------------------------------------------------- */

static void reply_element(RedisModuleCtx *ctx, const char *what)
{
  reply_check_t *r = &ctx->reply;
  on_main(what);
  if (ctx->keys_request)
    die("%s in a getkeys-api call (it must only report keys)", what);
  if (r->depth > 0) {
    r->left[r->depth - 1]--;
  } else if (++r->top > 1) {
    die("%s: a second reply to one command", what);
  }
}

static void reply_close(reply_check_t *r)
{
  while (r->depth > 0 && r->left[r->depth - 1] == 0)
    r->depth--;
}

static void reply_line_check(const char *s, size_t len, const char *what)
{
  for (size_t i = 0; i < len; i++)
    if (s[i] == '\r' || s[i] == '\n')
      die("%s with a CR or LF in it breaks the protocol: '%.*s'", what, (int)len, s);
}

static void vprint(RedisModuleCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vprint(RedisModuleCtx *ctx, const char *fmt, ...)
{
  va_list ap;
  if (!verbose)
    return;
  fprintf(stderr, "%*s", 2 + 2 * ctx->reply.depth, "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static int h_ReplyWithError(RedisModuleCtx *ctx, const char *err)
{
  size_t len = strlen(err);
  reply_element(ctx, "ReplyWithError");
  if (len == 0 || err[0] == ' ' || err[0] == '-')
    die("malformed error reply '%s'", err);
  reply_line_check(err, len, "an error reply");
  ctx->reply.errors++;
  vprint(ctx, "(error) %s", err);
  reply_close(&ctx->reply);
  return REDISMODULE_OK;
}

static int h_WrongArity(RedisModuleCtx *ctx)
{
  return h_ReplyWithError(ctx, "ERR wrong number of arguments");
}

static int h_ReplyWithSimpleString(RedisModuleCtx *ctx, const char *msg)
{
  reply_element(ctx, "ReplyWithSimpleString");
  reply_line_check(msg, strlen(msg), "a simple string reply");
  vprint(ctx, "+%s", msg);
  reply_close(&ctx->reply);
  return REDISMODULE_OK;
}

static int h_ReplyWithLongLong(RedisModuleCtx *ctx, long long ll)
{
  reply_element(ctx, "ReplyWithLongLong");
  vprint(ctx, "(integer) %lld", ll);
  reply_close(&ctx->reply);
  return REDISMODULE_OK;
}

static int h_ReplyWithDouble(RedisModuleCtx *ctx, double d)
{
  reply_element(ctx, "ReplyWithDouble");
  vprint(ctx, "(double) %.17g", d);
  reply_close(&ctx->reply);
  return REDISMODULE_OK;
}

static int h_ReplyWithArray(RedisModuleCtx *ctx, long len)
{
  reply_check_t *r = &ctx->reply;
  reply_element(ctx, "ReplyWithArray");
  if (len < 0)
    die("ReplyWithArray(%ld): a negative length (postponed lengths are not in the API subset)",
        len);
  if (r->depth == (int)(sizeof r->left / sizeof r->left[0]))
    die("replies nested deeper than %d", r->depth);
  vprint(ctx, "array of %ld", len);
  r->left[r->depth++] = len;
  reply_close(r);
  return REDISMODULE_OK;
}

/* Reads every byte, so ASan sees a bad pointer or length. */
static unsigned touch(const char *buf, size_t len)
{
  unsigned h = 0;
  for (size_t i = 0; i < len; i++)
    h = h * 31 + (unsigned char)buf[i];
  return h;
}

static int h_ReplyWithStringBuffer(RedisModuleCtx *ctx, const char *buf, size_t len)
{
  reply_element(ctx, "ReplyWithStringBuffer");
  if (len && !buf)
    die("ReplyWithStringBuffer(NULL, %zu)", len);
  (void)touch(buf, len);
  vprint(ctx, "\"%.*s\"%s (%zu bytes)", (int)(len > 40 ? 40 : len), buf, len > 40 ? "..." : "",
         len);
  reply_close(&ctx->reply);
  return REDISMODULE_OK;
}

static int h_ReplyWithCString(RedisModuleCtx *ctx, const char *buf)
{
  return h_ReplyWithStringBuffer(ctx, buf, strlen(buf));
}

static int h_ReplyWithString(RedisModuleCtx *ctx, RedisModuleString *str)
{
  return h_ReplyWithStringBuffer(ctx, str->ptr, str->len);
}

/* After a command (or a reply callback): exactly one complete reply, or
 * none when the client was blocked or the call was a getkeys-api request. */
static void reply_finish(RedisModuleCtx *ctx, const char *cmd)
{
  int want = (ctx->blocked || ctx->keys_request) ? 0 : 1;
  if (ctx->reply.depth != 0)
    die("%s: an array reply is missing %ld element(s)", cmd, ctx->reply.left[ctx->reply.depth - 1]);
  if (ctx->reply.top != want)
    die("%s: %d replies, expected %d%s", cmd, ctx->reply.top, want,
        ctx->blocked ? " (the client is blocked)" : "");
  if (ctx->open_keys != 0)
    die("%s: %d key(s) left open", cmd, ctx->open_keys);
}

/* ---- module set-up --------------------------------------------------------------- */

typedef struct command {
  char name[64];
  RedisModuleCmdFunc fn;
  int getkeys_api;
  int firstkey, lastkey, keystep;
} command_t;

static command_t commands[64];
static int ncommands;

static command_t *find_command(const char *name, size_t len)
{
  for (int i = 0; i < ncommands; i++)
    if (strlen(commands[i].name) == len && strncasecmp(commands[i].name, name, len) == 0)
      return &commands[i];
  return NULL;
}

static void h_SetModuleAttribs(RedisModuleCtx *ctx, const char *name, int ver, int apiver)
{
  (void)ctx, (void)ver;
  if (!name || !*name || apiver != REDISMODULE_APIVER_1)
    die("SetModuleAttribs('%s', api %d)", name ? name : "(null)", apiver);
}

static int h_IsModuleNameBusy(const char *name) { return name == NULL; }

static void h_SetModuleOptions(RedisModuleCtx *ctx, int options)
{
  (void)ctx;
  module_options = options;
}

static int valid_flag(const char *w, size_t n)
{
  static const char *const known[] = {
      "write", "readonly", "admin", "deny-oom", "deny-script", "allow-loading", "pubsub",
      "random", "allow-stale", "no-monitor", "no-slowlog", "fast", "getkeys-api",
      "no-cluster", "no-auth", "may-replicate", "no-mandatory-keys", "blocking",
      "allow-busy", "getchannels-api"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strlen(known[i]) == n && strncmp(known[i], w, n) == 0)
      return 1;
  return 0;
}

static int h_CreateCommand(RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc fn,
                           const char *flags, int firstkey, int lastkey, int keystep)
{
  command_t *c;
  (void)ctx;
  if (!name || !fn || strlen(name) >= sizeof c->name)
    die("CreateCommand with a bad name or handler");
  if (find_command(name, strlen(name)))
    return REDISMODULE_ERR;
  if (ncommands == (int)(sizeof commands / sizeof commands[0]))
    die("more than %d commands", ncommands);
  c = &commands[ncommands++];
  snprintf(c->name, sizeof c->name, "%s", name);
  c->fn = fn;
  c->firstkey = firstkey, c->lastkey = lastkey, c->keystep = keystep;
  for (const char *p = flags ? flags : ""; *p;) {
    size_t n = strcspn(p, " ");
    if (n && !valid_flag(p, n))
      die("%s: unknown command flag '%.*s' (Redis refuses the registration)", name, (int)n, p);
    if (n == 11 && strncmp(p, "getkeys-api", n) == 0)
      c->getkeys_api = 1;
    p += n;
    while (*p == ' ')
      p++;
  }
  if (firstkey < 0 || (firstkey > 0 && (keystep < 1 || (lastkey > 0 && lastkey < firstkey))))
    die("%s: key spec first %d last %d step %d is inconsistent", name, firstkey, lastkey, keystep);
  return REDISMODULE_OK;
}

static RedisModuleCommand *h_GetCommand(RedisModuleCtx *ctx, const char *name)
{
  (void)ctx;
  return (RedisModuleCommand *)find_command(name, strlen(name));
}

static int h_SetCommandACLCategories(RedisModuleCommand *command, const char *aclflags)
{
  static const char *const known[] = {"keyspace", "read", "write", "set", "sortedset", "list",
                                      "hash", "string", "bitmap", "hyperloglog", "geo", "stream",
                                      "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
                                      "connection", "transaction", "scripting"};
  if (!command)
    die("SetCommandACLCategories(NULL)");
  for (const char *p = aclflags ? aclflags : ""; *p;) {
    size_t n = strcspn(p, " "), k;
    for (k = 0; k < sizeof known / sizeof known[0]; k++)
      if (strlen(known[k]) == n && strncmp(known[k], p, n) == 0)
        break;
    if (n && k == sizeof known / sizeof known[0])
      return REDISMODULE_ERR;
    p += n;
    while (*p == ' ')
      p++;
  }
  return REDISMODULE_OK;
}

static RedisModuleType *h_CreateDataType(RedisModuleCtx *ctx, const char *name, int encver,
                                         RedisModuleTypeMethods *methods)
{
  RedisModuleType *t;
  (void)ctx;
  if (!name || strlen(name) != 9)
    die("CreateDataType: the name '%s' is not 9 characters", name ? name : "(null)");
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
      die("CreateDataType: '%s' has a character Redis refuses", name);
  if (encver < 0 || encver > 1023)
    die("CreateDataType %s: encoding version %d outside 0..1023", name, encver);
  if (!methods || methods->version < 1 || !methods->rdb_load || !methods->rdb_save
      || !methods->free)
    die("CreateDataType %s: version 1 callbacks missing", name);
  for (int i = 0; i < ntypes; i++)
    if (strcmp(types[i].name, name) == 0)
      return NULL;
  if (ntypes == (int)(sizeof types / sizeof types[0]))
    die("too many data types");
  t = &types[ntypes++];
  snprintf(t->name, sizeof t->name, "%s", name);
  t->encver = encver;
  t->m = *methods;
  return t;
}

/* A log line of the module (kind "log" or "io"): formatted whether shown or
 * not, and shown when verbose. */
static void log_line(const char *kind, const char *level, const char *fmt, va_list ap)
{
  char line[1024];
  vsnprintf(line, sizeof line, fmt, ap);
  if (verbose)
    fprintf(stderr, "  [%s %s] %s\n", kind, level, line);
}

/* log_line of the arguments after fmt, from a variadic function. */
#define LOG_ARGS(kind, level, fmt)                                            \
  do {                                                                        \
    va_list ap;                                                               \
    va_start(ap, fmt);                                                        \
    log_line(kind, level, fmt, ap);                                           \
    va_end(ap);                                                               \
  } while (0)

static void h_Log(RedisModuleCtx *ctx, const char *level, const char *fmt, ...)
{
  (void)ctx;
  LOG_ARGS("log", level, fmt);
}

static int h_GetContextFlags(RedisModuleCtx *ctx)
{
  on_main("GetContextFlags");
  return ctx ? ctx->flags : 0;
}

static int h_IsKeysPositionRequest(RedisModuleCtx *ctx) { return ctx->keys_request; }

static void h_KeyAtPos(RedisModuleCtx *ctx, int pos)
{
  if (!ctx->keys_request)
    die("KeyAtPos outside a getkeys-api call");
  if (pos < 1 || pos >= ctx->argc)
    die("KeyAtPos(%d) outside the command's arguments (argc %d)", pos, ctx->argc);
  if (ctx->nkeys < MAX_ARGS)
    ctx->keypos[ctx->nkeys++] = pos;
}

/* ---- memory and strings ------------------------------------------------------------ */

static void *h_Alloc(size_t bytes) { return xmalloc(bytes); }

static void *h_Calloc(size_t nmemb, size_t size)
{
  void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
  if (!p)
    die("out of memory (calloc %zu x %zu)", nmemb, size);
  return p;
}

static void h_Free(void *ptr) { free(ptr); }

static const char *h_StringPtrLen(const RedisModuleString *str, size_t *len)
{
  if (!str)
    die("StringPtrLen(NULL)");
  if (len)
    *len = str->len;
  return str->ptr;
}

static RedisModuleString *h_CreateString(RedisModuleCtx *ctx, const char *ptr, size_t len)
{
  (void)ctx;
  on_main("CreateString");
  if (len && !ptr)
    die("CreateString(NULL, %zu)", len);
  return str_new(ptr, len);
}

static RedisModuleString *h_CreateStringFromLongLong(RedisModuleCtx *ctx, long long ll)
{
  char buf[32];
  (void)ctx;
  on_main("CreateStringFromLongLong");
  return str_new(buf, (size_t)snprintf(buf, sizeof buf, "%lld", ll));
}

/* As Redis's string2ll: an optional '-', digits, no leading zero, no
 * spaces, no overflow. */
static int h_StringToLongLong(const RedisModuleString *str, long long *ll)
{
  const char *p = str->ptr;
  size_t n = str->len, i = 0;
  unsigned long long v = 0, limit;
  int neg = 0;
  if (n == 0 || n > 20)
    return REDISMODULE_ERR;
  if (n == 1 && p[0] == '0') {
    *ll = 0;
    return REDISMODULE_OK;
  }
  if (p[0] == '-') {
    neg = 1;
    i = 1;
    if (n == 1)
      return REDISMODULE_ERR;
  }
  if (p[i] < '1' || p[i] > '9')
    return REDISMODULE_ERR;
  limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
  for (; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return REDISMODULE_ERR;
    if (v > (limit - (unsigned)(p[i] - '0')) / 10)
      return REDISMODULE_ERR;
    v = v * 10 + (unsigned)(p[i] - '0');
  }
  *ll = neg ? (v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v) : (long long)v;
  return REDISMODULE_OK;
}

static RedisModuleString *h_HoldString(RedisModuleCtx *ctx, RedisModuleString *str)
{
  (void)ctx;
  on_main("HoldString");
  if (!str || str->refs <= 0)
    die("HoldString on a freed string");
  str->refs++;
  return str;
}

static void h_FreeString(RedisModuleCtx *ctx, RedisModuleString *str)
{
  (void)ctx;
  on_main("FreeString");
  if (!str)
    die("FreeString(NULL)");
  str_release(str);
}

/* ---- keys ------------------------------------------------------------------------------ */

static RedisModuleKey *h_OpenKey(RedisModuleCtx *ctx, RedisModuleString *name, int mode)
{
  RedisModuleKey *k;
  on_main("OpenKey");
  if (!ctx || !name)
    die("OpenKey without a context or a name");
  if (!(mode & REDISMODULE_WRITE) && !find_entry(name->ptr, name->len))
    return NULL;
  k = xmalloc(sizeof *k);
  k->ctx = ctx;
  k->len = name->len;
  k->name = xmalloc(name->len + 1);
  memcpy(k->name, name->ptr, name->len + 1);
  k->mode = mode;
  ctx->open_keys++;
  return k;
}

static void h_CloseKey(RedisModuleKey *key)
{
  on_main("CloseKey");
  if (!key)
    return;
  key->ctx->open_keys--;
  free(key->name);
  free(key);
}

static int h_KeyType(RedisModuleKey *key)
{
  entry_t **e;
  on_main("KeyType");
  if (!key)
    return REDISMODULE_KEYTYPE_EMPTY;
  e = find_entry(key->name, key->len);
  if (!e)
    return REDISMODULE_KEYTYPE_EMPTY;
  return (*e)->type ? REDISMODULE_KEYTYPE_MODULE : REDISMODULE_KEYTYPE_STRING;
}

static int h_ModuleTypeSetValue(RedisModuleKey *key, RedisModuleType *type, void *value)
{
  on_main("ModuleTypeSetValue");
  if (!key || !(key->mode & REDISMODULE_WRITE))
    return REDISMODULE_ERR;
  if (!type || !value)
    die("ModuleTypeSetValue without a type or a value");
  entry_set(key->name, key->len, type, value);
  return REDISMODULE_OK;
}

static RedisModuleType *h_ModuleTypeGetType(RedisModuleKey *key)
{
  entry_t **e;
  on_main("ModuleTypeGetType");
  e = key ? find_entry(key->name, key->len) : NULL;
  return e ? (*e)->type : NULL;
}

static void *h_ModuleTypeGetValue(RedisModuleKey *key)
{
  entry_t **e;
  on_main("ModuleTypeGetValue");
  e = key ? find_entry(key->name, key->len) : NULL;
  return e && (*e)->type ? (*e)->value : NULL;
}

static int h_DeleteKey(RedisModuleKey *key)
{
  entry_t **e;
  on_main("DeleteKey");
  if (!key || !(key->mode & REDISMODULE_WRITE))
    return REDISMODULE_ERR;
  if ((e = find_entry(key->name, key->len)))
    entry_delete(e);
  return REDISMODULE_OK;
}

/* This host keeps no TTLs: every key has none, and removing one is a no-op
 * (setting one would be a module bug here: nothing in the module sets one). */
static long long h_GetExpire(RedisModuleKey *key)
{
  on_main("GetExpire");
  if (!key)
    die("GetExpire(NULL)");
  return REDISMODULE_NO_EXPIRE;
}

static int h_SetExpire(RedisModuleKey *key, long long expire)
{
  on_main("SetExpire");
  if (!key || !(key->mode & REDISMODULE_WRITE))
    return REDISMODULE_ERR;
  if (expire != REDISMODULE_NO_EXPIRE)
    die("SetExpire with a TTL");
  return REDISMODULE_OK;
}

/* ---- blocking ---------------------------------------------------------------------- */

static RedisModuleBlockedClient *h_BlockClient(RedisModuleCtx *ctx, RedisModuleCmdFunc reply_cb,
                                               RedisModuleCmdFunc timeout_cb,
                                               RedisModuleFreePrivdataFunc free_cb,
                                               long long timeout_ms)
{
  RedisModuleBlockedClient *bc, **tail;
  (void)timeout_cb;
  on_main("BlockClient");
  if (!ctx->can_block)
    die("BlockClient outside a command, or in a context that denies blocking (MULTI, Lua)");
  if (ctx->blocked)
    die("BlockClient twice in one command");
  if (timeout_ms != 0)
    die("BlockClient with a timeout but the host has no timer (the module uses none)");
  bc = calloc(1, sizeof *bc);
  if (!bc)
    die("out of memory");
  bc->reply_cb = reply_cb;
  bc->free_cb = free_cb;
  ctx->blocked = 1;
  pthread_mutex_lock(&bc_lock);
  for (tail = &blocked_list; *tail; tail = &(*tail)->next)
    ;
  *tail = bc;
  pthread_mutex_unlock(&bc_lock);
  return bc;
}

static int h_UnblockClient(RedisModuleBlockedClient *bc, void *privdata)
{
  int found = 0;
  pthread_mutex_lock(&bc_lock);
  for (RedisModuleBlockedClient *b = blocked_list; b; b = b->next)
    found |= b == bc;
  if (!found)
    die("UnblockClient on a client that is not blocked");
  if (bc->unblocked)
    die("UnblockClient twice on one blocked client");
  bc->privdata = privdata;
  bc->unblocked = 1;
  pthread_cond_broadcast(&bc_cond);
  pthread_mutex_unlock(&bc_lock);
  return REDISMODULE_OK;
}

static void h_SetDisconnectCallback(RedisModuleBlockedClient *bc,
                                    RedisModuleDisconnectFunc callback)
{
  int found = 0;
  on_main("SetDisconnectCallback");
  pthread_mutex_lock(&bc_lock);
  for (RedisModuleBlockedClient *b = blocked_list; b; b = b->next)
    found |= b == bc;
  if (found)
    bc->disconnect_cb = callback;
  pthread_mutex_unlock(&bc_lock);
  if (!found)
    die("SetDisconnectCallback on a client that is not blocked");
}

static void *h_GetBlockedClientPrivateData(RedisModuleCtx *ctx)
{
  on_main("GetBlockedClientPrivateData");
  return ctx->privdata;
}

/* Runs the reply and free callbacks of every unblocked client on this (the
 * main) thread, as Redis does; with wait, first waits until every blocked
 * client is unblocked (bounded). */
static void deliver(int wait)
{
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += UNBLOCK_LIMIT_S;
  for (;;) {
    RedisModuleBlockedClient *bc = NULL, **pb;
    int pending = 0;
    pthread_mutex_lock(&bc_lock);
    for (pb = &blocked_list; *pb; pb = &(*pb)->next) {
      if ((*pb)->unblocked) {
        bc = *pb;
        *pb = bc->next;
        break;
      }
      pending++;
    }
    if (!bc && wait && blocked_list) {
      int rc = pthread_cond_timedwait(&bc_cond, &bc_lock, &until);
      pthread_mutex_unlock(&bc_lock);
      if (rc == ETIMEDOUT)
        die("%d blocked client(s) not unblocked within %d s", pending, UNBLOCK_LIMIT_S);
      continue;
    }
    pthread_mutex_unlock(&bc_lock);
    if (!bc)
      return;
    {
      RedisModuleCtx ctx;
      ctx_init(&ctx, 0);
      ctx.argc = bc->argc;
      ctx.privdata = bc->privdata;
      if (!bc->gone) {
        if (verbose)
          fprintf(stderr, "(reply to a blocked client)\n");
        bc->reply_cb(&ctx, bc->argv, bc->argc);
        reply_finish(&ctx, "a blocked client's reply callback");
      }
      if (bc->free_cb)
        bc->free_cb(&ctx, bc->privdata);
      if (ctx.open_keys)
        die("the free callback left %d key(s) open", ctx.open_keys);
      for (int i = 0; i < bc->argc; i++)
        str_release(bc->argv[i]);
      free(bc->argv);
      free(bc);
    }
  }
}

/* ---- replication and AOF ----------------------------------------------------------------- */

/* A command as emitted by Replicate or EmitAOF. */
typedef struct emitted {
  int argc;
  RedisModuleString **argv;
  struct emitted *next;
} emitted_t;

static emitted_t *aof_log;
static int collecting_aof;

static void emitted_free(emitted_t *e)
{
  while (e) {
    emitted_t *next = e->next;
    for (int i = 0; i < e->argc; i++)
      str_release(e->argv[i]);
    free(e->argv);
    free(e);
    e = next;
  }
}

/* Reads a Replicate/EmitAOF argument list as Redis does (c: C string,
 * s: RedisModuleString, b: buffer + length, l: long long, v: vector +
 * count; '!', 'A', 'R' are flags) into a command. */
static emitted_t *build_emitted(const char *cmd, const char *fmt, va_list ap)
{
  emitted_t *e = calloc(1, sizeof *e);
  int cap = 8;
  if (!e)
    die("out of memory");
  if (!find_command(cmd, strlen(cmd)))
    die("replicating or emitting '%s', which is not a command the module registered", cmd);
  e->argv = xmalloc((size_t)cap * sizeof *e->argv);
  e->argv[e->argc++] = str_new(cmd, strlen(cmd));
#define PUSH(s)                                                         \
  do {                                                                  \
    if (e->argc == cap)                                                 \
      e->argv = realloc(e->argv, (size_t)(cap *= 2) * sizeof *e->argv); \
    if (!e->argv)                                                       \
      die("out of memory");                                             \
    e->argv[e->argc++] = (s);                                           \
  } while (0)
  for (const char *p = fmt; *p; p++) {
    switch (*p) {
    case 'c': {
      const char *s = va_arg(ap, const char *);
      PUSH(str_new(s, strlen(s)));
      break;
    }
    case 's': {
      RedisModuleString *s = va_arg(ap, RedisModuleString *);
      PUSH(str_new(s->ptr, s->len));
      break;
    }
    case 'b': {
      const char *b = va_arg(ap, const char *);
      size_t len = va_arg(ap, size_t);
      if (len && !b)
        die("a 'b' argument with NULL bytes");
      PUSH(str_new(b, len));
      break;
    }
    case 'l': {
      char buf[32];
      long long v = va_arg(ap, long long);
      PUSH(str_new(buf, (size_t)snprintf(buf, sizeof buf, "%lld", v)));
      break;
    }
    case 'v': {
      RedisModuleString **v = va_arg(ap, RedisModuleString **);
      size_t n = va_arg(ap, size_t);
      for (size_t i = 0; i < n; i++)
        PUSH(str_new(v[i]->ptr, v[i]->len));
      break;
    }
    case '!':
    case 'A':
    case 'R':
      break;
    default:
      die("format character '%c' in \"%s\" is not one Redis knows", *p, fmt);
    }
  }
#undef PUSH
  return e;
}

static int h_ReplicateVerbatim(RedisModuleCtx *ctx)
{
  on_main("ReplicateVerbatim");
  (void)ctx;
  return REDISMODULE_OK;
}

static int h_Replicate(RedisModuleCtx *ctx, const char *cmdname, const char *fmt, ...)
{
  va_list ap;
  emitted_t *e;
  (void)ctx;
  on_main("Replicate");
  va_start(ap, fmt);
  e = build_emitted(cmdname, fmt, ap);
  va_end(ap);
  emitted_free(e);
  return REDISMODULE_OK;
}

/* ---- persistence: RDB streams, AOF, digests ------------------------------------------- */

typedef struct rec {
  char kind; /* 'u' or 's' */
  uint64_t u;
  char *s;
  size_t len;
} rec_t;

struct RedisModuleIO {
  rec_t *recs;
  size_t n, cap, pos;
  int error;
  int saving;
};

static void io_push(RedisModuleIO *io, rec_t r)
{
  if (io->n == io->cap) {
    io->cap = io->cap ? 2 * io->cap : 16;
    io->recs = realloc(io->recs, io->cap * sizeof *io->recs);
    if (!io->recs)
      die("out of memory");
  }
  io->recs[io->n++] = r;
}

static void io_free(RedisModuleIO *io)
{
  for (size_t i = 0; i < io->n; i++)
    free(io->recs[i].s);
  free(io->recs);
  memset(io, 0, sizeof *io);
}

static void h_SaveUnsigned(RedisModuleIO *io, uint64_t value)
{
  on_main("SaveUnsigned");
  if (!io->saving)
    die("SaveUnsigned while loading");
  io_push(io, (rec_t){'u', value, NULL, 0});
}

static void h_SaveStringBuffer(RedisModuleIO *io, const char *str, size_t len)
{
  rec_t r = {'s', 0, xmalloc(len), len};
  on_main("SaveStringBuffer");
  if (!io->saving)
    die("SaveStringBuffer while loading");
  if (len)
    memcpy(r.s, str, len);
  io_push(io, r);
}

/* Loading: a record of the wrong kind or past the end is an I/O error, as a
 * short or corrupt RDB file is to Redis. */
static uint64_t h_LoadUnsigned(RedisModuleIO *io)
{
  on_main("LoadUnsigned");
  if (io->saving)
    die("LoadUnsigned while saving");
  if (io->error || io->pos >= io->n || io->recs[io->pos].kind != 'u') {
    io->error = 1;
    return 0;
  }
  return io->recs[io->pos++].u;
}

static char *h_LoadStringBuffer(RedisModuleIO *io, size_t *len)
{
  char *out;
  on_main("LoadStringBuffer");
  if (io->saving)
    die("LoadStringBuffer while saving");
  if (io->error || io->pos >= io->n || io->recs[io->pos].kind != 's') {
    io->error = 1;
    return NULL;
  }
  out = xmalloc(io->recs[io->pos].len);
  if (io->recs[io->pos].len)
    memcpy(out, io->recs[io->pos].s, io->recs[io->pos].len);
  *len = io->recs[io->pos].len;
  io->pos++;
  return out;
}

static int h_IsIOError(RedisModuleIO *io)
{
  if (!(module_options & REDISMODULE_OPTIONS_HANDLE_IO_ERRORS))
    die("IsIOError without REDISMODULE_OPTIONS_HANDLE_IO_ERRORS: Redis would have stopped");
  return io->error;
}

static void h_LogIOError(RedisModuleIO *io, const char *level, const char *fmt, ...)
{
  (void)io;
  LOG_ARGS("io", level, fmt);
}

static void h_EmitAOF(RedisModuleIO *io, const char *cmdname, const char *fmt, ...)
{
  va_list ap;
  emitted_t *e, **tail;
  (void)io;
  on_main("EmitAOF");
  if (!collecting_aof)
    die("EmitAOF outside an AOF rewrite");
  va_start(ap, fmt);
  e = build_emitted(cmdname, fmt, ap);
  va_end(ap);
  for (tail = &aof_log; *tail; tail = &(*tail)->next)
    ;
  *tail = e;
}

struct RedisModuleDigest {
  uint64_t h;
};

static void digest_bytes(RedisModuleDigest *md, const void *p, size_t len)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < len; i++)
    md->h = (md->h ^ b[i]) * 1099511628211ull;
}

static void h_DigestAddStringBuffer(RedisModuleDigest *md, const char *buf, size_t len)
{
  if (len && !buf)
    die("DigestAddStringBuffer(NULL, %zu)", len);
  digest_bytes(md, &len, sizeof len);
  digest_bytes(md, buf, len);
}

static void h_DigestAddLongLong(RedisModuleDigest *md, long long ll)
{
  digest_bytes(md, &ll, sizeof ll);
}

static void h_DigestEndSequence(RedisModuleDigest *md)
{
  md->h = (md->h ^ 0xabcdefu) * 1099511628211ull;
}

static uint64_t value_digest(RedisModuleType *t, void *value)
{
  RedisModuleDigest md = {14695981039346656037ull};
  if (t->m.digest)
    t->m.digest(&md, value);
  if (t->m.mem_usage)
    (void)t->m.mem_usage(value);
  return md.h;
}

/* ---- GetApi ----------------------------------------------------------------------------- */

typedef struct {
  const char *name;
  void *fn;
} api_t;

#define API(n) {"RedisModule_" #n, (void *)h_##n}
static const api_t api[] = {
    API(SetModuleAttribs), API(IsModuleNameBusy), API(SetModuleOptions), API(CreateCommand),
    API(CreateDataType), API(Log), API(GetContextFlags), API(IsKeysPositionRequest),
    API(KeyAtPos), API(Alloc), API(Calloc), API(Free), API(StringPtrLen), API(CreateString),
    API(CreateStringFromLongLong), API(StringToLongLong), API(HoldString), API(FreeString),
    API(OpenKey), API(CloseKey), API(KeyType), API(ModuleTypeSetValue), API(ModuleTypeGetType),
    API(ModuleTypeGetValue), API(DeleteKey), API(GetExpire), API(SetExpire), API(WrongArity), API(ReplyWithError),
    API(ReplyWithSimpleString), API(ReplyWithLongLong), API(ReplyWithDouble),
    API(ReplyWithArray), API(ReplyWithStringBuffer), API(ReplyWithCString), API(ReplyWithString),
    API(BlockClient), API(UnblockClient), API(SetDisconnectCallback),
    API(GetBlockedClientPrivateData),
    API(ReplicateVerbatim), API(Replicate), API(SaveUnsigned), API(LoadUnsigned),
    API(SaveStringBuffer), API(LoadStringBuffer), API(IsIOError), API(LogIOError), API(EmitAOF),
    API(DigestAddStringBuffer), API(DigestAddLongLong), API(DigestEndSequence), API(GetCommand),
    API(SetCommandACLCategories),
};
#undef API

static int host_getapi(const char *name, void *target)
{
  for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
    if (strcmp(api[i].name, name) == 0) {
      memcpy(target, &api[i].fn, sizeof api[i].fn);
      return REDISMODULE_OK;
    }
  fprintf(stderr, "fuzz_module: the host does not implement %s\n", name);
  return REDISMODULE_ERR;
}

static void ctx_init(RedisModuleCtx *ctx, int flags)
{
  memset(ctx, 0, sizeof *ctx);
  ctx->getapi = (void *)host_getapi;
  ctx->flags = flags;
}

/* ---- running commands --------------------------------------------------------------------- */

static void *tiny_blob;
static size_t tiny_len;

/* Only the keys' types' callbacks may follow a command: cap the batch wait
 * of every model (see MINBATCH_CAP_MS). */
static void cap_batch_waits(void)
{
  for (entry_t *e = keyspace; e; e = e->next)
    if (e->type && strcmp(e->type->name, "SB_MODEL_") == 0) {
      sbai_model_t *m = e->value;
      if (m->minbatchsize > 0 && (m->minbatchtimeout == 0 || m->minbatchtimeout > MINBATCH_CAP_MS))
        m->minbatchtimeout = MINBATCH_CAP_MS;
    }
}

static void host_command(int argc, RedisModuleString **argv)
{
  const char *name = argv[0]->ptr;
  if (strcasecmp(name, "FLUSHALL") == 0) {
    flush_all();
  } else if (strcasecmp(name, "DEL") == 0) {
    for (int i = 1; i < argc; i++) {
      entry_t **e = find_entry(argv[i]->ptr, argv[i]->len);
      if (e)
        entry_delete(e);
    }
  } else if (strcasecmp(name, "SET") == 0 && argc == 3) {
    argv[2]->refs++;
    entry_set(argv[1]->ptr, argv[1]->len, NULL, argv[2]);
  }
}

/* Runs one command as Redis would: the getkeys-api call first where the
 * command has one, then the command itself. Returns 1 when it blocked. */
static int run_command(int argc, RedisModuleString **argv, int flags, int quiet_errors)
{
  command_t *c = find_command(argv[0]->ptr, argv[0]->len);
  RedisModuleCtx ctx;
  if (verbose) {
    fprintf(stderr, ">");
    for (int i = 0; i < argc; i++)
      fprintf(stderr, " %.*s%s", (int)(argv[i]->len > 40 ? 40 : argv[i]->len), argv[i]->ptr,
              argv[i]->len > 40 ? "..." : "");
    fprintf(stderr, "\n");
  }
  if (!c) {
    host_command(argc, argv);
    return 0;
  }
  if (c->getkeys_api) {
    ctx_init(&ctx, flags);
    ctx.keys_request = 1;
    ctx.argc = argc;
    c->fn(&ctx, argv, argc);
    reply_finish(&ctx, c->name);
  }
  ctx_init(&ctx, flags);
  ctx.argc = argc;
  ctx.can_block = !(flags & (REDISMODULE_CTX_FLAGS_DENY_BLOCKING | REDISMODULE_CTX_FLAGS_MULTI
                             | REDISMODULE_CTX_FLAGS_LUA | REDISMODULE_CTX_FLAGS_LOADING));
  c->fn(&ctx, argv, argc);
  reply_finish(&ctx, c->name);
  (void)quiet_errors;
  if (ctx.blocked) {
    /* The blocked client keeps its arguments until the reply. */
    RedisModuleBlockedClient *bc;
    pthread_mutex_lock(&bc_lock);
    for (bc = blocked_list; bc->next; bc = bc->next)
      ;
    pthread_mutex_unlock(&bc_lock);
    bc->argc = argc;
    bc->argv = xmalloc((size_t)argc * sizeof *bc->argv);
    for (int i = 0; i < argc; i++) {
      argv[i]->refs++;
      bc->argv[i] = argv[i];
    }
  }
  cap_batch_waits();
  return ctx.blocked;
}

static RedisModuleString *parse_arg(const char *p, size_t n);

/* ---- persistence round trips ---------------------------------------------------------------- */

static RedisModuleType *find_type(const char *name, size_t len)
{
  for (int i = 0; i < ntypes; i++)
    if (strlen(types[i].name) == len && memcmp(types[i].name, name, len) == 0)
      return &types[i];
  return NULL;
}

/* Saves value and loads it back: the load must succeed, read exactly what
 * was written, and give a value with the same digest. Returns the copy. */
static void *rdb_roundtrip(RedisModuleType *t, void *value, const char *key)
{
  RedisModuleIO io = {0};
  uint64_t before = value_digest(t, value), after;
  void *copy;
  io.saving = 1;
  t->m.rdb_save(&io, value);
  io.saving = 0;
  copy = t->m.rdb_load(&io, t->encver);
  if (!copy || io.error)
    die("key '%s' (%s): what rdb_save wrote, rdb_load refuses", key, t->name);
  if (io.pos != io.n)
    die("key '%s' (%s): rdb_load read %zu of the %zu records rdb_save wrote", key, t->name,
        io.pos, io.n);
  io_free(&io);
  after = value_digest(t, copy);
  if (after != before)
    die("key '%s' (%s): the digest changed over an RDB save and load", key, t->name);
  return copy;
}

static void do_reload(void)
{
  deliver(1);
  for (entry_t *e = keyspace; e; e = e->next)
    if (e->type) {
      void *copy = rdb_roundtrip(e->type, e->value, e->name);
      e->type->m.free(e->value);
      e->value = copy;
    }
}

typedef struct snap {
  char *name;
  size_t len;
  RedisModuleType *type;
  uint64_t digest;
  struct snap *next;
} snap_t;

static void do_aof(void)
{
  snap_t *snaps = NULL;
  deliver(1);
  collecting_aof = 1;
  for (entry_t *e = keyspace; e; e = e->next) {
    snap_t *s;
    RedisModuleString *key;
    if (!e->type || !e->type->m.aof_rewrite)
      continue;
    s = xmalloc(sizeof *s);
    s->name = xmalloc(e->len + 1);
    memcpy(s->name, e->name, e->len + 1);
    s->len = e->len;
    s->type = e->type;
    s->digest = value_digest(e->type, e->value);
    s->next = snaps;
    snaps = s;
    key = str_new(e->name, e->len);
    e->type->m.aof_rewrite(NULL, key, e->value);
    str_release(key);
  }
  collecting_aof = 0;
  flush_all();
  for (emitted_t *c = aof_log; c; c = c->next) {
    RedisModuleCtx ctx;
    command_t *cmd = find_command(c->argv[0]->ptr, c->argv[0]->len);
    ctx_init(&ctx, REDISMODULE_CTX_FLAGS_LOADING);
    ctx.argc = c->argc;
    cmd->fn(&ctx, c->argv, c->argc);
    reply_finish(&ctx, cmd->name);
    if (ctx.reply.errors)
      die("%s: the command an AOF rewrite emitted is refused on replay", cmd->name);
  }
  emitted_free(aof_log);
  aof_log = NULL;
  while (snaps) {
    snap_t *s = snaps;
    entry_t **e = find_entry(s->name, s->len);
    snaps = s->next;
    if (!e || (*e)->type != s->type)
      die("key '%s' (%s) is missing after replaying its AOF rewrite", s->name, s->type->name);
    if (value_digest((*e)->type, (*e)->value) != s->digest)
      die("key '%s' (%s): the digest changed over an AOF rewrite and replay", s->name,
          s->type->name);
    free(s->name);
    free(s);
  }
}

/* !rdb TYPE ENCVER tokens..: a fuzz-made stream into the type's rdb_load. */
static void do_rdb(int argc, RedisModuleString **argv)
{
  RedisModuleType *t;
  RedisModuleIO io = {0};
  long long encver;
  void *value;
  if (argc < 3 || !(t = find_type(argv[1]->ptr, argv[1]->len))
      || h_StringToLongLong(argv[2], &encver) != REDISMODULE_OK || encver < 0 || encver > 1023)
    return;
  for (int i = 3; i < argc; i++) {
    const char *p = argv[i]->ptr;
    if (p[0] == 'u') {
      char *end;
      errno = 0;
      uint64_t u = strtoull(p + 1, &end, 10);
      if (*end || errno)
        continue;
      io_push(&io, (rec_t){'u', u, NULL, 0});
    } else if (p[0] == 's') {
      /* s$TINY and the other expansions work here too. */
      RedisModuleString *x = p[1] == '$' ? parse_arg(p + 1, argv[i]->len - 1) : NULL;
      const char *b = x ? x->ptr : p + 1;
      rec_t r = {'s', 0, NULL, x ? x->len : argv[i]->len - 1};
      r.s = xmalloc(r.len);
      memcpy(r.s, b, r.len);
      io_push(&io, r);
      if (x)
        str_release(x);
    }
  }
  value = t->m.rdb_load(&io, (int)encver);
  if (value && io.error) {
    /* Redis drops a value whose load reported an I/O error. */
    t->m.free(value);
    value = NULL;
  }
  io_free(&io);
  if (value) {
    void *copy = rdb_roundtrip(t, value, "rdb");
    t->m.free(value);
    entry_set("rdb", 3, t, copy);
    cap_batch_waits();
  }
}

/* ---- the input ---------------------------------------------------------------------------- */

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One argument: escapes decoded, $-expansions done. */
static RedisModuleString *parse_arg(const char *p, size_t n)
{
  char *buf;
  size_t len = 0;
  unsigned long a, b;
  RedisModuleString *s;
  if (n == 2 && p[0] == '"' && p[1] == '"')
    return str_new("", 0);
  if (n >= 5 && memcmp(p, "$TINY", 5) == 0) {
    char tmp[64];
    a = 0, b = tiny_len;
    snprintf(tmp, sizeof tmp, "%.*s", (int)(n < 63 ? n : 63), p);
    if (n == 5 || sscanf(tmp, "$TINY:%lu:%lu", &a, &b) == 2) {
      if (b > tiny_len)
        b = tiny_len;
      if (a > b)
        a = b;
      return str_new((const char *)tiny_blob + a, b - a);
    }
  }
  if (n >= 7 && (memcmp(p, "$ZEROS:", 7) == 0 || memcmp(p, "$BYTES:", 7) == 0)) {
    char tmp[64];
    unsigned int byte = 0;
    snprintf(tmp, sizeof tmp, "%.*s", (int)(n < 63 ? n : 63), p);
    if ((p[1] == 'Z' && sscanf(tmp, "$ZEROS:%lu", &a) == 1)
        || (p[1] == 'B' && sscanf(tmp, "$BYTES:%lu:%x", &a, &byte) == 2)) {
      if (a > MAX_EXPAND)
        a = MAX_EXPAND;
      buf = xmalloc(a);
      memset(buf, (int)(byte & 0xff), a);
      s = str_new(buf, a);
      free(buf);
      return s;
    }
  }
  buf = xmalloc(n);
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\\' && i + 1 < n && p[i + 1] == '\\') {
      buf[len++] = '\\';
      i++;
    } else if (p[i] == '\\' && i + 3 < n && p[i + 1] == 'x' && hexval(p[i + 2]) >= 0
               && hexval(p[i + 3]) >= 0) {
      buf[len++] = (char)(hexval(p[i + 2]) * 16 + hexval(p[i + 3]));
      i += 3;
    } else {
      buf[len++] = p[i];
    }
  }
  s = str_new(buf, len);
  free(buf);
  return s;
}

static int split_line(const char *p, size_t n, RedisModuleString **argv)
{
  int argc = 0;
  size_t i = 0;
  while (i < n && argc < MAX_ARGS) {
    size_t start;
    while (i < n && p[i] == ' ')
      i++;
    start = i;
    while (i < n && p[i] != ' ')
      i++;
    if (i > start)
      argv[argc++] = parse_arg(p + start, i - start);
  }
  return argc;
}

static void run_line(const char *p, size_t n)
{
  static RedisModuleString *argv[MAX_ARGS];
  int argc, async = 0, flags = 0, directive = 0;
  if (n > 0 && p[n - 1] == '\r')
    n--;
  if (n > 0 && p[0] == '&')
    async = 1, p++, n--;
  else if (n > 0 && p[0] == '!')
    directive = 1, p++, n--;
  argc = split_line(p, n, argv);
  if (argc == 0)
    return;
  if (directive) {
    const char *d = argv[0]->ptr;
    int shift = 1;
    if (strcmp(d, "wait") == 0) {
      deliver(1);
    } else if (strcmp(d, "disconnect") == 0) {
      /* As Redis does: every blocked client leaves; the disconnect
       * callback of each one not yet unblocked runs on the main thread. */
      RedisModuleBlockedClient *left[64];
      int nleft = 0;
      pthread_mutex_lock(&bc_lock);
      for (RedisModuleBlockedClient *bc = blocked_list; bc; bc = bc->next) {
        if (!bc->gone && !bc->unblocked && bc->disconnect_cb && nleft < 64)
          left[nleft++] = bc;
        bc->gone = 1;
      }
      pthread_mutex_unlock(&bc_lock);
      for (int i = 0; i < nleft; i++) {
        RedisModuleCtx dctx;
        ctx_init(&dctx, 0);
        left[i]->disconnect_cb(&dctx, left[i]);
        if (dctx.open_keys)
          die("the disconnect callback left %d key(s) open", dctx.open_keys);
      }
    } else if (strcmp(d, "reload") == 0) {
      do_reload();
    } else if (strcmp(d, "aof") == 0) {
      do_aof();
    } else if (strcmp(d, "rdb") == 0) {
      do_rdb(argc, argv);
    } else {
      if (strcmp(d, "multi") == 0)
        flags = REDISMODULE_CTX_FLAGS_MULTI | REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
      else if (strcmp(d, "lua") == 0)
        flags = REDISMODULE_CTX_FLAGS_LUA | REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
      else if (strcmp(d, "noblock") == 0)
        flags = REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
      else
        shift = 0;
      if (shift && argc > 1)
        run_command(argc - 1, argv + 1, flags, 0);
    }
  } else {
    if (run_command(argc, argv, 0, 0) && !async)
      deliver(1);
    else
      deliver(0);
  }
  for (int i = 0; i < argc; i++)
    str_release(argv[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  RedisModuleCtx ctx;
  RedisModuleString *args[sizeof load_args / sizeof load_args[0]];
  int n = (int)(sizeof load_args / sizeof load_args[0]);
  char err[256];
  (void)argc, (void)argv;
  verbose = getenv("SB_FUZZ_VERBOSE") && atoi(getenv("SB_FUZZ_VERBOSE")) > 0;
  main_thread = pthread_self();
  if (sb_resnet_make("tiny", 1, &tiny_blob, &tiny_len, err, sizeof err) != 0)
    die("cannot make the tiny model: %s", err);
  for (int i = 0; i < n; i++)
    args[i] = str_new(load_args[i], strlen(load_args[i]));
  ctx_init(&ctx, 0);
  if (RedisModule_OnLoad(&ctx, args, n) != REDISMODULE_OK)
    die("RedisModule_OnLoad failed");
  for (int i = 0; i < n; i++)
    str_release(args[i]);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    run_line(p, n);
    p += n + (nl ? 1 : 0);
  }
  /* Every input starts from an empty server: replies delivered, every
   * value digested and freed, so leaks show and inputs are independent. */
  deliver(1);
  for (entry_t *e = keyspace; e; e = e->next)
    if (e->type)
      (void)value_digest(e->type, e->value);
  flush_all();
  if (live_strings != 0)
    die("%ld RedisModuleString(s) still alive after the input (a leak or a missing "
        "FreeString)", live_strings);
  return 0;
}
