/* The database client's handle (sb_db.h), the top of its layers: the
 * SB_DB_* configuration, opening a handle on a list of addresses (the
 * seed, then cluster discovery), the commands and pipelines of the apps
 * routed to one connection or through the cluster layer, replies, the
 * payload commands (SET/GET, AI.TENSORSET/AI.TENSORGET on sb_db_wire.c's
 * path) and server facts. Connections are sb_conn.c's, the routing on a
 * cluster sb_cluster.c's; neither calls back into this file. */
#include "sb_db.h"

#include "sb_cluster.h"
#include "sb_conn.h"
#include "sb_db_internal.h"
#include "sb_db_wire.h"
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

/* ---- configuration -------------------------------------------------------- */

/* The value of variable name in *v, NULL when unset (the default stays). A
 * set variable must hold a value: "" is refused like any other bad value,
 * the message saying what one should be (expect). */
static int env_value(const char *name, const char *expect, const char **v)
{
  *v = getenv(name);
  if (*v && !**v)
    return sb_error("%s is set but empty: expected %s (unset it for the default)", name, expect);
  return SB_OK;
}

static int env_seconds(const char *name, double *out)
{
  static const char expect[] = "seconds in (0, 86400]";
  const char *v = NULL;
  char *end = NULL;
  double d;
  int rc = env_value(name, expect, &v);
  if (rc != SB_OK || !v)
    return rc;
  /* strtod also takes leading blanks, "nan", "inf" and hex floats; only a
   * plain decimal number is a number of seconds. */
  if (!(isdigit((unsigned char)v[0]) || v[0] == '.') || v[strspn(v, "0123456789.eE+-")])
    return sb_error("%s='%s': expected %s", name, v, expect);
  errno = 0;
  d = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(d) || !(d > 0 && d <= 86400))
    return sb_error("%s='%s': expected %s", name, v, expect);
  *out = d;
  return SB_OK;
}

static int env_count(const char *name, long lo, long hi, int *out)
{
  const char *v = NULL;
  char expect[64], *end = NULL;
  long r;
  int rc;
  snprintf(expect, sizeof expect, "an integer in %ld..%ld", lo, hi);
  if ((rc = env_value(name, expect, &v)) != SB_OK || !v)
    return rc;
  if (v[strspn(v, "0123456789")])
    return sb_error("%s='%s': expected %s", name, v, expect);
  errno = 0;
  r = strtol(v, &end, 10);
  if (end == v || *end || errno || r < lo || r > hi)
    return sb_error("%s='%s': expected %s", name, v, expect);
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

/* ---- connecting ----------------------------------------------------------- */

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
    rc = sb_conn_parse_address(tok, host, sizeof host, &port, &is_unix);
  }
  free(list);
  if (rc == SB_OK && n == 0)
    rc = sb_error("invalid database address '%s': no address in it", addresses);
  return rc;
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
    sb_conn_open_attempts(toks[0], cfg, deadline, 0, &fatal, &db);
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
        if (sb_conn_open_attempts(toks[k], cfg, until < deadline ? until : deadline, 1, &fatal,
                                  &db) != SB_OK)
          snprintf(last, sizeof last, "%s", sb_error_msg());
      }
      double left = deadline - sb_now();
      if (db || fatal || left <= 0)
        break;
      if (sb_conn_pause(cfg->retry_interval_s < left ? cfg->retry_interval_s : left) != SB_OK) {
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

/* ---- commands ------------------------------------------------------------- */

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

int sb_db_key_int(sb_db_t *db, const char *cmd, const char *key, long long *n)
{
  const char *argv[2] = {cmd, key};
  size_t argvlen[2] = {strlen(cmd), strlen(key)};
  sb_db_reply_t *r = NULL;
  if (sb_db_command(db, 1, 2, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  *n = sb_db_reply_int(r);
  sb_db_reply_free(r);
  return SB_OK;
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
  int found;
  /* Routed like any keyless command (on a cluster, the seed, following
   * redirects); the reading of the text is the connection layer's. */
  if (sb_db_command(db, 1, 2, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  found = sb_conn_info_find(sb_db_reply_str(r, NULL), field, buf, len);
  sb_db_reply_free(r);
  if (!found)
    return sb_error("%s: INFO %s has no field %s", db->addr, section, field);
  return SB_OK;
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
