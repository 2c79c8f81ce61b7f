/* The database client: connections to a Redis-protocol server or a Redis
 * Cluster, with bounded timeouts and retries.
 *
 * Addresses are "tcp://host:port", "unix:///path" or plain "host:port"
 * (SmartSim's SSDB form), comma-separated when there are several (seeds):
 * the client connects to the first that answers, trying them in turn.
 *
 * Redis Cluster: sb_db_open asks the seed for CLUSTER SLOTS (one round
 * trip, at open only). A standalone server refuses it and nothing else
 * changes: every command goes to the one connection as before. On a
 * cluster, the handle keeps the slot map and opens one connection per
 * shard when first needed (same timeouts and AUTH); every keyed command
 * goes to the shard of its key's slot (CRC16 of the key or of its {tag},
 * sb_crc16.h), keyless commands (INFO, MODULE LIST, ...) to the seed.
 * "MOVED slot host:port" refreshes the map and sends the command again on
 * the new owner; "ASK slot host:port" sends ASKING and the command once on
 * that node without changing the map; at most SB_DB_MAX_REDIRECTS of them
 * per command. TRYAGAIN and CLUSTERDOWN are retried every retry interval
 * for at most the connect timeout. A redirected command was refused, not
 * applied, so writes follow redirects too. docs/client.md.
 *
 * Failure policy: connecting retries every retry_interval until the connect
 * timeout has passed, then fails with an error that names the address. A
 * command that fails on the wire is re-sent on a new connection only when
 * the caller says it is idempotent (reads); a write that may have reached
 * the server is never re-sent. Error replies are never retried (redirects
 * and the two cluster states above are not errors in this sense).
 */
#ifndef SB_DB_H
#define SB_DB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sb_db sb_db_t;

typedef struct {
  double connect_timeout_s;  /* total budget to connect, retries included */
  double command_timeout_s;  /* one command's send + reply */
  double retry_interval_s;   /* pause between attempts */
  int command_retries;       /* extra tries of an idempotent command */
  char user[128];            /* ACL user ("" = default user) */
  char password[512];        /* "" = no AUTH */
} sb_db_config_t;

/* Defaults, then the environment: SB_DB_CONNECT_TIMEOUT (s, default 5),
 * SB_DB_COMMAND_TIMEOUT (s, default 30), SB_DB_RETRY_INTERVAL (s, 0.2),
 * SB_DB_COMMAND_RETRIES (1), SB_DB_USER, SB_DB_PASSWORD, or
 * SB_DB_PASSWORD_FILE (a file holding "password" or "user password").
 * Returns SB_OK, or SB_ERR for a malformed value or an unreadable file. */
int sb_db_config_from_env(sb_db_config_t *cfg);

/* Checks the SB_DB_* settings of the environment without keeping them:
 * exactly the checks of sb_db_config_from_env (numbers: finite, in range,
 * nothing after them, not empty when set; SB_DB_USER / SB_DB_PASSWORD not
 * longer than the client keeps; SB_DB_PASSWORD_FILE readable and holding a
 * password). Returns SB_OK, or SB_ERR with a message that names the
 * variable. Every SB_ERR here is a bad setting, i.e. a usage error: a
 * driver calls it right after option parsing (before connecting) and exits
 * 2 on SB_ERR. Once it returned SB_OK, sb_db_config_from_env fails only if
 * the environment or the password file changed in between. */
int sb_db_config_check_env(void);

/* Checks the syntax of an address list as sb_db_open reads it (the same
 * forms, comma-separated, at least one address, every port 1..65535),
 * without connecting. Returns SB_OK, or SB_ERR ("invalid database address
 * ..."); a driver treats SB_ERR as a usage error. */
int sb_db_check_addresses(const char *addresses);

