/* Internals of the database client shared by its files (not for the apps):
 * the connection (sb_conn.h: sb_conn.c), the payload path (sb_db_wire.h:
 * sb_db_wire.c), and what sb_db.c, on top of them and of sb_cluster.c
 * (Redis Cluster routing), gives the rest of common/ (sb_dataset.c).
 *
 * One sb_db_t is one connection (sb_conn.h). The handle an app holds is the
 * connection to the seed address; in cluster mode it also owns the slot map
 * and one connection (an sb_db_t of its own) per shard, and every keyed
 * command goes through sb_cluster.c to the shard of its key's slot.
 */
#ifndef SB_DB_INTERNAL_H
#define SB_DB_INTERNAL_H

#include "sb_conn.h"
#include "sb_db.h"
#include "sb_db_wire.h"

#include <stddef.h>
#include <stdint.h>

/* The payload exchange (sb_wire_exchange_conn) on the handle: on a cluster,
 * routed by the key argv[1] to its shard, following redirects. Returns
 * SB_OK or SB_ERR. */
int sb_wire_exchange(sb_db_t *db, int idempotent, int argc, const char **argv,
                     const size_t *argvlen, sb_wire_reader_t reader, void *arg);

/* Adds redirects followed on another handle (a pool's connection) to db's
 * count. */
void sb_db_add_redirects(sb_db_t *db, uint64_t n);

#endif
