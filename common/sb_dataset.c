/* Datasets and aggregation lists; see sb_dataset.h. */
#include "sb_dataset.h"

#include "sb_db_internal.h"
#include "sb_error.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD_TENSORS ".tensors"
#define FIELD_COMPLETE ".complete"

static int name_ok(const char *name, const char *what)
{
  if (!name || !*name)
    return sb_error("empty %s name", what);
  if (strpbrk(name, "{},"))
    return sb_error("%s name '%s' contains '{', '}' or ','", what, name);
  return SB_OK;
}

int sb_dataset_meta_key(const char *name, char *buf, size_t len)
{
  if (name_ok(name, "dataset") != SB_OK)
    return SB_ERR;
  int n = snprintf(buf, len, "{%s}.meta", name);
  if (n < 0 || (size_t)n >= len)
    return sb_error("dataset name '%s' is too long", name);
  return SB_OK;
}

int sb_dataset_tensor_key(const char *name, const char *tensor, char *buf, size_t len)
{
  if (name_ok(name, "dataset") != SB_OK || name_ok(tensor, "tensor") != SB_OK)
    return SB_ERR;
  int n = snprintf(buf, len, "{%s}.%s", name, tensor);
  if (n < 0 || (size_t)n >= len)
    return sb_error("dataset '%s' tensor '%s': key too long", name, tensor);
  return SB_OK;
}

/* ---- put ------------------------------------------------------------------------ */

/* Best effort after a failed put: DEL of the meta hash and every tensor key
 * (one slot: the keys share the hash tag). The put's error stays the one
 * reported; a failed DEL is added to it. */
static void put_cleanup(sb_db_t *db, const char *name, const char *meta, int ntensors,
                        const char *keys)
{
  const char **argv = calloc((size_t)ntensors + 2, sizeof *argv);
  size_t *argvlen = calloc((size_t)ntensors + 2, sizeof *argvlen);
  char saved[1024];
  int k = 0;
  snprintf(saved, sizeof saved, "%s", sb_error_msg());
  if (!argv || !argvlen) {
    free(argv);
    free(argvlen);
    sb_error("%s (and out of memory removing what was written of dataset %s)", saved, name);
    return;
  }
  argv[k] = "DEL", argvlen[k++] = 3;
  argv[k] = meta, argvlen[k++] = strlen(meta);
  for (int t = 0; t < ntensors; t++) {
    const char *key = keys + (size_t)t * SB_DATASET_KEY_MAX;
    argv[k] = key, argvlen[k++] = strlen(key);
  }
  /* Idempotent: a connection the failure broke is opened again for it. */
  if (sb_db_command(db, 1, k, argv, argvlen, NULL) != SB_OK) {
    char why[512];
    snprintf(why, sizeof why, "%s", sb_error_msg());
    sb_error("%s (removing what was written of dataset %s failed too: %s)", saved, name, why);
  } else
    sb_error("%s", saved);
  free(argv);
  free(argvlen);
}

