/* Persistence of scripts, and the SB_SCRIPT data type that holds them: its
 * RDB save and load and its AOF rewrite (as AI.SCRIPTSTORE or AI.SCRIPTSET
 * commands). A script loaded back is made again from its parts
 * (sbai_script_create), which finds its runnable functions anew.
 */
#ifndef SBAI_SCRIPT_RDB_H
#define SBAI_SCRIPT_RDB_H

#include "command.h"

/* The SB_SCRIPT data type, for sbai_create_type: its name, RDB encoding
 * version and callbacks (persistence from this file; the value's free,
 * MEMORY USAGE and DEBUG DIGEST from script.h and refcount.h). */
extern const sbai_type_def_t sbai_script_type_def;

#endif
