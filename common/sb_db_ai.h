/* Models and scripts through the sbai module (RedisAI's command set), for
 * the inference app: store once, then run by key.
 *
 * Runs write their outputs into keys on the server; they are not idempotent
 * as far as the client knows, so a broken connection during a run is an
 * error, never a re-send.
 */
#ifndef SB_DB_AI_H
#define SB_DB_AI_H

#include "sb_db.h"

#include <stddef.h>
#include <stdint.h>

/* SB_OK when the database has the sbai module loaded. Otherwise SB_ERR:
 * the server's own error when it could not even be asked (e.g. NOAUTH), or
 * "no sbai module" with `what` (why the caller needs it). */
int sb_ai_require_module(sb_db_t *db, const char *what);

/* How a model is stored: AI.MODELSTORE key backend device TAG tag
 * [BATCHSIZE b [MINBATCHSIZE m [MINBATCHTIMEOUT ms]]] BLOB blob. */
typedef struct sb_ai_model_spec {
  const char *backend;     /* "SBRESNET", "TORCH" */
  const char *device;      /* "CPU", "GPU:0", ... */
  const char *tag;         /* identifies the blob (e.g. "resnet50:fnv1a64:..."); may be NULL */
  int64_t batch_size;      /* 0: no dynamic batching */
  int64_t min_batch_size;  /* only with batch_size > 0 */
  int64_t min_batch_timeout_ms;
} sb_ai_model_spec_t;

/* AI.MODELSTORE. */
int sb_ai_model_store(sb_db_t *db, const char *key, const sb_ai_model_spec_t *spec,
                      const void *blob, size_t len);

/* The TAG of the model stored under key into buf: SB_OK with *found 1, or
 * SB_OK with *found 0 when the key does not exist. */
int sb_ai_model_tag(sb_db_t *db, const char *key, char *buf, size_t len, int *found);

/* "arch:fnv1a64:<16 hex digits>" into buf: a model's TAG that names its
 * blob (FNV-1a 64 of the bytes), so a client can tell whether the model a
 * database holds is the one it would store. */
void sb_ai_blob_tag(const char *arch, const void *blob, size_t len, char *buf, size_t buflen);

/* As sb_ai_blob_tag, with the backend the blob is stored for:
 * "arch:backend:fnv1a64:<16 hex digits>", the backend in lower case
 * ("resnet18:torch:fnv1a64:..", "resnet18:sbresnet:fnv1a64:.."), so that
 * the tags of models of different backends never match, whatever their
 * bytes. */
void sb_ai_backend_blob_tag(const char *backend, const char *arch, const void *blob, size_t len,
                            char *buf, size_t buflen);

/* Stores the model under key unless the key already holds a model with
 * spec->tag (force: store anyway). *stored (may be NULL) says which. */
int sb_ai_model_ensure(sb_db_t *db, const char *key, const sb_ai_model_spec_t *spec,
                       const void *blob, size_t len, int force, int *stored);

/* AI.SCRIPTSET key device SOURCE source (the older form every RedisAI
 * version accepts). */
int sb_ai_script_store(sb_db_t *db, const char *key, const char *device, const char *source);

/* Stores the script under key unless the key exists (force: anyway). */
int sb_ai_script_ensure(sb_db_t *db, const char *key, const char *device, const char *source,
                        int force);

/* Waits until key model_key holds a model tagged `tag` and script_key
 * exists, polling every 100 ms; SB_ERR naming both after timeout_s. */
int sb_ai_wait_ready(sb_db_t *db, const char *model_key, const char *tag,
                     const char *script_key, double timeout_s);

/* AI.CONFIG GET name: SB_OK with *value when the module answers an
 * integer; SB_ERR (the server's error, or "not an integer") otherwise. */
int sb_ai_config_get_int(sb_db_t *db, const char *name, long long *value);

/* EXISTS key: *found 1 or 0. */
int sb_ai_exists(sb_db_t *db, const char *key, int *found);

/* AI.MODELEXECUTE key INPUTS n in.. OUTPUTS n out.. */
int sb_ai_model_execute(sb_db_t *db, const char *key, int n_in, const char *const *inputs,
                        int n_out, const char *const *outputs);

/* AI.SCRIPTEXECUTE key fn INPUTS n in.. OUTPUTS n out.. */
int sb_ai_script_execute(sb_db_t *db, const char *key, const char *fn, int n_in,
                         const char *const *inputs, int n_out, const char *const *outputs);

#endif
