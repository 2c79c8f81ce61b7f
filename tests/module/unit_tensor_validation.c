/* Unit test of the tensor rules in apps/orchestrator/tensor.c, without Redis:
 * dtype names, dimensions and overflow, rank limit, BLOB length, VALUES
 * parsing and ranges, reading values back. Prints one line per failed check
 * and exits non-zero if any failed. */
#include "tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

/* Every failed check also shows the last message the tensor rules wrote. */
#define SB_CHECK_LAST_MESSAGE err
#include "sb_check.h"

static char err[SB_TENSOR_ERRLEN];

/* Wrappers taking C strings. */
static int dtype(const char *s, sb_dtype_t *t)
{
  return sb_dtype_parse(s, strlen(s), t, err, sizeof err);
}
static int dim(const char *s, int64_t *d)
{
  return sb_tensor_dim_parse(s, strlen(s), d, err, sizeof err);
}
static int value(sb_dtype_t t, const char *s, void *dst)
{
  return sb_tensor_value_parse(t, s, strlen(s), dst, err, sizeof err);
}

static void test_dtypes(void)
{
  static const struct { const char *in; sb_dtype_t t; size_t size; } ok[] = {
    {"FLOAT", SB_DTYPE_FLOAT, 4},   {"float", SB_DTYPE_FLOAT, 4},  {"Double", SB_DTYPE_DOUBLE, 8},
    {"INT8", SB_DTYPE_INT8, 1},     {"int16", SB_DTYPE_INT16, 2},  {"InT32", SB_DTYPE_INT32, 4},
    {"INT64", SB_DTYPE_INT64, 8},   {"uint8", SB_DTYPE_UINT8, 1},  {"UINT16", SB_DTYPE_UINT16, 2},
    {"bool", SB_DTYPE_BOOL, 1},
  };
  static const char *bad[] = {"", "FLOAT32", "FLOA", "INT", "UINT32", "UINT64", "half", "STRING",
                              " FLOAT", "FLOAT "};
  sb_dtype_t t;

  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    CHECK(dtype(ok[i].in, &t) == 0 && t == ok[i].t, "dtype name is accepted, any case");
    CHECK(sb_dtype_info(t)->size == ok[i].size, "dtype size");
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(dtype(bad[i], &t) != 0, "unknown dtype is refused");
  CHECK(strstr(err, "unknown tensor type") != NULL, "unknown dtype message");
  CHECK(sb_dtype_parse("FLOAT\0X", 7, &t, err, sizeof err) != 0, "dtype with embedded NUL");
  CHECK(strcmp(sb_dtype_info(SB_DTYPE_UINT16)->name, "UINT16") == 0, "dtype names are upper case");
  CHECK(sb_dtype_info(SB_DTYPE_COUNT) == NULL, "dtype info out of range is NULL");
}

static void test_dims(void)
{
  int64_t d;
  CHECK(dim("1", &d) == 0 && d == 1, "dim 1");
  CHECK(dim("224", &d) == 0 && d == 224, "dim 224");
  CHECK(dim("9223372036854775807", &d) == 0 && d == INT64_MAX, "dim INT64_MAX parses");
  CHECK(dim("0", &d) != 0 && strstr(err, "positive"), "zero dim refused");
  CHECK(dim("-3", &d) != 0 && strstr(err, "positive"), "negative dim refused");
  CHECK(dim("abc", &d) != 0 && strstr(err, "not a positive integer"), "non-numeric dim refused");
  CHECK(dim("3x", &d) != 0, "trailing garbage dim refused");
  CHECK(dim("", &d) != 0, "empty dim refused");
  CHECK(dim("-", &d) != 0, "lone minus dim refused");
  CHECK(dim("+3", &d) != 0, "plus sign dim refused");
  CHECK(dim(" 3", &d) != 0, "leading space dim refused");
  CHECK(dim("1.5", &d) != 0, "fractional dim refused");
  CHECK(dim("99999999999999999999", &d) != 0 && strstr(err, "too large"), "absurd dim refused");
  CHECK(dim("9223372036854775808", &d) != 0 && strstr(err, "too large"), "dim INT64_MAX+1 refused");
  CHECK(sb_tensor_dim_parse("12\0", 3, &d, err, sizeof err) != 0, "dim with embedded NUL refused");
}

