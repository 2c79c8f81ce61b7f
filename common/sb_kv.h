/* An ordered list of named, typed values: the resolved options that go to
 * /params and the provenance that goes to /system in the HDF5 file.
 * Names are unique; setting a name again replaces its value. */
#ifndef SB_KV_H
#define SB_KV_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SB_KV_STR, SB_KV_INT, SB_KV_REAL } sb_kv_type_t;

typedef struct {
  char *name;
  sb_kv_type_t type;
  char *s;
  int64_t i;
  double d;
} sb_kv_item_t;

typedef struct {
  sb_kv_item_t *items;
  size_t n, cap;
} sb_kv_t;

/* Empties the list (it may be reused afterwards). */
void sb_kv_free(sb_kv_t *kv);

/* Setters copy name and value. Return SB_OK, or SB_ERR when out of memory. */
int sb_kv_set_str(sb_kv_t *kv, const char *name, const char *value);
int sb_kv_set_int(sb_kv_t *kv, const char *name, int64_t value);
int sb_kv_set_real(sb_kv_t *kv, const char *name, double value);

/* The item of that name, or NULL. */
const sb_kv_item_t *sb_kv_get(const sb_kv_t *kv, const char *name);

/* Serialises the list into one malloc'd buffer (*len bytes) and back, so that
 * rank 0's values can be broadcast. Return SB_OK or SB_ERR. */
int sb_kv_pack(const sb_kv_t *kv, char **buf, size_t *len);
int sb_kv_unpack(sb_kv_t *kv, const char *buf, size_t len);

#endif
