/* sbai's load-time options: `--loadmodule sbai.so NAME VALUE ...`.
 *
 * Plain C with no Redis dependency, like tensor.h: functions return 0 or -1
 * and write a one-line message into err[errlen] on failure.
 *
 * To add an option: a field in sb_options_t and a row in the table in
 * options.c. AI.CONFIG GET and the load-time parser pick it up from there.
 */
#ifndef SB_OPTIONS_H
#define SB_OPTIONS_H

#include <stddef.h>

typedef struct sb_options {
  long long threads_per_queue;    /* THREADS_PER_QUEUE: workers per device queue (>= 1) */
  long long inter_op_parallelism; /* INTER_OP_PARALLELISM: 0 = backend default */
  long long intra_op_parallelism; /* INTRA_OP_PARALLELISM: 0 = backend default */
  long long max_tensor_bytes;     /* MAX_TENSOR_BYTES: largest tensor, bytes */
  long long max_tensor_rank;      /* MAX_TENSOR_RANK: most dimensions of a tensor */
  long long max_batch;            /* MAX_BATCH: largest batch a model run may take */
  long long gpu_pool_init;        /* GPU_POOL_INIT: bytes reserved in each GPU's memory pool */
  long long gpu_pool_max;         /* GPU_POOL_MAX: most bytes runs take on one GPU (0: no limit) */
  long long gpu_precision;        /* GPU_PRECISION: 0 FP32, 1 TF32 (sb_k_cuda_precision_t) */
  long long model_chunk_size;     /* MODEL_CHUNK_SIZE: bytes per BLOB chunk clients send */
} sb_options_t;

/* Fills *opts with the defaults: 1, 0, 0, 512 MiB, 8, 1024, 256 MiB, 0, TF32,
 * 511 MiB. */
void sb_options_defaults(sb_options_t *opts);

/* Sets option `name` (case-insensitive) from its text value. Integer options
 * take decimal digits; MAX_TENSOR_BYTES also takes a K, M or G suffix
 * (powers of 1024, optionally followed by B or iB), as do GPU_POOL_INIT
 * and GPU_POOL_MAX; GPU_PRECISION takes FP32 or TF32 (or 0 / 1). Fails for an unknown
 * name, a malformed value or one outside the option's range; *opts is then
 * unchanged. */
int sb_options_set(sb_options_t *opts, const char *name, size_t name_len, const char *value,
                   size_t value_len, char *err, size_t errlen);

/* Like sb_options_set, for AI.CONFIG NAME VALUE on a running server: only
 * the options that may change after loading (MODEL_CHUNK_SIZE); any other
 * known name fails with a message saying it is a load-time option. */
int sb_options_set_runtime(sb_options_t *opts, const char *name, size_t name_len,
                           const char *value, size_t value_len, char *err, size_t errlen);

/* Checks the options against each other (each is already in its range):
 * GPU_POOL_INIT must not exceed a GPU_POOL_MAX other than 0. */
int sb_options_check(const sb_options_t *opts, char *err, size_t errlen);

/* Stores the value of option `name` (case-insensitive) into *value.
 * Fails for an unknown name. */
int sb_options_get(const sb_options_t *opts, const char *name, size_t name_len,
                   long long *value, char *err, size_t errlen);

/* Number of options, and the canonical (upper-case) name of option i, for
 * listing them; NULL when i is out of range. */
size_t sb_options_count(void);
const char *sb_options_name(size_t i);

#endif
