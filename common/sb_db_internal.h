/* Internals of the database client shared by sb_db.c (connection, hiredis
 * commands) and sb_db_wire.c (payload commands on the socket directly).
 * Not for the apps. */
#ifndef SB_DB_INTERNAL_H
#define SB_DB_INTERNAL_H

#include "sb_db.h"

#include <hiredis/hiredis.h>

#include <stddef.h>
#include <stdint.h>

#define SB_ADDR_MAX 512
#define SB_WIRE_BUF (64 * 1024)

struct sb_db {
  sb_db_config_t cfg;
  char addr[SB_ADDR_MAX]; /* in use, normalised */
  redisContext *c;        /* NULL while disconnected */
  /* The payload path's read buffer; empty between commands. */
  char *rbuf;
  size_t rpos, rlen;
  char *hdr; /* the payload path's header buffer */
  size_t hdr_cap;
};

/* Replaces a broken connection (retrying within the connect timeout). */
int sb_db_reconnect(sb_db_t *db);

/* A reply reader of the payload path. Returns SB_WIRE_OK, SB_WIRE_SERVER
 * (the server answered with an error or with something the caller did not
 * expect; the error is set and the connection may stay if the reply was
 * read whole) or SB_WIRE_BROKEN (I/O failure or a reply that could not be
 * read whole: the connection is dropped). */
enum { SB_WIRE_OK = 0, SB_WIRE_SERVER = 1, SB_WIRE_BROKEN = 2 };
typedef int (*sb_wire_reader_t)(sb_db_t *db, void *arg);

/* Sends argv (the last argument is the payload, sent from the caller's
 * memory) and reads the reply with `reader`. The retry policy is the one of
 * sb_db_command: an idempotent command is re-sent once on a new connection
 * after a broken one, a write never. Returns SB_OK or SB_ERR. */
int sb_wire_exchange(sb_db_t *db, int idempotent, int argc, const char **argv,
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

int sb_wire_read_ok(sb_db_t *db, void *arg);
int sb_wire_read_bulk(sb_db_t *db, void *arg);
int sb_wire_read_tensor(sb_db_t *db, void *arg);

#endif
