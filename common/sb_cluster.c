/* Redis Cluster routing of the database client; see sb_cluster.h and
 * docs/client.md. */
#include "sb_cluster.h"

#include "sb_conn.h"
#include "sb_crc16.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_timer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct {
  char addr[SB_ADDR_MAX]; /* "tcp://host:port" as the cluster advertises it */
  sb_db_t *conn;          /* NULL until first needed; the handle itself for the seed */
} node_t;

struct sb_cluster {
  int16_t slot_node[SB_CLUSTER_SLOTS]; /* index into nodes; -1: no owner known */
  node_t *nodes;
  int nnodes, cap;
  int masters; /* shards in the last map */
};

/* ---- which argument is the key ---------------------------------------------------- */

int sb_db_key_arg(int argc, const char **argv, const size_t *argvlen)
{
  /* Commands without a key that the client (or a tool on it) may send. */
  static const char *const keyless[] = {
      "PING",     "ECHO",     "INFO",     "MODULE",   "CLUSTER",  "CONFIG",   "COMMAND",
      "CLIENT",   "DBSIZE",   "FLUSHALL", "FLUSHDB",  "TIME",     "AUTH",     "HELLO",
      "ACL",      "SCAN",     "KEYS",     "RANDOMKEY", "SLOWLOG", "LATENCY",  "MEMORY",
      "WAIT",     "ASKING",   "READONLY", "READWRITE", "LASTSAVE", "SAVE",    "BGSAVE",
      "BGREWRITEAOF", "DEBUG", "ROLE",    "SCRIPT",   "FUNCTION", "SHUTDOWN", "SELECT",
      "AI.CONFIG"};
  if (argc < 2)
    return -1;
  for (size_t k = 0; k < sizeof keyless / sizeof keyless[0]; k++)
    if (argvlen[0] == strlen(keyless[k]) && strncasecmp(argv[0], keyless[k], argvlen[0]) == 0)
      return -1;
  return 1;
}

/* ---- nodes -------------------------------------------------------------------------- */

/* The host part of a connection's address ("tcp://h:p", "tcp://[v6]:p"):
 * where a node that advertises no endpoint of its own lives. */
static void conn_host(const sb_db_t *conn, char *host, size_t len)
{
  const char *p = conn->addr, *end;
  if (strncmp(p, "tcp://", 6) != 0) {
    snprintf(host, len, "127.0.0.1"); /* a unix socket: this machine */
    return;
  }
  p += 6;
  if (*p == '[') {
    end = strchr(p, ']');
    p++;
  } else {
    end = strrchr(p, ':');
  }
  if (!end)
    end = p + strlen(p);
  snprintf(host, len, "%.*s", (int)(end - p), p);
}

static void node_addr(char *out, size_t len, const char *host, int port)
{
  if (strchr(host, ':'))
    snprintf(out, len, "tcp://[%s]:%d", host, port);
  else
    snprintf(out, len, "tcp://%s:%d", host, port);
}

/* The index of the node at host:port, added when new; -1 out of memory. */
static int node_index(struct sb_cluster *cl, const char *host, int port)
{
  char addr[SB_ADDR_MAX];
  node_addr(addr, sizeof addr, host, port);
  for (int k = 0; k < cl->nnodes; k++)
    if (strcmp(cl->nodes[k].addr, addr) == 0)
      return k;
  if (cl->nnodes == 32767) {
    sb_error("more than 32767 cluster nodes");
    return -1;
  }
  if (cl->nnodes == cl->cap) {
    int cap = cl->cap ? 2 * cl->cap : 8;
    node_t *n = realloc(cl->nodes, (size_t)cap * sizeof *n);
    if (!n) {
      sb_error("out of memory");
      return -1;
    }
    cl->nodes = n;
    cl->cap = cap;
  }
  snprintf(cl->nodes[cl->nnodes].addr, SB_ADDR_MAX, "%s", addr);
  cl->nodes[cl->nnodes].conn = NULL;
  return cl->nnodes++;
}

