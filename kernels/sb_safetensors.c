/* safetensors parse and write (see sb_safetensors.h for the format). */
#include "sb_safetensors.h"

#include "sb_err.h"
#include "sb_grow.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sb_safetensors assumes a little-endian host (the format's byte order)"
#endif

static const struct {
  const char *name;
  size_t size;
} dtypes[SB_ST_NDTYPES] = {
  [SB_ST_BOOL] = {"BOOL", 1},   [SB_ST_U8] = {"U8", 1},     [SB_ST_I8] = {"I8", 1},
  [SB_ST_F8_E4M3] = {"F8_E4M3", 1}, [SB_ST_F8_E5M2] = {"F8_E5M2", 1},
  [SB_ST_U16] = {"U16", 2},     [SB_ST_I16] = {"I16", 2},   [SB_ST_F16] = {"F16", 2},
  [SB_ST_BF16] = {"BF16", 2},   [SB_ST_U32] = {"U32", 4},   [SB_ST_I32] = {"I32", 4},
  [SB_ST_F32] = {"F32", 4},     [SB_ST_U64] = {"U64", 8},   [SB_ST_I64] = {"I64", 8},
  [SB_ST_F64] = {"F64", 8},
};

const char *sb_st_dtype_name(sb_st_dtype_t dtype)
{
  return (unsigned)dtype < SB_ST_NDTYPES ? dtypes[dtype].name : "?";
}

size_t sb_st_dtype_size(sb_st_dtype_t dtype)
{
  return (unsigned)dtype < SB_ST_NDTYPES ? dtypes[dtype].size : 0;
}

static int dtype_from_name(const char *s, sb_st_dtype_t *out)
{
  for (int d = 0; d < SB_ST_NDTYPES; d++)
    if (strcmp(s, dtypes[d].name) == 0) {
      *out = (sb_st_dtype_t)d;
      return 0;
    }
  return -1;
}

char *sb_st_shape_str(const int64_t *shape, int ndim, char *buf, size_t buflen)
{
  size_t used = 0;
  if (buflen == 0)
    return buf;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, buflen, "[");
  for (int i = 0; i < ndim && used < buflen; i++)
    used += (size_t)snprintf(buf + used, buflen - used, "%s%lld", i ? "," : "",
                             (long long)shape[i]);
  if (used < buflen)
    snprintf(buf + used, buflen - used, "]");
  return buf;
}

/* ---- parsing --------------------------------------------------------------- */

static int get_u64(const json_t *v, uint64_t *out)
{
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return -1;
  *out = (uint64_t)json_integer_value(v);
  return 0;
}

static const char *json_type_name(const json_t *v)
{
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER:
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "?";
}

