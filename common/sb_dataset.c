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

/* SmartRedis's names (docs/aggregation.md, "Key layout"). */
#define FIELD_TENSORS ".tensor_names"
#define FIELD_COMPLETE ".COMPLETE"

/* SmartRedis's metadata type bytes (SRMetaDataType). */
enum { MT_DOUBLE = 1, MT_FLOAT, MT_INT32, MT_INT64, MT_UINT32, MT_UINT64, MT_STRING };

static int name_ok(const char *name, const char *what, const char *forbidden)
{
  if (!name || !*name)
    return sb_error("empty %s name", what);
  if (forbidden && strpbrk(name, forbidden))
    return sb_error("%s name '%s' contains '{' or '}'", what, name);
  return SB_OK;
}

/* "{name}" followed by suffix into buf, the dataset name checked. */
static int dataset_key(const char *name, const char *suffix, char *buf, size_t len)
{
  if (name_ok(name, "dataset", "{}") != SB_OK)
    return SB_ERR;
  int n = snprintf(buf, len, "{%s}%s", name, suffix);
  if (n < 0 || (size_t)n >= len)
    return sb_error("dataset name '%s' is too long", name);
  return SB_OK;
}

int sb_dataset_key(const char *name, char *buf, size_t len)
{
  return dataset_key(name, "", buf, len);
}

int sb_dataset_meta_key(const char *name, char *buf, size_t len)
{
  return dataset_key(name, ".meta", buf, len);
}

int sb_dataset_tensor_key(const char *name, const char *tensor, char *buf, size_t len)
{
  if (name_ok(name, "dataset", "{}") != SB_OK || name_ok(tensor, "tensor", NULL) != SB_OK)
    return SB_ERR;
  int n = snprintf(buf, len, "{%s}.%s", name, tensor);
  if (n < 0 || (size_t)n >= len)
    return sb_error("dataset '%s' tensor '%s': key too long", name, tensor);
  return SB_OK;
}

int sb_dataset_name_from_key(const char *key, size_t keylen, char *buf, size_t len)
{
  const char *open = memchr(key, '{', keylen), *close = NULL;
  for (size_t k = keylen; k > 0; k--)
    if (key[k - 1] == '}') {
      close = key + k - 1;
      break;
    }
  if (!open || !close || close <= open + 1)
    return sb_error("list entry '%.*s' is not a dataset key '{NAME}'", (int)(keylen > 200 ? 200 : keylen),
                    key);
  size_t n = (size_t)(close - open - 1);
  if (n + 1 > len)
    return sb_error("list entry '%.*s': dataset name too long", (int)(keylen > 200 ? 200 : keylen), key);
  memcpy(buf, open + 1, n);
  buf[n] = '\0';
  if (memchr(buf, '\0', n) || strpbrk(buf, "{}"))
    return sb_error("list entry '%.*s' is not a dataset key '{NAME}'", (int)(keylen > 200 ? 200 : keylen),
                    key);
  return SB_OK;
}