/* Interrupting a connect: while *flag is nonzero (e.g. the driver's
 * sb_app_stop_requested, set by its SIGINT/SIGTERM handler), every wait of
 * the client that may last longer than a moment -- connecting and its
 * retries (sb_db_open, a reconnect after a broken connection, a cluster
 * shard's first connection), the pauses of TRYAGAIN/CLUSTERDOWN waits --
 * gives up within 0.5 s with SB_ERR: "interrupted by a signal while
 * connecting to ADDRESS" (or "... while waiting for the cluster ...").
 * While a flag is set, a single connection attempt waits at most
 * SB_DB_ATTEMPT_SLICE_S for the TCP handshake (then the next attempt, within
 * the connect timeout as before), so that the flag is looked at in time.
 * NULL (the default) turns the hook off. The client only reads the flag;
 * it never clears it. Not thread-specific: one flag for the process. */
void sb_db_set_interrupt(volatile sig_atomic_t *flag);

/* Nonzero when the flag given to sb_db_set_interrupt is set. */
int sb_db_interrupted(void);

#define SB_DB_ATTEMPT_SLICE_S 0.5

/* Connects (and authenticates) to the first address of the list that
 * answers. Returns SB_OK with *db set, or SB_ERR naming the address(es). */
int sb_db_open(const char *addresses, const sb_db_config_t *cfg, sb_db_t **db);

/* Closes the connection and frees the client. NULL is allowed. */
void sb_db_close(sb_db_t *db);

/* The address in use ("tcp://127.0.0.1:6379"): on a cluster, the seed
 * that answered (where keyless commands go). */
const char *sb_db_address(const sb_db_t *db);

/* On a cluster, the number of shards (masters) in the slot map; 0 for a
 * standalone server. */
int sb_db_cluster_shards(const sb_db_t *db);

/* On a cluster, an index of the shard that serves `slot` in the current
 * map (equal for slots of one shard, different across shards; not
 * 0..shards-1), or -1 when unknown or standalone. */
int sb_db_cluster_slot_owner(const sb_db_t *db, int slot);

/* One hash tag per shard of a cluster: "s<k>" for the first k whose slot
 * each shard serves, the same on every client that reads the same slot
 * map. Keys named "...{tag}..." all live on that tag's shard (e.g. one
 * copy of a model and the tensors it runs on). *tags is allocated (free
 * it) with *n entries; NULL and 0 on a standalone server. */
#define SB_DB_SHARD_TAG_LEN 16
int sb_db_shard_tags(const sb_db_t *db, char (**tags)[SB_DB_SHARD_TAG_LEN], int *n);

/* MOVED and ASK redirects this handle followed since it was opened (0 on a
 * standalone server). */
uint64_t sb_db_redirects(const sb_db_t *db);

#define SB_DB_MAX_REDIRECTS 5

/* The configuration the connection was opened with (to open more
 * connections to the same server, e.g. one per thread). */
const sb_db_config_t *sb_db_config(const sb_db_t *db);

/* One reply, as the client hands it to callers: a copy of the type and the
 * pieces callers need, so that hiredis stays out of the apps' headers. */
typedef struct sb_db_reply sb_db_reply_t;

/* Sends one command (binary-safe arguments) and reads its reply.
 * idempotent: 1 if re-sending after a connection failure is harmless.
 * On SB_OK, *reply (if not NULL) must be released with sb_db_reply_free.
 * An error reply from the server is SB_ERR with the server's text.
 * On a cluster the command goes to the shard of the key sb_db_key_arg
 * names: argv[1] for every keyed command the suite sends (SET, GET, DEL,
 * EXISTS, HSET, HGET, RPUSH, LLEN, LRANGE, AI.TENSORSET, AI.TENSORGET,
 * AI.MODELSTORE, AI.MODELGET, AI.MODELEXECUTE, AI.SCRIPTSET,
 * AI.SCRIPTEXECUTE, AI.INFO, ...). A command with several keys (DEL k1
 * k2, AI.MODELEXECUTE's inputs and outputs) must keep them in one slot
 * (hash tags); the server refuses it otherwise (CROSSSLOT). */
int sb_db_command(sb_db_t *db, int idempotent, int argc, const char **argv, const size_t *argvlen,
                  sb_db_reply_t **reply);

