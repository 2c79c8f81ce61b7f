#include "sb_db.h"

#include "sb_cluster.h"
#include "sb_db_internal.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_timer.h"

#include <hiredis/hiredis.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

/* ---- configuration -------------------------------------------------------- */

/* A set variable must hold a value: "" is refused like any other bad
 * value (an unset one keeps the default). */
static int env_seconds(const char *name, double *out)
{
  const char *v = getenv(name);
  char *end = NULL;
  double d;
  if (!v)
    return SB_OK;
  if (!*v)
    return sb_error("%s is set but empty: expected seconds in (0, 86400] (unset it for the "
                    "default)", name);
  /* strtod also takes leading blanks, "nan", "inf" and hex floats; only a
   * plain decimal number is a number of seconds. */
  if (!(isdigit((unsigned char)v[0]) || v[0] == '.') || v[strspn(v, "0123456789.eE+-")])
    return sb_error("%s='%s': expected seconds in (0, 86400]", name, v);
  errno = 0;
  d = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(d) || !(d > 0 && d <= 86400))
    return sb_error("%s='%s': expected seconds in (0, 86400]", name, v);
  *out = d;
  return SB_OK;
}

static int env_count(const char *name, long lo, long hi, int *out)
{
  const char *v = getenv(name);
  char *end = NULL;
  long r;
  if (!v)
    return SB_OK;
  if (!*v)
    return sb_error("%s is set but empty: expected an integer in %ld..%ld (unset it for the "
                    "default)", name, lo, hi);
  if (v[strspn(v, "0123456789")])
    return sb_error("%s='%s': expected an integer in %ld..%ld", name, v, lo, hi);
  errno = 0;
  r = strtol(v, &end, 10);
  if (end == v || *end || errno || r < lo || r > hi)
    return sb_error("%s='%s': expected an integer in %ld..%ld", name, v, lo, hi);
  *out = (int)r;
  return SB_OK;
}

/* A string setting copied whole, or refused: a truncated password would
 * only fail later, at AUTH, with a misleading message. */
static int env_string(const char *name, char *dst, size_t cap)
{
  const char *v = getenv(name);
  if (!v || !*v)
    return SB_OK;
  if (strlen(v) >= cap)
    return sb_error("%s: longer than %zu bytes", name, cap - 1);
  memcpy(dst, v, strlen(v) + 1);
  return SB_OK;
}

static int read_password_file(const char *path, sb_db_config_t *cfg)
{
  char line[1024], *p, *sp;
  FILE *f = fopen(path, "r");
  if (!f)
    return sb_error("SB_DB_PASSWORD_FILE '%s': %s", path, strerror(errno));
  if (!fgets(line, sizeof line, f)) {
    fclose(f);
    return sb_error("SB_DB_PASSWORD_FILE '%s' is empty", path);
  }
  fclose(f);
  line[strcspn(line, "\r\n")] = '\0';
  p = line;
  sp = strchr(p, ' ');
  if (sp) { /* "user password" */
    *sp = '\0';
    if (strlen(p) >= sizeof cfg->user)
      return sb_error("SB_DB_PASSWORD_FILE '%s': user name too long", path);
    memcpy(cfg->user, p, strlen(p) + 1);
    p = sp + 1;
  }
  if (!*p)
    return sb_error("SB_DB_PASSWORD_FILE '%s' holds no password", path);
  if (strlen(p) >= sizeof cfg->password)
    return sb_error("SB_DB_PASSWORD_FILE '%s': password too long", path);
  memcpy(cfg->password, p, strlen(p) + 1);
  return SB_OK;
}

int sb_db_config_from_env(sb_db_config_t *cfg)
{
  const char *v;
  memset(cfg, 0, sizeof *cfg);
  cfg->connect_timeout_s = 5.0;
  cfg->command_timeout_s = 30.0;
  cfg->retry_interval_s = 0.2;
  cfg->command_retries = 1;
  if (env_seconds("SB_DB_CONNECT_TIMEOUT", &cfg->connect_timeout_s) != SB_OK ||
      env_seconds("SB_DB_COMMAND_TIMEOUT", &cfg->command_timeout_s) != SB_OK ||
      env_seconds("SB_DB_RETRY_INTERVAL", &cfg->retry_interval_s) != SB_OK ||
      env_count("SB_DB_COMMAND_RETRIES", 0, 100, &cfg->command_retries) != SB_OK ||
      env_string("SB_DB_USER", cfg->user, sizeof cfg->user) != SB_OK ||
      env_string("SB_DB_PASSWORD", cfg->password, sizeof cfg->password) != SB_OK)
    return SB_ERR;
  if ((v = getenv("SB_DB_PASSWORD_FILE")) && *v && read_password_file(v, cfg) != SB_OK)
    return SB_ERR;
  return SB_OK;
}

