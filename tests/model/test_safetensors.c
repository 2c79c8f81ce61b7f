/* The safetensors writer and parser on their own: what is written reads back
 * (names, dtypes, shapes, scalars, empty tensors, metadata, key order), the
 * layout is what the format says (u64 length, space-padded JSON, data), and
 * the writer refuses duplicates and bad arguments. */
#include "model_test.h"
#include "sb_safetensors.h"

#include <stdint.h>

int main(void)
{
  char err[512] = "";
  sb_st_writer_t *w = sb_st_writer_new();
  MT_REQUIRE(w, "writer");
  const float f[6] = {1, 2, 3, 4, 5, 6};
  const int64_t i64 = 42, s23[2] = {2, 3}, s0[1] = {0};
  const double d[2] = {0.5, -0.25};
  sb_st_writer_meta(w, "format", "pt");
  MT_CHECK(sb_st_writer_add(w, "b.weight", SB_ST_F32, 2, s23, f) == 0, "add F32");
  MT_CHECK(sb_st_writer_add(w, "a.count", SB_ST_I64, 0, NULL, &i64) == 0, "add I64 scalar");
  MT_CHECK(sb_st_writer_add(w, "c.empty", SB_ST_F32, 1, s0, NULL) == 0, "add empty");
  MT_CHECK(sb_st_writer_add(w, "d.f64", SB_ST_F64, 1, (const int64_t[]){2}, d) == 0, "add F64");
  void *blob;
  size_t len;
  MT_REQUIRE(sb_st_writer_finish(w, &blob, &len, err, sizeof err) == 0, "finish: %s", err);
  MT_CHECK(sb_st_writer_add(w, "late", SB_ST_F32, 1, s0, NULL) != 0, "add after finish refused");
  sb_st_writer_free(w);

  uint64_t n;
  memcpy(&n, blob, 8);
  MT_CHECK(n % 8 == 0 && 8 + n + 24 + 8 + 0 + 16 == len, "layout: header %llu, file %zu",
           (unsigned long long)n, len);
  MT_CHECK(((const char *)blob)[8] == '{', "JSON starts after the length");
  MT_CHECK(((const char *)blob)[8 + n - 1] == '}' || ((const char *)blob)[8 + n - 1] == ' ',
           "header padded with spaces");

  sb_st_file_t st;
  MT_REQUIRE(sb_st_parse(blob, len, &st, err, sizeof err) == 0, "parse: %s", err);
  MT_CHECK(st.ntensors == 4, "%zu tensors", st.ntensors);
  MT_CHECK(st.ntensors == 4 && strcmp(st.tensors[0].name, "b.weight") == 0 &&
               strcmp(st.tensors[1].name, "a.count") == 0,
           "header keys in the order written");
  const sb_st_tensor_t *t = sb_st_find(&st, "b.weight");
  MT_CHECK(t && t->dtype == SB_ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 &&
               t->count == 6 && t->begin == 0 && t->end == 24 &&
               memcmp(t->data, f, sizeof f) == 0,
           "b.weight");
  t = sb_st_find(&st, "a.count");
  int64_t got = 0;
  if (t)
    memcpy(&got, t->data, 8);
  MT_CHECK(t && t->dtype == SB_ST_I64 && t->ndim == 0 && t->count == 1 && got == 42, "a.count");
  t = sb_st_find(&st, "c.empty");
  MT_CHECK(t && t->count == 0 && t->begin == t->end, "c.empty");
  t = sb_st_find(&st, "d.f64");
  MT_CHECK(t && t->dtype == SB_ST_F64 && memcmp(t->data, d, sizeof d) == 0, "d.f64");
  MT_CHECK(sb_st_find(&st, "nope") == NULL, "find of an absent name");
  MT_CHECK(sb_st_meta(&st, "format") && strcmp(sb_st_meta(&st, "format"), "pt") == 0, "meta");
  MT_CHECK(sb_st_meta(&st, "nope") == NULL, "absent meta");
  sb_st_free(&st);
  sb_st_free(&st); /* twice is harmless */

  /* Trailing bytes after the last range, and gaps, are tolerated. */
  unsigned char *longer = malloc(len + 5);
  memcpy(longer, blob, len);
  memset(longer + len, 0, 5);
  MT_CHECK(sb_st_parse(longer, len + 5, &st, err, sizeof err) == 0, "trailing bytes: %s", err);
  sb_st_free(&st);
  free(longer);
  free(blob);

  /* The writer's refusals, reported once by finish. */
  w = sb_st_writer_new();
  sb_st_writer_add(w, "x", SB_ST_F32, 1, (const int64_t[]){1}, f);
  MT_CHECK(sb_st_writer_add(w, "x", SB_ST_F32, 1, (const int64_t[]){1}, f) != 0, "duplicate");
  MT_CHECK(sb_st_writer_finish(w, &blob, &len, err, sizeof err) != 0 && strstr(err, "x added twice"),
           "finish reports '%s'", err);
  sb_st_writer_free(w);
  w = sb_st_writer_new();
  MT_CHECK(sb_st_writer_add(w, "__metadata__", SB_ST_F32, 0, NULL, f) != 0, "reserved name");
  MT_CHECK(sb_st_writer_add(w, "y", SB_ST_F32, 1, (const int64_t[]){-1}, f) != 0, "negative dim");
  sb_st_writer_free(w);

  /* An empty file: {} and no data. */
  w = sb_st_writer_new();
  MT_REQUIRE(sb_st_writer_finish(w, &blob, &len, err, sizeof err) == 0, "%s", err);
  sb_st_writer_free(w);
  MT_CHECK(sb_st_parse(blob, len, &st, err, sizeof err) == 0 && st.ntensors == 0, "empty: %s", err);
  sb_st_free(&st);
  free(blob);

  char sbuf[64];
  MT_CHECK(strcmp(sb_st_shape_str((const int64_t[]){64, 3, 7, 7}, 4, sbuf, sizeof sbuf),
                  "[64,3,7,7]") == 0 &&
               strcmp(sb_st_shape_str(NULL, 0, sbuf, sizeof sbuf), "[]") == 0,
           "shape strings");
  MT_CHECK(strcmp(sb_st_dtype_name(SB_ST_BF16), "BF16") == 0 && sb_st_dtype_size(SB_ST_BF16) == 2,
           "dtype table");
  return mt_finish("safetensors writer and parser");
}