/* The node a redirect names ("host:port"; an empty host is conn's). */
static int target_index(sb_db_t *db, const sb_db_t *conn, const char *target)
{
  char host[SB_ADDR_MAX];
  const char *colon = strrchr(target, ':');
  char *end = NULL;
  long port;
  if (!colon || !colon[1]) {
    sb_error("%s: redirect to '%s': no port", conn->addr, target);
    return -1;
  }
  port = strtol(colon + 1, &end, 10);
  if (*end || port < 1 || port > 65535) {
    sb_error("%s: redirect to '%s': bad port", conn->addr, target);
    return -1;
  }
  if (colon == target)
    conn_host(conn, host, sizeof host);
  else
    snprintf(host, sizeof host, "%.*s", (int)(colon - target), target);
  return node_index(db->cluster, host, (int)port);
}

/* The connection to node k (k < 0: the seed), opened when first needed. */
static int node_conn(sb_db_t *db, int k, sb_db_t **conn)
{
  node_t *n;
  if (k < 0) {
    *conn = db;
    return SB_OK;
  }
  n = &db->cluster->nodes[k];
  if (!n->conn) {
    if (strcmp(n->addr, db->addr) == 0) {
      n->conn = db;
    } else if (sb_conn_open(n->addr, &db->cfg, sb_now() + db->cfg.connect_timeout_s, &n->conn) !=
               SB_OK) {
      n->conn = NULL;
      return sb_error_prefix("cluster shard %s", n->addr);
    } else {
      sb_log(SB_LOG_DEBUG, "connected to cluster shard %s", n->addr);
    }
  }
  *conn = n->conn;
  return SB_OK;
}

/* ---- the slot map ----------------------------------------------------------------- */

/* Reads a CLUSTER SLOTS reply ([[start, end, [host, port, id, ..], replicas..], ..])
 * into cl's map; hosts that are empty or "?" are the asked node's. */
static int read_map(struct sb_cluster *cl, const sb_db_t *asked, const redisReply *r)
{
  int16_t map[SB_CLUSTER_SLOTS];
  char *seen;
  int masters = 0;
  if (r->type != REDIS_REPLY_ARRAY)
    return sb_error("%s: CLUSTER SLOTS: not an array", asked->addr);
  for (int s = 0; s < SB_CLUSTER_SLOTS; s++)
    map[s] = -1;
  for (size_t e = 0; e < r->elements; e++) {
    const redisReply *x = r->element[e], *m;
    char host[SB_ADDR_MAX];
    int k;
    if (x->type != REDIS_REPLY_ARRAY || x->elements < 3 ||
        x->element[0]->type != REDIS_REPLY_INTEGER || x->element[1]->type != REDIS_REPLY_INTEGER ||
        (m = x->element[2])->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
        m->element[0]->type != REDIS_REPLY_STRING || m->element[1]->type != REDIS_REPLY_INTEGER)
      return sb_error("%s: CLUSTER SLOTS: entry %zu is not [start, end, [host, port, ..], ..]",
                      asked->addr, e);
    long long lo = x->element[0]->integer, hi = x->element[1]->integer;
    if (lo < 0 || hi >= SB_CLUSTER_SLOTS || lo > hi)
      return sb_error("%s: CLUSTER SLOTS: slot range %lld-%lld", asked->addr, lo, hi);
    if (m->element[0]->len == 0 || strcmp(m->element[0]->str, "?") == 0)
      conn_host(asked, host, sizeof host);
    else
      snprintf(host, sizeof host, "%s", m->element[0]->str);
    if ((k = node_index(cl, host, (int)m->element[1]->integer)) < 0)
      return SB_ERR;
    for (long long s = lo; s <= hi; s++)
      map[s] = (int16_t)k;
  }
  if (!(seen = calloc((size_t)cl->nnodes + 1, 1)))
    return sb_error("out of memory");
  for (int s = 0; s < SB_CLUSTER_SLOTS; s++)
    if (map[s] >= 0 && !seen[map[s]]) {
      seen[map[s]] = 1;
      masters++;
    }
  free(seen);
  memcpy(cl->slot_node, map, sizeof map);
  cl->masters = masters;
  return SB_OK;
}