static void test_shapes(void)
{
  sb_tensor_desc_t desc;
  int64_t dims[SB_TENSOR_RANK_CAP + 1];
  const uint64_t big = UINT64_MAX;

  dims[0] = 2, dims[1] = 3, dims[2] = 4;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 3, 8, big, err, sizeof err) == 0,
        "2x3x4 float shape");
  CHECK(desc.count == 24 && desc.nbytes == 96 && desc.ndims == 3 && desc.dims[2] == 4,
        "count and bytes of 2x3x4 float");

  dims[0] = (int64_t)1 << 40, dims[1] = (int64_t)1 << 40;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_UINT8, dims, 2, 8, big, err, sizeof err) != 0
            && strstr(err, "overflows"),
        "2^40 x 2^40 element count overflow refused");
  dims[0] = (int64_t)1 << 62, dims[1] = 2;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_UINT8, dims, 2, 8, big, err, sizeof err) == 0,
        "2^63 uint8 elements fit 64 bits without a byte limit");
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_INT16, dims, 2, 8, big, err, sizeof err) != 0
            && strstr(err, "overflows"),
        "2^63 int16 elements: byte size overflow refused");
  dims[0] = INT64_MAX;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_DOUBLE, dims, 1, 8, big, err, sizeof err) != 0,
        "INT64_MAX doubles refused");

  dims[0] = 1024, dims[1] = 256;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 2, 8, 1 << 20, err, sizeof err) == 0,
        "exactly MAX_TENSOR_BYTES is accepted");
  dims[1] = 257;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 2, 8, 1 << 20, err, sizeof err) != 0
            && strstr(err, "MAX_TENSOR_BYTES"),
        "one row over MAX_TENSOR_BYTES refused");

  dims[0] = 0, dims[1] = 2;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 2, 8, big, err, sizeof err) != 0,
        "zero dim refused by desc_init");
  dims[0] = -1;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 2, 8, big, err, sizeof err) != 0,
        "negative dim refused by desc_init");

  for (int i = 0; i <= SB_TENSOR_RANK_CAP; i++)
    dims[i] = 1;
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 8, 8, big, err, sizeof err) == 0,
        "rank 8 with MAX_TENSOR_RANK 8");
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 9, 8, big, err, sizeof err) != 0
            && strstr(err, "MAX_TENSOR_RANK"),
        "rank 9 with MAX_TENSOR_RANK 8 refused");
  CHECK(sb_tensor_rank_check(3, 2, err, sizeof err) != 0, "rank 3 over limit 2 refused");
  CHECK(sb_tensor_rank_check(0, 8, err, sizeof err) != 0 && strstr(err, "at least one"),
        "rank 0 refused");
  CHECK(sb_tensor_rank_check(SB_TENSOR_RANK_CAP + 1, 1000, err, sizeof err) != 0,
        "rank above the hard cap refused whatever the limit");
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_FLOAT, dims, 1, 8, big, err, sizeof err) == 0,
        "rank 1");
  CHECK(sb_tensor_desc_init(&desc, SB_DTYPE_COUNT, dims, 1, 8, big, err, sizeof err) != 0,
        "bad dtype code refused by desc_init");
}

static void test_blob(void)
{
  sb_tensor_desc_t desc;
  int64_t dims[2] = {2, 3};
  sb_tensor_desc_init(&desc, SB_DTYPE_INT16, dims, 2, 8, UINT64_MAX, err, sizeof err);
  CHECK(sb_tensor_blob_check(&desc, 12, err, sizeof err) == 0, "exact blob length accepted");
  CHECK(sb_tensor_blob_check(&desc, 11, err, sizeof err) != 0 && strstr(err, "needs 12"),
        "short blob refused");
  CHECK(sb_tensor_blob_check(&desc, 13, err, sizeof err) != 0, "long blob refused");
  CHECK(sb_tensor_blob_check(&desc, 0, err, sizeof err) != 0, "empty blob refused");
  CHECK(sb_tensor_values_check(&desc, 6, err, sizeof err) == 0, "6 values for 2x3");
  CHECK(sb_tensor_values_check(&desc, 5, err, sizeof err) != 0 && strstr(err, "6 elements"),
        "5 values for 2x3 refused");
  CHECK(sb_tensor_values_check(&desc, 7, err, sizeof err) != 0, "7 values for 2x3 refused");
}

