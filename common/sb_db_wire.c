/* The payload path of the database client: commands that carry a large
 * value are written with one sendmsg from the caller's memory (header,
 * payload, CRLF), and replies that carry one are parsed here so the value
 * goes from the socket straight into the caller's buffer. hiredis would
 * format a copy of the command and build a reply object (two more copies
 * of every byte), which on a loaded node costs the server CPU it needs.
 *
 * The connection is hiredis's (its socket, timeouts and AUTH); its buffers
 * are empty between commands because nothing is pipelined, so both paths can
 * share it. This file works on one connection (sb_conn.c's, which also
 * replaces it when it broke); sb_wire_exchange (sb_db.c) picks the
 * connection (a cluster's shard) first. */
#include "sb_db_wire.h"

#include "sb_conn.h"

#include "sb_error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

static void drop(sb_db_t *db)
{
  if (db->c)
    redisFree(db->c);
  db->c = NULL;
  db->rpos = db->rlen = 0;
}

static int io_error(sb_db_t *db, const char *what)
{
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    sb_error("%s: no reply within the command timeout (%.1f s)", db->addr,
             db->cfg.command_timeout_s);
  else
    sb_error("%s: %s: %s", db->addr, what, errno ? strerror(errno) : "connection closed");
  return SB_WIRE_BROKEN;
}

/* An error reply ("-TEXT"): kept in errline for the cluster layer
 * (redirects) and made the thread's error. */
static int server_error(sb_db_t *db, const char *line, size_t len)
{
  size_t n = len - 1 < SB_ERRLINE_MAX - 1 ? len - 1 : SB_ERRLINE_MAX - 1;
  memcpy(db->errline, line + 1, n);
  db->errline[n] = '\0';
  sb_error("%s: %s", db->addr, db->errline);
  return SB_WIRE_SERVER;
}

/* ---- sending ------------------------------------------------------------------ */

static int hdr_append(sb_db_t *db, size_t *len, const char *s, size_t n)
{
  if (*len + n > db->hdr_cap) {
    size_t cap = db->hdr_cap ? db->hdr_cap : 1024;
    while (cap < *len + n)
      cap *= 2;
    char *h = realloc(db->hdr, cap);
    if (!h)
      return sb_error("out of memory");
    db->hdr = h;
    db->hdr_cap = cap;
  }
  memcpy(db->hdr + *len, s, n);
  *len += n;
  return SB_OK;
}

static int send_command(sb_db_t *db, int argc, const char **argv, const size_t *argvlen)
{
  char num[48];
  size_t hl = 0;
  int n = snprintf(num, sizeof num, "*%d\r\n", argc);
  if (hdr_append(db, &hl, num, (size_t)n) != SB_OK)
    return SB_WIRE_BROKEN;
  for (int k = 0; k < argc; k++) {
    n = snprintf(num, sizeof num, "$%zu\r\n", argvlen[k]);
    if (hdr_append(db, &hl, num, (size_t)n) != SB_OK)
      return SB_WIRE_BROKEN;
    if (k + 1 < argc && (hdr_append(db, &hl, argv[k], argvlen[k]) != SB_OK ||
                         hdr_append(db, &hl, "\r\n", 2) != SB_OK))
      return SB_WIRE_BROKEN;
  }
  struct iovec iov[3] = {{db->hdr, hl}, {(void *)argv[argc - 1], argvlen[argc - 1]},
                         {(void *)"\r\n", 2}};
  struct iovec *v = iov;
  int nv = 3;
  while (nv > 0) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = v;
    msg.msg_iovlen = (size_t)nv;
    ssize_t w = sendmsg(db->c->fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return io_error(db, "send");
    }
    size_t left = (size_t)w;
    while (nv > 0 && left >= v->iov_len) {
      left -= v->iov_len;
      v++;
      nv--;
    }
    if (nv > 0) {
      v->iov_base = (char *)v->iov_base + left;
      v->iov_len -= left;
    }
  }
  return SB_WIRE_OK;
}