int sb_db_config_check_env(void)
{
  sb_db_config_t cfg;
  int rc = sb_db_config_from_env(&cfg);
  /* The copy's credentials do not outlive the check. */
  volatile unsigned char *p = (volatile unsigned char *)&cfg;
  for (size_t k = 0; k < sizeof cfg; k++)
    p[k] = 0;
  return rc;
}

/* ---- interrupting ---------------------------------------------------------- */

static volatile sig_atomic_t *interrupt_flag;

void sb_db_set_interrupt(volatile sig_atomic_t *flag) { interrupt_flag = flag; }

int sb_db_interrupted(void) { return interrupt_flag && *interrupt_flag; }

int sb_db_pause(double s)
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
static int parse_address(const char *addr, char *host, size_t hlen, int *port, int *is_unix)
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

int sb_db_check_addresses(const char *addresses)
{
  char host[SB_ADDR_MAX], *list, *tok, *save = NULL;
  int port, is_unix, n = 0, rc = SB_OK;
  if (!addresses || !*addresses)
    return sb_error("no database address given (--db or SSDB)");
  if (!(list = strdup(addresses)))
    return sb_error("out of memory");
  for (tok = strtok_r(list, ",", &save); tok && rc == SB_OK; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ')
      tok++;
    if (!*tok)
      continue;
    n++;
    rc = parse_address(tok, host, sizeof host, &port, &is_unix);
  }
  free(list);
  if (rc == SB_OK && n == 0)
    rc = sb_error("invalid database address '%s': no address in it", addresses);
  return rc;
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
  if (parse_address(addr, host, sizeof host, &port, &is_unix) != SB_OK) {
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
    if (sb_db_pause(cfg->retry_interval_s < left ? cfg->retry_interval_s : left) != SB_OK)
      continue; /* interrupted: said at the top */
  }
  if (max_attempts == 1)
    sb_error("cannot connect to database at %s: %s", addr, last);
  else
    sb_error("cannot connect to database at %s within %.1f s (%d attempts): %s", addr,
             cfg->connect_timeout_s, attempts, last);
  return NULL;
}

/* One connection to one address; *fatal set when retrying cannot help
 * (a malformed address, a refused AUTH). */
static int conn_open(const char *addr, const sb_db_config_t *cfg, double deadline, int *fatal,
                     int max_attempts, sb_db_t **out)
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
  return conn_open(addr, cfg, deadline, &fatal, 0, out);
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