/* Asks the seed for the map, else every shard in turn. On failure the old
 * map stays (the caller's redirect or retry still stands). */
static int refresh_map(sb_db_t *db)
{
  static const char *argv[2] = {"CLUSTER", "SLOTS"};
  static const size_t argvlen[2] = {7, 5};
  struct sb_cluster *cl = db->cluster;
  for (int k = -1; k < cl->nnodes; k++) {
    sb_db_t *conn = NULL;
    redisReply *r = NULL;
    if (k >= 0 && cl->nodes[k].conn == db)
      continue; /* the seed, asked first */
    if (node_conn(db, k, &conn) != SB_OK)
      continue;
    if (sb_conn_command(conn, 1, 2, argv, argvlen, &r) == SB_WIRE_OK) {
      int rc = read_map(cl, conn, r);
      freeReplyObject(r);
      if (rc == SB_OK) {
        sb_log(SB_LOG_DEBUG, "cluster slot map from %s: %d shards", conn->addr, cl->masters);
        return SB_OK;
      }
    }
    sb_log(SB_LOG_DEBUG, "slot map from %s: %s", conn->addr, sb_error_msg());
  }
  return sb_error("no cluster node answered CLUSTER SLOTS");
}

int sb_cluster_discover(sb_db_t *db)
{
  static const char *argv[2] = {"CLUSTER", "SLOTS"};
  static const size_t argvlen[2] = {7, 5};
  redisReply *r = NULL;
  int rc = sb_conn_command(db, 1, 2, argv, argvlen, &r);
  if (rc == SB_WIRE_BROKEN)
    return sb_error_prefix("asking for the cluster slot map");
  if (rc == SB_WIRE_SERVER) {
    char enabled[16] = "";
    /* Redis: "ERR This instance has cluster support disabled". Anything
     * else (an unknown command, an ACL refusal) is checked with INFO. */
    if (strstr(db->errline, "cluster support disabled")) {
      sb_error_clear();
      return SB_OK;
    }
    char why[SB_ERRLINE_MAX];
    snprintf(why, sizeof why, "%s", db->errline);
    if (sb_conn_info_field(db, "cluster", "cluster_enabled", enabled, sizeof enabled) == SB_OK &&
        strcmp(enabled, "1") == 0)
      return sb_error("%s is a Redis Cluster node but CLUSTER SLOTS failed: %s", db->addr, why);
    sb_log(SB_LOG_DEBUG, "%s: CLUSTER SLOTS: %s; treated as a standalone server", db->addr, why);
    sb_error_clear();
    return SB_OK;
  }
  db->cluster = calloc(1, sizeof *db->cluster);
  if (!db->cluster) {
    freeReplyObject(r);
    return sb_error("out of memory");
  }
  rc = read_map(db->cluster, db, r);
  freeReplyObject(r);
  if (rc != SB_OK) {
    sb_cluster_free(db);
    return SB_ERR;
  }
  sb_log(SB_LOG_DEBUG, "%s: Redis Cluster, %d shards", db->addr, db->cluster->masters);
  return SB_OK;
}

void sb_cluster_free(sb_db_t *db)
{
  struct sb_cluster *cl = db->cluster;
  if (!cl)
    return;
  for (int k = 0; k < cl->nnodes; k++)
    if (cl->nodes[k].conn && cl->nodes[k].conn != db)
      sb_conn_free(cl->nodes[k].conn);
  free(cl->nodes);
  free(cl);
  db->cluster = NULL;
}

int sb_db_cluster_shards(const sb_db_t *db) { return db && db->cluster ? db->cluster->masters : 0; }

int sb_db_cluster_slot_owner(const sb_db_t *db, int slot)
{
  if (!db || !db->cluster || slot < 0 || slot >= SB_CLUSTER_SLOTS)
    return -1;
  return db->cluster->slot_node[slot];
}

