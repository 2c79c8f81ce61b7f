/* Datasets and aggregation lists in SmartRedis's layout (docs/aggregation.md,
 * "Key layout"), so that SmartRedis's clients and ours read each other's.
 *
 * A dataset NAME is a group of tensors plus metadata fields:
 *   {NAME}.meta          hash: ".tensor_names" (a string field listing the
 *                        tensors), the caller's fields (string fields), and
 *                        ".COMPLETE" = "1" (plain text), written last
 *   {NAME}.<tensor>      one AI.TENSORSET key per tensor
 * Field values other than ".COMPLETE" are in SmartRedis's field encoding:
 * one type byte (7 = strings; 1..6 = double, float, int32, int64, uint32,
 * uint64) then, for strings, each value as an 8-byte little-endian length
 * and its bytes, for numbers the values' bytes (little-endian).
 * Every key carries the hash tag {NAME}, so in a Redis Cluster one dataset
 * lives on one shard. An aggregation list is a plain list of dataset keys
 * "{NAME}" (RPUSH).
 */
#ifndef SB_DATASET_H
#define SB_DATASET_H

#include "sb_db.h"

#include <stddef.h>
#include <stdint.h>

#define SB_DATASET_MAX_TENSORS 1024
#define SB_DATASET_KEY_MAX 320
#define SB_DATASET_MAX_DIMS 8

/* The keys of a dataset: "{name}", "{name}.meta" and "{name}.tensor".
 * Dataset names may not be empty or contain '{' or '}' (they would break
 * the hash tag); tensor names may not be empty. SB_ERR otherwise, also when
 * buf is too small. */
int sb_dataset_key(const char *name, char *buf, size_t len);
int sb_dataset_meta_key(const char *name, char *buf, size_t len);
int sb_dataset_tensor_key(const char *name, const char *tensor, char *buf, size_t len);

/* The dataset name in a list entry "{name}" (SmartRedis: between the first
 * '{' and the last '}'), into buf. SB_ERR naming the entry when it has no
 * braces or an empty name. */
int sb_dataset_name_from_key(const char *key, size_t keylen, char *buf, size_t len);

/* SmartRedis's string field: type byte 7, then per string an 8-byte
 * little-endian length and the bytes. *out is malloc'd (the caller frees). */
int sb_dataset_encode_strings(int n, const char *const *strs, char **out, size_t *outlen);

/* Decodes a string field into *strs (malloc'd array of n malloc'd
 * NUL-terminated strings; free with sb_list_names_free). SB_ERR for another
 * type or a truncated buffer. */
int sb_dataset_decode_strings(const char *buf, size_t len, char ***strs, size_t *n);

/* A field of any of SmartRedis's types as text, into *text (malloc'd):
 * strings as they are, numbers in decimal (%.17g / %.9g for double /
 * float), several values joined by ','. SB_ERR for an unknown type byte or
 * a malformed buffer. */
int sb_dataset_field_text(const char *buf, size_t len, char **text);

/* One tensor of a dataset. */
typedef struct {
  const char *name;  /* unique within the dataset */
  const char *dtype; /* "FLOAT", "UINT8", ... */
  int ndims;
  int64_t dims[SB_DATASET_MAX_DIMS];
  const void *data;  /* put: the bytes to send */
  void *buf;         /* get: where the bytes go */
  size_t bytes;
  int present;       /* get: 1 if the dataset holds this tensor (and it was read) */
} sb_dataset_tensor_t;

/* Metadata: n (field, value) string pairs, each stored as a SmartRedis
 * string field of one value. Field names starting with '.' are the
 * layout's own. */
typedef struct {
  const char *field, *value;
} sb_dataset_field_t;

/* Writes a dataset in two round trips: first DEL of the meta hash (a stale
 * one of an earlier put of this name) and the tensors, pipelined, each reply
 * checked; then, only when every tensor was accepted, the meta hash
 * (".tensor_names", the fields and ".COMPLETE") in one HSET, so that it
 * appears whole or not at all. A refused tensor (the module's
 * MAX_TENSOR_BYTES, the server's maxmemory) or a broken connection is
 * SB_ERR naming the refused command, and what was written is deleted (best
 * effort): a reader never sees ".COMPLETE" for a dataset whose tensors are
 * not all there. Not idempotent (never re-sent). */
