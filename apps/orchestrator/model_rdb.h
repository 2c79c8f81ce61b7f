/* Persistence of models: the SB_MODEL_ data type's RDB save and load and
 * its AOF rewrite (as AI.MODELSTORE commands).
 *
 * A model is saved as what it was stored from (options and the blob) and
 * loaded by making it again from them (sbai_model_create), so the loader
 * checks a blob read back exactly as AI.MODELSTORE does.
 */
#ifndef SBAI_MODEL_RDB_H
#define SBAI_MODEL_RDB_H

#include "redismodule_api.h"

/* RDB layout version 1: backend, device, tag (strings); batchsize,
 * minbatchsize, minbatchtimeout; ninputs + names, noutputs + names; the blob
 * as a chunk count and the chunks. */
#define SBAI_MODEL_ENCVER 1

/* The data type's rdb_save callback. */
void sbai_model_rdb_save(RedisModuleIO *io, void *value);

/* Loads what sbai_model_rdb_save wrote and re-runs the model loader on the
 * blob. The blob is checked as on AI.MODELSTORE; anything inconsistent fails
 * the load. */
void *sbai_model_rdb_load(RedisModuleIO *io, int encver);

/* AOF rewrite: AI.MODELSTORE key SBRESNET CPU TAG t BATCHSIZE b MINBATCHSIZE m
 * MINBATCHTIMEOUT ms [INPUTS 1 name] [OUTPUTS 1 name] BLOB chunk.. */
void sbai_model_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value);

#endif
