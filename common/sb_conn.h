/* One connection of the database client (internal; the apps see only
 * sb_db.h): the connection object, opening it (address parsing, connect
 * timeout and retries, command timeout, keep-alive, AUTH), replacing it
 * after a break, one command or one pipeline through hiredis on it, INFO
 * fields, and the interruptible pause every wait of the client uses.
 *
 * This is the bottom layer of the client. sb_db_wire.c (the payload path),
 * sb_cluster.c (Redis Cluster routing) and sb_db.c (the handle the apps
 * hold) build on it; it calls none of them, so a reconnect, an INFO field
 * or a pause never goes back up through the layers that use it.
 *
 * One sb_db_t is one connection. The handle an app holds is the connection
 * to the seed address; in cluster mode it also owns the slot map and one
 * connection (an sb_db_t of its own) per shard. The fields of the cluster
 * mode (cluster, redirects) belong to sb_cluster.c and sb_db.c: this layer
 * never reads them.
 */
#ifndef SB_CONN_H
#define SB_CONN_H

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

/* The interrupt hook of sb_db.h (sb_db_set_interrupt, sb_db_interrupted)
 * is defined in sb_conn.c: connecting and pausing are where it is read. */

/* Sleeps s seconds in slices of at most 0.1 s; SB_ERR (no message set) as
 * soon as sb_db_interrupted(), SB_OK after the whole pause. */
int sb_conn_pause(double s);

/* Splits one address ("tcp://host:port", "host:port", "tcp://[v6]:port",
 * "unix:///path") into host (or the socket's path, hlen bytes at most),
 * port (0 for a socket) and *is_unix. SB_OK, or SB_ERR ("invalid database
 * address ..."). */
int sb_conn_parse_address(const char *addr, char *host, size_t hlen, int *port, int *is_unix);

/* Opens one connection to one address (no cluster discovery): attempts
 * every retry interval until deadline (sb_now() seconds), at most
 * max_attempts of them (0: no limit but the deadline). Each attempt
 * connects (while an interrupt flag is set, in slices of
 * SB_DB_ATTEMPT_SLICE_S), sets the command timeout, keep-alive for TCP,
 * and AUTH when the configuration has a password. Returns SB_OK with *out
 * set (addr normalised to "tcp://..." when it named no scheme), or SB_ERR
 * with the error set; *fatal is set when retrying elsewhere cannot help
 * either (a malformed address, a refused AUTH, the interrupt flag). */
int sb_conn_open_attempts(const char *addr, const sb_db_config_t *cfg, double deadline,
                          int max_attempts, int *fatal, sb_db_t **out);

/* The same without a bound on the attempts and without *fatal: what the
 * cluster layer opens a shard's connection with. */
int sb_conn_open(const char *addr, const sb_db_config_t *cfg, double deadline, sb_db_t **out);

/* Frees one connection (not its cluster state). NULL is allowed. */
void sb_conn_free(sb_db_t *conn);

/* Replaces the connection's hiredis context (a broken one, or none) with a
 * new one to the same address, retrying within the connect timeout. SB_OK,
 * or SB_ERR with the error set and conn->c NULL. The payload path and the
 * cluster layer call it before they send on a connection found broken. */
int sb_conn_reconnect(sb_db_t *conn);

/* One command through hiredis on one connection, with the retry policy of
 * sb_db_command (an idempotent command is re-sent on a new connection after
 * a broken one, a write never). Returns SB_WIRE_OK, SB_WIRE_SERVER (an error
 * reply: its text in conn->errline) or SB_WIRE_BROKEN. On SB_WIRE_OK,
 * *reply (if not NULL) holds the reply, for freeReplyObject. */
int sb_conn_command(sb_db_t *conn, int idempotent, int argc, const char **argv,
                    const size_t *argvlen, redisReply **reply);

/* A pipeline through hiredis on one connection (never re-sent). Returns
 * SB_OK or SB_ERR (the first error reply, or a broken connection). */
int sb_conn_pipeline(sb_db_t *conn, int n, const sb_db_cmd_t *cmds);

/* Finds `field` in the text of an INFO reply (lines "field:value") and
 * copies its value (up to the end of the line) into buf. Returns 1 when
 * found, 0 when not (text may be NULL); sets no error. */
int sb_conn_info_find(const char *text, const char *field, char *buf, size_t len);

/* sb_db_info_field on one connection (INFO section through
 * sb_conn_command, no routing): SB_OK, or SB_ERR with the error set (the
 * command's, or "ADDR: INFO SECTION has no field FIELD"). */
int sb_conn_info_field(sb_db_t *conn, const char *section, const char *field, char *buf,
                       size_t len);

#endif
