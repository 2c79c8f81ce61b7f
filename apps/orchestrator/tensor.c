#include "tensor.h"
#include "errtext.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const sb_dtype_info_t dtype_table[SB_DTYPE_COUNT] = {
  [SB_DTYPE_FLOAT] = {.name = "FLOAT", .size = 4, .is_float = 1},
  [SB_DTYPE_DOUBLE] = {.name = "DOUBLE", .size = 8, .is_float = 1},
  [SB_DTYPE_INT8] = {.name = "INT8", .size = 1, .min = INT8_MIN, .max = INT8_MAX},
  [SB_DTYPE_INT16] = {.name = "INT16", .size = 2, .min = INT16_MIN, .max = INT16_MAX},
  [SB_DTYPE_INT32] = {.name = "INT32", .size = 4, .min = INT32_MIN, .max = INT32_MAX},
  [SB_DTYPE_INT64] = {.name = "INT64", .size = 8, .min = INT64_MIN, .max = INT64_MAX},
  [SB_DTYPE_UINT8] = {.name = "UINT8", .size = 1, .min = 0, .max = UINT8_MAX},
  [SB_DTYPE_UINT16] = {.name = "UINT16", .size = 2, .min = 0, .max = UINT16_MAX},
  [SB_DTYPE_BOOL] = {.name = "BOOL", .size = 1, .min = 0, .max = 1},
};

/* Longest number text we look at; longer arguments are refused. */
#define NUMBER_MAX 255

/* Copies text into buf as a C string; -1 if it is empty, too long or holds a
 * NUL byte (none of which is a number). */
static int to_cstring(const char *text, size_t len, char buf[NUMBER_MAX + 1])
{
  if (len == 0 || len > NUMBER_MAX || memchr(text, '\0', len))
    return -1;
  memcpy(buf, text, len);
  buf[len] = '\0';
  return 0;
}

const sb_dtype_info_t *sb_dtype_info(sb_dtype_t dtype)
{
  if ((int)dtype < 0 || dtype >= SB_DTYPE_COUNT)
    return NULL;
  return &dtype_table[dtype];
}

int sb_dtype_parse(const char *text, size_t len, sb_dtype_t *dtype, char *err, size_t errlen)
{
  char q[SBAI_TEXT_LEN];
  for (int t = 0; t < SB_DTYPE_COUNT; t++) {
    const char *name = dtype_table[t].name;
    if (strlen(name) == len && strncasecmp(name, text, len) == 0) {
      *dtype = (sb_dtype_t)t;
      return 0;
    }
  }
  return sbai_errf(err, errlen,
                   "unknown tensor type '%s' (expected FLOAT, DOUBLE, INT8, INT16, INT32, INT64, "
                   "UINT8, UINT16 or BOOL)",
                   sbai_printable(text, len, q));
}

int sb_tensor_dim_parse(const char *text, size_t len, int64_t *dim, char *err, size_t errlen)
{
  char buf[NUMBER_MAX + 1], q[SBAI_TEXT_LEN];
  size_t i = 0;
  int negative = 0;

  if (len > 0 && text[0] == '-')
    negative = 1, i = 1;
  if (i == len)
    return sbai_errf(err, errlen, "invalid tensor dimension '%s': not a positive integer",
                     sbai_printable(text, len, q));
  for (; i < len; i++)
    if (text[i] < '0' || text[i] > '9')
      return sbai_errf(err, errlen, "invalid tensor dimension '%s': not a positive integer",
                       sbai_printable(text, len, q));
  if (negative)
    return sbai_errf(err, errlen, "invalid tensor dimension '%s': must be positive",
                     sbai_printable(text, len, q));
  if (to_cstring(text, len, buf) != 0)
    return sbai_errf(err, errlen, "invalid tensor dimension '%s': too large",
                     sbai_printable(text, len, q));
  errno = 0;
  long long v = strtoll(buf, NULL, 10);
  if (errno == ERANGE)
    return sbai_errf(err, errlen, "invalid tensor dimension '%s': too large",
                     sbai_printable(text, len, q));
  if (v == 0)
    return sbai_errf(err, errlen, "invalid tensor dimension '%s': must be positive",
                     sbai_printable(text, len, q));
  *dim = (int64_t)v;
  return 0;
}

