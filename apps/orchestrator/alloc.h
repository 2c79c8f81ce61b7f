/* Copies in memory of the Redis allocator (RedisModule_Alloc), for what the
 * module's values keep: tags, names, sources.
 *
 * Calls nothing of the module.
 */
#ifndef SBAI_ALLOC_H
#define SBAI_ALLOC_H

#include <stddef.h>

/* A NUL-terminated copy of len bytes of src, from RedisModule_Alloc. */
char *sbai_dup(const char *src, size_t len);

#endif
