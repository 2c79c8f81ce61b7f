#include "options.h"
#include "errtext.h"

#include "tensor.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One row per option: where it lives in sb_options_t, its range, its default,
 * and whether its value is a byte size (K/M/G suffixes). */
typedef struct option_row {
  const char *name;
  size_t offset;
  long long min, max, dflt;
  int is_size;
  const char *const *words; /* a value may be one of these words: its index */
  int runtime;              /* AI.CONFIG NAME VALUE may change it after loading */
} option_row_t;

#define MIB (1024LL * 1024LL)

/* GPU_PRECISION's words, in sb_k_cuda_precision_t order. */
static const char *const precision_words[] = {"FP32", "TF32", NULL};

static const option_row_t option_table[] = {
  {.name = "THREADS_PER_QUEUE", .offset = offsetof(sb_options_t, threads_per_queue),
   .min = 1, .max = 1024, .dflt = 1},
  {.name = "INTER_OP_PARALLELISM", .offset = offsetof(sb_options_t, inter_op_parallelism),
   .min = 0, .max = 1024, .dflt = 0},
  {.name = "INTRA_OP_PARALLELISM", .offset = offsetof(sb_options_t, intra_op_parallelism),
   .min = 0, .max = 1024, .dflt = 0},
  {.name = "MAX_TENSOR_BYTES", .offset = offsetof(sb_options_t, max_tensor_bytes),
   .min = 1, .max = 1LL << 50, .dflt = 512 * MIB, .is_size = 1},
  {.name = "MAX_TENSOR_RANK", .offset = offsetof(sb_options_t, max_tensor_rank),
   .min = 1, .max = SB_TENSOR_RANK_CAP, .dflt = 8},
  {.name = "MAX_BATCH", .offset = offsetof(sb_options_t, max_batch),
   .min = 1, .max = 1LL << 31, .dflt = 1024},
  {.name = "GPU_POOL_INIT", .offset = offsetof(sb_options_t, gpu_pool_init),
   .min = 0, .max = 1LL << 50, .dflt = 256 * MIB, .is_size = 1},
  {.name = "GPU_POOL_MAX", .offset = offsetof(sb_options_t, gpu_pool_max),
   .min = 0, .max = 1LL << 50, .dflt = 0, .is_size = 1},
  {.name = "GPU_PRECISION", .offset = offsetof(sb_options_t, gpu_precision),
   .min = 0, .max = 1, .dflt = 1, .words = precision_words},
  /* RedisAI's name and default (511 MiB). Clients read it to split the
   * models they send into BLOB chunks; SmartRedis takes it as a C int. */
  {.name = "MODEL_CHUNK_SIZE", .offset = offsetof(sb_options_t, model_chunk_size),
   .min = 1, .max = 2147483647LL, .dflt = 511 * MIB, .is_size = 1, .runtime = 1},
};

#define OPTION_COUNT (sizeof option_table / sizeof option_table[0])

static const option_row_t *find(const char *name, size_t len)
{
  for (size_t i = 0; i < OPTION_COUNT; i++)
    if (strlen(option_table[i].name) == len && strncasecmp(option_table[i].name, name, len) == 0)
      return &option_table[i];
  return NULL;
}

/* Parses digits with an optional size suffix into *out; -1 if malformed or
 * beyond LLONG_MAX. */
static int parse_number(const char *text, size_t len, int with_suffix, long long *out)
{
  char buf[64];
  char *end;
  long long mult = 1;
  unsigned long long v;

  if (len == 0 || len >= sizeof buf || !isdigit((unsigned char)text[0]))
    return -1;
  memcpy(buf, text, len);
  buf[len] = '\0';
  if (strlen(buf) != len)
    return -1;
  errno = 0;
  v = strtoull(buf, &end, 10);
  if (errno == ERANGE || v > (unsigned long long)LLONG_MAX)
    return -1;
  if (*end) {
    if (!with_suffix)
      return -1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mult = 1LL << 10; break;
    case 'M': mult = 1LL << 20; break;
    case 'G': mult = 1LL << 30; break;
    default: return -1;
    }
    end++;
    if (*end && strcasecmp(end, "B") != 0 && strcasecmp(end, "iB") != 0)
      return -1;
  }
  if (v > (unsigned long long)(LLONG_MAX / mult))
    return -1;
  *out = (long long)v * mult;
  return 0;
}

