/* The producer's failure notice for the consumer (docs/aggregation.md,
 * "Faults"): the producer and the consumer are separate apps, possibly
 * separate launches, so a failure travels through the database.
 *
 * Key "iteration_abort" (the lists' prefix "iteration_" + "abort"; no list
 * is named so, list names end in a number): a hash with one field per
 * producer rank that gave up, field = the rank ("1"), value =
 * "<server time> <seq> <message>": the server's TIME when it was written
 * (seconds with microseconds), the iteration it failed in (-1: before the
 * first) and the error. Producer rank 0 deletes it in setup. The consumer
 * takes the server's TIME in setup and heeds only entries written since, so a
 * notice left by an earlier run is never taken for this one's.
 */
#ifndef SB_AGG_ABORT_H
#define SB_AGG_ABORT_H

#include "sb_db.h"

#include <stddef.h>
#include <stdint.h>

#define SB_AGG_ABORT_KEY "iteration_abort"

/* The server's clock (TIME), in seconds. */
int sb_agg_server_time(sb_db_t *db, double *t);

/* DEL iteration_abort. */
int sb_agg_abort_clear(sb_db_t *db);

/* HSET iteration_abort <rank> "<time> <seq> <message>" (re-sent on a new
 * connection if the old one broke: writing it twice is harmless). */
int sb_agg_abort_publish(sb_db_t *db, int rank, int64_t seq, const char *message);

/* Reads iteration_abort. *found = the number of entries written at or after
 * `since` (server time); when there is one, msg holds the earliest:
 * "producer rank N failed in iteration S: <message>". Entries are logged
 * (warn) when log_all is set. */
int sb_agg_abort_check(sb_db_t *db, double since, int log_all, int *found, char *msg,
                       size_t len);

#endif
