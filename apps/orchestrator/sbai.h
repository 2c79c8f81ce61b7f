/* The sbai module's top (sbai.c): its name and version, and the
 * registration hook every part provides.
 *
 * A part (tensors, models, scripts, AI.INFO, AI.CONFIG) lives in its own
 * <part>_cmd.c, exports one sbai_<part>_register() (declared in
 * <part>_cmd.h) that creates its data type and commands during
 * RedisModule_OnLoad, and is listed once in the `parts` table of sbai.c.
 *
 * The files below the parts, which they share (none calls a part): the
 * model and script values and their runs (model*.h, script*.h), value.h and
 * tensor_value.h (values under keys), run.h, run_queue.h and run_worker.h
 * (run requests and the device queues), gpu.h (the GPUs), the utilities
 * args.h, reply.h, command.h, alloc.h, clock.h and module_options.h, and the
 * plain-C rules of sbai_core (tensor.h, options.h, builtins.h,
 * script_source.h, errtext.h, device.h).
 */
#ifndef SBAI_H
#define SBAI_H

#include "redismodule_api.h"

#define SBAI_MODULE_NAME "sbai"
#define SBAI_MODULE_VERSION 1

/* Registers a part's data types and commands. Returns REDISMODULE_OK, or
 * REDISMODULE_ERR after logging what failed (the module then refuses to
 * load). */
typedef int (*sbai_register_fn)(RedisModuleCtx *ctx);

#endif