/* ---- receiving ---------------------------------------------------------------- */

static int fill(sb_db_t *db)
{
  if (db->rpos == db->rlen)
    db->rpos = db->rlen = 0;
  if (db->rlen == SB_WIRE_BUF) {
    memmove(db->rbuf, db->rbuf + db->rpos, db->rlen - db->rpos);
    db->rlen -= db->rpos;
    db->rpos = 0;
  }
  for (;;) {
    ssize_t r = recv(db->c->fd, db->rbuf + db->rlen, SB_WIRE_BUF - db->rlen, 0);
    if (r > 0) {
      db->rlen += (size_t)r;
      return SB_WIRE_OK;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0)
      errno = 0;
    return io_error(db, "receive");
  }
}

/* One reply line without its CRLF; *line stays valid until the next read. */
static int read_line(sb_db_t *db, const char **line, size_t *len)
{
  size_t scanned = db->rpos;
  for (;;) {
    for (size_t k = scanned; k + 1 < db->rlen; k++) {
      if (db->rbuf[k] == '\r' && db->rbuf[k + 1] == '\n') {
        *line = db->rbuf + db->rpos;
        *len = k - db->rpos;
        db->rpos = k + 2;
        return SB_WIRE_OK;
      }
    }
    if (db->rlen - db->rpos >= SB_WIRE_BUF) {
      sb_error("%s: reply line longer than %d bytes", db->addr, SB_WIRE_BUF);
      return SB_WIRE_BROKEN;
    }
    /* fill may move the unread bytes to the front: keep the offset of the
     * first byte not yet scanned (one back, for a CR at the end). */
    size_t off = db->rlen > db->rpos ? db->rlen - db->rpos - 1 : 0;
    int rc = fill(db);
    if (rc != SB_WIRE_OK)
      return rc;
    scanned = db->rpos + off;
  }
}

/* n bytes into dst (NULL: discard): first what is buffered, then straight
 * from the socket. */
