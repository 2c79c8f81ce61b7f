/* safetensors files: parse and check, and write.
 *
 * Layout: an 8-byte little-endian u64 N, N bytes of JSON, then the data. The
 * JSON is an object mapping each tensor name to {"dtype": "F32", "shape":
 * [..], "data_offsets": [begin, end]} (offsets count from the first byte after
 * the header), plus an optional "__metadata__" object of string -> string.
 *
 * The parser trusts nothing in the blob: every failure is a one-line message
 * in err[errlen] that names the offending tensor where there is one. Tensor
 * data is not copied: sb_st_tensor_t.data points into the caller's blob, which
 * must outlive the parsed file, and may be unaligned.
 *
 * Plain C (jansson for the JSON), no dependency on common/. Assumes a
 * little-endian host, as the format's data are little-endian.
 */
#ifndef SB_SAFETENSORS_H
#define SB_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

/* Largest JSON header the parser accepts. */
#define SB_ST_MAX_HEADER (100u << 20)
/* Most dimensions a tensor may have. */
#define SB_ST_MAX_DIMS 8

typedef enum sb_st_dtype {
  SB_ST_BOOL,
  SB_ST_U8,
  SB_ST_I8,
  SB_ST_F8_E4M3,
  SB_ST_F8_E5M2,
  SB_ST_U16,
  SB_ST_I16,
  SB_ST_F16,
  SB_ST_BF16,
  SB_ST_U32,
  SB_ST_I32,
  SB_ST_F32,
  SB_ST_U64,
  SB_ST_I64,
  SB_ST_F64,
  SB_ST_NDTYPES
} sb_st_dtype_t;

/* "F32" etc. for a dtype; "?" for an out-of-range value. */
const char *sb_st_dtype_name(sb_st_dtype_t dtype);

/* Bytes per element (1..8); 0 for an out-of-range value. */
size_t sb_st_dtype_size(sb_st_dtype_t dtype);

typedef struct sb_st_tensor {
  char *name;
  sb_st_dtype_t dtype;
  int ndim;                       /* 0 for a scalar */
  int64_t shape[SB_ST_MAX_DIMS];
  uint64_t begin, end;            /* data_offsets, relative to the data area */
  const void *data;               /* points into the blob (begin) */
  size_t count;                   /* number of elements, prod(shape) */
} sb_st_tensor_t;

typedef struct sb_st_file {
  sb_st_tensor_t *tensors;        /* in the header's key order */
  size_t ntensors;
  char **meta_keys, **meta_values;  /* the __metadata__ pairs */
  size_t nmeta;
  const unsigned char *data;      /* the data area */
  uint64_t data_bytes;
} sb_st_file_t;

/* Parses and checks blob[len]: the header length (at least 8 bytes, N <= len-8,
 * N <= SB_ST_MAX_HEADER), the JSON (an object, no duplicate keys), every entry
 * (a known dtype, a shape of non-negative integers, data_offsets [begin, end]
 * with begin <= end, end - begin == prod(shape) × dtype size, computed without
 * overflow), every range inside the data area, no two ranges overlapping, and
 * __metadata__ (an object of strings). Returns 0 and fills *file, or -1 with
 * the message in err (and *file empty, nothing to free). */
int sb_st_parse(const void *blob, size_t len, sb_st_file_t *file, char *err, size_t errlen);

/* Frees what sb_st_parse allocated (not the blob). Safe on a zeroed file. */
void sb_st_free(sb_st_file_t *file);

/* The tensor called name, or NULL. Linear in the number of tensors. */
const sb_st_tensor_t *sb_st_find(const sb_st_file_t *file, const char *name);

/* The __metadata__ value of key, or NULL. */
const char *sb_st_meta(const sb_st_file_t *file, const char *key);

/* Writes "[a,b,c]" for shape[ndim] into buf[buflen] (truncated if short);
 * returns buf. For error messages. */
char *sb_st_shape_str(const int64_t *shape, int ndim, char *buf, size_t buflen);

/* A writer collects tensors (their bytes are copied) and metadata in the
 * order given, and lays them out contiguously in that order: the header is
 * compact JSON padded with spaces to a multiple of 8 bytes, so each tensor
 * starts 8-byte aligned when the sizes before it are multiples of 8. The same
 * calls give the same bytes. */
typedef struct sb_st_writer sb_st_writer_t;

sb_st_writer_t *sb_st_writer_new(void);
void sb_st_writer_free(sb_st_writer_t *w);

/* Adds a __metadata__ pair. Returns 0, or -1 (out of memory: the writer
 * remembers the failure and sb_st_writer_finish reports it). */
int sb_st_writer_meta(sb_st_writer_t *w, const char *key, const char *value);

/* Adds a tensor of prod(shape) elements of dtype from data (copied). Returns
 * 0, or -1 (bad arguments, a duplicate name or out of memory: remembered and
 * reported by sb_st_writer_finish). */
int sb_st_writer_add(sb_st_writer_t *w, const char *name, sb_st_dtype_t dtype, int ndim,
                     const int64_t *shape, const void *data);

/* Like sb_st_writer_add, but returns a pointer to the tensor's zeroed bytes
 * inside the writer, to fill before the next call on w; NULL on failure. */
void *sb_st_writer_reserve(sb_st_writer_t *w, const char *name, sb_st_dtype_t dtype, int ndim,
                           const int64_t *shape);

/* Produces the file: *blob is malloc'd (the caller frees it), *len its size.
 * After this the writer refuses further calls; free it with sb_st_writer_free.
 * Returns 0, or -1 with the message in err. */
int sb_st_writer_finish(sb_st_writer_t *w, void **blob, size_t *len, char *err, size_t errlen);

#endif