int sb_db_open(const char *addresses, const sb_db_config_t *cfg, sb_db_t **out)
{
  sb_db_t *db = NULL;
  char *list, *tok, *save = NULL, **toks = NULL, last[1024] = "";
  int fatal = 0, ntok = 0, rounds = 0;
  double deadline = sb_now() + cfg->connect_timeout_s;

  if (!addresses || !*addresses)
    return sb_error("no database address given (--db or SSDB)");
  list = strdup(addresses);
  toks = calloc(strlen(addresses) / 2 + 2, sizeof *toks);
  if (!list || !toks) {
    free(list);
    free(toks);
    return sb_error("out of memory");
  }
  for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ')
      tok++;
    if (*tok)
      toks[ntok++] = tok;
  }
  if (ntok == 0) {
    free(list);
    free(toks);
    return sb_error("no database address in '%s'", addresses);
  }
  if (ntok == 1) {
    /* One address: retried every interval until the connect timeout. */
    conn_open(toks[0], cfg, deadline, &fatal, 0, &db);
  } else {
    /* Several (a cluster's seeds): one attempt at each in turn, then the
     * retry interval, until one answers or the connect timeout has passed,
     * so that a dead first seed does not use the whole budget. */
    while (!db && !fatal) {
      rounds++;
      for (int k = 0; k < ntok && !db && !fatal; k++) {
        /* A host that drops SYNs may hold one attempt for a share of the
         * budget, not all of it. */
        double share = cfg->connect_timeout_s / ntok, until = sb_now() + (share > 1 ? share : 1);
        if (conn_open(toks[k], cfg, until < deadline ? until : deadline, &fatal, 1, &db) != SB_OK)
          snprintf(last, sizeof last, "%s", sb_error_msg());
      }
      double left = deadline - sb_now();
      if (db || fatal || left <= 0)
        break;
      if (sb_db_pause(cfg->retry_interval_s < left ? cfg->retry_interval_s : left) != SB_OK) {
        fatal = 1;
        sb_error("interrupted by a signal while connecting to %s (%d rounds)", addresses,
                 rounds);
      }
    }
    if (!db && !fatal && ntok > 1)
      sb_error("none of the %d database addresses (%s) answered within %.1f s (%d rounds); "
               "last: %s", ntok, addresses, cfg->connect_timeout_s, rounds, last);
  }
  free(list);
  free(toks);
  if (!db)
    return SB_ERR;
  sb_log(SB_LOG_DEBUG, "connected to %s", db->addr);
  /* One round trip at open: is this a Redis Cluster? Then the slot map. */
  if (sb_cluster_discover(db) != SB_OK) {
    sb_conn_free(db);
    return SB_ERR;
  }
  *out = db;
  return SB_OK;
}

void sb_db_close(sb_db_t *db)
{
  if (!db)
    return;
  sb_cluster_free(db);
  sb_conn_free(db);
}

const char *sb_db_address(const sb_db_t *db) { return db->addr; }

const sb_db_config_t *sb_db_config(const sb_db_t *db) { return &db->cfg; }

uint64_t sb_db_redirects(const sb_db_t *db) { return db ? db->redirects : 0; }

void sb_db_add_redirects(sb_db_t *db, uint64_t n)
{
  if (db)
    db->redirects += n;
}