static int read_exact(sb_db_t *db, char *dst, size_t n)
{
  size_t have = db->rlen - db->rpos, take = have < n ? have : n;
  if (dst && take)
    memcpy(dst, db->rbuf + db->rpos, take);
  db->rpos += take;
  n -= take;
  if (dst)
    dst += take;
  while (n > 0) {
    if (!dst) {
      int rc = fill(db);
      if (rc != SB_WIRE_OK)
        return rc;
      take = db->rlen - db->rpos < n ? db->rlen - db->rpos : n;
      db->rpos += take;
      n -= take;
      continue;
    }
    ssize_t r = recv(db->c->fd, dst, n, MSG_WAITALL);
    if (r > 0) {
      dst += r;
      n -= (size_t)r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else {
      if (r == 0)
        errno = 0;
      return io_error(db, "receive");
    }
  }
  return SB_WIRE_OK;
}

static int read_crlf(sb_db_t *db)
{
  char crlf[2];
  int rc = read_exact(db, crlf, 2);
  if (rc == SB_WIRE_OK && (crlf[0] != '\r' || crlf[1] != '\n')) {
    sb_error("%s: malformed reply (bulk string not followed by CRLF)", db->addr);
    return SB_WIRE_BROKEN;
  }
  return rc;
}

/* Reads a reply header line of the given type ('$', '*', ':'), turning an
 * error reply into SB_WIRE_SERVER and anything else into BROKEN. */
static int read_header(sb_db_t *db, char type, long long *value)
{
  const char *line;
  size_t len;
  char tmp[64];
  int rc = read_line(db, &line, &len);
  if (rc != SB_WIRE_OK)
    return rc;
  if (len > 0 && line[0] == '-')
    return server_error(db, line, len);
  if (len < 2 || line[0] != type || len - 1 >= sizeof tmp) {
    sb_error("%s: unexpected reply '%.*s' (expected '%c')", db->addr, (int)(len < 40 ? len : 40),
             line, type);
    return SB_WIRE_BROKEN;
  }
  memcpy(tmp, line + 1, len - 1);
  tmp[len - 1] = '\0';
  char *end = NULL;
  *value = strtoll(tmp, &end, 10);
  if (*end) {
    sb_error("%s: malformed reply header '%s'", db->addr, tmp);
    return SB_WIRE_BROKEN;
  }
  return SB_WIRE_OK;
}

/* A short bulk string (a name or a dtype) into out, NUL-terminated. */
static int read_small_bulk(sb_db_t *db, char *out, size_t cap)
{
  long long n;
  int rc = read_header(db, '$', &n);
  if (rc != SB_WIRE_OK)
    return rc;
  if (n < 0 || (size_t)n >= cap) {
    sb_error("%s: unexpected %lld-byte string in a tensor reply", db->addr, n);
    return SB_WIRE_BROKEN;
  }
  if ((rc = read_exact(db, out, (size_t)n)) != SB_WIRE_OK || (rc = read_crlf(db)) != SB_WIRE_OK)
    return rc;
  out[n] = '\0';
  return SB_WIRE_OK;
}

int sb_wire_read_ok(sb_db_t *db, void *arg)
{
  const char *line;
  size_t len;
  (void)arg;
  int rc = read_line(db, &line, &len);
  if (rc != SB_WIRE_OK)
    return rc;
  if (len > 0 && line[0] == '+')
    return SB_WIRE_OK;
  if (len > 0 && line[0] == '-')
    return server_error(db, line, len);
  sb_error("%s: unexpected reply '%.*s' (expected +OK)", db->addr, (int)(len < 40 ? len : 40),
           line);
  return SB_WIRE_BROKEN;
}

int sb_wire_read_bulk(sb_db_t *db, void *arg)
{
  sb_wire_bulk_t *b = arg;
  long long n;
  int rc = read_header(db, '$', &n);
  if (rc != SB_WIRE_OK)
    return rc;
  if (n < 0) {
    sb_error("%s: no such key", db->addr);
    return SB_WIRE_SERVER;
  }
  if ((size_t)n > b->cap) {
    if ((rc = read_exact(db, NULL, (size_t)n)) != SB_WIRE_OK || (rc = read_crlf(db)) != SB_WIRE_OK)
      return rc;
    sb_error("%s: value of %lld bytes, room for %zu", db->addr, n, b->cap);
    return SB_WIRE_SERVER;
  }
  if ((rc = read_exact(db, b->buf, (size_t)n)) != SB_WIRE_OK || (rc = read_crlf(db)) != SB_WIRE_OK)
    return rc;
  b->len = (size_t)n;
  return SB_WIRE_OK;
}

/* The error of an AI.TENSORGET reply that is not laid out as asked. */
static int tensor_layout_error(sb_db_t *db)
{
  sb_error("%s: AI.TENSORGET reply is not [dtype, T, shape, [..], blob, B]", db->addr);
  return SB_WIRE_BROKEN;
}

/* Reads the next field name of an AI.TENSORGET reply: SB_WIRE_OK when it is
 * want (in any case), else the read's code or the layout error. */
static int read_field_name(sb_db_t *db, const char *want)
{
  char name[16];
  int rc = read_small_bulk(db, name, sizeof name);
  if (rc != SB_WIRE_OK)
    return rc;
  return strcasecmp(name, want) == 0 ? SB_WIRE_OK : tensor_layout_error(db);
}

int sb_wire_read_tensor(sb_db_t *db, void *arg)
{
  sb_wire_tensor_t *t = arg;
  char dtype[32];
  long long n, nd, dim, blob;
  int rc, mismatch = 0;

  if ((rc = read_header(db, '*', &n)) != SB_WIRE_OK)
    return rc;
  if (n != 6) {
    sb_error("%s: AI.TENSORGET reply has %lld elements, expected 6", db->addr, n);
    return SB_WIRE_BROKEN;
  }
  if ((rc = read_field_name(db, "dtype")) != SB_WIRE_OK)
    return rc;
  if ((rc = read_small_bulk(db, dtype, sizeof dtype)) != SB_WIRE_OK)
    return rc;
  if (strcasecmp(dtype, t->dtype) != 0) {
    sb_error("%s: tensor has dtype %s, expected %s", db->addr, dtype, t->dtype);
    mismatch = 1;
  }
  if ((rc = read_field_name(db, "shape")) != SB_WIRE_OK)
    return rc;
  if ((rc = read_header(db, '*', &nd)) != SB_WIRE_OK)
    return rc;
  if (nd != t->ndims && !mismatch) {
    sb_error("%s: tensor has %lld dimensions, expected %d", db->addr, nd, t->ndims);
    mismatch = 1;
  }
  for (long long d = 0; d < nd; d++) {
    if ((rc = read_header(db, ':', &dim)) != SB_WIRE_OK)
      return rc;
    if (!mismatch && d < t->ndims && dim != t->dims[d]) {
      sb_error("%s: tensor dimension %lld is %lld, expected %" PRId64, db->addr, d, dim,
               t->dims[d]);
      mismatch = 1;
    }
  }
  if ((rc = read_field_name(db, "blob")) != SB_WIRE_OK)
    return rc;
  if ((rc = read_header(db, '$', &blob)) != SB_WIRE_OK)
    return rc;
  if (blob < 0)
    return tensor_layout_error(db);
  if (mismatch || (size_t)blob != t->bytes) {
    if ((rc = read_exact(db, NULL, (size_t)blob)) != SB_WIRE_OK ||
        (rc = read_crlf(db)) != SB_WIRE_OK)
      return rc;
    if (!mismatch)
      sb_error("%s: tensor blob of %lld bytes, expected %zu", db->addr, blob, t->bytes);
    return SB_WIRE_SERVER;
  }
  if ((rc = read_exact(db, t->buf, t->bytes)) != SB_WIRE_OK || (rc = read_crlf(db)) != SB_WIRE_OK)
    return rc;
  return SB_WIRE_OK;
}

/* ---- one exchange ------------------------------------------------------------- */

int sb_wire_exchange_conn(sb_db_t *db, int idempotent, int argc, const char **argv,
                          const size_t *argvlen, sb_wire_reader_t reader, void *arg)
{
  int tries = 1 + (idempotent ? db->cfg.command_retries : 0);
  db->errline[0] = '\0';
  if (!db->rbuf && !(db->rbuf = malloc(SB_WIRE_BUF))) {
    sb_error("out of memory");
    return SB_WIRE_BROKEN;
  }
  for (int t = 0; t < tries; t++) {
    int rc;
    /* A connection broken earlier is replaced before anything is sent. */
    if (!db->c && sb_conn_reconnect(db) != SB_OK) {
      sb_error_prefix("%s (command %s)", db->addr, argv[0]);
      return SB_WIRE_BROKEN;
    }
    db->rpos = db->rlen = 0;
    rc = send_command(db, argc, argv, argvlen);
    if (rc == SB_WIRE_OK)
      rc = reader(db, arg);
    if (rc == SB_WIRE_OK)
      return SB_WIRE_OK;
    if (rc == SB_WIRE_SERVER) {
      sb_error_prefix("%s", argv[0]);
      return SB_WIRE_SERVER;
    }
    drop(db);
    if (!idempotent) {
      sb_error_prefix("%s failed (not re-sent: it may have been applied)", argv[0]);
      return SB_WIRE_BROKEN;
    }
  }
  sb_error_prefix("%s failed after %d tries", argv[0], tries);
  return SB_WIRE_BROKEN;
}
