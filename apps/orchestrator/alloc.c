/* Copies on the Redis allocator (alloc.h). */
#include "alloc.h"

#include "redismodule_api.h"

#include <string.h>

char *sbai_dup(const char *src, size_t len)
{
  char *p = RedisModule_Alloc(len + 1);
  if (len)
    memcpy(p, src, len);
  p[len] = '\0';
  return p;
}
