/* Datasets and aggregation lists (SmartRedis's concepts, our key layout;
 * docs/aggregation.md).
 *
 * A dataset NAME is a group of tensors plus string metadata:
 *   {NAME}.meta          hash: ".tensors" = "t0,t1,..", the caller's fields,
 *                        and ".complete" = "1", written after every tensor
 *   {NAME}.<tensor>      one AI.TENSORSET key per tensor
 * Every key carries the hash tag {NAME}, so in a Redis Cluster one dataset
 * lives on one shard. An aggregation list is a plain list of dataset names
 * (RPUSH).
 */
#ifndef SB_DATASET_H
#define SB_DATASET_H

#include "sb_db.h"

#include <stddef.h>
#include <stdint.h>

#define SB_DATASET_MAX_TENSORS 1024
#define SB_DATASET_KEY_MAX 320
#define SB_DATASET_MAX_DIMS 8

/* The keys of a dataset: "{name}.meta" and "{name}.tensor". Names may not
 * contain '{', '}' or ',' (SB_ERR otherwise, also when buf is too small). */
int sb_dataset_meta_key(const char *name, char *buf, size_t len);
int sb_dataset_tensor_key(const char *name, const char *tensor, char *buf, size_t len);

/* One tensor of a dataset. */
typedef struct {
  const char *name;  /* unique within the dataset; no ',' */
  const char *dtype; /* "FLOAT", "UINT8", ... */
  int ndims;
  int64_t dims[SB_DATASET_MAX_DIMS];
  const void *data;  /* put: the bytes to send */
  void *buf;         /* get: where the bytes go */
  size_t bytes;
  int present;       /* get: 1 if the dataset holds this tensor (and it was read) */
} sb_dataset_tensor_t;

/* Metadata: n (field, value) string pairs. Field names starting with '.'
 * are the layout's own. */
typedef struct {
  const char *field, *value;
} sb_dataset_field_t;

/* Writes a dataset in two round trips: first DEL of the meta hash (a stale
 * one of an earlier put of this name) and the tensors, pipelined, each reply
 * checked; then, only when every tensor was accepted, the meta hash
 * (".tensors", the fields and ".complete") in one HSET, so that it appears
 * whole or not at all. A refused tensor (the module's MAX_TENSOR_BYTES, the
 * server's maxmemory) or a broken connection is SB_ERR naming the refused
 * command, and what was written is deleted (best effort): a reader never
 * sees ".complete" for a dataset whose tensors are not all there. Not
 * idempotent (never re-sent). */
int sb_dataset_put(sb_db_t *db, const char *name, int nfields, const sb_dataset_field_t *fields,
                   int ntensors, const sb_dataset_tensor_t *tensors);

/* *complete = 1 when the dataset's ".complete" field is set. */
int sb_dataset_exists(sb_db_t *db, const char *name, int *complete);

/* Reads a dataset. *complete is 0 (and nothing else is read) when the meta
 * hash lacks ".complete". Otherwise: the value of each of the nfields
 * requested fields into values[i] (malloc'd, the caller frees; NULL for an
 * absent field), then each tensor the dataset holds, checked against the
 * expected dtype and dims, into tensors[i].buf with present = 1; a tensor
 * the dataset does not list gets present = 0. Absence is the caller's to
 * judge; SB_ERR is a failed or unexpected exchange. */
int sb_dataset_get(sb_db_t *db, const char *name, int nfields, const char *const *fields,
                   char **values, int ntensors, sb_dataset_tensor_t *tensors, int *complete);

/* RPUSH list name. */
int sb_list_append(sb_db_t *db, const char *list, const char *name);

/* LLEN list (0 when absent). */
int sb_list_length(sb_db_t *db, const char *list, int64_t *len);

/* Polls LLEN until `len cmp n` holds (cmp: "==", ">=", "<="), every
 * interval_ms, at most tries times. *met is 1 if it held, 0 if the tries
 * ran out (not an error: the caller words the timeout). */
int sb_list_poll_length(sb_db_t *db, const char *list, const char *cmp, int64_t n,
                        int64_t interval_ms, int64_t tries, int *met);

/* LRANGE list 0 -1: *names (malloc'd array of malloc'd strings) and *n.
 * Free with sb_list_names_free. */
int sb_list_range(sb_db_t *db, const char *list, char ***names, size_t *n);
void sb_list_names_free(char **names, size_t n);

/* Deletes the list and, with with_datasets, every dataset it names (all of
 * their keys, pipelined). */
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