int sb_tensor_rank_check(int ndims, int max_rank, char *err, size_t errlen)
{
  if (max_rank > SB_TENSOR_RANK_CAP)
    max_rank = SB_TENSOR_RANK_CAP;
  if (ndims < 1)
    return sbai_errf(err, errlen, "a tensor needs at least one dimension");
  if (ndims > max_rank)
    return sbai_errf(err, errlen, "tensor rank %d exceeds MAX_TENSOR_RANK (%d)", ndims, max_rank);
  return 0;
}

int sb_tensor_desc_init(sb_tensor_desc_t *desc, sb_dtype_t dtype, const int64_t *dims, int ndims,
                        int max_rank, uint64_t max_bytes, char *err, size_t errlen)
{
  const sb_dtype_info_t *info = sb_dtype_info(dtype);
  uint64_t count = 1;

  if (!info)
    return sbai_errf(err, errlen, "unknown tensor type code %d", (int)dtype);
  if (sb_tensor_rank_check(ndims, max_rank, err, errlen) != 0)
    return -1;
  for (int i = 0; i < ndims; i++) {
    if (dims[i] < 1)
      return sbai_errf(err, errlen, "invalid tensor dimension %" PRId64 ": must be positive",
                       dims[i]);
    if (count > UINT64_MAX / (uint64_t)dims[i])
      return sbai_errf(err, errlen,
                       "tensor shape is too large: its element count overflows 64 bits");
    count *= (uint64_t)dims[i];
  }
  if (count > UINT64_MAX / info->size || count * info->size > SIZE_MAX)
    return sbai_errf(err, errlen, "tensor shape is too large: its byte size overflows");
  if (count * info->size > max_bytes)
    return sbai_errf(err, errlen,
                     "tensor of %" PRIu64 " bytes exceeds MAX_TENSOR_BYTES (%" PRIu64 ")",
                     count * info->size, max_bytes);

  memset(desc, 0, sizeof *desc);
  desc->dtype = dtype;
  desc->ndims = ndims;
  memcpy(desc->dims, dims, (size_t)ndims * sizeof dims[0]);
  desc->count = count;
  desc->nbytes = count * info->size;
  return 0;
}

int sb_tensor_blob_check(const sb_tensor_desc_t *desc, size_t len, char *err, size_t errlen)
{
  if ((uint64_t)len != desc->nbytes)
    return sbai_errf(err, errlen,
                     "BLOB has %zu bytes but a %s tensor of this shape needs %" PRIu64 " (%" PRIu64
                     " elements of %zu bytes)",
                     len, dtype_table[desc->dtype].name, desc->nbytes, desc->count,
                     dtype_table[desc->dtype].size);
  return 0;
}

int sb_tensor_values_check(const sb_tensor_desc_t *desc, uint64_t nvalues, char *err,
                           size_t errlen)
{
  if (nvalues != desc->count)
    return sbai_errf(err, errlen,
                     "wrong number of VALUES: the shape has %" PRIu64 " elements, %" PRIu64
                     " values were given",
                     desc->count, nvalues);
  return 0;
}