int sb_dataset_put(sb_db_t *db, const char *name, int nfields, const sb_dataset_field_t *fields,
                   int ntensors, const sb_dataset_tensor_t *tensors);

/* *complete = 1 when the dataset's ".COMPLETE" field is set (SmartRedis's
 * dataset_exists). */
int sb_dataset_exists(sb_db_t *db, const char *name, int *complete);

/* Reads a dataset: HGETALL of its meta hash, then the tensors. *complete
 * is 0 (and nothing else is read) when the hash is absent or lacks
 * ".COMPLETE". Otherwise: each of the nfields requested fields as text
 * (sb_dataset_field_text) into values[i] (malloc'd, the caller frees; NULL
 * for an absent field), then each requested tensor that ".tensor_names"
 * lists, checked against the expected dtype and element count, into
 * tensors[i].buf with present = 1; a tensor the dataset does not list gets
 * present = 0. Absence is the caller's to judge. SB_ERR is a failed or
 * unexpected exchange, a malformed field, or a tensor the dataset lists
 * but the database lacks ("dataset N is incomplete: ..."). */
int sb_dataset_get(sb_db_t *db, const char *name, int nfields, const char *const *fields,
                   char **values, int ntensors, sb_dataset_tensor_t *tensors, int *complete);

/* RPUSH list "{name}" (SmartRedis's append_to_list: the dataset's key). */
int sb_list_append(sb_db_t *db, const char *list, const char *name);

/* LLEN list (0 when absent). */
int sb_list_length(sb_db_t *db, const char *list, int64_t *len);

/* Polls LLEN until `len cmp n` holds (cmp: "==", ">=", "<="), every
 * interval_ms, at most tries times. *met is 1 if it held, 0 if the tries
 * ran out (not an error: the caller words the timeout). */
int sb_list_poll_length(sb_db_t *db, const char *list, const char *cmp, int64_t n,
                        int64_t interval_ms, int64_t tries, int *met);

/* LRANGE list 0 -1: the dataset names of its entries "{name}" (braces
 * taken off; sb_dataset_name_from_key) in *names (malloc'd array of
 * malloc'd strings) and *n. An entry that is not a dataset key is SB_ERR
 * naming it. Free with sb_list_names_free. */
int sb_list_range(sb_db_t *db, const char *list, char ***names, size_t *n);
void sb_list_names_free(char **names, size_t n);

/* Deletes the list and, with with_datasets, every dataset it names (its
 * meta hash and the tensors its ".tensor_names" lists, one DEL per
 * dataset). A dataset whose meta hash lacks ".COMPLETE" or
 * ".tensor_names" is not touched: SB_ERR naming it, before anything is
 * deleted; an absent one is skipped. (SmartRedis's delete_list deletes the
 * list only.) */
int sb_list_delete(sb_db_t *db, const char *list, int with_datasets);

/* T connections to one database, to fetch the datasets of a list in
 * parallel (SmartRedis's get_datasets_from_list with threads). */
typedef struct sb_dataset_pool sb_dataset_pool_t;

/* Opens `threads` connections to db's address with db's configuration. */
int sb_dataset_pool_open(sb_db_t *db, int threads, sb_dataset_pool_t **pool);
void sb_dataset_pool_close(sb_dataset_pool_t *pool);

/* Called for dataset i of n, on one of the pool's threads with its own
 * connection; returns SB_OK or SB_ERR (with sb_error set). */
typedef int (*sb_dataset_fetch_fn)(sb_db_t *conn, const char *name, size_t i, void *arg);

/* Runs fetch for every name, names split over the pool's threads (thread
 * k takes i = k, k+T, ...). Returns SB_ERR with the first failure's message
 * if any fetch failed; every dataset is attempted regardless. */
int sb_dataset_pool_run(sb_dataset_pool_t *pool, char **names, size_t n,
                        sb_dataset_fetch_fn fetch, void *arg);

#endif
