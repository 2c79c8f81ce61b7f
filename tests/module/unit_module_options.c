/* Unit test of sbai's load-time options (apps/orchestrator/options.c):
 * defaults, case-insensitive names, size suffixes, ranges, refusals. */
#include "options.h"

#include <stdio.h>
#include <string.h>

/* Every failed check also shows the last message the options code wrote. */
#define SB_CHECK_LAST_MESSAGE err
#include "sb_check.h"

static char err[256];

static int set(sb_options_t *o, const char *name, const char *value)
{
  return sb_options_set(o, name, strlen(name), value, strlen(value), err, sizeof err);
}

static long long get(const sb_options_t *o, const char *name)
{
  long long v = -12345;
  if (sb_options_get(o, name, strlen(name), &v, err, sizeof err) != 0)
    return -12345;
  return v;
}

int main(void)
{
  sb_options_t o;

  sb_options_defaults(&o);
  CHECK(get(&o, "THREADS_PER_QUEUE") == 1, "default THREADS_PER_QUEUE");
  CHECK(get(&o, "INTER_OP_PARALLELISM") == 0, "default INTER_OP_PARALLELISM");
  CHECK(get(&o, "INTRA_OP_PARALLELISM") == 0, "default INTRA_OP_PARALLELISM");
  CHECK(get(&o, "MAX_TENSOR_BYTES") == 512LL * 1024 * 1024, "default MAX_TENSOR_BYTES 512 MiB");
  CHECK(get(&o, "MAX_TENSOR_RANK") == 8, "default MAX_TENSOR_RANK");
  CHECK(get(&o, "MAX_BATCH") == 1024, "default MAX_BATCH");
  CHECK(get(&o, "max_tensor_rank") == 8, "get is case-insensitive");
  CHECK(get(&o, "BACKENDSPATH") == -12345 && strstr(err, "unknown option"), "get unknown name");

  CHECK(set(&o, "threads_per_queue", "4") == 0 && o.threads_per_queue == 4,
        "set THREADS_PER_QUEUE, lower case");
  CHECK(set(&o, "Inter_Op_Parallelism", "2") == 0 && o.inter_op_parallelism == 2,
        "set INTER_OP_PARALLELISM, mixed case");
  CHECK(set(&o, "INTRA_OP_PARALLELISM", "0") == 0 && o.intra_op_parallelism == 0,
        "INTRA_OP_PARALLELISM 0 allowed");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "1M") == 0 && o.max_tensor_bytes == 1048576,
        "MAX_TENSOR_BYTES 1M");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "64k") == 0 && o.max_tensor_bytes == 65536,
        "MAX_TENSOR_BYTES 64k");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "2GiB") == 0 && o.max_tensor_bytes == 2LL << 30,
        "MAX_TENSOR_BYTES 2GiB");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "1000") == 0 && o.max_tensor_bytes == 1000,
        "MAX_TENSOR_BYTES plain bytes");
  CHECK(set(&o, "MAX_TENSOR_RANK", "16") == 0 && o.max_tensor_rank == 16, "MAX_TENSOR_RANK 16");
  CHECK(set(&o, "MAX_BATCH", "4") == 0 && o.max_batch == 4, "MAX_BATCH 4");

  sb_options_t before = o;
  CHECK(set(&o, "BOGUS", "1") != 0 && strstr(err, "unknown option 'BOGUS'")
            && strstr(err, "THREADS_PER_QUEUE"),
        "unknown option refused, known ones listed");
  CHECK(set(&o, "THREADS_PER_QUEUE", "0") != 0 && strstr(err, "between 1 and"),
        "THREADS_PER_QUEUE 0 refused");
  CHECK(set(&o, "THREADS_PER_QUEUE", "-1") != 0, "negative value refused");
  CHECK(set(&o, "THREADS_PER_QUEUE", "four") != 0, "word value refused");
  CHECK(set(&o, "THREADS_PER_QUEUE", "4K") != 0, "size suffix refused for a count");
  CHECK(set(&o, "THREADS_PER_QUEUE", "") != 0, "empty value refused");
  CHECK(set(&o, "THREADS_PER_QUEUE", "99999999999999999999999") != 0, "huge value refused");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "0") != 0, "MAX_TENSOR_BYTES 0 refused");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "1T") != 0, "unknown suffix refused");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "1MX") != 0, "garbage after suffix refused");
  CHECK(set(&o, "MAX_TENSOR_BYTES", "9999999999G") != 0, "size overflow refused");
  CHECK(set(&o, "MAX_TENSOR_RANK", "17") != 0, "MAX_TENSOR_RANK above the cap refused");
  CHECK(set(&o, "MAX_TENSOR_RANK", "0") != 0, "MAX_TENSOR_RANK 0 refused");
  CHECK(set(&o, "MAX_BATCH", "0") != 0, "MAX_BATCH 0 refused");
  CHECK(memcmp(&before, &o, sizeof o) == 0, "refused values leave the options unchanged");

  /* The GPU options (issue 8): pool sizes take size suffixes, 0 allowed;
   * GPU_PRECISION takes FP32 / TF32 (any case) or 0 / 1. */
  CHECK(get(&o, "GPU_POOL_INIT") == 256LL * 1024 * 1024, "default GPU_POOL_INIT 256 MiB");
  CHECK(get(&o, "GPU_POOL_MAX") == 0, "default GPU_POOL_MAX 0 (no limit)");
  CHECK(get(&o, "GPU_PRECISION") == 1, "default GPU_PRECISION TF32 (1)");
  CHECK(set(&o, "GPU_POOL_INIT", "1G") == 0 && o.gpu_pool_init == 1LL << 30, "GPU_POOL_INIT 1G");
  CHECK(set(&o, "gpu_pool_max", "0") == 0 && o.gpu_pool_max == 0, "GPU_POOL_MAX 0");
  CHECK(set(&o, "GPU_POOL_MAX", "2GiB") == 0 && o.gpu_pool_max == 2LL << 30, "GPU_POOL_MAX 2GiB");
  CHECK(set(&o, "GPU_PRECISION", "fp32") == 0 && o.gpu_precision == 0, "GPU_PRECISION fp32");
  CHECK(set(&o, "GPU_PRECISION", "TF32") == 0 && o.gpu_precision == 1, "GPU_PRECISION TF32");
  CHECK(set(&o, "GPU_PRECISION", "0") == 0 && o.gpu_precision == 0, "GPU_PRECISION 0");
  CHECK(sb_options_check(&o, err, sizeof err) == 0, "GPU_POOL_INIT 1G under GPU_POOL_MAX 2G");
  before = o;
  CHECK(set(&o, "GPU_PRECISION", "BF16") != 0 && strstr(err, "FP32 or TF32"),
        "GPU_PRECISION BF16 refused, the words named");
  CHECK(set(&o, "GPU_PRECISION", "2") != 0, "GPU_PRECISION 2 refused");
  CHECK(set(&o, "GPU_POOL_MAX", "-1") != 0, "GPU_POOL_MAX negative refused");
  CHECK(set(&o, "GPU_POOL_INIT", "1T") != 0, "GPU_POOL_INIT unknown suffix refused");
  CHECK(memcmp(&before, &o, sizeof o) == 0, "refused GPU values leave the options unchanged");
  CHECK(set(&o, "GPU_POOL_MAX", "512M") == 0 && sb_options_check(&o, err, sizeof err) != 0
            && strstr(err, "GPU_POOL_INIT"),
        "GPU_POOL_INIT above a GPU_POOL_MAX refused by the cross check");

  /* MODEL_CHUNK_SIZE (RedisAI's name and default): a load option that
   * AI.CONFIG may also change at run time; the others only load. */
  CHECK(get(&o, "MODEL_CHUNK_SIZE") == 511LL * 1024 * 1024, "default MODEL_CHUNK_SIZE 511 MiB");
  CHECK(set(&o, "MODEL_CHUNK_SIZE", "1M") == 0 && o.model_chunk_size == 1048576,
        "MODEL_CHUNK_SIZE 1M at load");
  CHECK(sb_options_set_runtime(&o, "model_chunk_size", 16, "4096", 4, err, sizeof err) == 0
            && o.model_chunk_size == 4096,
        "MODEL_CHUNK_SIZE set at run time");
  before = o;
  CHECK(sb_options_set_runtime(&o, "MODEL_CHUNK_SIZE", 16, "2147483648", 10, err, sizeof err) != 0
            && strstr(err, "between 1 and 2147483647"),
        "MODEL_CHUNK_SIZE above a C int refused (SmartRedis reads it as one)");
  CHECK(sb_options_set_runtime(&o, "MAX_BATCH", 9, "8", 1, err, sizeof err) != 0
            && strstr(err, "MAX_BATCH is set when the module loads")
            && strstr(err, "AI.CONFIG changes only MODEL_CHUNK_SIZE"),
        "a load-time option refused at run time, the settable ones named");
  CHECK(sb_options_set_runtime(&o, "NOPE", 4, "1", 1, err, sizeof err) != 0
            && strstr(err, "unknown option 'NOPE'"),
        "unknown option refused at run time");
  CHECK(memcmp(&before, &o, sizeof o) == 0, "refused run-time values leave the options unchanged");

  CHECK(sb_options_count() == 10, "ten options");
  CHECK(sb_options_name(0) && strcmp(sb_options_name(0), "THREADS_PER_QUEUE") == 0,
        "first option name");
  CHECK(sb_options_name(10) == NULL, "option name out of range");

  return CHECK_DONE();
}
