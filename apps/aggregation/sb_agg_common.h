/* What sb-agg-producer and sb-agg-consumer agree on: list and dataset
 * names, the tensors' names, shape and content (docs/aggregation.md).
 *
 * The names are SmartSim-Scaling's: iteration seq (warm-up iterations
 * first, as the driver numbers them) uses list "<list-prefix><seq>"
 * ("iteration_<seq>"); producer rank r's dataset is
 * "<dataset-prefix><r>" ("aggregation_rank_<r>", the same name in every
 * iteration: the consumer deletes it with the list before the producer
 * writes the next one) with tensors "tensor_0".."tensor_<K-1>" of shape
 * [1, n]. Tensor t of iteration seq holds the verification pattern of
 * (rank r, stream seq·1024 + t) — so a tensor from another rank, iteration
 * or position fails the check. Datasets carry the string fields
 * "producer_rank" and "iteration".
 */
#ifndef SB_AGG_COMMON_H
#define SB_AGG_COMMON_H

#include "sb_dataset.h"
#include "sb_error.h"
#include "sb_pattern.h"
#include "sb_payload.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SB_AGG_MAX_TENSORS 1024

/* The options' defaults (--list-prefix, --dataset-prefix). */
#define SB_AGG_LIST_PREFIX "iteration_"
#define SB_AGG_DATASET_PREFIX "aggregation_rank_"

/* Longest prefix either option takes (names must fit SB_DATASET_KEY_MAX). */
#define SB_AGG_PREFIX_MAX 200

/* The options producer and consumer must give the same values, declared
 * once (names, defaults, limits): each app's table holds these entries,
 * which point at its own statics opt_bytes, opt_tensors, opt_poll_ms,
 * opt_list_prefix and opt_dataset_prefix. */
#define SB_AGG_SHARED_OPTS                                                                   \
  {"tensor-bytes", SB_OPT_SIZE, &opt_bytes, "1K", "bytes per tensor (the same on both sides)", \
   NULL, 0, 0},                                                                              \
  {"tensors-per-dataset", SB_OPT_INT, &opt_tensors, "2",                                     \
   "tensors in each dataset (the same on both sides)", NULL, 1, SB_AGG_MAX_TENSORS},          \
  {"poll-interval", SB_OPT_INT, &opt_poll_ms, "10", "ms between two looks at the list", NULL, \
   1, 60000},                                                                                \
  {"list-prefix", SB_OPT_STR, &opt_list_prefix, SB_AGG_LIST_PREFIX,                          \
   "lists are named <prefix><iteration> (the same on both sides)", NULL, 0, 0},              \
  {"dataset-prefix", SB_OPT_STR, &opt_dataset_prefix, SB_AGG_DATASET_PREFIX,                 \
   "producer rank r's dataset is <prefix><r> (the same on both sides)", NULL, 0, 0}

static inline void sb_agg_list_name(const char *prefix, int64_t seq, char *buf, size_t len)
{
  snprintf(buf, len, "%s%lld", prefix, (long long)seq);
}

static inline void sb_agg_dataset_name(const char *prefix, int rank, char *buf, size_t len)
{
  snprintf(buf, len, "%s%d", prefix, rank);
}

static inline void sb_agg_tensor_name(int t, char *buf, size_t len)
{
  snprintf(buf, len, "tensor_%d", t);
}

/* Checks the two prefixes given on the command line: not empty, not too
 * long, and no '{' or '}' in the dataset prefix (the hash tag). */
static inline int sb_agg_check_prefixes(const char *list_prefix, const char *dataset_prefix)
{
  if (!list_prefix || !*list_prefix || strlen(list_prefix) > SB_AGG_PREFIX_MAX)
    return sb_error("--list-prefix must be 1..%d characters", SB_AGG_PREFIX_MAX);
  if (!dataset_prefix || !*dataset_prefix || strlen(dataset_prefix) > SB_AGG_PREFIX_MAX)
    return sb_error("--dataset-prefix must be 1..%d characters", SB_AGG_PREFIX_MAX);
  if (strpbrk(dataset_prefix, "{}"))
    return sb_error("--dataset-prefix '%s' contains '{' or '}' (dataset keys are {NAME})",
                    dataset_prefix);
  return SB_OK;
}

/* The pattern stream of tensor t of iteration seq. */
static inline uint64_t sb_agg_stream(int64_t seq, int t)
{
  return (uint64_t)seq * SB_AGG_MAX_TENSORS + (uint64_t)t;
}

/* Tensors travel as sb_payload_dtype says, shaped [1, n]
 * (SmartSim-Scaling's {1, n_values}). */
static inline void sb_agg_tensor_shape(uint64_t bytes, const char **dtype, int64_t dims[2])
{
  dims[0] = 1;
  *dtype = sb_payload_dtype(bytes, &dims[1]);
}

#endif