static void test_values(void)
{
  unsigned char buf[8];
  float f;
  double d;
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint8_t u8;
  uint16_t u16;

  CHECK(value(SB_DTYPE_FLOAT, "1.5", buf) == 0 && (memcpy(&f, buf, 4), f == 1.5f), "FLOAT 1.5");
  CHECK(value(SB_DTYPE_FLOAT, "-2e3", buf) == 0 && (memcpy(&f, buf, 4), f == -2000.0f),
        "FLOAT -2e3");
  CHECK(value(SB_DTYPE_FLOAT, "1e999", buf) != 0 && strstr(err, "out of range"),
        "FLOAT 1e999 refused");
  CHECK(value(SB_DTYPE_FLOAT, "1e39", buf) != 0 && strstr(err, "out of range"),
        "FLOAT 1e39 (above FLT_MAX) refused");
  CHECK(value(SB_DTYPE_DOUBLE, "1e39", buf) == 0 && (memcpy(&d, buf, 8), d == 1e39),
        "DOUBLE 1e39");
  CHECK(value(SB_DTYPE_DOUBLE, "-1e999", buf) != 0, "DOUBLE -1e999 refused");
  CHECK(value(SB_DTYPE_DOUBLE, "1e-400", buf) == 0, "DOUBLE underflow rounds to zero");
  CHECK(value(SB_DTYPE_DOUBLE, "inf", buf) == 0 && (memcpy(&d, buf, 8), isinf(d)),
        "DOUBLE inf spelled out");
  CHECK(value(SB_DTYPE_FLOAT, "nan", buf) == 0 && (memcpy(&f, buf, 4), isnan(f)),
        "FLOAT nan spelled out");
  CHECK(value(SB_DTYPE_FLOAT, "abc", buf) != 0 && strstr(err, "not a number"), "FLOAT abc");
  CHECK(value(SB_DTYPE_FLOAT, "1.5x", buf) != 0, "FLOAT trailing garbage");
  CHECK(value(SB_DTYPE_FLOAT, "", buf) != 0, "FLOAT empty");
  CHECK(value(SB_DTYPE_FLOAT, " 1", buf) != 0, "FLOAT leading space");
  CHECK(value(SB_DTYPE_DOUBLE, "1 ", buf) != 0, "DOUBLE trailing space");

  CHECK(value(SB_DTYPE_INT8, "-128", buf) == 0 && (memcpy(&i8, buf, 1), i8 == -128), "INT8 -128");
  CHECK(value(SB_DTYPE_INT8, "127", buf) == 0 && (memcpy(&i8, buf, 1), i8 == 127), "INT8 127");
  CHECK(value(SB_DTYPE_INT8, "300", buf) != 0 && strstr(err, "out of range"), "INT8 300 refused");
  CHECK(value(SB_DTYPE_INT8, "-129", buf) != 0, "INT8 -129 refused");
  CHECK(value(SB_DTYPE_INT16, "-32768", buf) == 0 && (memcpy(&i16, buf, 2), i16 == -32768),
        "INT16 -32768");
  CHECK(value(SB_DTYPE_INT16, "32768", buf) != 0, "INT16 32768 refused");
  CHECK(value(SB_DTYPE_INT32, "2147483647", buf) == 0 && (memcpy(&i32, buf, 4), i32 == INT32_MAX),
        "INT32 max");
  CHECK(value(SB_DTYPE_INT32, "2147483648", buf) != 0, "INT32 max+1 refused");
  CHECK(value(SB_DTYPE_INT64, "-9223372036854775808", buf) == 0
            && (memcpy(&i64, buf, 8), i64 == INT64_MIN),
        "INT64 min");
  CHECK(value(SB_DTYPE_INT64, "9223372036854775808", buf) != 0 && strstr(err, "out of range"),
        "INT64 max+1 refused");
  CHECK(value(SB_DTYPE_UINT8, "255", buf) == 0 && (memcpy(&u8, buf, 1), u8 == 255), "UINT8 255");
  CHECK(value(SB_DTYPE_UINT8, "-1", buf) != 0 && strstr(err, "out of range"), "UINT8 -1 refused");
  CHECK(value(SB_DTYPE_UINT8, "256", buf) != 0, "UINT8 256 refused");
  CHECK(value(SB_DTYPE_UINT16, "+65535", buf) == 0 && (memcpy(&u16, buf, 2), u16 == 65535),
        "UINT16 +65535");
  CHECK(value(SB_DTYPE_UINT16, "65536", buf) != 0, "UINT16 65536 refused");
  CHECK(value(SB_DTYPE_INT32, "1.0", buf) != 0 && strstr(err, "not an integer"),
        "INT32 1.0 refused");
  CHECK(value(SB_DTYPE_INT32, "abc", buf) != 0, "INT32 abc refused");
  CHECK(value(SB_DTYPE_INT32, "-", buf) != 0, "INT32 lone minus refused");
  CHECK(value(SB_DTYPE_INT32, " 1", buf) != 0, "INT32 leading space refused");
  CHECK(value(SB_DTYPE_BOOL, "0", buf) == 0 && buf[0] == 0, "BOOL 0");
  CHECK(value(SB_DTYPE_BOOL, "1", buf) == 0 && buf[0] == 1, "BOOL 1");
  CHECK(value(SB_DTYPE_BOOL, "2", buf) != 0, "BOOL 2 refused");
  CHECK(value(SB_DTYPE_BOOL, "true", buf) != 0, "BOOL true refused");

  /* A message quotes client text safely: no newline, bounded length. */
  CHECK(value(SB_DTYPE_INT8, "1\r\n2", buf) != 0 && !strchr(err, '\n') && !strchr(err, '\r'),
        "message carries no newline from client text");
  char longtext[400];
  memset(longtext, '7', sizeof longtext - 1);
  longtext[sizeof longtext - 1] = '\0';
  CHECK(value(SB_DTYPE_INT64, longtext, buf) != 0 && strlen(err) < 120,
        "400-digit integer refused with a short message");
}

