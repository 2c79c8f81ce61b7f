/* The dataset key layout (SmartRedis's; docs/aggregation.md), its field
 * encoding, and the aggregation names and streams: hash-tagged keys, list
 * entries, refused names, the binary string and scalar fields, and distinct
 * verification streams per (iteration, tensor). */
#include "../../apps/aggregation/sb_agg_common.h"
#include "sb_check.h"
#include "sb_dataset.h"
#include "sb_error.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
  char buf[SB_DATASET_KEY_MAX], small[8];

  CHECK(sb_dataset_key("aggregation_rank_3", buf, sizeof buf) == SB_OK &&
            strcmp(buf, "{aggregation_rank_3}") == 0,
        "dataset key '%s'", buf);
  CHECK(sb_dataset_meta_key("aggregation_rank_3", buf, sizeof buf) == SB_OK &&
            strcmp(buf, "{aggregation_rank_3}.meta") == 0,
        "meta key '%s'", buf);
  CHECK(sb_dataset_tensor_key("aggregation_rank_3", "tensor_1", buf, sizeof buf) == SB_OK &&
            strcmp(buf, "{aggregation_rank_3}.tensor_1") == 0,
        "tensor key '%s'", buf);
  /* Every key of a dataset shares the hash tag: one dataset, one shard. */
  CHECK(strncmp(buf, "{aggregation_rank_3}", 20) == 0, "hash tag of '%s'", buf);

  /* Names that would break the tag are refused and named; ',' is fine now
   * (the tensor list is a binary field). */
  const char *bad_ds[] = {"", "a{b", "a}b"};
  for (size_t i = 0; i < sizeof bad_ds / sizeof bad_ds[0]; i++)
    CHECK(sb_dataset_meta_key(bad_ds[i], buf, sizeof buf) == SB_ERR, "dataset name '%s' accepted",
          bad_ds[i]);
  CHECK(sb_dataset_tensor_key("ok", "", buf, sizeof buf) == SB_ERR, "empty tensor name accepted");
  CHECK(sb_dataset_meta_key("a,b", buf, sizeof buf) == SB_OK, "name with ',' refused");
  CHECK(sb_dataset_meta_key("a{b", buf, sizeof buf) == SB_ERR && strstr(sb_error_msg(), "a{b"),
        "message '%s' does not name the dataset", sb_error_msg());
  CHECK(sb_dataset_meta_key("long_name", small, sizeof small) == SB_ERR, "truncated key accepted");
  CHECK(sb_dataset_tensor_key("ds", "tensor_name", small, sizeof small) == SB_ERR,
        "truncated tensor key accepted");

  /* List entries are dataset keys; the name is between the braces. */
  CHECK(sb_dataset_name_from_key("{aggregation_rank_0}", 20, buf, sizeof buf) == SB_OK &&
            strcmp(buf, "aggregation_rank_0") == 0,
        "name from key '%s'", buf);
  CHECK(sb_dataset_name_from_key("aggregation_rank_0", 18, buf, sizeof buf) == SB_ERR &&
            strstr(sb_error_msg(), "aggregation_rank_0"),
        "an entry without braces accepted (%s)", sb_error_msg());
  CHECK(sb_dataset_name_from_key("{}", 2, buf, sizeof buf) == SB_ERR, "empty name accepted");

  /* String fields: type 7, then 8-byte little-endian length + bytes. */
  const char *names[2] = {"tensor_0", "t1"};
  char *enc = NULL, **dec = NULL, *text = NULL;
  size_t enclen = 0, n = 0;
  static const unsigned char want[] = {7, 8, 0, 0, 0, 0, 0, 0, 0, 't', 'e', 'n', 's', 'o', 'r',
                                       '_', '0', 2, 0, 0, 0, 0, 0, 0, 0, 't', '1'};
  CHECK(sb_dataset_encode_strings(2, names, &enc, &enclen) == SB_OK && enclen == sizeof want &&
            memcmp(enc, want, sizeof want) == 0,
        "string field encoding (%zu bytes)", enclen);
  CHECK(sb_dataset_decode_strings(enc, enclen, &dec, &n) == SB_OK && n == 2 &&
            strcmp(dec[0], "tensor_0") == 0 && strcmp(dec[1], "t1") == 0,
        "string field decoding");
  sb_list_names_free(dec, n);
  CHECK(sb_dataset_field_text(enc, enclen, &text) == SB_OK && strcmp(text, "tensor_0,t1") == 0,
        "string field as text '%s'", text ? text : "");
  free(text);
  /* Truncated: a length past the end, a length cut short. */
  CHECK(sb_dataset_decode_strings(enc, enclen - 1, &dec, &n) == SB_ERR, "truncated string accepted");
  CHECK(sb_dataset_decode_strings(enc, 5, &dec, &n) == SB_ERR, "truncated length accepted");
  free(enc);
  /* The encoding of "1" as SmartRedis writes one add_meta_string value. */
  const char *one = "1";
  CHECK(sb_dataset_encode_strings(1, &one, &enc, &enclen) == SB_OK && enclen == 10 &&
            enc[0] == 7 && enc[1] == 1 && enc[9] == '1',
        "one-string field");
  free(enc);
  /* An empty string field (no values) decodes to none. */
  CHECK(sb_dataset_decode_strings("\x07", 1, &dec, &n) == SB_OK && n == 0, "empty string field");
  sb_list_names_free(dec, n);
  /* Scalars: type byte then the raw little-endian values. */
  static const char i64[] = {4, 5, 0, 0, 0, 0, 0, 0, 0};
  CHECK(sb_dataset_field_text(i64, sizeof i64, &text) == SB_OK && strcmp(text, "5") == 0,
        "int64 field '%s'", text ? text : "");
  free(text);
  static const char i32[] = {3, (char)0xff, (char)0xff, (char)0xff, (char)0xff, 2, 0, 0, 0};
  CHECK(sb_dataset_field_text(i32, sizeof i32, &text) == SB_OK && strcmp(text, "-1,2") == 0,
        "int32 field '%s'", text ? text : "");
  free(text);
  static const char dbl[] = {1, 0, 0, 0, 0, 0, 0, (char)0xf8, 0x3f}; /* 1.5 */
  CHECK(sb_dataset_field_text(dbl, sizeof dbl, &text) == SB_OK && strcmp(text, "1.5") == 0,
        "double field '%s'", text ? text : "");
  free(text);
  CHECK(sb_dataset_field_text(i64, 5, &text) == SB_ERR, "short int64 accepted");
  CHECK(sb_dataset_field_text("1", 1, &text) == SB_ERR, "text '1' taken for a field");
  CHECK(sb_dataset_field_text("\x09", 1, &text) == SB_ERR && strstr(sb_error_msg(), "type"),
        "unknown type accepted");

  /* Aggregation names (SmartSim-Scaling's). */
  sb_agg_list_name(SB_AGG_LIST_PREFIX, 12, buf, sizeof buf);
  CHECK(strcmp(buf, "iteration_12") == 0, "list name '%s'", buf);
  sb_agg_dataset_name(SB_AGG_DATASET_PREFIX, 5, buf, sizeof buf);
  CHECK(strcmp(buf, "aggregation_rank_5") == 0, "dataset name '%s'", buf);
  sb_agg_dataset_name("run7_rank_", 5, buf, sizeof buf);
  CHECK(strcmp(buf, "run7_rank_5") == 0, "prefixed dataset name '%s'", buf);
  sb_agg_tensor_name(3, buf, sizeof buf);
  CHECK(strcmp(buf, "tensor_3") == 0, "tensor name '%s'", buf);
  CHECK(sb_agg_check_prefixes("iteration_", "a{b") == SB_ERR, "dataset prefix with '{' accepted");
  CHECK(sb_agg_check_prefixes("", "x") == SB_ERR, "empty list prefix accepted");
  CHECK(sb_agg_check_prefixes("it_", "ds_") == SB_OK, "good prefixes refused");

  /* Streams differ across iterations and tensors, so a tensor from the
   * wrong place fails the pattern check. */
  CHECK(sb_agg_stream(1, 0) != sb_agg_stream(0, 1) && sb_agg_stream(1, 0) != sb_agg_stream(0, 0),
        "streams collide");
  CHECK(sb_agg_stream(0, SB_AGG_MAX_TENSORS - 1) < sb_agg_stream(1, 0), "stream ranges overlap");
  unsigned char a[64], b[64];
  sb_pattern_fill(a, sizeof a, 2, sb_agg_stream(3, 0));
  sb_pattern_fill(b, sizeof b, 2, sb_agg_stream(3, 1));
  CHECK(sb_pattern_check(b, sizeof b, 2, sb_agg_stream(3, 0), NULL) > 0, "tensor 1 passes as tensor 0");
  CHECK(sb_pattern_check(a, sizeof a, 2, sb_agg_stream(3, 0), NULL) == 0, "tensor 0 fails its own check");

  /* Shapes: [1, n], FLOAT for 4-byte multiples, UINT8 otherwise. */
  const char *dtype;
  int64_t dims[2];
  sb_agg_tensor_shape(1024, &dtype, dims);
  CHECK(strcmp(dtype, "FLOAT") == 0 && dims[0] == 1 && dims[1] == 256, "1024 bytes -> %s [%lld, %lld]",
        dtype, (long long)dims[0], (long long)dims[1]);
  sb_agg_tensor_shape(1003, &dtype, dims);
  CHECK(strcmp(dtype, "UINT8") == 0 && dims[1] == 1003, "1003 bytes -> %s %lld", dtype,
        (long long)dims[1]);
  return CHECK_DONE();
}
