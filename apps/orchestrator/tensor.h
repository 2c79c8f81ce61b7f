/* Tensors as sbai stores them: an element type, a shape, and a flat,
 * row-major buffer of count × element-size bytes in host byte order.
 *
 * This file is plain C with no Redis dependency, so that the rules a client's
 * input must satisfy can be unit-tested on their own. Every parsing or
 * checking function returns 0 on success and -1 on failure, in which case it
 * writes a one-line message (no "ERR " prefix, no newline) into the caller's
 * buffer err[errlen]; err may be NULL when errlen is 0. Text arguments come
 * with an explicit length and need not be NUL-terminated.
 */
#ifndef SB_TENSOR_H
#define SB_TENSOR_H

#include <stddef.h>
#include <stdint.h>

/* Element types. The numeric codes are written into RDB files: append new
 * types at the end, never renumber. */
typedef enum sb_dtype {
  SB_DTYPE_FLOAT = 0,
  SB_DTYPE_DOUBLE = 1,
  SB_DTYPE_INT8 = 2,
  SB_DTYPE_INT16 = 3,
  SB_DTYPE_INT32 = 4,
  SB_DTYPE_INT64 = 5,
  SB_DTYPE_UINT8 = 6,
  SB_DTYPE_UINT16 = 7,
  SB_DTYPE_BOOL = 8,
  SB_DTYPE_COUNT
} sb_dtype_t;

/* One row of the dtype table. */
typedef struct sb_dtype_info {
  const char *name; /* upper case, as replied by AI.TENSORGET */
  size_t size;      /* bytes per element */
  int is_float;     /* 1 for FLOAT and DOUBLE */
  int64_t min, max; /* accepted range of an integer type (BOOL: 0..1) */
} sb_dtype_info_t;

/* Hard ceiling on the rank; the MAX_TENSOR_RANK load option may lower it. */
#define SB_TENSOR_RANK_CAP 16

/* A comfortable size for the err buffers of this API. */
#define SB_TENSOR_ERRLEN 160

/* Everything about a tensor but its data. */
typedef struct sb_tensor_desc {
  sb_dtype_t dtype;
  int ndims;
  int64_t dims[SB_TENSOR_RANK_CAP];
  uint64_t count;  /* number of elements: the product of dims */
  uint64_t nbytes; /* count × element size */
} sb_tensor_desc_t;

/* One element read out of a buffer, widened for a reply: integer types
 * (BOOL included) in i, FLOAT and DOUBLE in d. */
typedef struct sb_scalar {
  int is_float;
  int64_t i;
  double d;
} sb_scalar_t;

/* The table row of dtype, or NULL for a value outside the enum. */
const sb_dtype_info_t *sb_dtype_info(sb_dtype_t dtype);

/* Parses a type name, case-insensitively ("float", "Int8", "UINT16").
 * Fails for any other text. */
int sb_dtype_parse(const char *text, size_t len, sb_dtype_t *dtype, char *err, size_t errlen);

/* Parses one dimension: decimal digits only, at least 1, at most INT64_MAX.
 * Fails with a message that says whether the text was not a number, was zero
 * or negative, or was too large. */
int sb_tensor_dim_parse(const char *text, size_t len, int64_t *dim, char *err, size_t errlen);

/* Checks that 1 <= ndims <= max_rank (max_rank itself is clamped to
 * SB_TENSOR_RANK_CAP). A command checks this before it parses dimensions. */
int sb_tensor_rank_check(int ndims, int max_rank, char *err, size_t errlen);

/* Fills *desc from a dtype and ndims dimensions after checking the rank
 * (sb_tensor_rank_check), that every dimension is positive, that the element
 * count and the byte size do not overflow 64 bits or size_t, and that the
 * byte size is at most max_bytes. */
int sb_tensor_desc_init(sb_tensor_desc_t *desc, sb_dtype_t dtype, const int64_t *dims, int ndims,
                        int max_rank, uint64_t max_bytes, char *err, size_t errlen);

/* Checks that a BLOB of len bytes has exactly desc->nbytes bytes. */
int sb_tensor_blob_check(const sb_tensor_desc_t *desc, size_t len, char *err, size_t errlen);

/* Checks that nvalues VALUES arguments were given for desc->count elements. */
int sb_tensor_values_check(const sb_tensor_desc_t *desc, uint64_t nvalues, char *err,
                           size_t errlen);

/* Parses one VALUES argument for dtype and stores it, in host byte order, at
 * dst (dtype-size bytes, any alignment). FLOAT/DOUBLE take anything strtod
 * reads in full, including inf and nan, but refuse a finite number the type
 * cannot hold ("1e999", or "1e39" for FLOAT); integer types take an optional
 * sign and decimal digits within the type's range; BOOL takes 0 or 1. */
int sb_tensor_value_parse(sb_dtype_t dtype, const char *text, size_t len, void *dst, char *err,
                          size_t errlen);

/* Reads element `index` of a dtype buffer (any alignment) for a reply. */
sb_scalar_t sb_tensor_value_get(sb_dtype_t dtype, const void *data, uint64_t index);

/* Formats a scalar as text into buf: integers in decimal, floating values
 * with 17 significant digits (the way Redis replies with doubles). Returns
 * the length snprintf would write. */
int sb_scalar_format(const sb_scalar_t *value, char *buf, size_t len);

#endif