int sb_dataset_put(sb_db_t *db, const char *name, int nfields, const sb_dataset_field_t *fields,
                   int ntensors, const sb_dataset_tensor_t *tensors)
{
  /* First exchange (pipelined): DEL of the meta hash (a stale .complete of
   * an earlier put of this name must not vouch for the new tensors), then
   * one AI.TENSORSET per tensor. Second, only when every reply of the first
   * was OK: one HSET of .tensors, the caller's fields and .complete — one
   * command, so the meta appears whole or not at all. */
  int ncmd = ntensors + 1, rc = SB_ERR, sent = 0;
  sb_db_cmd_t *cmds = NULL;
  const char **argv = NULL, **hset;
  size_t *argvlen = NULL, *hsetlen, total_args, used = 0;
  char *keys = NULL, *dims = NULL, *list = NULL, meta[SB_DATASET_KEY_MAX];
  size_t list_len = 0;

  if (ntensors < 1 || ntensors > SB_DATASET_MAX_TENSORS)
    return sb_error("dataset %s: %d tensors (1..%d)", name, ntensors, SB_DATASET_MAX_TENSORS);
  if (nfields < 0)
    return sb_error("dataset %s: negative field count", name);
  if (sb_dataset_meta_key(name, meta, sizeof meta) != SB_OK)
    return SB_ERR;
  total_args = 2 + (size_t)ntensors * (5 + SB_DATASET_MAX_DIMS) + 4 + 2 * (size_t)nfields + 2;
  cmds = calloc((size_t)ncmd, sizeof *cmds);
  argv = calloc(total_args, sizeof *argv);
  argvlen = calloc(total_args, sizeof *argvlen);
  keys = malloc((size_t)ntensors * SB_DATASET_KEY_MAX);
  dims = malloc((size_t)ntensors * SB_DATASET_MAX_DIMS * 24);
  for (int t = 0; t < ntensors; t++)
    list_len += strlen(tensors[t].name ? tensors[t].name : "") + 1;
  list = malloc(list_len + 1);
  if (!cmds || !argv || !argvlen || !keys || !dims || !list) {
    sb_error("out of memory");
    goto done;
  }
  list[0] = '\0';
#define ARG(s, n) (argv[used] = (s), argvlen[used] = (n), used++)
  cmds[0].argv = argv + used;
  cmds[0].argvlen = argvlen + used;
  ARG("DEL", 3);
  ARG(meta, strlen(meta));
  cmds[0].argc = 2;
  for (int t = 0; t < ntensors; t++) {
    const sb_dataset_tensor_t *x = &tensors[t];
    char *key = keys + (size_t)t * SB_DATASET_KEY_MAX;
    if (sb_dataset_tensor_key(name, x->name, key, SB_DATASET_KEY_MAX) != SB_OK)
      goto done;
    if (x->ndims < 1 || x->ndims > SB_DATASET_MAX_DIMS) {
      sb_error("dataset %s tensor %s: %d dimensions (1..%d)", name, x->name, x->ndims,
               SB_DATASET_MAX_DIMS);
      goto done;
    }
    cmds[1 + t].argv = argv + used;
    cmds[1 + t].argvlen = argvlen + used;
    ARG("AI.TENSORSET", 12);
    ARG(key, strlen(key));
    ARG(x->dtype, strlen(x->dtype));
    for (int d = 0; d < x->ndims; d++) {
      char *txt = dims + ((size_t)t * SB_DATASET_MAX_DIMS + (size_t)d) * 24;
      snprintf(txt, 24, "%" PRId64, x->dims[d]);
      ARG(txt, strlen(txt));
    }
    ARG("BLOB", 4);
    ARG(x->data, x->bytes);
    cmds[1 + t].argc = 5 + x->ndims;
    if (t)
      strcat(list, ",");
    strcat(list, x->name);
  }
  hset = argv + used;
  hsetlen = argvlen + used;
  ARG("HSET", 4);
  ARG(meta, strlen(meta));
  ARG(FIELD_TENSORS, strlen(FIELD_TENSORS));
  ARG(list, strlen(list));
  for (int f = 0; f < nfields; f++) {
    if (!fields[f].field || fields[f].field[0] == '.') {
      sb_error("dataset %s: field names starting with '.' are reserved", name);
      goto done;
    }
    if (!fields[f].value) {
      sb_error("dataset %s: field %s has no value", name, fields[f].field);
      goto done;
    }
    ARG(fields[f].field, strlen(fields[f].field));
    ARG(fields[f].value, strlen(fields[f].value));
  }
  ARG(FIELD_COMPLETE, strlen(FIELD_COMPLETE));
  ARG("1", 1);
#undef ARG
  /* From here on something may reach the server. */
  sent = 1;
  if (sb_db_pipeline(db, ncmd, cmds) != SB_OK)
    goto done;
  /* Not idempotent in the client's sense (never re-sent). */
  if (sb_db_command(db, 0, 4 + 2 * nfields + 2, hset, hsetlen, NULL) != SB_OK)
    goto done;
  rc = SB_OK;
done:
  if (rc != SB_OK) {
    if (sent)
      put_cleanup(db, name, meta, ntensors, keys);
    sb_error_prefix("put_dataset %s", name);
  }
  free(cmds);
  free(argv);
  free(argvlen);
  free(keys);
  free(dims);
  free(list);
  return rc;
}

/* ---- get ------------------------------------------------------------------------ */