int sb_db_shard_tags(const sb_db_t *db, char (**tags)[SB_DB_SHARD_TAG_LEN], int *n)
{
  int shards = sb_db_cluster_shards(db), found = 0, *owners;
  *tags = NULL;
  *n = 0;
  if (shards <= 0)
    return SB_OK;
  owners = malloc((size_t)shards * sizeof *owners);
  *tags = calloc((size_t)shards, sizeof **tags);
  if (!owners || !*tags) {
    free(owners);
    free(*tags);
    *tags = NULL;
    return sb_error("out of memory");
  }
  /* Tags "s0", "s1", ... in order, so every client reading the same slot
   * map picks the same tag for each shard. */
  for (int t = 0; t < 1000000 && found < shards; t++) {
    char tag[SB_DB_SHARD_TAG_LEN];
    int owner, seen = 0;
    snprintf(tag, sizeof tag, "s%d", t);
    owner = sb_db_cluster_slot_owner(db, sb_key_slot(tag, strlen(tag)));
    for (int k = 0; k < found; k++)
      seen |= owners[k] == owner;
    if (owner >= 0 && !seen) {
      owners[found] = owner;
      snprintf((*tags)[found++], SB_DB_SHARD_TAG_LEN, "%s", tag);
    }
  }
  free(owners);
  if (found < shards) {
    free(*tags);
    *tags = NULL;
    return sb_error("found hash tags for %d of %d cluster shards", found, shards);
  }
  *n = shards;
  return SB_OK;
}

/* ---- redirects ---------------------------------------------------------------------- */

int sb_cluster_parse_redirect(const char *err, int *slot, char *target, size_t len)
{
  int kind;
  const char *p;
  char *end = NULL;
  long s;
  if (strncmp(err, "MOVED ", 6) == 0)
    kind = SB_REDIRECT_MOVED, p = err + 6;
  else if (strncmp(err, "ASK ", 4) == 0)
    kind = SB_REDIRECT_ASK, p = err + 4;
  else if (strncmp(err, "TRYAGAIN", 8) == 0)
    return SB_REDIRECT_TRYAGAIN;
  else if (strncmp(err, "CLUSTERDOWN", 11) == 0)
    return SB_REDIRECT_CLUSTERDOWN;
  else
    return SB_REDIRECT_NONE;
  errno = 0;
  s = strtol(p, &end, 10);
  if (end == p || *end != ' ' || s < 0 || s >= SB_CLUSTER_SLOTS || !end[1])
    return SB_REDIRECT_NONE; /* malformed: an error like any other */
  *slot = (int)s;
  snprintf(target, len, "%.*s", (int)strcspn(end + 1, " \r\n"), end + 1);
  return kind;
}

/* The client's pause (sb_conn_pause): SB_ERR with the message set when the
 * interrupt flag (sb_db_set_interrupt) ended it. */
static int pause_s(double s, const char *what)
{
  if (sb_conn_pause(s) != SB_OK)
    return sb_error("interrupted by a signal while waiting for the cluster (%s)", what);
  return SB_OK;
}

static int send_asking(sb_db_t *conn)
{
  static const char *argv[1] = {"ASKING"};
  static const size_t argvlen[1] = {6};
  return sb_conn_command(conn, 1, 1, argv, argvlen, NULL) == SB_WIRE_OK ? SB_OK : SB_ERR;
}