/* The same, with the key named explicitly: key_arg is the index in argv of
 * the key that decides the shard, or -1 for a command without a key (any
 * shard answers; the seed is asked). Without a cluster key_arg changes
 * nothing. */
int sb_db_command_key(sb_db_t *db, int key_arg, int idempotent, int argc, const char **argv,
                      const size_t *argvlen, sb_db_reply_t **reply);

/* Sends the read CMD KEY (EXISTS, LLEN, ...: idempotent) and gives its
 * integer reply in *n. */
int sb_db_key_int(sb_db_t *db, const char *cmd, const char *key, long long *n);

/* Which argument of a command is its key, as sb_db_command routes it: -1
 * for a command of one word and for the keyless commands (PING, ECHO,
 * INFO, MODULE, CLUSTER, CONFIG, COMMAND, CLIENT, DBSIZE, FLUSHALL,
 * FLUSHDB, TIME, AUTH, HELLO, ACL, SCAN, KEYS, RANDOMKEY, SLOWLOG,
 * LATENCY, MEMORY, WAIT, AI.CONFIG, ...), else 1. */
int sb_db_key_arg(int argc, const char **argv, const size_t *argvlen);

/* One command of a pipeline. */
typedef struct {
  int argc;
  const char **argv;
  const size_t *argvlen;
} sb_db_cmd_t;

/* Sends n commands back to back, then reads the n replies (one round trip
 * for the lot). Never re-sent: a broken connection is an error. Every reply
 * is read even after an error reply, so the connection stays usable; the
 * first error reply is returned as SB_ERR naming its command's index.
 * On a cluster the commands are grouped by the shard of each one's key
 * (sb_db_key_arg), each shard's group sent in order, all groups before any
 * reply is read; a command refused with a redirect (or TRYAGAIN,
 * CLUSTERDOWN) is sent again where it belongs, the others never. A dataset
 * (one hash tag) is one slot, so its pipeline goes to one shard. */
int sb_db_pipeline(sb_db_t *db, int n, const sb_db_cmd_t *cmds);

/* Accessors of a reply: kind ('s' string/status, 'i' integer, 'a' array,
 * 'n' nil, 'd' double-as-string), string bytes, integer, array elements. */
char sb_db_reply_kind(const sb_db_reply_t *r);
const char *sb_db_reply_str(const sb_db_reply_t *r, size_t *len);
long long sb_db_reply_int(const sb_db_reply_t *r);
size_t sb_db_reply_len(const sb_db_reply_t *r);
const sb_db_reply_t *sb_db_reply_at(const sb_db_reply_t *r, size_t k);
void sb_db_reply_free(sb_db_reply_t *r);

/* Plain strings (work on any Redis-protocol server): SET key value, and GET
 * key into buf (cap bytes), *len the value's length. A missing key or a
 * value longer than cap is SB_ERR. */
int sb_db_set(sb_db_t *db, const char *key, const void *value, size_t len);
int sb_db_get(sb_db_t *db, const char *key, void *buf, size_t cap, size_t *len);

/* Tensors through the module: AI.TENSORSET key dtype dims... BLOB data, and
 * AI.TENSORGET key META BLOB unpacked into buf. dtype is a RedisAI type name
 * ("FLOAT", "UINT8", ...). get_tensor checks that dtype and the element
 * count match what the caller expects, and copies the blob into buf. */
int sb_db_put_tensor(sb_db_t *db, const char *key, const char *dtype, const int64_t *dims,
                     int ndims, const void *data, size_t bytes);
int sb_db_get_tensor(sb_db_t *db, const char *key, const char *dtype, const int64_t *dims,
                     int ndims, void *buf, size_t bytes);

/* DEL key. */
int sb_db_del(sb_db_t *db, const char *key);

/* The value of `field` in `INFO section` (e.g. "server", "redis_version")
 * into buf. SB_ERR if the field is absent. */
int sb_db_info_field(sb_db_t *db, const char *section, const char *field, char *buf,
                     size_t len);

/* The version of a loaded module (MODULE LIST), or -1 when not loaded. */
int sb_db_module_version(sb_db_t *db, const char *name, long long *version);

#endif
