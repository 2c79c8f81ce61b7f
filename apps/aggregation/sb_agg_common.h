/* What sb-agg-producer and sb-agg-consumer agree on: list and dataset
 * names, the tensors' names and content (docs/aggregation.md).
 *
 * Iteration seq (warm-up iterations first, as the driver numbers them) uses
 * list "iteration_<seq>"; producer rank r's dataset of that iteration is
 * "agg_r<r>_i<seq>" with tensors "t0".."t<K-1>", each holding the
 * verification pattern of (rank r, stream seq·1024 + t) — so a tensor from
 * another rank, iteration or position fails the check. Datasets carry the
 * fields "producer_rank" and "iteration".
 */
#ifndef SB_AGG_COMMON_H
#define SB_AGG_COMMON_H

#include "sb_dataset.h"
#include "sb_pattern.h"

#include <stdint.h>
#include <stdio.h>

#define SB_AGG_MAX_TENSORS 1024

static inline void sb_agg_list_name(int64_t seq, char *buf, size_t len)
{
  snprintf(buf, len, "iteration_%lld", (long long)seq);
}

static inline void sb_agg_dataset_name(int rank, int64_t seq, char *buf, size_t len)
{
  snprintf(buf, len, "agg_r%d_i%lld", rank, (long long)seq);
}

static inline void sb_agg_tensor_name(int t, char *buf, size_t len)
{
  snprintf(buf, len, "t%d", t);
}

/* The pattern stream of tensor t of iteration seq. */
static inline uint64_t sb_agg_stream(int64_t seq, int t)
{
  return (uint64_t)seq * SB_AGG_MAX_TENSORS + (uint64_t)t;
}

/* Tensors travel as FLOAT when the size is a multiple of 4, else UINT8. */
static inline void sb_agg_tensor_shape(uint64_t bytes, const char **dtype, int64_t *dim)
{
  *dtype = bytes % 4 == 0 ? "FLOAT" : "UINT8";
  *dim = (int64_t)(bytes % 4 == 0 ? bytes / 4 : bytes);
}

#endif