/* Fills t from one header entry; the message names the tensor. */
static int parse_entry(const char *name, const json_t *v, uint64_t data_bytes, sb_st_tensor_t *t,
                       char *err, size_t errlen)
{
  char sbuf[200];
  if (!json_is_object(v))
    return sb_fail(err, errlen, -1, "%s: header entry is %s, not an object", name,
                   json_type_name(v));
  const json_t *jd = json_object_get(v, "dtype");
  if (!json_is_string(jd))
    return sb_fail(err, errlen, -1, "%s: \"dtype\" missing or not a string", name);
  if (dtype_from_name(json_string_value(jd), &t->dtype) != 0)
    return sb_fail(err, errlen, -1, "%s: unknown dtype \"%.32s\"", name, json_string_value(jd));

  const json_t *js = json_object_get(v, "shape");
  if (!json_is_array(js))
    return sb_fail(err, errlen, -1, "%s: \"shape\" missing or not an array", name);
  if (json_array_size(js) > SB_ST_MAX_DIMS)
    return sb_fail(err, errlen, -1, "%s: shape has %zu dimensions (at most %d)", name,
                   json_array_size(js), SB_ST_MAX_DIMS);
  t->ndim = (int)json_array_size(js);
  /* count = prod(shape) and bytes = count × size, refusing any overflow of
   * 63 bits (no file can hold that many bytes anyway). */
  uint64_t count = 1;
  int overflow = 0;
  for (int i = 0; i < t->ndim; i++) {
    uint64_t d;
    if (get_u64(json_array_get(js, (size_t)i), &d) != 0)
      return sb_fail(err, errlen, -1, "%s: shape element %d is not a non-negative integer", name,
                     i);
    t->shape[i] = (int64_t)d;
    if (d != 0 && count > (UINT64_C(1) << 62) / d)
      overflow = 1;
    else
      count *= d;
  }
  size_t esize = sb_st_dtype_size(t->dtype);
  if (!overflow && count > (UINT64_C(1) << 62) / esize)
    overflow = 1;
  if (overflow || count > SIZE_MAX)
    return sb_fail(err, errlen, -1, "%s: shape %s holds more elements than any file can", name,
                   sb_st_shape_str(t->shape, t->ndim, sbuf, sizeof sbuf));
  uint64_t bytes = count * esize;

  const json_t *jo = json_object_get(v, "data_offsets");
  if (!json_is_array(jo) || json_array_size(jo) != 2 ||
      get_u64(json_array_get(jo, 0), &t->begin) != 0 ||
      get_u64(json_array_get(jo, 1), &t->end) != 0)
    return sb_fail(err, errlen, -1,
                   "%s: \"data_offsets\" missing or not [begin, end] of non-negative integers",
                   name);
  if (t->end < t->begin)
    return sb_fail(err, errlen, -1, "%s: data_offsets [%llu, %llu] end before they begin", name,
                   (unsigned long long)t->begin, (unsigned long long)t->end);
  if (t->end - t->begin != bytes)
    return sb_fail(
        err, errlen, -1, "%s: data_offsets [%llu, %llu] hold %llu bytes, but %s %s needs %llu",
        name, (unsigned long long)t->begin, (unsigned long long)t->end,
        (unsigned long long)(t->end - t->begin), sb_st_dtype_name(t->dtype),
        sb_st_shape_str(t->shape, t->ndim, sbuf, sizeof sbuf), (unsigned long long)bytes);
  if (t->end > data_bytes) {
    sb_set_err(err, errlen,
            "%s: data_offsets [%llu, %llu] run past the end of the data area (%llu bytes; "
            "truncated file?)",
            name, (unsigned long long)t->begin, (unsigned long long)t->end,
            (unsigned long long)data_bytes);
    return -1;
  }
  t->count = (size_t)count;
  return 0;
}

static int parse_meta(const json_t *v, sb_st_file_t *f, char *err, size_t errlen)
{
  if (!json_is_object(v))
    return sb_fail(err, errlen, -1, "__metadata__ is %s, not an object of strings",
                   json_type_name(v));
  size_t n = json_object_size(v);
  if (n == 0)
    return 0;
  f->meta_keys = calloc(n, sizeof *f->meta_keys);
  f->meta_values = calloc(n, sizeof *f->meta_values);
  if (!f->meta_keys || !f->meta_values)
    return sb_fail(err, errlen, -1, "out of memory reading __metadata__");
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)v, key, val)
  {
    if (!json_is_string(val))
      return sb_fail(err, errlen, -1, "__metadata__ value of \"%.64s\" is %s, not a string", key,
                     json_type_name(val));
    f->meta_keys[f->nmeta] = strdup(key);
    f->meta_values[f->nmeta] = strdup(json_string_value(val));
    f->nmeta++;
    if (!f->meta_keys[f->nmeta - 1] || !f->meta_values[f->nmeta - 1])
      return sb_fail(err, errlen, -1, "out of memory reading __metadata__");
  }
  return 0;
}

