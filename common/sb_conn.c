/* The bottom layer of the database client: one connection (see sb_conn.h).
 * Address parsing, connecting with the connect timeout, retries and AUTH,
 * the interrupt hook and the interruptible pause, reconnecting, and one
 * command or one pipeline through hiredis on one connection, INFO fields.
 * It calls nothing of the layers above it (sb_db_wire.c, sb_cluster.c,
 * sb_db.c). */
#include "sb_conn.h"

#include "sb_error.h"
#include "sb_log.h"
#include "sb_timer.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* ---- interrupting ---------------------------------------------------------- */

static volatile sig_atomic_t *interrupt_flag;

void sb_db_set_interrupt(volatile sig_atomic_t *flag) { interrupt_flag = flag; }

int sb_db_interrupted(void) { return interrupt_flag && *interrupt_flag; }

int sb_conn_pause(double s)
{
  double until = sb_now() + s;
  for (;;) {
    double left = until - sb_now();
    struct timespec ts;
    if (sb_db_interrupted())
      return SB_ERR;
    if (left <= 0)
      return SB_OK;
    if (left > 0.1)
      left = 0.1;
    ts.tv_sec = (time_t)left;
    ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL); /* EINTR (a signal) only ends this slice early */
  }
}

/* ---- connecting ----------------------------------------------------------- */

static struct timeval to_timeval(double s)
{
  struct timeval tv;
  if (s < 0.001)
    s = 0.001;
  tv.tv_sec = (time_t)s;
  tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
  return tv;
}

/* Splits "tcp://host:port", "host:port", "[v6]:port" or "unix:///path". */
int sb_conn_parse_address(const char *addr, char *host, size_t hlen, int *port, int *is_unix)
{
  const char *p = addr, *colon;
  char *end = NULL;
  long v;
  *is_unix = 0;
  if (strncmp(p, "unix://", 7) == 0) {
    p += 7;
    if (!*p || strlen(p) >= hlen)
      return sb_error("invalid database address '%s': expected unix:///path/to/socket", addr);
    snprintf(host, hlen, "%s", p);
    *is_unix = 1;
    *port = 0;
    return SB_OK;
  }
  if (strncmp(p, "tcp://", 6) == 0)
    p += 6;
  if (*p == '[') {
    const char *rb = strchr(p, ']');
    if (!rb || rb[1] != ':')
      return sb_error("invalid database address '%s'", addr);
    if ((size_t)(rb - p - 1) >= hlen)
      return sb_error("invalid database address '%s': host too long", addr);
    memcpy(host, p + 1, (size_t)(rb - p - 1));
    host[rb - p - 1] = '\0';
    colon = rb + 1;
  } else {
    colon = strrchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= hlen)
      return sb_error("invalid database address '%s': expected tcp://host:port or "
                      "unix:///path", addr);
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
  }
  errno = 0;
  v = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || v < 1 || v > 65535)
    return sb_error("invalid database address '%s': bad port", addr);
  *port = (int)v;
  return SB_OK;
}

static int authenticate(redisContext *c, const sb_db_config_t *cfg, const char *addr)
{
  redisReply *r;
  if (!cfg->password[0])
    return SB_OK;
  if (cfg->user[0])
    r = redisCommand(c, "AUTH %s %s", cfg->user, cfg->password);
  else
    r = redisCommand(c, "AUTH %s", cfg->password);
  if (!r)
    return sb_error("%s: AUTH failed: %s", addr, c->errstr);
  if (r->type == REDIS_REPLY_ERROR) {
    sb_error("%s: authentication failed for user '%s': %s", addr,
             cfg->user[0] ? cfg->user : "default", r->str);
    freeReplyObject(r);
    return SB_ERR;
  }
  freeReplyObject(r);
  return SB_OK;
}

/* Connects to one address, retrying until the deadline. Returns the context
 * or NULL with the error set. *fatal is set when retrying cannot help (also
 * when the interrupt flag is set: the caller must not try elsewhere). */