/* Little-endian 64-bit length, whatever the host's byte order. */
static void put_le64(unsigned char *p, uint64_t v)
{
  for (int k = 0; k < 8; k++)
    p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_le64(const unsigned char *p)
{
  uint64_t v = 0;
  for (int k = 0; k < 8; k++)
    v |= (uint64_t)p[k] << (8 * k);
  return v;
}

int sb_dataset_encode_strings(int n, const char *const *strs, char **out, size_t *outlen)
{
  size_t total = 1, pos = 0;
  unsigned char *buf;
  *out = NULL;
  *outlen = 0;
  if (n < 0)
    return sb_error("encode_strings: negative count");
  for (int k = 0; k < n; k++)
    total += 8 + strlen(strs[k]);
  if (!(buf = malloc(total)))
    return sb_error("out of memory");
  buf[pos++] = MT_STRING;
  for (int k = 0; k < n; k++) {
    size_t len = strlen(strs[k]);
    put_le64(buf + pos, len);
    pos += 8;
    memcpy(buf + pos, strs[k], len);
    pos += len;
  }
  *out = (char *)buf;
  *outlen = total;
  return SB_OK;
}

int sb_dataset_decode_strings(const char *buf, size_t len, char ***strs, size_t *n)
{
  const unsigned char *p = (const unsigned char *)buf;
  size_t pos = 1, count = 0, cap = 0;
  char **out = NULL;
  *strs = NULL;
  *n = 0;
  if (len < 1 || p[0] != MT_STRING)
    return sb_error("not a string field (type byte %d, %zu bytes)", len ? p[0] : -1, len);
  while (pos < len) {
    uint64_t slen;
    if (len - pos < 8) {
      sb_list_names_free(out, count);
      return sb_error("string field truncated at byte %zu of %zu (no room for a length)", pos, len);
    }
    slen = get_le64(p + pos);
    pos += 8;
    if (slen > len - pos) {
      sb_list_names_free(out, count);
      return sb_error("string field truncated: a string of %llu bytes at byte %zu of %zu",
                      (unsigned long long)slen, pos, len);
    }
    if (count == cap) {
      size_t ncap = cap ? 2 * cap : 8;
      char **grown = realloc(out, ncap * sizeof *out);
      if (!grown) {
        sb_list_names_free(out, count);
        return sb_error("out of memory");
      }
      out = grown;
      cap = ncap;
    }
    if (!(out[count] = malloc((size_t)slen + 1))) {
      sb_list_names_free(out, count);
      return sb_error("out of memory");
    }
    memcpy(out[count], p + pos, (size_t)slen);
    out[count][slen] = '\0';
    count++;
    pos += (size_t)slen;
  }
  if (!out && !(out = calloc(1, sizeof *out)))
    return sb_error("out of memory");
  *strs = out;
  *n = count;
  return SB_OK;
}

int sb_dataset_field_text(const char *buf, size_t len, char **text)
{
  const unsigned char *p = (const unsigned char *)buf;
  size_t width, nvals, cap, pos = 0;
  char *out;
  *text = NULL;
  if (len < 1)
    return sb_error("empty metadata field (no type byte)");
  if (p[0] == MT_STRING) {
    char **strs = NULL;
    size_t n = 0, total = 1;
    if (sb_dataset_decode_strings(buf, len, &strs, &n) != SB_OK)
      return SB_ERR;
    for (size_t k = 0; k < n; k++)
      total += strlen(strs[k]) + 1;
    if (!(out = malloc(total))) {
      sb_list_names_free(strs, n);
      return sb_error("out of memory");
    }
    out[0] = '\0';
    for (size_t k = 0; k < n; k++) {
      if (k)
        strcat(out, ",");
      strcat(out, strs[k]);
    }
    sb_list_names_free(strs, n);
    *text = out;
    return SB_OK;
  }
  switch (p[0]) {
  case MT_DOUBLE: case MT_INT64: case MT_UINT64: width = 8; break;
  case MT_FLOAT: case MT_INT32: case MT_UINT32: width = 4; break;
  default: return sb_error("unknown metadata type byte %d", p[0]);
  }
  if ((len - 1) % width)
    return sb_error("metadata field of type %d: %zu value bytes, not a multiple of %zu", p[0],
                    len - 1, width);
  nvals = (len - 1) / width;
  cap = nvals * 32 + 1;
  if (!(out = malloc(cap)))
    return sb_error("out of memory");
  out[0] = '\0';
  for (size_t k = 0; k < nvals; k++) {
    const unsigned char *v = p + 1 + k * width;
    uint64_t u = 0;
    for (size_t b = 0; b < width; b++)
      u |= (uint64_t)v[b] << (8 * b);
    if (k)
      out[pos++] = ',';
    switch (p[0]) {
    case MT_DOUBLE: { double d; memcpy(&d, &u, 8); pos += (size_t)snprintf(out + pos, cap - pos, "%.17g", d); break; }
    case MT_FLOAT: { uint32_t u32 = (uint32_t)u; float f; memcpy(&f, &u32, 4); pos += (size_t)snprintf(out + pos, cap - pos, "%.9g", (double)f); break; }
    case MT_INT32: pos += (size_t)snprintf(out + pos, cap - pos, "%" PRId32, (int32_t)(uint32_t)u); break;
    case MT_INT64: pos += (size_t)snprintf(out + pos, cap - pos, "%" PRId64, (int64_t)u); break;
    case MT_UINT32: pos += (size_t)snprintf(out + pos, cap - pos, "%" PRIu32, (uint32_t)u); break;
    default: pos += (size_t)snprintf(out + pos, cap - pos, "%" PRIu64, u); break;
    }
  }
  out[pos] = '\0';
  *text = out;
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
  /* First exchange (pipelined): DEL of the meta hash (a stale .COMPLETE of
   * an earlier put of this name must not vouch for the new tensors), then
   * one AI.TENSORSET per tensor. Second, only when every reply of the first
   * was OK: one HSET of .tensor_names, the caller's fields and .COMPLETE —
   * one command, so the meta appears whole or not at all. */
  int ncmd = ntensors + 1, rc = SB_ERR, sent = 0;
  sb_db_cmd_t *cmds = NULL;
  const char **argv = NULL, **hset, **tnames = NULL;
  size_t *argvlen = NULL, *hsetlen, total_args, used = 0, list_len = 0;
  char *keys = NULL, *dims = NULL, *list = NULL, **encoded = NULL, meta[SB_DATASET_KEY_MAX];
  size_t *encoded_len = NULL;

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
  tnames = calloc((size_t)ntensors, sizeof *tnames);
  encoded = calloc((size_t)nfields + 1, sizeof *encoded);
  encoded_len = calloc((size_t)nfields + 1, sizeof *encoded_len);
  if (!cmds || !argv || !argvlen || !keys || !dims || !tnames || !encoded || !encoded_len) {
    sb_error("out of memory");
    goto done;
  }
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
    tnames[t] = x->name;
  }
  if (sb_dataset_encode_strings(ntensors, tnames, &list, &list_len) != SB_OK)
    goto done;
  hset = argv + used;
  hsetlen = argvlen + used;
  ARG("HSET", 4);
  ARG(meta, strlen(meta));
  ARG(FIELD_TENSORS, strlen(FIELD_TENSORS));
  ARG(list, list_len);
  for (int f = 0; f < nfields; f++) {
    if (!fields[f].field || !fields[f].field[0] || fields[f].field[0] == '.') {
      sb_error("dataset %s: field names must be non-empty; those starting with '.' are reserved",
               name);
      goto done;
    }
    if (!fields[f].value) {
      sb_error("dataset %s: field %s has no value", name, fields[f].field);
      goto done;
    }
    if (sb_dataset_encode_strings(1, &fields[f].value, &encoded[f], &encoded_len[f]) != SB_OK)
      goto done;
    ARG(fields[f].field, strlen(fields[f].field));
    ARG(encoded[f], encoded_len[f]);
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
  for (int f = 0; encoded && f < nfields; f++)
    free(encoded[f]);
  free(encoded);
  free(encoded_len);
  free(tnames);
  free(cmds);
  free(argv);
  free(argvlen);
  free(keys);
  free(dims);
  free(list);
  return rc;
}

/* ---- get ------------------------------------------------------------------------ */

/* A dataset's meta hash as HGETALL returned it. */
typedef struct {
  sb_db_reply_t *r;
  int exists, complete, has_tensors;
  char **tnames;
  size_t ntnames;
} meta_t;

static void meta_free(meta_t *m)
{
  sb_db_reply_free(m->r);
  sb_list_names_free(m->tnames, m->ntnames);
  memset(m, 0, sizeof *m);
}

/* The value of field f in m (NULL if absent). */
static const char *meta_field(const meta_t *m, const char *f, size_t *len)
{
  size_t n = strlen(f);
  for (size_t k = 0; k + 1 < sb_db_reply_len(m->r); k += 2) {
    size_t flen = 0;
    const char *name = sb_db_reply_str(sb_db_reply_at(m->r, k), &flen);
    if (name && flen == n && memcmp(name, f, n) == 0)
      return sb_db_reply_str(sb_db_reply_at(m->r, k + 1), len);
  }
  return NULL;
}

/* HGETALL {name}.meta; decodes .tensor_names. */
static int meta_read(sb_db_t *db, const char *name, meta_t *m)
{
  char key[SB_DATASET_KEY_MAX];
  const char *argv[2] = {"HGETALL", key};
  size_t argvlen[2] = {7, 0}, len = 0;
  const char *v;
  memset(m, 0, sizeof *m);
  if (sb_dataset_meta_key(name, key, sizeof key) != SB_OK)
    return SB_ERR;
  argvlen[1] = strlen(key);
  if (sb_db_command(db, 1, 2, argv, argvlen, &m->r) != SB_OK)
    return SB_ERR;
  if (sb_db_reply_kind(m->r) != 'a' || sb_db_reply_len(m->r) % 2) {
    meta_free(m);
    return sb_error("HGETALL %s: unexpected reply", key);
  }
  m->exists = sb_db_reply_len(m->r) > 0;
  m->complete = meta_field(m, FIELD_COMPLETE, &len) != NULL;
  if ((v = meta_field(m, FIELD_TENSORS, &len))) {
    if (sb_dataset_decode_strings(v, len, &m->tnames, &m->ntnames) != SB_OK) {
      meta_free(m);
      return sb_error_prefix("dataset %s: field %s", name, FIELD_TENSORS);
    }
    m->has_tensors = 1;
  }
  return SB_OK;
}

static int meta_lists(const meta_t *m, const char *tensor)
{
  for (size_t k = 0; k < m->ntnames; k++)
    if (strcmp(m->tnames[k], tensor) == 0)
      return 1;
  return 0;
}

int sb_dataset_exists(sb_db_t *db, const char *name, int *complete)
{
  char meta[SB_DATASET_KEY_MAX];
  const char *argv[3] = {"HEXISTS", meta, FIELD_COMPLETE};
  size_t argvlen[3] = {7, 0, strlen(FIELD_COMPLETE)};
  sb_db_reply_t *r = NULL;
  *complete = 0;
  if (sb_dataset_meta_key(name, meta, sizeof meta) != SB_OK)
    return SB_ERR;
  argvlen[1] = strlen(meta);
  if (sb_db_command(db, 1, 3, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  *complete = sb_db_reply_int(r) == 1;
  sb_db_reply_free(r);
  return SB_OK;
}

/* EXISTS key: *n = 1 or 0. */
static int key_exists(sb_db_t *db, const char *key, long long *n)
{
  return sb_db_key_int(db, "EXISTS", key, n);
}

int sb_dataset_get(sb_db_t *db, const char *name, int nfields, const char *const *fields,
                   char **values, int ntensors, sb_dataset_tensor_t *tensors, int *complete_out)
{
  char key[SB_DATASET_KEY_MAX];
  meta_t m;
  int rc = SB_ERR;
  *complete_out = 0;
  for (int f = 0; f < nfields; f++)
    values[f] = NULL;
  for (int t = 0; t < ntensors; t++)
    tensors[t].present = 0;
  if (meta_read(db, name, &m) != SB_OK)
    return SB_ERR;
  if (!m.complete) {
    meta_free(&m);
    return SB_OK;
  }
  for (int f = 0; f < nfields; f++) {
    size_t len = 0;
    const char *v = meta_field(&m, fields[f], &len);
    if (v && sb_dataset_field_text(v, len, &values[f]) != SB_OK) {
      sb_error_prefix("dataset %s: field %s", name, fields[f]);
      goto done;
    }
  }
  for (int t = 0; t < ntensors; t++) {
    sb_dataset_tensor_t *x = &tensors[t];
    if (!meta_lists(&m, x->name))
      continue;
    if (sb_dataset_tensor_key(name, x->name, key, sizeof key) != SB_OK)
      goto done;
    if (sb_db_get_tensor(db, key, x->dtype, x->dims, x->ndims, x->buf, x->bytes) != SB_OK) {
      char why[512];
      long long n = 1;
      snprintf(why, sizeof why, "%s", sb_error_msg());
      if (key_exists(db, key, &n) == SB_OK && n == 0)
        sb_error("dataset %s is incomplete: tensor %s (listed in %s) is missing: no key %s", name,
                 x->name, FIELD_TENSORS, key);
      else
        sb_error("dataset %s tensor %s: %s", name, x->name, why);
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
  meta_free(&m);
  return rc;
}

/* ---- lists ---------------------------------------------------------------------- */

int sb_list_append(sb_db_t *db, const char *list, const char *name)
{
  char key[SB_DATASET_KEY_MAX];
  if (sb_dataset_key(name, key, sizeof key) != SB_OK)
    return SB_ERR;
  const char *argv[3] = {"RPUSH", list, key};
  size_t argvlen[3] = {5, strlen(list), strlen(key)};
  /* Not idempotent: a re-send would append twice. */
  return sb_db_command(db, 0, 3, argv, argvlen, NULL);
}

int sb_list_length(sb_db_t *db, const char *list, int64_t *len)
{
  long long n;
  if (sb_db_key_int(db, "LLEN", list, &n) != SB_OK)
    return SB_ERR;
  *len = n;
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
    char name[SB_DATASET_KEY_MAX];
    int ok = 0;
    if (!s)
      sb_error("entry %zu is not a string", i);
    else if (sb_dataset_name_from_key(s, len, name, sizeof name) == SB_OK) {
      if (!(out[i] = strdup(name)))
        sb_error("out of memory");
      else
        ok = 1;
    }
    if (!ok) {
      sb_list_names_free(out, i);
      sb_db_reply_free(r);
      return sb_error_prefix("list %s", list);
    }
  }
  sb_db_reply_free(r);
  *names = out;
  *n = count;
  return SB_OK;
}

/* The DEL of one dataset's keys (meta hash and the tensors it lists) into
 * argv (malloc'd, with the key strings in *keys); *argc 0 when the dataset
 * is absent. A present dataset without .COMPLETE or .tensor_names is
 * SB_ERR: its tensors cannot all be named, and nothing of it is touched. */
static int delete_plan(sb_db_t *db, const char *name, int *argc, const char ***argv,
                       size_t **argvlen, char **keys)
{
  meta_t m;
  int k = 0;
  *argc = 0;
  *argv = NULL;
  *argvlen = NULL;
  *keys = NULL;
  if (meta_read(db, name, &m) != SB_OK)
    return SB_ERR;
  if (!m.exists) {
    meta_free(&m);
    return SB_OK;
  }
  if (!m.complete || !m.has_tensors) {
    meta_free(&m);
    return sb_error("dataset %s is incomplete (its meta hash lacks %s): left as it is", name,
                    !m.complete ? FIELD_COMPLETE : FIELD_TENSORS);
  }
  *argv = calloc(m.ntnames + 2, sizeof **argv);
  *argvlen = calloc(m.ntnames + 2, sizeof **argvlen);
  *keys = malloc((m.ntnames + 1) * SB_DATASET_KEY_MAX);
  if (!*argv || !*argvlen || !*keys) {
    meta_free(&m);
    return sb_error("out of memory");
  }
  char *meta = *keys;
  if (sb_dataset_meta_key(name, meta, SB_DATASET_KEY_MAX) != SB_OK) {
    meta_free(&m);
    return SB_ERR;
  }
  (*argv)[k] = "DEL", (*argvlen)[k++] = 3;
  (*argv)[k] = meta, (*argvlen)[k++] = strlen(meta);
  for (size_t t = 0; t < m.ntnames; t++) {
    char *key = *keys + (t + 1) * SB_DATASET_KEY_MAX;
    if (sb_dataset_tensor_key(name, m.tnames[t], key, SB_DATASET_KEY_MAX) != SB_OK) {
      meta_free(&m);
      return SB_ERR;
    }
    (*argv)[k] = key, (*argvlen)[k++] = strlen(key);
  }
  *argc = k;
  meta_free(&m);
  return SB_OK;
}

int sb_list_delete(sb_db_t *db, const char *list, int with_datasets)
{
  const char *argv[2] = {"DEL", list};
  size_t argvlen[2] = {3, strlen(list)};
  int rc = SB_OK;
  if (with_datasets) {
    char **names = NULL, **keys = NULL;
    const char ***dargv = NULL;
    size_t n = 0, **dlen = NULL;
    int *dargc = NULL;
    if (sb_list_range(db, list, &names, &n) != SB_OK)
      return sb_error_prefix("delete_list %s", list);
    dargc = calloc(n ? n : 1, sizeof *dargc);
    dargv = calloc(n ? n : 1, sizeof *dargv);
    dlen = calloc(n ? n : 1, sizeof *dlen);
    keys = calloc(n ? n : 1, sizeof *keys);
    if (!dargc || !dargv || !dlen || !keys)
      rc = sb_error("out of memory");
    /* Every dataset is looked at before anything is deleted: one that is
     * incomplete leaves the list and all of the datasets as they were. */
    for (size_t i = 0; rc == SB_OK && i < n; i++)
      rc = delete_plan(db, names[i], &dargc[i], &dargv[i], &dlen[i], &keys[i]);
    for (size_t i = 0; rc == SB_OK && i < n; i++)
      if (dargc[i])
        rc = sb_db_command(db, 1, dargc[i], dargv[i], dlen[i], NULL);
    for (size_t i = 0; i < n && dargv; i++) {
      free(dargv[i]);
      free(dlen[i]);
      free(keys[i]);
    }
    free(dargc);
    free(dargv);
    free(dlen);
    free(keys);
    sb_list_names_free(names, n);
    if (rc != SB_OK)
      return sb_error_prefix("delete_list %s", list);
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