static int cmp_by_begin(const void *a, const void *b)
{
  const sb_st_tensor_t *x = *(const sb_st_tensor_t *const *)a;
  const sb_st_tensor_t *y = *(const sb_st_tensor_t *const *)b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* No two non-empty ranges may share a byte. After sorting by begin, a range
 * overlaps an earlier one exactly when it begins before the furthest end seen
 * so far. */
static int check_overlaps(sb_st_file_t *f, char *err, size_t errlen)
{
  if (f->ntensors < 2)
    return 0;
  sb_st_tensor_t **order = malloc(f->ntensors * sizeof *order);
  if (!order)
    return sb_fail(err, errlen, -1, "out of memory checking data offsets");
  size_t m = 0;
  for (size_t i = 0; i < f->ntensors; i++)
    if (f->tensors[i].end > f->tensors[i].begin)
      order[m++] = &f->tensors[i];
  qsort(order, m, sizeof *order, cmp_by_begin);
  const sb_st_tensor_t *far = NULL;
  int rc = 0;
  for (size_t i = 0; i < m; i++) {
    const sb_st_tensor_t *t = order[i];
    if (far && t->begin < far->end) {
      sb_set_err(err, errlen, "%s: data_offsets [%llu, %llu] overlap those of %s [%llu, %llu]",
              t->name, (unsigned long long)t->begin, (unsigned long long)t->end, far->name,
              (unsigned long long)far->begin, (unsigned long long)far->end);
      rc = -1;
      break;
    }
    if (!far || t->end > far->end)
      far = t;
  }
  free(order);
  return rc;
}

static int name_ok(const char *name)
{
  if (!*name)
    return 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return 0;
  return 1;
}

int sb_st_parse(const void *blob, size_t len, sb_st_file_t *file, char *err, size_t errlen)
{
  const unsigned char *p = blob;
  memset(file, 0, sizeof *file);
  if (!blob || len < 8) {
    sb_set_err(err, errlen,
            "truncated header: %zu bytes, too short for the 8-byte header length", len);
    return -1;
  }
  uint64_t n;
  memcpy(&n, p, 8);
  if (n > SB_ST_MAX_HEADER)
    return sb_fail(err, errlen, -1, "header length %llu is absurd (limit %u bytes)",
                   (unsigned long long)n, SB_ST_MAX_HEADER);
  if (n > len - 8) {
    sb_set_err(err, errlen,
            "header length %llu runs past the end of the file (%zu bytes follow; truncated?)",
            (unsigned long long)n, len - 8);
    return -1;
  }
  json_error_t je;
  json_t *root = json_loadb((const char *)p + 8, (size_t)n, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return sb_fail(err, errlen, -1, "header is not valid JSON: %s (line %d, column %d)", je.text,
                   je.line, je.column);
  int rc = -1;
  if (!json_is_object(root)) {
    sb_set_err(err, errlen, "header is %s, not a JSON object", json_type_name(root));
    goto out;
  }
  file->data = p + 8 + n;
  file->data_bytes = len - 8 - n;

  size_t cap = json_object_size(root);
  file->tensors = calloc(cap ? cap : 1, sizeof *file->tensors);
  if (!file->tensors) {
    sb_set_err(err, errlen, "out of memory reading a header of %zu entries", cap);
    goto out;
  }
  const char *key;
  json_t *val;
  json_object_foreach(root, key, val)
  {
    if (strcmp(key, "__metadata__") == 0) {
      if (parse_meta(val, file, err, errlen) != 0)
        goto out;
      continue;
    }
    if (!name_ok(key)) {
      sb_set_err(err, errlen, "a tensor name is empty or holds control characters");
      goto out;
    }
    sb_st_tensor_t *t = &file->tensors[file->ntensors];
    if (parse_entry(key, val, file->data_bytes, t, err, errlen) != 0)
      goto out;
    t->name = strdup(key);
    if (!t->name) {
      sb_set_err(err, errlen, "out of memory reading the header");
      goto out;
    }
    t->data = file->data + t->begin;
    file->ntensors++;
  }
  if (check_overlaps(file, err, errlen) != 0)
    goto out;
  rc = 0;
out:
  json_decref(root);
  if (rc != 0)
    sb_st_free(file);
  return rc;
}

void sb_st_free(sb_st_file_t *file)
{
  if (!file)
    return;
  for (size_t i = 0; i < file->ntensors; i++)
    free(file->tensors[i].name);
  free(file->tensors);
  for (size_t i = 0; i < file->nmeta; i++) {
    free(file->meta_keys[i]);
    free(file->meta_values[i]);
  }
  free(file->meta_keys);
  free(file->meta_values);
  memset(file, 0, sizeof *file);
}

const sb_st_tensor_t *sb_st_find(const sb_st_file_t *file, const char *name)
{
  for (size_t i = 0; i < file->ntensors; i++)
    if (strcmp(file->tensors[i].name, name) == 0)
      return &file->tensors[i];
  return NULL;
}

const char *sb_st_meta(const sb_st_file_t *file, const char *key)
{
  for (size_t i = 0; i < file->nmeta; i++)
    if (strcmp(file->meta_keys[i], key) == 0)
      return file->meta_values[i];
  return NULL;
}

/* ---- writing --------------------------------------------------------------- */

struct sb_st_writer {
  /* The tensors (begin and end in data; no data pointers) and metadata added
   * so far, in the order of the file's header. */
  sb_st_file_t st;
  size_t cap, keys_cap, values_cap; /* of st.tensors, st.meta_keys, st.meta_values */
  unsigned char *data;
  size_t bytes, data_cap;
  char failed[256];  /* first failure, reported by finish */
  int finished;
};

sb_st_writer_t *sb_st_writer_new(void)
{
  return calloc(1, sizeof(sb_st_writer_t));
}

void sb_st_writer_free(sb_st_writer_t *w)
{
  if (!w)
    return;
  sb_st_free(&w->st);
  free(w->data);
  free(w);
}

static void writer_fail(sb_st_writer_t *w, const char *fmt, const char *what)
{
  if (!w->failed[0])
    snprintf(w->failed, sizeof w->failed, fmt, what);
}

int sb_st_writer_meta(sb_st_writer_t *w, const char *key, const char *value)
{
  if (!w || w->finished)
    return -1;
  char **keys = sb_grow(w->st.meta_keys, &w->keys_cap, w->st.nmeta + 1, sizeof *keys, 8);
  if (keys)
    w->st.meta_keys = keys;
  char **values = sb_grow(w->st.meta_values, &w->values_cap, w->st.nmeta + 1, sizeof *values, 8);
  if (values)
    w->st.meta_values = values;
  char *k = keys && values ? strdup(key) : NULL, *v = k ? strdup(value) : NULL;
  if (!v) {
    free(k);
    writer_fail(w, "out of memory adding metadata %s", key);
    return -1;
  }
  w->st.meta_keys[w->st.nmeta] = k;
  w->st.meta_values[w->st.nmeta] = v;
  w->st.nmeta++;
  return 0;
}

void *sb_st_writer_reserve(sb_st_writer_t *w, const char *name, sb_st_dtype_t dtype, int ndim,
                           const int64_t *shape)
{
  if (!w || w->finished)
    return NULL;
  if (!name || !name_ok(name) || strcmp(name, "__metadata__") == 0 ||
      (unsigned)dtype >= SB_ST_NDTYPES || ndim < 0 || ndim > SB_ST_MAX_DIMS ||
      (ndim > 0 && !shape)) {
    writer_fail(w, "bad arguments adding tensor %s", name ? name : "(null)");
    return NULL;
  }
  if (sb_st_find(&w->st, name)) {
    writer_fail(w, "tensor %s added twice", name);
    return NULL;
  }
  uint64_t count = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0 || (shape[i] > 0 && count > (UINT64_C(1) << 40) / (uint64_t)shape[i])) {
      writer_fail(w, "bad shape adding tensor %s", name);
      return NULL;
    }
    count *= (uint64_t)shape[i];
  }
  size_t bytes = (size_t)count * sb_st_dtype_size(dtype);
  sb_st_tensor_t *tensors =
      sb_grow(w->st.tensors, &w->cap, w->st.ntensors + 1, sizeof *tensors, 64);
  if (tensors)
    w->st.tensors = tensors;
  unsigned char *d = tensors ? sb_grow(w->data, &w->data_cap, w->bytes + bytes, 1, 4096) : NULL;
  if (d)
    w->data = d;
  sb_st_tensor_t *e = d ? &w->st.tensors[w->st.ntensors] : NULL;
  if (e) {
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
  }
  if (!e || !e->name) {
    writer_fail(w, "out of memory adding tensor %s", name);
    return NULL;
  }
  e->dtype = dtype;
  e->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    e->shape[i] = shape[i];
  e->begin = w->bytes;
  e->end = w->bytes + bytes;
  e->count = (size_t)count;
  w->st.ntensors++;
  unsigned char *dst = w->data + w->bytes;
  memset(dst, 0, bytes);
  w->bytes += bytes;
  return dst;
}

