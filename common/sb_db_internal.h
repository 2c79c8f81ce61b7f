/* Internals of the database client shared by sb_db.c (connections, hiredis
 * commands), sb_db_wire.c (payload commands on the socket directly) and
 * sb_cluster.c (Redis Cluster routing). Not for the apps.
 *
 * One sb_db_t is one connection. The handle an app holds is the connection
 * to the seed address; in cluster mode it also owns the slot map and one
 * connection (an sb_db_t of its own) per shard, and every keyed command
 * goes through sb_cluster.c to the shard of its key's slot.
 */
#ifndef SB_DB_INTERNAL_H
#define SB_DB_INTERNAL_H

#include "sb_db.h"

#include <hiredis/hiredis.h>

#include <stddef.h>
#include <stdint.h>

#define SB_ADDR_MAX 512
#define SB_WIRE_BUF (64 * 1024)
#define SB_ERRLINE_MAX 512

struct sb_cluster;

struct sb_db {
  sb_db_config_t cfg;
  char addr[SB_ADDR_MAX]; /* in use, normalised ("tcp://h:p", "unix:///p") */
  redisContext *c;        /* NULL while disconnected */
  /* The payload path's read buffer; empty between commands. */
  char *rbuf;
  size_t rpos, rlen;
  char *hdr; /* the payload path's header buffer */
  size_t hdr_cap;
  /* The text of the last error reply read on this connection, without the
   * '-' ("MOVED 3999 127.0.0.1:7001"); "" when the last exchange had none.
   * The cluster layer reads redirects from it. */
  char errline[SB_ERRLINE_MAX];
  /* Cluster mode (on the app's handle only): the slot map and the shard
   * connections. NULL for a standalone server and for shard connections. */
  struct sb_cluster *cluster;
  uint64_t redirects; /* MOVED and ASK redirects followed (the handle's) */
};

/* The outcome of one exchange on one connection: OK; SERVER (the server
 * answered with an error reply, or with something the caller did not
 * expect; the error is set, errline holds an error reply's text, and the
 * connection stays when the reply was read whole); BROKEN (I/O failure, a
 * reply that could not be read whole, or retries used up: the error is
 * set and the connection was dropped). */
enum { SB_WIRE_OK = 0, SB_WIRE_SERVER = 1, SB_WIRE_BROKEN = 2 };

/* Opens one connection to one address (no cluster discovery), retrying
 * until deadline (sb_now() seconds). */
int sb_conn_open(const char *addr, const sb_db_config_t *cfg, double deadline, sb_db_t **out);

/* Frees one connection (not its cluster state). */
void sb_conn_free(sb_db_t *conn);

/* Sleeps s seconds in slices of at most 0.1 s; SB_ERR (no message set) as
 * soon as sb_db_interrupted(), SB_OK after the whole pause. */
int sb_db_pause(double s);

/* Replaces a broken connection (retrying within the connect timeout). */
int sb_db_reconnect(sb_db_t *db);

/* One command through hiredis on one connection, with the retry policy of
 * sb_db_command (an idempotent command is re-sent on a new connection after
 * a broken one, a write never). On SB_WIRE_OK, *reply (if not NULL) holds
 * the reply. */
int sb_conn_command(sb_db_t *conn, int idempotent, int argc, const char **argv,
                    const size_t *argvlen, redisReply **reply);

/* A pipeline through hiredis on one connection (never re-sent). Returns
 * SB_OK or SB_ERR (the first error reply, or a broken connection). */
int sb_conn_pipeline(sb_db_t *conn, int n, const sb_db_cmd_t *cmds);

/* A reply reader of the payload path: returns SB_WIRE_OK, SB_WIRE_SERVER
 * or SB_WIRE_BROKEN as above. */
typedef int (*sb_wire_reader_t)(sb_db_t *db, void *arg);

/* Sends argv (the last argument is the payload, sent from the caller's
 * memory) and reads the reply with `reader`, on one connection, with the
 * retry policy of sb_conn_command. Returns SB_WIRE_OK, SB_WIRE_SERVER or
 * SB_WIRE_BROKEN. */
int sb_wire_exchange_conn(sb_db_t *conn, int idempotent, int argc, const char **argv,
                          const size_t *argvlen, sb_wire_reader_t reader, void *arg);

/* The same on the handle: on a cluster, routed by the key argv[1] to its
 * shard, following redirects. Returns SB_OK or SB_ERR. */
int sb_wire_exchange(sb_db_t *db, int idempotent, int argc, const char **argv,
                     const size_t *argvlen, sb_wire_reader_t reader, void *arg);

/* Adds redirects followed on another handle (a pool's connection) to db's
 * count. */
void sb_db_add_redirects(sb_db_t *db, uint64_t n);

/* Readers: "+OK" (or any status); a bulk string into a buffer; the reply of
 * AI.TENSORGET key META BLOB checked and its blob read into a buffer. */
typedef struct {
  void *buf;
  size_t cap, len;
} sb_wire_bulk_t;

typedef struct {
  const char *dtype;
  const int64_t *dims;
  int ndims;
  void *buf;
  size_t bytes;
} sb_wire_tensor_t;

int sb_wire_read_ok(sb_db_t *db, void *arg);
int sb_wire_read_bulk(sb_db_t *db, void *arg);
int sb_wire_read_tensor(sb_db_t *db, void *arg);

#endif