int sb_db_reconnect(sb_db_t *db)
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
    if (!db->c && sb_db_reconnect(db) != SB_OK) {
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

typedef struct {
  int idempotent, argc;
  const char **argv;
  const size_t *argvlen;
  redisReply **reply;
} command_call_t;

static int command_exec(sb_db_t *conn, void *arg)
{
  command_call_t *c = arg;
  return sb_conn_command(conn, c->idempotent, c->argc, c->argv, c->argvlen, c->reply);
}

int sb_db_command_key(sb_db_t *db, int key_arg, int idempotent, int argc, const char **argv,
                      const size_t *argvlen, sb_db_reply_t **reply)
{
  redisReply *r = NULL;
  int rc;
  if (argc < 1)
    return sb_error("%s: empty command", db->addr);
  if (key_arg >= argc)
    return sb_error("%s: %s: key argument %d of a %d-argument command", db->addr, argv[0],
                    key_arg, argc);
  if (!db->cluster) {
    rc = sb_conn_command(db, idempotent, argc, argv, argvlen, reply ? &r : NULL) == SB_WIRE_OK
             ? SB_OK
             : SB_ERR;
  } else {
    command_call_t call = {idempotent, argc, argv, argvlen, reply ? &r : NULL};
    rc = sb_cluster_call(db, key_arg, idempotent, argc, argv, argvlen, command_exec, &call);
  }
  if (rc == SB_OK && reply)
    *reply = (sb_db_reply_t *)r;
  return rc;
}

int sb_db_command(sb_db_t *db, int idempotent, int argc, const char **argv, const size_t *argvlen,
                  sb_db_reply_t **reply)
{
  return sb_db_command_key(db, sb_db_key_arg(argc, argv, argvlen), idempotent, argc, argv,
                           argvlen, reply);
}

int sb_conn_pipeline(sb_db_t *db, int n, const sb_db_cmd_t *cmds)
{
  int first_err = -1;
  char errtxt[256] = "";
  if (!db->c && sb_db_reconnect(db) != SB_OK)
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

int sb_db_pipeline(sb_db_t *db, int n, const sb_db_cmd_t *cmds)
{
  if (n <= 0)
    return SB_OK;
  return db->cluster ? sb_cluster_pipeline(db, n, cmds) : sb_conn_pipeline(db, n, cmds);
}

/* ---- the payload path's routing --------------------------------------------- */

typedef struct {
  int idempotent, argc;
  const char **argv;
  const size_t *argvlen;
  sb_wire_reader_t reader;
  void *arg;
} wire_call_t;

static int wire_exec(sb_db_t *conn, void *arg)
{
  wire_call_t *w = arg;
  return sb_wire_exchange_conn(conn, w->idempotent, w->argc, w->argv, w->argvlen, w->reader,
                               w->arg);
}

int sb_wire_exchange(sb_db_t *db, int idempotent, int argc, const char **argv,
                     const size_t *argvlen, sb_wire_reader_t reader, void *arg)
{
  /* Standalone: straight to the one connection, nothing added. */
  if (!db->cluster)
    return sb_wire_exchange_conn(db, idempotent, argc, argv, argvlen, reader, arg) == SB_WIRE_OK
               ? SB_OK
               : SB_ERR;
  wire_call_t w = {idempotent, argc, argv, argvlen, reader, arg};
  return sb_cluster_call(db, 1, idempotent, argc, argv, argvlen, wire_exec, &w);
}

char sb_db_reply_kind(const sb_db_reply_t *r)
{
  const redisReply *rr = (const redisReply *)r;
  switch (rr->type) {
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
    return 's';
  case REDIS_REPLY_INTEGER:
    return 'i';
  case REDIS_REPLY_ARRAY:
    return 'a';
  case REDIS_REPLY_NIL:
    return 'n';
  default:
    return '?';
  }
}

const char *sb_db_reply_str(const sb_db_reply_t *r, size_t *len)
{
  const redisReply *rr = (const redisReply *)r;
  if (rr->type != REDIS_REPLY_STRING && rr->type != REDIS_REPLY_STATUS) {
    if (len)
      *len = 0;
    return NULL;
  }
  if (len)
    *len = rr->len;
  return rr->str;
}

long long sb_db_reply_int(const sb_db_reply_t *r) { return ((const redisReply *)r)->integer; }

size_t sb_db_reply_len(const sb_db_reply_t *r)
{
  const redisReply *rr = (const redisReply *)r;
  return rr->type == REDIS_REPLY_ARRAY ? rr->elements : 0;
}

const sb_db_reply_t *sb_db_reply_at(const sb_db_reply_t *r, size_t k)
{
  const redisReply *rr = (const redisReply *)r;
  if (rr->type != REDIS_REPLY_ARRAY || k >= rr->elements)
    return NULL;
  return (const sb_db_reply_t *)rr->element[k];
}

void sb_db_reply_free(sb_db_reply_t *r)
{
  if (r)
    freeReplyObject(r);
}

/* ---- payload commands ------------------------------------------------------
 * SET/GET and AI.TENSORSET/AI.TENSORGET move the payload between the socket
 * and the caller's buffer directly (sb_db_wire.c): no formatted copy of the
 * command, no reply object. */

int sb_db_set(sb_db_t *db, const char *key, const void *value, size_t len)
{
  const char *argv[3] = {"SET", key, value};
  size_t argvlen[3] = {3, strlen(key), len};
  return sb_wire_exchange(db, 0, 3, argv, argvlen, sb_wire_read_ok, NULL);
}

int sb_db_get(sb_db_t *db, const char *key, void *buf, size_t cap, size_t *len)
{
  const char *argv[2] = {"GET", key};
  size_t argvlen[2] = {3, strlen(key)};
  sb_wire_bulk_t dst = {buf, cap, 0};
  if (sb_wire_exchange(db, 1, 2, argv, argvlen, sb_wire_read_bulk, &dst) != SB_OK)
    return SB_ERR;
  *len = dst.len;
  return SB_OK;
}

int sb_db_del(sb_db_t *db, const char *key)
{
  const char *argv[2] = {"DEL", key};
  size_t argvlen[2] = {3, strlen(key)};
  return sb_db_command(db, 1, 2, argv, argvlen, NULL);
}

#define SB_MAX_DIMS 16

int sb_db_put_tensor(sb_db_t *db, const char *key, const char *dtype, const int64_t *dims,
                     int ndims, const void *data, size_t bytes)
{
  const char *argv[4 + SB_MAX_DIMS + 1];
  size_t argvlen[4 + SB_MAX_DIMS + 1];
  char dimtxt[SB_MAX_DIMS][24];
  int n = 0;
  if (ndims < 1 || ndims > SB_MAX_DIMS)
    return sb_error("put_tensor %s: %d dimensions (1..%d supported)", key, ndims, SB_MAX_DIMS);
  argv[n] = "AI.TENSORSET", argvlen[n++] = 12;
  argv[n] = key, argvlen[n++] = strlen(key);
  argv[n] = dtype, argvlen[n++] = strlen(dtype);
  for (int d = 0; d < ndims; d++) {
    snprintf(dimtxt[d], sizeof dimtxt[d], "%" PRId64, dims[d]);
    argv[n] = dimtxt[d], argvlen[n++] = strlen(dimtxt[d]);
  }
  argv[n] = "BLOB", argvlen[n++] = 4;
  argv[n] = data, argvlen[n++] = bytes;
  return sb_wire_exchange(db, 0, n, argv, argvlen, sb_wire_read_ok, NULL);
}

int sb_db_get_tensor(sb_db_t *db, const char *key, const char *dtype, const int64_t *dims,
                     int ndims, void *buf, size_t bytes)
{
  const char *argv[4] = {"AI.TENSORGET", key, "META", "BLOB"};
  size_t argvlen[4] = {12, strlen(key), 4, 4};
  sb_wire_tensor_t dst = {dtype, dims, ndims, buf, bytes};
  if (ndims < 1 || ndims > SB_MAX_DIMS)
    return sb_error("get_tensor %s: %d dimensions (1..%d supported)", key, ndims, SB_MAX_DIMS);
  return sb_wire_exchange(db, 1, 4, argv, argvlen, sb_wire_read_tensor, &dst);
}

static int reply_is(const redisReply *r, const char *s)
{
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
         strcasecmp(r->str, s) == 0;
}

/* ---- server facts ---------------------------------------------------------- */

int sb_db_info_field(sb_db_t *db, const char *section, const char *field, char *buf, size_t len)
{
  const char *argv[2] = {"INFO", section};
  size_t argvlen[2] = {4, strlen(section)};
  sb_db_reply_t *r = NULL;
  const char *s, *p;
  size_t flen = strlen(field);
  if (sb_db_command(db, 1, 2, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  s = sb_db_reply_str(r, NULL);
  for (p = s; p && *p;) {
    if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
      size_t vl = strcspn(p + flen + 1, "\r\n");
      snprintf(buf, len, "%.*s", (int)vl, p + flen + 1);
      sb_db_reply_free(r);
      return SB_OK;
    }
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  sb_db_reply_free(r);
  return sb_error("%s: INFO %s has no field %s", db->addr, section, field);
}

int sb_db_module_version(sb_db_t *db, const char *name, long long *version)
{
  const char *argv[2] = {"MODULE", "LIST"};
  size_t argvlen[2] = {6, 4};
  sb_db_reply_t *r = NULL;
  const redisReply *rr;
  *version = -1;
  if (sb_db_command(db, 1, 2, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  rr = (const redisReply *)r;
  for (size_t m = 0; rr->type == REDIS_REPLY_ARRAY && m < rr->elements; m++) {
    const redisReply *mod = rr->element[m];
    int match = 0;
    for (size_t k = 0; mod->type == REDIS_REPLY_ARRAY && k + 1 < mod->elements; k += 2) {
      if (reply_is(mod->element[k], "name") && reply_is(mod->element[k + 1], name))
        match = 1;
      if (match && reply_is(mod->element[k], "ver") &&
          mod->element[k + 1]->type == REDIS_REPLY_INTEGER)
        *version = mod->element[k + 1]->integer;
    }
    /* "ver" may precede "name": scan again once we know it matches. */
    for (size_t k = 0; match && mod->type == REDIS_REPLY_ARRAY && k + 1 < mod->elements; k += 2)
      if (reply_is(mod->element[k], "ver") && mod->element[k + 1]->type == REDIS_REPLY_INTEGER)
        *version = mod->element[k + 1]->integer;
  }
  sb_db_reply_free(r);
  return SB_OK;
}
