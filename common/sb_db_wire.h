/* The payload path of the database client (internal; the apps see only
 * sb_db.h): a command whose last argument is a large value is written with
 * one sendmsg from the caller's memory, and a reply that carries one is
 * parsed by our own readers, so the value goes from the socket straight
 * into the caller's buffer. It works on one connection (sb_conn.h), which
 * it replaces through sb_conn_reconnect when found broken; sb_wire_exchange
 * (sb_db_internal.h, in sb_db.c) picks the connection (a cluster's shard)
 * first.
 */
#ifndef SB_DB_WIRE_H
#define SB_DB_WIRE_H

#include "sb_conn.h"

#include <stddef.h>
#include <stdint.h>

/* A reply reader of the payload path: returns SB_WIRE_OK, SB_WIRE_SERVER
 * or SB_WIRE_BROKEN (sb_conn.h). */
typedef int (*sb_wire_reader_t)(sb_db_t *db, void *arg);

/* Sends argv (the last argument is the payload, sent from the caller's
 * memory) and reads the reply with `reader`, on one connection, with the
 * retry policy of sb_conn_command (a connection broken earlier is replaced
 * first; an idempotent command is sent again on a new connection after a
 * broken exchange, a write never). Returns SB_WIRE_OK, SB_WIRE_SERVER
 * (conn->errline holds an error reply's text) or SB_WIRE_BROKEN. */
int sb_wire_exchange_conn(sb_db_t *conn, int idempotent, int argc, const char **argv,
                          const size_t *argvlen, sb_wire_reader_t reader, void *arg);

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

/* A status reply ("+OK"): SB_WIRE_OK; an error reply: SB_WIRE_SERVER;
 * anything else: SB_WIRE_BROKEN. arg is unused. */
int sb_wire_read_ok(sb_db_t *db, void *arg);

/* A bulk string into the sb_wire_bulk_t at arg (its len set). A nil reply
 * ("no such key") or a value longer than cap (read and dropped) is
 * SB_WIRE_SERVER. */
int sb_wire_read_bulk(sb_db_t *db, void *arg);

/* AI.TENSORGET key META BLOB's reply ([dtype, T, shape, [..], blob, B])
 * into the sb_wire_tensor_t at arg: the dtype, the dimensions and the blob's
 * size must be the expected ones (else SB_WIRE_SERVER, the reply read
 * whole); the blob goes into buf. */
int sb_wire_read_tensor(sb_db_t *db, void *arg);

#endif
