/* libFuzzer target: the database client's reply handling (common/).
 *
 * The client is given a connection whose "server" is the fuzz input: one
 * end of a socketpair, with the input's reply bytes written into the other
 * end, which is then shut for writing. Every command the client sends goes
 * into the socket unread; every reply it reads comes from the input, through
 * hiredis's own reply reader (redisReader, inside redisGetReply) for the
 * hiredis path, and through our own RESP parser (sb_db_wire.c) for the
 * payload path. So the code under test is exactly what runs against a real
 * server: reply trees interpreted by sb_db.c, sb_db_ai.c, sb_dataset.c and
 * sb_cluster.c (CLUSTER SLOTS, MOVED/ASK/TRYAGAIN/CLUSTERDOWN), and the
 * wire readers of TENSORGET META BLOB, GET and +OK.
 *
 * Input: a first line naming the client calls to make, in order, separated
 * by spaces (at most 16; see `ops` below), then the reply bytes they read:
 *     discover get_tensor\n*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$0\r\n\r\n:7000\r\n...
 * The connection's address is tcp://127.0.0.1:0, which the client refuses to
 * connect to, so a reconnect fails at once; connections to other cluster nodes are refused by
 * the harness (sb_conn_open is wrapped at link time: --wrap=sb_conn_open),
 * so a redirect to another node is an error, never a real connection, and a
 * redirect to the node itself (127.0.0.1:0, or ":0") reads on from the input. Timeouts and pauses
 * are 0.
 */
#include "sb_cluster.h"
#include "sb_dataset.h"
#include "sb_db_ai.h"
#include "sb_db_internal.h"
#include "sb_error.h"

#include <hiredis/hiredis.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_OPS 16

int __wrap_sb_conn_open(const char *addr, const sb_db_config_t *cfg, double deadline,
                        sb_db_t **out);
int __wrap_sb_conn_open(const char *addr, const sb_db_config_t *cfg, double deadline,
                        sb_db_t **out)
{
  (void)cfg, (void)deadline;
  *out = NULL;
  return sb_error("%s: the fuzz host opens no connections", addr);
}

/* ---- the calls -------------------------------------------------------------------- */

static const int64_t dims2[2] = {2, 3};
static float fbuf[6];

static void op_get_tensor(sb_db_t *db)
{
  (void)sb_db_get_tensor(db, "{t}in", "FLOAT", dims2, 2, fbuf, sizeof fbuf);
}

static void op_put_tensor(sb_db_t *db)
{
  (void)sb_db_put_tensor(db, "{t}in", "FLOAT", dims2, 2, fbuf, sizeof fbuf);
}

static void op_get(sb_db_t *db)
{
  char buf[16];
  size_t len = 0;
  if (sb_db_get(db, "k", buf, sizeof buf, &len) == SB_OK && len > sizeof buf)
    abort();
}

static void op_set(sb_db_t *db) { (void)sb_db_set(db, "k", "value", 5); }

static void op_del(sb_db_t *db) { (void)sb_db_del(db, "k"); }

static void op_info(sb_db_t *db)
{
  char buf[32];
  if (sb_db_info_field(db, "server", "redis_version", buf, sizeof buf) == SB_OK
      && strlen(buf) >= sizeof buf)
    abort();
}

static void op_modules(sb_db_t *db)
{
  long long v;
  (void)sb_db_module_version(db, "sbai", &v);
  (void)sb_ai_require_module(db, "fuzzing");
}

static void op_model_tag(sb_db_t *db)
{
  char buf[8];
  int found;
  if (sb_ai_model_tag(db, "m", buf, sizeof buf, &found) == SB_OK && found
      && strnlen(buf, sizeof buf) >= sizeof buf)
    abort();
}

static void op_model_store(sb_db_t *db)
{
  sb_ai_model_spec_t spec = {0};
  spec.backend = "SBRESNET";
  spec.device = "CPU";
  spec.tag = "v1";
  spec.batch_size = 4;
  spec.min_batch_size = 2;
  spec.min_batch_timeout_ms = 10;
  (void)sb_ai_model_store(db, "m", &spec, "blob", 4);
}

static void op_script_store(sb_db_t *db)
{
  (void)sb_ai_script_store(db, "s", "CPU", "def pre_process_3ch(x):");
}

static void op_run(sb_db_t *db)
{
  const char *in[1] = {"{t}in"}, *out[1] = {"{t}out"};
  (void)sb_ai_model_execute(db, "{t}m", 1, in, 1, out);
  (void)sb_ai_script_execute(db, "{t}s", "pre_process_3ch", 1, in, 1, out);
}

static void op_exists(sb_db_t *db)
{
  int complete;
  (void)sb_dataset_exists(db, "ds", &complete);
}

static void op_dataset_get(sb_db_t *db)
{
  const char *fields[2] = {"rank", "step"};
  char *values[2];
  float a[6], b[2];
  sb_dataset_tensor_t t[2] = {
      {.name = "a", .dtype = "FLOAT", .ndims = 2, .dims = {2, 3}, .buf = a, .bytes = sizeof a},
      {.name = "b", .dtype = "FLOAT", .ndims = 1, .dims = {2}, .buf = b, .bytes = sizeof b}};
  int complete;
  if (sb_dataset_get(db, "ds", 2, fields, values, 2, t, &complete) == SB_OK && complete) {
    free(values[0]);
    free(values[1]);
  }
}

