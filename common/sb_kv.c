#include "sb_kv.h"

#include "sb_error.h"
#include "sb_grow.h"

#include <stdlib.h>
#include <string.h>

void sb_kv_free(sb_kv_t *kv)
{
  for (size_t k = 0; k < kv->n; k++) {
    free(kv->items[k].name);
    free(kv->items[k].s);
  }
  free(kv->items);
  kv->items = NULL;
  kv->n = kv->cap = 0;
}

static sb_kv_item_t *slot(sb_kv_t *kv, const char *name)
{
  for (size_t k = 0; k < kv->n; k++) {
    if (strcmp(kv->items[k].name, name) == 0) {
      free(kv->items[k].s);
      kv->items[k].s = NULL;
      return &kv->items[k];
    }
  }
  sb_kv_item_t *items = sb_grow(kv->items, &kv->cap, kv->n + 1, sizeof *items, 16);
  if (!items)
    return NULL;
  kv->items = items;
  sb_kv_item_t *it = &kv->items[kv->n];
  memset(it, 0, sizeof *it);
  it->name = strdup(name);
  if (!it->name)
    return NULL;
  kv->n++;
  return it;
}

int sb_kv_set_str(sb_kv_t *kv, const char *name, const char *value)
{
  sb_kv_item_t *it = slot(kv, name);
  if (!it || !(it->s = strdup(value ? value : "")))
    return sb_error("out of memory recording %s", name);
  it->type = SB_KV_STR;
  return SB_OK;
}

/* The slot of name, typed for a number; NULL when out of memory (error set). */
static sb_kv_item_t *number_slot(sb_kv_t *kv, const char *name, sb_kv_type_t type)
{
  sb_kv_item_t *it = slot(kv, name);
  if (!it) {
    sb_error("out of memory recording %s", name);
    return NULL;
  }
  it->type = type;
  return it;
}

int sb_kv_set_int(sb_kv_t *kv, const char *name, int64_t value)
{
  sb_kv_item_t *it = number_slot(kv, name, SB_KV_INT);
  if (it)
    it->i = value;
  return it ? SB_OK : SB_ERR;
}

int sb_kv_set_real(sb_kv_t *kv, const char *name, double value)
{
  sb_kv_item_t *it = number_slot(kv, name, SB_KV_REAL);
  if (it)
    it->d = value;
  return it ? SB_OK : SB_ERR;
}

const sb_kv_item_t *sb_kv_get(const sb_kv_t *kv, const char *name)
{
  for (size_t k = 0; k < kv->n; k++)
    if (strcmp(kv->items[k].name, name) == 0)
      return &kv->items[k];
  return NULL;
}

/* Wire form: per item: type byte, name\0, then value: str\0 | 8 bytes. */
int sb_kv_pack(const sb_kv_t *kv, char **buf, size_t *len)
{
  size_t total = 0;
  for (size_t k = 0; k < kv->n; k++) {
    total += 1 + strlen(kv->items[k].name) + 1;
    total += kv->items[k].type == SB_KV_STR ? strlen(kv->items[k].s) + 1 : 8;
  }
  char *p = malloc(total ? total : 1);
  if (!p)
    return sb_error("out of memory packing %zu bytes", total);
  *buf = p;
  *len = total;
  for (size_t k = 0; k < kv->n; k++) {
    const sb_kv_item_t *it = &kv->items[k];
    size_t nl = strlen(it->name) + 1;
    *p++ = (char)it->type;
    memcpy(p, it->name, nl);
    p += nl;
    if (it->type == SB_KV_STR) {
      size_t sl = strlen(it->s) + 1;
      memcpy(p, it->s, sl);
      p += sl;
    } else if (it->type == SB_KV_INT) {
      memcpy(p, &it->i, 8);
      p += 8;
    } else {
      memcpy(p, &it->d, 8);
      p += 8;
    }
  }
  return SB_OK;
}

int sb_kv_unpack(sb_kv_t *kv, const char *buf, size_t len)
{
  const char *p = buf, *end = buf + len;
  while (p < end) {
    int type = *p++;
    const char *name = p;
    const char *nul = memchr(p, '\0', (size_t)(end - p));
    if (!nul)
      return sb_error("corrupt key/value buffer");
    p = nul + 1;
    if (type == SB_KV_STR) {
      const char *v = p;
      nul = memchr(p, '\0', (size_t)(end - p));
      if (!nul)
        return sb_error("corrupt key/value buffer");
      p = nul + 1;
      if (sb_kv_set_str(kv, name, v) != SB_OK)
        return SB_ERR;
    } else {
      if (end - p < 8)
        return sb_error("corrupt key/value buffer");
      if (type == SB_KV_INT) {
        int64_t i;
        memcpy(&i, p, 8);
        if (sb_kv_set_int(kv, name, i) != SB_OK)
          return SB_ERR;
      } else {
        double d;
        memcpy(&d, p, 8);
        if (sb_kv_set_real(kv, name, d) != SB_OK)
          return SB_ERR;
      }
      p += 8;
    }
  }
  return SB_OK;
}
