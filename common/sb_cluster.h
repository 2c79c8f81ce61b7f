/* Redis Cluster routing of the database client (internal; the apps see
 * only sb_db.h). The handle (the seed connection) owns a slot map from
 * CLUSTER SLOTS and one connection per shard, opened when first needed;
 * a command goes to the shard of its key's slot and follows MOVED and ASK
 * redirects (at most SB_DB_MAX_REDIRECTS), waits out TRYAGAIN and
 * CLUSTERDOWN (every retry interval, for at most the connect timeout).
 *
 * It stands on the connection layer (sb_conn.h: opening a shard's
 * connection, one command on it, INFO, pauses) and calls nothing of
 * sb_db.c; sb_db.c calls it. What to send on a connection comes in as a
 * callback (sb_cluster_exec_t), so the payload path is not called from
 * here either.
 */
#ifndef SB_CLUSTER_H
#define SB_CLUSTER_H

#include "sb_conn.h"
#include "sb_db.h"

/* At open, on the seed connection: CLUSTER SLOTS. A server with cluster
 * support disabled (or one that does not know the command) is standalone
 * and db->cluster stays NULL; a cluster gets its slot map. SB_ERR for a
 * broken connection, or a cluster whose slot map cannot be read. */
int sb_cluster_discover(sb_db_t *db);

/* Closes the shard connections and frees the map (NULL cluster: nothing). */
void sb_cluster_free(sb_db_t *db);

/* One exchange on one connection: returns SB_WIRE_OK, SB_WIRE_SERVER (with
 * conn->errline holding an error reply's text) or SB_WIRE_BROKEN. */
typedef int (*sb_cluster_exec_t)(sb_db_t *conn, void *arg);

/* Runs exec on the connection of the shard that serves argv[key_arg]
 * (key_arg < 1: the seed), following redirects as above. An idempotent
 * command whose connection broke is tried once more on the slot's owner if
 * a refreshed map names another node (a failover). SB_OK or SB_ERR. */
int sb_cluster_call(sb_db_t *db, int key_arg, int idempotent, int argc, const char **argv,
                    const size_t *argvlen, sb_cluster_exec_t exec, void *arg);

/* sb_db_pipeline on a cluster (see sb_db.h). */
int sb_cluster_pipeline(sb_db_t *db, int n, const sb_db_cmd_t *cmds);

/* What an error reply means to the router. For MOVED and ASK, *slot and
 * target ("host:port"; the host may be empty: the node that answered). */
enum {
  SB_REDIRECT_NONE = 0,
  SB_REDIRECT_MOVED,
  SB_REDIRECT_ASK,
  SB_REDIRECT_TRYAGAIN,
  SB_REDIRECT_CLUSTERDOWN
};
int sb_cluster_parse_redirect(const char *err, int *slot, char *target, size_t len);

#endif