static int hget(sb_db_t *db, const char *key, const char *field, char **value)
{
  const char *argv[3] = {"HGET", key, field};
  size_t argvlen[3] = {4, strlen(key), strlen(field)};
  sb_db_reply_t *r = NULL;
  size_t len = 0;
  const char *s;
  *value = NULL;
  if (sb_db_command(db, 1, 3, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  s = sb_db_reply_kind(r) == 'n' ? NULL : sb_db_reply_str(r, &len);
  if (s) {
    *value = malloc(len + 1);
    if (!*value) {
      sb_db_reply_free(r);
      return sb_error("out of memory");
    }
    memcpy(*value, s, len);
    (*value)[len] = '\0';
  }
  sb_db_reply_free(r);
  return SB_OK;
}

int sb_dataset_exists(sb_db_t *db, const char *name, int *complete)
{
  char meta[SB_DATASET_KEY_MAX], *v = NULL;
  if (sb_dataset_meta_key(name, meta, sizeof meta) != SB_OK || hget(db, meta, FIELD_COMPLETE, &v) != SB_OK)
    return SB_ERR;
  *complete = v && strcmp(v, "1") == 0;
  free(v);
  return SB_OK;
}

/* Is `tensor` one of the comma-separated names in list? */
static int in_list(const char *list, const char *tensor)
{
  size_t n = strlen(tensor);
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, tensor, n) == 0)
      return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

int sb_dataset_get(sb_db_t *db, const char *name, int nfields, const char *const *fields,
                   char **values, int ntensors, sb_dataset_tensor_t *tensors, int *complete_out)
{
  char meta[SB_DATASET_KEY_MAX], key[SB_DATASET_KEY_MAX], *complete = NULL, *list = NULL;
  int rc = SB_ERR;
  *complete_out = 0;
  for (int f = 0; f < nfields; f++)
    values[f] = NULL;
  for (int t = 0; t < ntensors; t++)
    tensors[t].present = 0;
  if (sb_dataset_meta_key(name, meta, sizeof meta) != SB_OK)
    return SB_ERR;
  if (hget(db, meta, FIELD_COMPLETE, &complete) != SB_OK || hget(db, meta, FIELD_TENSORS, &list) != SB_OK)
    goto done;
  if (!complete || strcmp(complete, "1") != 0) {
    rc = SB_OK;
    goto done;
  }
  for (int f = 0; f < nfields; f++)
    if (hget(db, meta, fields[f], &values[f]) != SB_OK)
      goto done;
  for (int t = 0; t < ntensors; t++) {
    sb_dataset_tensor_t *x = &tensors[t];
    if (!in_list(list, x->name))
      continue;
    if (sb_dataset_tensor_key(name, x->name, key, sizeof key) != SB_OK)
      goto done;
    if (sb_db_get_tensor(db, key, x->dtype, x->dims, x->ndims, x->buf, x->bytes) != SB_OK) {
      sb_error_prefix("dataset %s tensor %s", name, x->name);
      goto done;
    }
    x->present = 1;
  }
  *complete_out = 1;
  rc = SB_OK;
done:
  if (rc != SB_OK || !*complete_out)
    for (int f = 0; f < nfields; f++) {
      free(values[f]);
      values[f] = NULL;
    }
  free(complete);
  free(list);
  return rc;
}

/* ---- lists ---------------------------------------------------------------------- */

int sb_list_append(sb_db_t *db, const char *list, const char *name)
{
  const char *argv[3] = {"RPUSH", list, name};
  size_t argvlen[3] = {5, strlen(list), strlen(name)};
  /* Not idempotent: a re-send would append twice. */
  return sb_db_command(db, 0, 3, argv, argvlen, NULL);
}

int sb_list_length(sb_db_t *db, const char *list, int64_t *len)
{
  const char *argv[2] = {"LLEN", list};
  size_t argvlen[2] = {4, strlen(list)};
  sb_db_reply_t *r = NULL;
  if (sb_db_command(db, 1, 2, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  *len = sb_db_reply_int(r);
  sb_db_reply_free(r);
  return SB_OK;
}

int sb_list_poll_length(sb_db_t *db, const char *list, const char *cmp, int64_t n,
                        int64_t interval_ms, int64_t tries, int *met)
{
  int op;
  if (strcmp(cmp, "==") == 0)
    op = 0;
  else if (strcmp(cmp, ">=") == 0)
    op = 1;
  else if (strcmp(cmp, "<=") == 0)
    op = 2;
  else
    return sb_error("poll_list_length: comparison '%s' (expected ==, >= or <=)", cmp);
  *met = 0;
  for (int64_t k = 0; k < tries; k++) {
    int64_t len;
    if (sb_list_length(db, list, &len) != SB_OK)
      return SB_ERR;
    if ((op == 0 && len == n) || (op == 1 && len >= n) || (op == 2 && len <= n)) {
      *met = 1;
      return SB_OK;
    }
    if (k + 1 < tries && interval_ms > 0) {
      struct timespec ts = {(time_t)(interval_ms / 1000), (long)(interval_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  return SB_OK;
}

void sb_list_names_free(char **names, size_t n)
{
  if (!names)
    return;
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

int sb_list_range(sb_db_t *db, const char *list, char ***names, size_t *n)
{
  const char *argv[4] = {"LRANGE", list, "0", "-1"};
  size_t argvlen[4] = {6, strlen(list), 1, 2};
  sb_db_reply_t *r = NULL;
  *names = NULL;
  *n = 0;
  if (sb_db_command(db, 1, 4, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  size_t count = sb_db_reply_len(r);
  char **out = calloc(count ? count : 1, sizeof *out);
  if (!out) {
    sb_db_reply_free(r);
    return sb_error("out of memory");
  }
  for (size_t i = 0; i < count; i++) {
    size_t len = 0;
    const char *s = sb_db_reply_str(sb_db_reply_at(r, i), &len);
    out[i] = malloc(len + 1);
    if (!out[i]) {
      sb_list_names_free(out, i);
      sb_db_reply_free(r);
      return sb_error("out of memory");
    }
    memcpy(out[i], s ? s : "", s ? len : 0);
    out[i][s ? len : 0] = '\0';
  }
  sb_db_reply_free(r);
  *names = out;
  *n = count;
  return SB_OK;
}

/* DEL of one dataset's keys: its meta hash and the tensors it lists. */
static int delete_dataset(sb_db_t *db, const char *name)
{
  char meta[SB_DATASET_KEY_MAX], *list = NULL, *keys = NULL;
  int rc = SB_ERR, ntensors = 0, k = 0;
  const char **argv = NULL;
  size_t *argvlen = NULL;
  if (sb_dataset_meta_key(name, meta, sizeof meta) != SB_OK || hget(db, meta, FIELD_TENSORS, &list) != SB_OK)
    return SB_ERR;
  if (list && *list) {
    ntensors = 1;
    for (const char *p = list; *p; p++)
      ntensors += *p == ',';
  }
  argv = calloc((size_t)ntensors + 2, sizeof *argv);
  argvlen = calloc((size_t)ntensors + 2, sizeof *argvlen);
  keys = malloc(((size_t)ntensors + 1) * SB_DATASET_KEY_MAX);
  if (!argv || !argvlen || !keys) {
    sb_error("out of memory");
    goto done;
  }
  argv[k] = "DEL", argvlen[k++] = 3;
  argv[k] = meta, argvlen[k++] = strlen(meta);
  for (char *p = list, *save = NULL, *tok; ntensors && (tok = strtok_r(p, ",", &save)); p = NULL) {
    char *key = keys + (size_t)(k - 2) * SB_DATASET_KEY_MAX;
    if (k - 2 >= ntensors || sb_dataset_tensor_key(name, tok, key, SB_DATASET_KEY_MAX) != SB_OK)
      goto done;
    argv[k] = key, argvlen[k] = strlen(key);
    k++;
  }
  rc = sb_db_command(db, 1, k, argv, argvlen, NULL);
done:
  free(argv);
  free(argvlen);
  free(keys);
  free(list);
  return rc;
}

int sb_list_delete(sb_db_t *db, const char *list, int with_datasets)
{
  const char *argv[2] = {"DEL", list};
  size_t argvlen[2] = {3, strlen(list)};
  if (with_datasets) {
    char **names = NULL;
    size_t n = 0;
    if (sb_list_range(db, list, &names, &n) != SB_OK)
      return SB_ERR;
    for (size_t i = 0; i < n; i++)
      if (delete_dataset(db, names[i]) != SB_OK) {
        sb_list_names_free(names, n);
        return sb_error_prefix("delete_list %s", list);
      }
    sb_list_names_free(names, n);
  }
  return sb_db_command(db, 1, 2, argv, argvlen, NULL);
}

/* ---- parallel fetch --------------------------------------------------------------- */

typedef struct {
  sb_dataset_pool_t *pool;
  int k;
  char **names;
  size_t n;
  sb_dataset_fetch_fn fetch;
  void *arg;
  int failed;
  char msg[512];
} worker_t;

struct sb_dataset_pool {
  int threads;
  sb_db_t **conns;
  sb_db_t *parent;    /* whose redirect count the pool's connections add to */
  uint64_t *counted;  /* redirects of each connection already added */
};

int sb_dataset_pool_open(sb_db_t *db, int threads, sb_dataset_pool_t **out)
{
  sb_dataset_pool_t *p;
  if (threads < 1)
    return sb_error("dataset pool: %d threads (at least 1)", threads);
  p = calloc(1, sizeof *p);
  if (!p || !(p->conns = calloc((size_t)threads, sizeof *p->conns)) ||
      !(p->counted = calloc((size_t)threads, sizeof *p->counted))) {
    if (p)
      free(p->conns);
    free(p);
    return sb_error("out of memory");
  }
  p->threads = threads;
  p->parent = db;
  for (int k = 0; k < threads; k++)
    if (sb_db_open(sb_db_address(db), sb_db_config(db), &p->conns[k]) != SB_OK) {
      sb_dataset_pool_close(p);
      return sb_error_prefix("dataset pool connection %d of %d", k + 1, threads);
    }
  *out = p;
  return SB_OK;
}

void sb_dataset_pool_close(sb_dataset_pool_t *p)
{
  if (!p)
    return;
  for (int k = 0; k < p->threads; k++)
    sb_db_close(p->conns[k]);
  free(p->conns);
  free(p->counted);
  free(p);
}

static void *worker_main(void *argp)
{
  worker_t *w = argp;
  for (size_t i = (size_t)w->k; i < w->n; i += (size_t)w->pool->threads)
    if (w->fetch(w->pool->conns[w->k], w->names[i], i, w->arg) != SB_OK && !w->failed) {
      w->failed = 1;
      snprintf(w->msg, sizeof w->msg, "%s", sb_error_msg());
    }
  return NULL;
}

int sb_dataset_pool_run(sb_dataset_pool_t *pool, char **names, size_t n,
                        sb_dataset_fetch_fn fetch, void *arg)
{
  worker_t *w = calloc((size_t)pool->threads, sizeof *w);
  pthread_t *tid = calloc((size_t)pool->threads, sizeof *tid);
  char *created = calloc((size_t)pool->threads, 1);
  int rc = SB_OK;
  if (!w || !tid || !created) {
    free(w);
    free(tid);
    free(created);
    return sb_error("out of memory");
  }
  for (int k = 0; k < pool->threads; k++)
    w[k] = (worker_t){.pool = pool, .k = k, .names = names, .n = n, .fetch = fetch, .arg = arg};
  /* Thread 0's share runs on the calling thread; so does the share of a
   * thread that could not be started. */
  for (int k = 1; k < pool->threads; k++)
    created[k] = pthread_create(&tid[k], NULL, worker_main, &w[k]) == 0;
  worker_main(&w[0]);
  for (int k = 1; k < pool->threads; k++) {
    if (created[k])
      pthread_join(tid[k], NULL);
    else
      worker_main(&w[k]);
  }
  /* Redirects the threads' connections followed count as the parent's
   * (the handle whose count the app records). */
  for (int k = 0; k < pool->threads; k++) {
    uint64_t now = sb_db_redirects(pool->conns[k]);
    sb_db_add_redirects(pool->parent, now - pool->counted[k]);
    pool->counted[k] = now;
  }
  for (int k = 0; k < pool->threads; k++)
    if (w[k].failed) {
      rc = sb_error("%s", w[k].msg);
      break;
    }
  free(w);
  free(tid);
  free(created);
  return rc;
}