int sb_cluster_call(sb_db_t *db, int key_arg, int idempotent, int argc, const char **argv,
                    const size_t *argvlen, sb_cluster_exec_t exec, void *arg)
{
  struct sb_cluster *cl = db->cluster;
  int slot = key_arg >= 1 && key_arg < argc ? sb_key_slot(argv[key_arg], argvlen[key_arg]) : -1;
  int node = slot >= 0 ? cl->slot_node[slot] : -1;
  int asking = 0, followed = 0, failed_over = 0;
  double give_up = 0;
  for (;;) {
    sb_db_t *conn;
    char target[SB_ADDR_MAX];
    int rc, kind, rslot = -1, to;
    if (node_conn(db, node, &conn) != SB_OK)
      return sb_error_prefix("%s (slot %d)", argv[0], slot);
    if (asking && send_asking(conn) != SB_OK)
      return sb_error_prefix("ASKING before %s", argv[0]);
    rc = exec(conn, arg);
    if (rc == SB_WIRE_OK)
      return SB_OK;
    if (rc == SB_WIRE_BROKEN) {
      /* A read whose shard went away: if the map now names another owner
       * of the slot (a replica took over), once more there. */
      if (idempotent && slot >= 0 && !failed_over) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", sb_error_msg());
        failed_over = 1;
        if (refresh_map(db) == SB_OK && cl->slot_node[slot] >= 0 && cl->slot_node[slot] != node) {
          sb_log(SB_LOG_DEBUG, "%s; slot %d now at %s", msg, slot,
                 cl->nodes[cl->slot_node[slot]].addr);
          node = cl->slot_node[slot];
          asking = 0;
          continue;
        }
        sb_error("%s", msg);
      }
      return SB_ERR;
    }
    kind = sb_cluster_parse_redirect(conn->errline, &rslot, target, sizeof target);
    if (kind == SB_REDIRECT_NONE)
      return SB_ERR;
    if (kind == SB_REDIRECT_MOVED || kind == SB_REDIRECT_ASK) {
      if (followed == SB_DB_MAX_REDIRECTS)
        return sb_error("%s: %s: still redirected after %d redirects (last: %s)", conn->addr,
                        argv[0], followed, conn->errline);
      followed++;
      db->redirects++;
      if ((to = target_index(db, conn, target)) < 0)
        return SB_ERR;
      /* Nodes that disagree for a moment (a slot handed over, not every
       * node told yet) bounce a command between them: from the third
       * redirect on, give them a retry interval each. */
      if (followed > 2 && pause_s(db->cfg.retry_interval_s, argv[0]) != SB_OK)
        return SB_ERR;
      sb_log(SB_LOG_DEBUG, "%s: %s %s", conn->addr, argv[0], conn->errline);
      if (kind == SB_REDIRECT_MOVED) {
        /* The whole map may have changed (a resharding); the node that
         * answered MOVED has the last word on this slot. */
        if (refresh_map(db) != SB_OK)
          sb_error_clear();
        cl->slot_node[rslot] = (int16_t)to;
        asking = 0;
      } else {
        asking = 1; /* once, and the map stays */
      }
      node = to;
      continue;
    }
    /* TRYAGAIN (a multi-key command during a slot migration) or
     * CLUSTERDOWN: refused, so safe to send again after a pause. */
    double now = sb_now();
    if (give_up == 0)
      give_up = now + db->cfg.connect_timeout_s;
    if (now >= give_up)
      return sb_error("%s: %s: %s for %.1f s (SB_DB_CONNECT_TIMEOUT); giving up", conn->addr,
                      argv[0], conn->errline, db->cfg.connect_timeout_s);
    if (pause_s(db->cfg.retry_interval_s < give_up - now ? db->cfg.retry_interval_s
                                                         : give_up - now,
                argv[0]) != SB_OK)
      return SB_ERR;
    if (kind == SB_REDIRECT_CLUSTERDOWN && refresh_map(db) != SB_OK)
      sb_error_clear();
    node = slot >= 0 ? cl->slot_node[slot] : -1;
    asking = 0;
    followed = 0;
  }
}

/* ---- pipelines ---------------------------------------------------------------------- */

enum { P_DONE = 0, P_SEND, P_MOVED, P_ASK, P_WAIT };

typedef struct {
  int slot, node, state;
  int grp;   /* the group it was sent with this round (-1: none in flight) */
  int asked; /* ASKING went before it */
} pcmd_t;