static int parse_float(sb_dtype_t dtype, const char *text, size_t len, void *dst, char *err,
                       size_t errlen)
{
  char buf[NUMBER_MAX + 1], q[SBAI_TEXT_LEN];
  char *end;
  double d;

  if (to_cstring(text, len, buf) != 0 || buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r'))
    return sbai_errf(err, errlen, "invalid %s value '%s': not a number", dtype_table[dtype].name,
                     sbai_printable(text, len, q));
  errno = 0;
  d = strtod(buf, &end);
  if (*end != '\0')
    return sbai_errf(err, errlen, "invalid %s value '%s': not a number", dtype_table[dtype].name,
                     sbai_printable(text, len, q));
  /* Overflow gives ±HUGE_VAL and ERANGE; underflow (a tiny result) is the
   * ordinary rounding of a decimal to binary and is accepted. */
  if (errno == ERANGE && isinf(d))
    return sbai_errf(err, errlen, "invalid %s value '%s': out of range", dtype_table[dtype].name,
                     sbai_printable(text, len, q));
  if (dtype == SB_DTYPE_FLOAT) {
    float f = (float)d;
    if (isinf(f) && !isinf(d))
      return sbai_errf(err, errlen, "invalid FLOAT value '%s': out of range",
                       sbai_printable(text, len, q));
    memcpy(dst, &f, sizeof f);
  } else {
    memcpy(dst, &d, sizeof d);
  }
  return 0;
}

static int parse_int(sb_dtype_t dtype, const char *text, size_t len, void *dst, char *err,
                     size_t errlen)
{
  const sb_dtype_info_t *info = &dtype_table[dtype];
  char buf[NUMBER_MAX + 1], q[SBAI_TEXT_LEN];
  size_t i = 0;
  long long v;

  if (len > 0 && (text[0] == '-' || text[0] == '+'))
    i = 1;
  if (i == len)
    return sbai_errf(err, errlen, "invalid %s value '%s': not an integer", info->name,
                     sbai_printable(text, len, q));
  for (; i < len; i++)
    if (text[i] < '0' || text[i] > '9')
      return sbai_errf(err, errlen, "invalid %s value '%s': not an integer", info->name,
                       sbai_printable(text, len, q));
  if (to_cstring(text, len, buf) != 0)
    return sbai_errf(err, errlen, "invalid %s value '%s': out of range", info->name,
                     sbai_printable(text, len, q));
  errno = 0;
  v = strtoll(buf, NULL, 10);
  if (errno == ERANGE || v < info->min || v > info->max)
    return sbai_errf(err, errlen, "invalid %s value '%s': out of range [%" PRId64 ", %" PRId64 "]",
                     info->name, sbai_printable(text, len, q), info->min, info->max);

/* dst gets v converted to the C type of the tensor element (range checked above). */
#define STORE_AS(ctype)                                                       \
  do {                                                                        \
    ctype x = (ctype)v;                                                       \
    memcpy(dst, &x, sizeof x);                                                \
  } while (0)
  switch (dtype) {
  case SB_DTYPE_INT8: STORE_AS(int8_t); break;
  case SB_DTYPE_INT16: STORE_AS(int16_t); break;
  case SB_DTYPE_INT32: STORE_AS(int32_t); break;
  case SB_DTYPE_INT64: STORE_AS(int64_t); break;
  case SB_DTYPE_UINT8:
  case SB_DTYPE_BOOL: STORE_AS(uint8_t); break;
  case SB_DTYPE_UINT16: STORE_AS(uint16_t); break;
  default:
    return sbai_errf(err, errlen, "unknown tensor type code %d", (int)dtype);
  }
  return 0;
#undef STORE_AS
}

int sb_tensor_value_parse(sb_dtype_t dtype, const char *text, size_t len, void *dst, char *err,
                          size_t errlen)
{
  const sb_dtype_info_t *info = sb_dtype_info(dtype);
  if (!info)
    return sbai_errf(err, errlen, "unknown tensor type code %d", (int)dtype);
  if (info->is_float)
    return parse_float(dtype, text, len, dst, err, errlen);
  return parse_int(dtype, text, len, dst, err, errlen);
}

sb_scalar_t sb_tensor_value_get(sb_dtype_t dtype, const void *data, uint64_t index)
{
  sb_scalar_t v = {0};
  const sb_dtype_info_t *info = sb_dtype_info(dtype);
  const unsigned char *p;

  if (!info)
    return v;
  p = (const unsigned char *)data + index * info->size;
  switch (dtype) {
#define READ_AS(T, field, flt)                                                                \
  {                                                                                           \
    T x;                                                                                      \
    memcpy(&x, p, sizeof x);                                                                  \
    v.field = x;                                                                              \
    v.is_float = flt;                                                                         \
    break;                                                                                    \
  }
  case SB_DTYPE_FLOAT: READ_AS(float, d, 1)
  case SB_DTYPE_DOUBLE: READ_AS(double, d, 1)
  case SB_DTYPE_INT8: READ_AS(int8_t, i, 0)
  case SB_DTYPE_INT16: READ_AS(int16_t, i, 0)
  case SB_DTYPE_INT32: READ_AS(int32_t, i, 0)
  case SB_DTYPE_INT64: READ_AS(int64_t, i, 0)
  case SB_DTYPE_UINT8: READ_AS(uint8_t, i, 0)
  case SB_DTYPE_UINT16: READ_AS(uint16_t, i, 0)
  case SB_DTYPE_BOOL: READ_AS(uint8_t, i, 0)
#undef READ_AS
  default:
    break;
  }
  return v;
}

int sb_scalar_format(const sb_scalar_t *value, char *buf, size_t len)
{
  if (value->is_float)
    return snprintf(buf, len, "%.17g", value->d);
  return snprintf(buf, len, "%" PRId64, value->i);
}
