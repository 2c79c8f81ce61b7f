/* The dataset key layout and the aggregation names and streams
 * (docs/aggregation.md): hash-tagged keys, refused names, and distinct
 * verification streams per (iteration, tensor). */
#include "../../apps/aggregation/sb_agg_common.h"
#include "sb_check.h"
#include "sb_dataset.h"
#include "sb_error.h"

#include <string.h>

int main(void)
{
  char buf[SB_DATASET_KEY_MAX], small[8];

  CHECK(sb_dataset_meta_key("agg_r3_i7", buf, sizeof buf) == SB_OK && strcmp(buf, "{agg_r3_i7}.meta") == 0,
        "meta key '%s'", buf);
  CHECK(sb_dataset_tensor_key("agg_r3_i7", "t1", buf, sizeof buf) == SB_OK &&
            strcmp(buf, "{agg_r3_i7}.t1") == 0,
        "tensor key '%s'", buf);
  /* Every key of a dataset shares the hash tag: one dataset, one shard. */
  CHECK(strncmp(buf, "{agg_r3_i7}", 11) == 0, "hash tag of '%s'", buf);

  /* Names that would break the tag or the ".tensors" list are refused and named. */
  const char *bad_ds[] = {"", "a{b", "a}b", "a,b"};
  for (size_t i = 0; i < sizeof bad_ds / sizeof bad_ds[0]; i++) {
    CHECK(sb_dataset_meta_key(bad_ds[i], buf, sizeof buf) == SB_ERR, "dataset name '%s' accepted",
          bad_ds[i]);
    CHECK(sb_dataset_tensor_key("ok", bad_ds[i], buf, sizeof buf) == SB_ERR,
          "tensor name '%s' accepted", bad_ds[i]);
  }
  CHECK(sb_dataset_meta_key("a,b", buf, sizeof buf) == SB_ERR && strstr(sb_error_msg(), "a,b"),
        "message '%s' does not name the dataset", sb_error_msg());
  CHECK(sb_dataset_meta_key("long_name", small, sizeof small) == SB_ERR, "truncated key accepted");
  CHECK(sb_dataset_tensor_key("ds", "tensor_name", small, sizeof small) == SB_ERR,
        "truncated tensor key accepted");

  /* Aggregation names. */
  sb_agg_list_name(12, buf, sizeof buf);
  CHECK(strcmp(buf, "iteration_12") == 0, "list name '%s'", buf);
  sb_agg_dataset_name(5, 12, buf, sizeof buf);
  CHECK(strcmp(buf, "agg_r5_i12") == 0, "dataset name '%s'", buf);
  sb_agg_tensor_name(3, buf, sizeof buf);
  CHECK(strcmp(buf, "t3") == 0, "tensor name '%s'", buf);

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

  /* Shapes: FLOAT for 4-byte multiples, UINT8 otherwise. */
  const char *dtype;
  int64_t dim;
  sb_agg_tensor_shape(1024, &dtype, &dim);
  CHECK(strcmp(dtype, "FLOAT") == 0 && dim == 256, "1024 bytes -> %s %lld", dtype, (long long)dim);
  sb_agg_tensor_shape(1003, &dtype, &dim);
  CHECK(strcmp(dtype, "UINT8") == 0 && dim == 1003, "1003 bytes -> %s %lld", dtype, (long long)dim);
  return CHECK_DONE();
}