static void test_read_back(void)
{
  const int16_t i16[3] = {-5, 0, 32767};
  const float f32[2] = {0.5f, -2.25f};
  const uint8_t b[2] = {0, 1};
  char text[64];
  sb_scalar_t v;

  v = sb_tensor_value_get(SB_DTYPE_INT16, i16, 2);
  CHECK(!v.is_float && v.i == 32767, "INT16 element read back");
  v = sb_tensor_value_get(SB_DTYPE_INT16, i16, 0);
  sb_scalar_format(&v, text, sizeof text);
  CHECK(strcmp(text, "-5") == 0, "INT16 element formatted");
  v = sb_tensor_value_get(SB_DTYPE_FLOAT, f32, 1);
  CHECK(v.is_float && v.d == -2.25, "FLOAT element read back as double");
  sb_scalar_format(&v, text, sizeof text);
  CHECK(strcmp(text, "-2.25") == 0, "FLOAT element formatted");
  v = sb_tensor_value_get(SB_DTYPE_BOOL, b, 1);
  CHECK(!v.is_float && v.i == 1, "BOOL element read back");

  /* Unaligned buffers are fine. */
  unsigned char raw[9];
  double d = 3.75;
  memcpy(raw + 1, &d, sizeof d);
  v = sb_tensor_value_get(SB_DTYPE_DOUBLE, raw + 1, 0);
  CHECK(v.d == 3.75, "DOUBLE read from an unaligned buffer");
}

int main(void)
{
  test_dtypes();
  test_dims();
  test_shapes();
  test_blob();
  test_values();
  test_read_back();
  return CHECK_DONE();
}