static redisContext *connect_until(const char *addr, const sb_db_config_t *cfg, double deadline,
                                   int *fatal, int max_attempts)
{
  char host[SB_ADDR_MAX], last[256] = "no attempt made";
  int port = 0, is_unix = 0, attempts = 0, resume = 0;
  *fatal = 0;
  if (sb_conn_parse_address(addr, host, sizeof host, &port, &is_unix) != SB_OK) {
    *fatal = 1;
    return NULL;
  }
  for (;;) {
    double left = deadline - sb_now(), wait, t0;
    int sliced;
    redisContext *c;
    if (sb_db_interrupted()) {
      *fatal = 1;
      sb_error("interrupted by a signal while connecting to %s (%d attempts made)", addr,
               attempts);
      return NULL;
    }
    if (left <= 0 && (attempts > 0 || resume))
      break;
    if (!resume)
      attempts++;
    resume = 0;
    /* While an interrupt flag is set, one wait for the handshake lasts at
     * most a slice, so that the flag is looked at in time; a slice that
     * ran out continues the same attempt (not counted, no pause). */
    wait = left;
    sliced = interrupt_flag && wait > SB_DB_ATTEMPT_SLICE_S;
    if (sliced)
      wait = SB_DB_ATTEMPT_SLICE_S;
    t0 = sb_now();
    c = is_unix ? redisConnectUnixWithTimeout(host, to_timeval(wait))
                : redisConnectWithTimeout(host, port, to_timeval(wait));
    if (c && !c->err) {
      if (redisSetTimeout(c, to_timeval(cfg->command_timeout_s)) != REDIS_OK) {
        snprintf(last, sizeof last, "cannot set the command timeout: %s", c->errstr);
      } else {
        if (!is_unix && redisEnableKeepAlive(c) != REDIS_OK)
          sb_log(SB_LOG_DEBUG, "%s: keep-alive not enabled: %s", addr, c->errstr);
        if (authenticate(c, cfg, addr) == SB_OK)
          return c;
        redisFree(c);
        *fatal = 1;
        return NULL;
      }
    } else {
      snprintf(last, sizeof last, "%s", c ? c->errstr : "out of memory");
      if (sliced && sb_now() - t0 >= 0.9 * wait && deadline - sb_now() > 0) {
        if (c)
          redisFree(c);
        resume = 1;
        continue;
      }
    }
    if (c)
      redisFree(c);
    sb_log(SB_LOG_DEBUG, "connect to %s, attempt %d: %s", addr, attempts, last);
    left = deadline - sb_now();
    if (left <= 0 || attempts == max_attempts)
      break;
    if (sb_conn_pause(cfg->retry_interval_s < left ? cfg->retry_interval_s : left) != SB_OK)
      continue; /* interrupted: said at the top */
  }
  if (max_attempts == 1)
    sb_error("cannot connect to database at %s: %s", addr, last);
  else
    sb_error("cannot connect to database at %s within %.1f s (%d attempts): %s", addr,
             cfg->connect_timeout_s, attempts, last);
  return NULL;
}

int sb_conn_open_attempts(const char *addr, const sb_db_config_t *cfg, double deadline,
                          int max_attempts, int *fatal, sb_db_t **out)
{
  sb_db_t *db = calloc(1, sizeof *db);
  *fatal = 0;
  if (!db)
    return sb_error("out of memory");
  db->cfg = *cfg;
  db->c = connect_until(addr, cfg, deadline, fatal, max_attempts);
  if (!db->c) {
    free(db);
    return SB_ERR;
  }
  if (strstr(addr, "://"))
    snprintf(db->addr, sizeof db->addr, "%s", addr);
  else
    snprintf(db->addr, sizeof db->addr, "tcp://%s", addr);
  *out = db;
  return SB_OK;
}

int sb_conn_open(const char *addr, const sb_db_config_t *cfg, double deadline, sb_db_t **out)
{
  int fatal;
  return sb_conn_open_attempts(addr, cfg, deadline, 0, &fatal, out);
}

void sb_conn_free(sb_db_t *db)
{
  if (!db)
    return;
  if (db->c)
    redisFree(db->c);
  free(db->rbuf);
  free(db->hdr);
  free(db);
}

int sb_conn_reconnect(sb_db_t *db)
{
  int fatal;
  if (db->c)
    redisFree(db->c);
  db->c = connect_until(db->addr, &db->cfg, sb_now() + db->cfg.connect_timeout_s, &fatal, 0);
  return db->c ? SB_OK : SB_ERR;
}

/* ---- commands ------------------------------------------------------------- */