int sb_cluster_pipeline(sb_db_t *db, int n, const sb_db_cmd_t *cmds)
{
  struct sb_cluster *cl = db->cluster;
  pcmd_t *pc = calloc((size_t)n, sizeof *pc);
  int *groups = calloc((size_t)n, sizeof *groups);
  sb_db_t **gconn = calloc((size_t)n, sizeof *gconn);
  int rc = SB_ERR, first_err = -1, rounds = 0, pending = n;
  char errtxt[SB_ERRLINE_MAX] = "", erraddr[SB_ADDR_MAX] = "";
  char waittxt[SB_ADDR_MAX + SB_ERRLINE_MAX] = "";
  double give_up = 0;

  if (!pc || !groups || !gconn) {
    sb_error("out of memory");
    goto done;
  }
  for (int i = 0; i < n; i++) {
    int k = sb_db_key_arg(cmds[i].argc, cmds[i].argv, cmds[i].argvlen);
    pc[i].slot = k > 0 ? sb_key_slot(cmds[i].argv[k], cmds[i].argvlen[k]) : -1;
    pc[i].node = pc[i].slot >= 0 ? cl->slot_node[pc[i].slot] : -1;
    pc[i].state = P_SEND;
    pc[i].grp = -1;
  }
  while (pending > 0) {
    int ngroups = 0, broken = 0, moved = 0, redirected = 0, wait = 0, down = 0;
    char broken_msg[1024] = "";
    /* The shards this round goes to, in order of first appearance; all of
     * them connected before anything is sent. */
    for (int i = 0; i < n; i++) {
      int g;
      if (pc[i].state == P_DONE)
        continue;
      for (g = 0; g < ngroups && groups[g] != pc[i].node; g++)
        ;
      if (g == ngroups)
        groups[ngroups++] = pc[i].node;
    }
    for (int g = 0; g < ngroups; g++) {
      if (node_conn(db, groups[g], &gconn[g]) != SB_OK ||
          (!gconn[g]->c && sb_conn_reconnect(gconn[g]) != SB_OK)) {
        sb_error_prefix("pipeline of %d commands", n);
        goto done;
      }
    }
    /* Send every group, then read every reply. */
    for (int g = 0; g < ngroups; g++) {
      redisContext *c = gconn[g]->c;
      int ok = 1, wdone = 0;
      for (int i = 0; i < n && ok; i++) {
        if (pc[i].state == P_DONE || pc[i].node != groups[g])
          continue;
        /* Replies are matched by the group a command went with: reading
         * one group's replies may re-route its commands to a later group. */
        pc[i].grp = g;
        pc[i].asked = pc[i].state == P_ASK;
        if (pc[i].asked)
          ok = redisAppendCommand(c, "ASKING") == REDIS_OK;
        ok = ok && redisAppendCommandArgv(c, cmds[i].argc, cmds[i].argv, cmds[i].argvlen) ==
                       REDIS_OK;
      }
      while (ok && !wdone)
        ok = redisBufferWrite(c, &wdone) == REDIS_OK;
      if (!ok) {
        int timed_out = c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (!broken)
          snprintf(broken_msg, sizeof broken_msg, "%s: %s", gconn[g]->addr,
                   timed_out ? "no reply within the command timeout" : c->errstr);
        broken = 1;
        redisFree(c);
        gconn[g]->c = NULL;
      }
    }
    for (int g = 0; g < ngroups; g++) {
      sb_db_t *conn = gconn[g];
      for (int i = 0; i < n && conn->c; i++) {
        void *r = NULL;
        redisReply *rr;
        if (pc[i].grp != g)
          continue;
        pc[i].grp = -1;
        if (pc[i].asked) { /* ASKING's +OK */
          if (redisGetReply(conn->c, &r) != REDIS_OK || !r)
            goto conn_broken;
          freeReplyObject(r);
          r = NULL;
        }
        if (redisGetReply(conn->c, &r) != REDIS_OK || !r)
          goto conn_broken;
        rr = r;
        if (rr->type != REDIS_REPLY_ERROR) {
          pc[i].state = P_DONE;
          pending--;
        } else {
          char target[SB_ADDR_MAX];
          int rslot = -1, to;
          int kind = sb_cluster_parse_redirect(rr->str, &rslot, target, sizeof target);
          if ((kind == SB_REDIRECT_MOVED || kind == SB_REDIRECT_ASK) &&
              (to = target_index(db, conn, target)) >= 0) {
            db->redirects++;
            redirected = 1;
            pc[i].node = to;
            pc[i].state = kind == SB_REDIRECT_MOVED ? P_MOVED : P_ASK;
            moved |= kind == SB_REDIRECT_MOVED;
            sb_log(SB_LOG_DEBUG, "%s: %s (pipeline command %d) %s", conn->addr,
                   cmds[i].argv[0], i + 1, rr->str);
          } else if (kind == SB_REDIRECT_TRYAGAIN || kind == SB_REDIRECT_CLUSTERDOWN) {
            pc[i].state = P_WAIT;
            wait = 1;
            down |= kind == SB_REDIRECT_CLUSTERDOWN;
            snprintf(waittxt, sizeof waittxt, "%s: %s", conn->addr, rr->str);
          } else {
            /* An error like any other: final, and the first by index is
             * the one reported. */
            if (first_err < 0 || i < first_err) {
              first_err = i;
              snprintf(errtxt, sizeof errtxt, "%s", rr->str);
              snprintf(erraddr, sizeof erraddr, "%s", conn->addr);
            }
            pc[i].state = P_DONE;
            pending--;
          }
        }
        freeReplyObject(rr);
        continue;
      conn_broken: {
        int timed_out =
            conn->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (!broken)
          snprintf(broken_msg, sizeof broken_msg, "%s: %s", conn->addr,
                   timed_out ? "no reply within the command timeout" : conn->c->errstr);
        broken = 1;
        redisFree(conn->c);
        conn->c = NULL;
      }
      }
    }
    if (broken) {
      sb_error("%s: pipeline of %d commands failed (not re-sent: it may have been applied)",
               broken_msg, n);
      goto done;
    }
    if (pending == 0)
      break;
    if (redirected && ++rounds > SB_DB_MAX_REDIRECTS) {
      sb_error("pipeline of %d commands: still redirected after %d rounds of redirects", n,
               SB_DB_MAX_REDIRECTS);
      goto done;
    }
    if (redirected && rounds > 2 && pause_s(db->cfg.retry_interval_s, "pipeline") != SB_OK)
      goto done; /* as in sb_cluster_call */
    if (moved) {
      if (refresh_map(db) != SB_OK)
        sb_error_clear();
      for (int i = 0; i < n; i++)
        if (pc[i].state == P_MOVED) {
          if (pc[i].slot >= 0)
            cl->slot_node[pc[i].slot] = (int16_t)pc[i].node;
          pc[i].state = P_SEND;
        }
    }
    if (wait) {
      double now = sb_now();
      if (give_up == 0)
        give_up = now + db->cfg.connect_timeout_s;
      if (now >= give_up) {
        sb_error("pipeline of %d commands: %s for %.1f s (SB_DB_CONNECT_TIMEOUT); giving up", n,
                 waittxt, db->cfg.connect_timeout_s);
        goto done;
      }
      if (pause_s(db->cfg.retry_interval_s < give_up - now ? db->cfg.retry_interval_s
                                                           : give_up - now,
                  "pipeline") != SB_OK)
        goto done;
      if (down && refresh_map(db) != SB_OK)
        sb_error_clear();
      for (int i = 0; i < n; i++)
        if (pc[i].state == P_WAIT) {
          pc[i].node = pc[i].slot >= 0 ? cl->slot_node[pc[i].slot] : -1;
          pc[i].state = P_SEND;
        }
      rounds = 0;
    }
  }
  if (first_err >= 0)
    sb_error("%s: %s (command %d of a pipeline of %d): %s", erraddr, cmds[first_err].argv[0],
             first_err + 1, n, errtxt);
  else
    rc = SB_OK;
done:
  free(pc);
  free(groups);
  free(gconn);
  return rc;
}