static void op_dataset_put(sb_db_t *db)
{
  sb_dataset_field_t f[1] = {{"rank", "0"}};
  sb_dataset_tensor_t t[1] = {
      {.name = "a", .dtype = "FLOAT", .ndims = 2, .dims = {2, 3}, .data = fbuf, .bytes = 24}};
  (void)sb_dataset_put(db, "ds", 1, f, 1, t);
}

static void op_list(sb_db_t *db)
{
  int64_t len;
  char **names = NULL;
  size_t n = 0;
  (void)sb_list_append(db, "l", "ds");
  (void)sb_list_length(db, "l", &len);
  if (sb_list_range(db, "l", &names, &n) == SB_OK)
    sb_list_names_free(names, n);
}

static void op_list_delete(sb_db_t *db) { (void)sb_list_delete(db, "l", 1); }

static void op_pipeline(sb_db_t *db)
{
  const char *a1[3] = {"SET", "{x}a", "1"}, *a2[2] = {"GET", "{y}b"}, *a3[1] = {"PING"};
  const size_t l1[3] = {3, 4, 1}, l2[2] = {3, 4}, l3[1] = {4};
  sb_db_cmd_t cmds[3] = {{3, a1, l1}, {2, a2, l2}, {1, a3, l3}};
  (void)sb_db_pipeline(db, 3, cmds);
}

static void op_discover(sb_db_t *db)
{
  if (db->cluster)
    return;
  if (sb_cluster_discover(db) == SB_OK && db->cluster) {
    for (int s = -1; s <= 16384; s += 97)
      (void)sb_db_cluster_slot_owner(db, s);
    (void)sb_db_cluster_shards(db);
  }
}

typedef struct {
  const char *name;
  void (*fn)(sb_db_t *db);
} op_t;

static const op_t ops[] = {
    {"discover", op_discover},     {"get_tensor", op_get_tensor},
    {"put_tensor", op_put_tensor}, {"get", op_get},
    {"set", op_set},               {"del", op_del},
    {"info", op_info},             {"modules", op_modules},
    {"model_tag", op_model_tag},   {"model_store", op_model_store},
    {"script_store", op_script_store}, {"run", op_run},
    {"exists", op_exists},         {"dataset_get", op_dataset_get},
    {"dataset_put", op_dataset_put}, {"list", op_list},
    {"list_delete", op_list_delete}, {"pipeline", op_pipeline},
};

/* ---- the connection ------------------------------------------------------------------ */

/* A client handle whose socket reads `replies`. NULL when the socket cannot
 * be made (not the input's fault: the run is skipped). */
static sb_db_t *fake_db(const uint8_t *replies, size_t len, int *peer)
{
  int sv[2], big = 1 << 20;
  sb_db_t *db;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return NULL;
  /* The harness's end must hold the whole input and everything the client
   * sends, as nobody reads it. */
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  for (size_t off = 0; off < len;) {
    ssize_t w = write(sv[0], replies + off, len - off);
    if (w <= 0) {
      close(sv[0]);
      close(sv[1]);
      return NULL;
    }
    off += (size_t)w;
  }
  shutdown(sv[0], SHUT_WR);
  db = calloc(1, sizeof *db);
  if (!db)
    abort();
  db->cfg.connect_timeout_s = 0;
  db->cfg.command_timeout_s = 1;
  db->cfg.retry_interval_s = 0;
  db->cfg.command_retries = 0;
  /* Port 0: the client's own address parser refuses it, so a reconnect
   * fails without touching the network; and a cluster node advertised at
   * 127.0.0.1:0 (or with an empty host) is this connection. */
  snprintf(db->addr, sizeof db->addr, "tcp://127.0.0.1:0");
  db->c = redisConnectFd(sv[1]);
  if (!db->c || db->c->err) {
    if (db->c)
      redisFree(db->c);
    else
      close(sv[1]);
    free(db);
    close(sv[0]);
    return NULL;
  }
  /* The harness's end stays open (unread) until the handle is closed:
   * closing it would make the client's sends fail with EPIPE. */
  *peer = sv[0];
  return db;
}

/* hiredis 0.14 allocates an array reply's element table from the count the
 * server declares ("*1638316384" asks for 13 GB) before reading any
 * element; it has no limit of its own, and reports a failed allocation as
 * REDIS_ERR_OOM. Allocations above 1 GiB therefore fail here (NULL, not an
 * abort), as they would on a node without overcommit, so what is tested is
 * how our code takes hiredis's out-of-memory error, not ASan's allocator
 * limit. (regressions/client/hiredis-array-count-13GB) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
  return "max_allocation_size_mb=1024:allocator_may_return_null=1";
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc, (void)argv;
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nl = memchr(data, '\n', size);
  const op_t *plan[MAX_OPS];
  int nplan = 0, peer;
  size_t head;
  sb_db_t *db;
  if (!nl || size > (256u << 10))
    return 0;
  head = (size_t)(nl - data);
  for (size_t i = 0; i < head && nplan < MAX_OPS;) {
    size_t n = 0;
    while (i < head && data[i] == ' ')
      i++;
    while (i + n < head && data[i + n] != ' ')
      n++;
    for (size_t k = 0; n && k < sizeof ops / sizeof ops[0]; k++)
      if (strlen(ops[k].name) == n && memcmp(ops[k].name, data + i, n) == 0)
        plan[nplan++] = &ops[k];
    i += n;
  }
  if (nplan == 0)
    return 0;
  db = fake_db(nl + 1, size - head - 1, &peer);
  if (!db)
    return 0;
  for (int i = 0; i < nplan; i++)
    plan[i]->fn(db);
  sb_db_close(db);
  close(peer);
  sb_error_clear();
  return 0;
}