int sb_st_writer_add(sb_st_writer_t *w, const char *name, sb_st_dtype_t dtype, int ndim,
                     const int64_t *shape, const void *data)
{
  unsigned char *dst = sb_st_writer_reserve(w, name, dtype, ndim, shape);
  if (!dst)
    return -1;
  const sb_st_tensor_t *t = &w->st.tensors[w->st.ntensors - 1];
  size_t bytes = (size_t)(t->end - t->begin);
  if (bytes)
    memcpy(dst, data, bytes);
  return 0;
}

static json_t *entry_json(const sb_st_tensor_t *e)
{
  json_t *o = json_object(), *shape = json_array(), *offs = json_array();
  if (!o || !shape || !offs)
    goto fail;
  for (int i = 0; i < e->ndim; i++)
    if (json_array_append_new(shape, json_integer(e->shape[i])) != 0)
      goto fail;
  if (json_array_append_new(offs, json_integer((json_int_t)e->begin)) != 0 ||
      json_array_append_new(offs, json_integer((json_int_t)e->end)) != 0)
    goto fail;
  if (json_object_set_new(o, "dtype", json_string(sb_st_dtype_name(e->dtype))) != 0)
    goto fail;
  if (json_object_set_new(o, "shape", shape) != 0) {
    shape = NULL;
    goto fail;
  }
  shape = NULL;
  if (json_object_set_new(o, "data_offsets", offs) != 0) {
    offs = NULL;
    goto fail;
  }
  return o;
fail:
  json_decref(o);
  json_decref(shape);
  json_decref(offs);
  return NULL;
}