void sb_options_defaults(sb_options_t *opts)
{
  for (size_t i = 0; i < OPTION_COUNT; i++)
    *(long long *)((char *)opts + option_table[i].offset) = option_table[i].dflt;
}

int sb_options_set(sb_options_t *opts, const char *name, size_t name_len, const char *value,
                   size_t value_len, char *err, size_t errlen)
{
  const option_row_t *row = find(name, name_len);
  char qn[SBAI_TEXT_LEN], qv[SBAI_TEXT_LEN];
  long long v;

  if (!row) {
    char known[256] = "";
    for (size_t i = 0; i < OPTION_COUNT; i++) {
      strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
      strncat(known, option_table[i].name, sizeof known - strlen(known) - 1);
    }
    return sbai_errf(err, errlen, "unknown option '%s' (known: %s)",
                     sbai_printable(name, name_len, qn), known);
  }
  if (row->words) {
    for (long long w = 0; row->words[w]; w++)
      if (strlen(row->words[w]) == value_len && strncasecmp(row->words[w], value, value_len) == 0) {
        *(long long *)((char *)opts + row->offset) = w;
        return 0;
      }
  }
  if (parse_number(value, value_len, row->is_size, &v) != 0 && row->words)
    return sbai_errf(err, errlen, "invalid value '%s' for %s: expected %s or %s",
                     sbai_printable(value, value_len, qv), row->name, row->words[0], row->words[1]);
  if (parse_number(value, value_len, row->is_size, &v) != 0)
    return sbai_errf(err, errlen, "invalid value '%s' for %s: expected %s",
                     sbai_printable(value, value_len, qv), row->name,
                     row->is_size ? "a size such as 1048576, 64K, 1M or 2G"
                                  : "a non-negative integer");
  if (v < row->min || v > row->max)
    return sbai_errf(err, errlen, "invalid value '%s' for %s: must be between %lld and %lld",
                     sbai_printable(value, value_len, qv), row->name, row->min, row->max);
  *(long long *)((char *)opts + row->offset) = v;
  return 0;
}

int sb_options_set_runtime(sb_options_t *opts, const char *name, size_t name_len,
                           const char *value, size_t value_len, char *err, size_t errlen)
{
  const option_row_t *row = find(name, name_len);
  char qn[SBAI_TEXT_LEN];

  if (!row)
    return sbai_errf(err, errlen, "unknown option '%s'", sbai_printable(name, name_len, qn));
  if (!row->runtime) {
    char settable[128] = "";
    for (size_t i = 0; i < OPTION_COUNT; i++)
      if (option_table[i].runtime) {
        strncat(settable, settable[0] ? ", " : "", sizeof settable - strlen(settable) - 1);
        strncat(settable, option_table[i].name, sizeof settable - strlen(settable) - 1);
      }
    return sbai_errf(err, errlen,
                     "%s is set when the module loads (--loadmodule sbai.so %s VALUE); "
                     "AI.CONFIG changes only %s",
                     row->name, row->name, settable);
  }
  return sb_options_set(opts, name, name_len, value, value_len, err, errlen);
}

int sb_options_check(const sb_options_t *opts, char *err, size_t errlen)
{
  if (opts->gpu_pool_max > 0 && opts->gpu_pool_init > opts->gpu_pool_max)
    return sbai_errf(err, errlen, "GPU_POOL_INIT (%lld bytes) exceeds GPU_POOL_MAX (%lld bytes)",
                     opts->gpu_pool_init, opts->gpu_pool_max);
  return 0;
}

int sb_options_get(const sb_options_t *opts, const char *name, size_t name_len,
                   long long *value, char *err, size_t errlen)
{
  const option_row_t *row = find(name, name_len);
  char qn[SBAI_TEXT_LEN];

  if (!row)
    return sbai_errf(err, errlen, "unknown option '%s'", sbai_printable(name, name_len, qn));
  *value = *(const long long *)((const char *)opts + row->offset);
  return 0;
}

size_t sb_options_count(void)
{
  return OPTION_COUNT;
}

const char *sb_options_name(size_t i)
{
  return i < OPTION_COUNT ? option_table[i].name : NULL;
}