int sb_conn_command(sb_db_t *db, int idempotent, int argc, const char **argv,
                    const size_t *argvlen, redisReply **reply)
{
  int tries = 1 + (idempotent ? db->cfg.command_retries : 0);
  char last[256] = "";
  db->errline[0] = '\0';
  for (int t = 0; t < tries; t++) {
    void *r = NULL;
    /* A broken connection from an earlier failure is replaced before
     * anything is sent, so this never re-sends a command. */
    if (!db->c && sb_conn_reconnect(db) != SB_OK) {
      sb_error_prefix("%s (command %s)", db->addr, argv[0]);
      return SB_WIRE_BROKEN;
    }
    if (redisAppendCommandArgv(db->c, argc, argv, argvlen) != REDIS_OK ||
        redisGetReply(db->c, &r) != REDIS_OK || !r) {
      int timed_out = db->c->err == REDIS_ERR_IO &&
                      (errno == EAGAIN || errno == EWOULDBLOCK);
      snprintf(last, sizeof last, "%s", timed_out ? "no reply within the command timeout"
                                                  : db->c->errstr);
      redisFree(db->c);
      db->c = NULL;
      if (!idempotent) {
        sb_error("%s: %s failed: %s (not re-sent: it may have been applied)", db->addr, argv[0],
                 last);
        return SB_WIRE_BROKEN;
      }
      sb_log(SB_LOG_DEBUG, "%s: %s failed (%s), retrying", db->addr, argv[0], last);
      continue;
    }
    redisReply *rr = r;
    if (rr->type == REDIS_REPLY_ERROR) {
      snprintf(db->errline, sizeof db->errline, "%s", rr->str);
      sb_error("%s: %s: %s", db->addr, argv[0], rr->str);
      freeReplyObject(rr);
      return SB_WIRE_SERVER;
    }
    if (reply)
      *reply = rr;
    else
      freeReplyObject(rr);
    return SB_WIRE_OK;
  }
  sb_error("%s: %s failed after %d tries: %s", db->addr, argv[0], tries, last);
  return SB_WIRE_BROKEN;
}

int sb_conn_pipeline(sb_db_t *db, int n, const sb_db_cmd_t *cmds)
{
  int first_err = -1;
  char errtxt[256] = "";
  if (!db->c && sb_conn_reconnect(db) != SB_OK)
    return sb_error_prefix("%s (pipeline of %d commands)", db->addr, n);
  for (int i = 0; i < n; i++)
    if (redisAppendCommandArgv(db->c, cmds[i].argc, cmds[i].argv, cmds[i].argvlen) != REDIS_OK)
      goto broken;
  for (int i = 0; i < n; i++) {
    void *r = NULL;
    if (redisGetReply(db->c, &r) != REDIS_OK || !r)
      goto broken;
    redisReply *rr = r;
    if (rr->type == REDIS_REPLY_ERROR && first_err < 0) {
      first_err = i;
      snprintf(errtxt, sizeof errtxt, "%s", rr->str);
    }
    freeReplyObject(rr);
  }
  if (first_err >= 0)
    return sb_error("%s: %s (command %d of a pipeline of %d): %s", db->addr,
                    cmds[first_err].argv[0], first_err + 1, n, errtxt);
  return SB_OK;
broken: {
  int timed_out = db->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
  sb_error("%s: pipeline of %d commands failed: %s (not re-sent: it may have been applied)",
           db->addr, n, timed_out ? "no reply within the command timeout" : db->c->errstr);
  redisFree(db->c);
  db->c = NULL;
  return SB_ERR;
}
}

/* ---- server facts ---------------------------------------------------------- */

int sb_conn_info_find(const char *text, const char *field, char *buf, size_t len)
{
  size_t flen = strlen(field);
  for (const char *p = text; p && *p;) {
    if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
      size_t vl = strcspn(p + flen + 1, "\r\n");
      snprintf(buf, len, "%.*s", (int)vl, p + flen + 1);
      return 1;
    }
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  return 0;
}

int sb_conn_info_field(sb_db_t *db, const char *section, const char *field, char *buf,
                       size_t len)
{
  const char *argv[2] = {"INFO", section};
  size_t argvlen[2] = {4, strlen(section)};
  redisReply *r = NULL;
  int found;
  if (sb_conn_command(db, 1, 2, argv, argvlen, &r) != SB_WIRE_OK)
    return SB_ERR;
  found = sb_conn_info_find(
      r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ? r->str : NULL, field, buf,
      len);
  freeReplyObject(r);
  if (!found)
    return sb_error("%s: INFO %s has no field %s", db->addr, section, field);
  return SB_OK;
}