int sb_st_writer_finish(sb_st_writer_t *w, void **blob, size_t *len, char *err, size_t errlen)
{
  *blob = NULL;
  *len = 0;
  if (!w)
    return sb_fail(err, errlen, -1, "no writer");
  if (w->failed[0])
    return sb_fail(err, errlen, -1, "%s", w->failed);
  json_t *root = json_object();
  char *header = NULL;
  int rc = -1;
  if (!root)
    goto oom;
  if (w->st.nmeta) {
    json_t *meta = json_object();
    if (!meta || json_object_set_new(root, "__metadata__", meta) != 0)
      goto oom;
    for (size_t i = 0; i < w->st.nmeta; i++)
      if (json_object_set_new(meta, w->st.meta_keys[i], json_string(w->st.meta_values[i])) != 0)
        goto oom;
  }
  for (size_t i = 0; i < w->st.ntensors; i++) {
    json_t *o = entry_json(&w->st.tensors[i]);
    if (!o || json_object_set_new(root, w->st.tensors[i].name, o) != 0)
      goto oom;
  }
  header = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (!header)
    goto oom;
  size_t hlen = strlen(header);
  size_t padded = (hlen + 7) & ~(size_t)7;
  size_t total = 8 + padded + w->bytes;
  /* Grow the data buffer and slide the data up, rather than copying it into
   * a second buffer: a resnet50 is 100 MB. */
  unsigned char *buf = realloc(w->data, total ? total : 1);
  if (!buf)
    goto oom;
  w->data = NULL;
  w->data_cap = 0;
  memmove(buf + 8 + padded, buf, w->bytes);
  uint64_t n = padded;
  memcpy(buf, &n, 8);
  memcpy(buf + 8, header, hlen);
  memset(buf + 8 + hlen, ' ', padded - hlen);
  w->bytes = 0;
  writer_fail(w, "%s", "the writer has already finished its file");
  w->finished = 1;
  *blob = buf;
  *len = total;
  rc = 0;
  goto out;
oom:
  sb_set_err(err, errlen, "out of memory writing the safetensors header");
out:
  free(header);
  json_decref(root);
  return rc;
}
