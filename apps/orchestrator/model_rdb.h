/* Persistence of models, and the SB_MODEL_ data type that holds them: its
 * RDB save and load and its AOF rewrite (as AI.MODELSTORE commands).
 *
 * A model is saved as what it was stored from (options and the blob) and
 * loaded by making it again from them (sbai_model_create), so the loader
 * checks a blob read back exactly as AI.MODELSTORE does; anything
 * inconsistent fails the load.
 */
#ifndef SBAI_MODEL_RDB_H
#define SBAI_MODEL_RDB_H

#include "command.h"

/* The SB_MODEL_ data type, for sbai_create_type: its name, RDB encoding
 * version and callbacks (persistence from this file; the value's free,
 * MEMORY USAGE and DEBUG DIGEST from model.h and refcount.h). */
extern const sbai_type_def_t sbai_model_type_def;

#endif
