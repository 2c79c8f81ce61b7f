/* Models and scripts through the sbai module; see sb_db_ai.h. */
#include "sb_db_ai.h"

#include "sb_error.h"
#include "sb_timer.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define AI_MAX_ARGS 32

typedef struct {
  int argc;
  const char *argv[AI_MAX_ARGS];
  size_t argvlen[AI_MAX_ARGS];
  char num[8][24];
  int nnum;
} args_t;

static int add(args_t *a, const void *s, size_t len)
{
  if (a->argc == AI_MAX_ARGS)
    return sb_error("command has more than %d arguments", AI_MAX_ARGS);
  a->argv[a->argc] = s;
  a->argvlen[a->argc++] = len;
  return SB_OK;
}

static int add_str(args_t *a, const char *s) { return add(a, s, strlen(s)); }

static int add_int(args_t *a, long long v)
{
  if (a->nnum == 8)
    return sb_error("too many numeric arguments");
  snprintf(a->num[a->nnum], sizeof a->num[0], "%lld", v);
  return add_str(a, a->num[a->nnum++]);
}

/* Sends a built command whose reply must be +OK. */
static int expect_ok(sb_db_t *db, int idempotent, args_t *a)
{
  sb_db_reply_t *r = NULL;
  size_t len = 0;
  const char *s;
  if (sb_db_command(db, idempotent, a->argc, a->argv, a->argvlen, &r) != SB_OK)
    return SB_ERR;
  s = sb_db_reply_str(r, &len);
  if (!s || len != 2 || memcmp(s, "OK", 2) != 0) {
    sb_error("%s: %s: unexpected reply '%.*s'", sb_db_address(db), a->argv[0],
             (int)(s ? (len > 60 ? 60 : len) : 6), s ? s : "(none)");
    sb_db_reply_free(r);
    return SB_ERR;
  }
  sb_db_reply_free(r);
  return SB_OK;
}

int sb_ai_require_module(sb_db_t *db, const char *what)
{
  long long ver = -1;
  if (sb_db_module_version(db, "sbai", &ver) != SB_OK)
    return sb_error_prefix("asking %s for its modules", sb_db_address(db));
  if (ver < 0)
    return sb_error("the database at %s has no sbai module loaded (%s)", sb_db_address(db), what);
  return SB_OK;
}

int sb_ai_model_store(sb_db_t *db, const char *key, const sb_ai_model_spec_t *spec,
                      const void *blob, size_t len)
{
  args_t a = {0};
  int rc = add_str(&a, "AI.MODELSTORE") | add_str(&a, key) | add_str(&a, spec->backend) |
           add_str(&a, spec->device);
  if (spec->tag)
    rc |= add_str(&a, "TAG") | add_str(&a, spec->tag);
  if (spec->batch_size > 0) {
    rc |= add_str(&a, "BATCHSIZE") | add_int(&a, spec->batch_size);
    if (spec->min_batch_size > 0) {
      rc |= add_str(&a, "MINBATCHSIZE") | add_int(&a, spec->min_batch_size);
      if (spec->min_batch_timeout_ms > 0)
        rc |= add_str(&a, "MINBATCHTIMEOUT") | add_int(&a, spec->min_batch_timeout_ms);
    }
  }
  rc |= add_str(&a, "BLOB") | add(&a, blob, len);
  if (rc != SB_OK)
    return SB_ERR;
  /* Storing the same blob twice is harmless: safe to re-send. */
  return expect_ok(db, 1, &a);
}

int sb_ai_model_tag(sb_db_t *db, const char *key, char *buf, size_t len, int *found)
{
  const char *argv[3] = {"AI.MODELGET", key, "META"};
  size_t argvlen[3] = {11, strlen(key), 4};
  sb_db_reply_t *r = NULL;
  int exists = 0;
  *found = 0;
  if (sb_ai_exists(db, key, &exists) != SB_OK)
    return SB_ERR;
  if (!exists)
    return SB_OK;
  if (sb_db_command(db, 1, 3, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  buf[0] = '\0';
  for (size_t i = 0; i + 1 < sb_db_reply_len(r); i += 2) {
    size_t n = 0;
    const char *name = sb_db_reply_str(sb_db_reply_at(r, i), &n);
    if (name && n == 3 && strncasecmp(name, "tag", 3) == 0) {
      const char *v = sb_db_reply_str(sb_db_reply_at(r, i + 1), &n);
      snprintf(buf, len, "%.*s", (int)(v ? n : 0), v ? v : "");
      *found = 1;
    }
  }
  sb_db_reply_free(r);
  if (!*found)
    return sb_error("%s: AI.MODELGET %s META: no tag in the reply", sb_db_address(db), key);
  return SB_OK;
}

static uint64_t fnv1a64(const void *blob, size_t len)
{
  const unsigned char *p = blob;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

void sb_ai_blob_tag(const char *arch, const void *blob, size_t len, char *buf, size_t buflen)
{
  snprintf(buf, buflen, "%s:fnv1a64:%016llx", arch, (unsigned long long)fnv1a64(blob, len));
}

void sb_ai_backend_blob_tag(const char *backend, const char *arch, const void *blob, size_t len,
                            char *buf, size_t buflen)
{
  char lower[32];
  size_t i = 0;
  for (; backend[i] && i + 1 < sizeof lower; i++)
    lower[i] = (char)tolower((unsigned char)backend[i]);
  lower[i] = '\0';
  snprintf(buf, buflen, "%s:%s:fnv1a64:%016llx", arch, lower,
           (unsigned long long)fnv1a64(blob, len));
}

int sb_ai_model_ensure(sb_db_t *db, const char *key, const sb_ai_model_spec_t *spec,
                       const void *blob, size_t len, int force, int *stored)
{
  char have[128] = "";
  int found = 0;
  if (stored)
    *stored = 0;
  if (!force && spec->tag && sb_ai_model_tag(db, key, have, sizeof have, &found) != SB_OK)
    return SB_ERR;
  if (!force && spec->tag && found && strcmp(have, spec->tag) == 0)
    return SB_OK;
  if (sb_ai_model_store(db, key, spec, blob, len) != SB_OK)
    return SB_ERR;
  if (stored)
    *stored = 1;
  return SB_OK;
}

int sb_ai_script_ensure(sb_db_t *db, const char *key, const char *device, const char *source,
                        int force)
{
  int exists = 0;
  if (!force && sb_ai_exists(db, key, &exists) != SB_OK)
    return SB_ERR;
  return exists ? SB_OK : sb_ai_script_store(db, key, device, source);
}

int sb_ai_wait_ready(sb_db_t *db, const char *model_key, const char *tag,
                     const char *script_key, double timeout_s)
{
  double deadline = sb_now() + timeout_s;
  for (;;) {
    char have[128] = "";
    int found = 0, script = 0;
    if (sb_ai_model_tag(db, model_key, have, sizeof have, &found) != SB_OK ||
        sb_ai_exists(db, script_key, &script) != SB_OK)
      return SB_ERR;
    if (found && strcmp(have, tag) == 0 && script)
      return SB_OK;
    if (sb_now() > deadline)
      return sb_error("%s: model %s (tag %s) and script %s not in the database after %.0f s",
                      sb_db_address(db), model_key, tag, script_key, timeout_s);
    usleep(100000);
  }
}

int sb_ai_config_get_int(sb_db_t *db, const char *name, long long *value)
{
  const char *argv[3] = {"AI.CONFIG", "GET", name};
  size_t argvlen[3] = {9, 3, strlen(name)};
  sb_db_reply_t *r = NULL;
  int rc = SB_OK;
  if (sb_db_command(db, 1, 3, argv, argvlen, &r) != SB_OK)
    return SB_ERR;
  if (sb_db_reply_kind(r) == ':')
    *value = sb_db_reply_int(r);
  else
    rc = sb_error("%s: AI.CONFIG GET %s: not an integer", sb_db_address(db), name);
  sb_db_reply_free(r);
  return rc;
}

int sb_ai_script_store(sb_db_t *db, const char *key, const char *device, const char *source)
{
  args_t a = {0};
  if ((add_str(&a, "AI.SCRIPTSET") | add_str(&a, key) | add_str(&a, device) |
       add_str(&a, "SOURCE") | add_str(&a, source)) != SB_OK)
    return SB_ERR;
  return expect_ok(db, 1, &a);
}

int sb_ai_exists(sb_db_t *db, const char *key, int *found)
{
  long long n;
  if (sb_db_key_int(db, "EXISTS", key, &n) != SB_OK)
    return SB_ERR;
  *found = n > 0;
  return SB_OK;
}

static int add_list(args_t *a, const char *word, int n, const char *const *keys)
{
  int rc = add_str(a, word) | add_int(a, n);
  for (int i = 0; i < n; i++)
    rc |= add_str(a, keys[i]);
  return rc;
}

int sb_ai_model_execute(sb_db_t *db, const char *key, int n_in, const char *const *inputs,
                        int n_out, const char *const *outputs)
{
  args_t a = {0};
  if ((add_str(&a, "AI.MODELEXECUTE") | add_str(&a, key) | add_list(&a, "INPUTS", n_in, inputs) |
       add_list(&a, "OUTPUTS", n_out, outputs)) != SB_OK)
    return SB_ERR;
  return expect_ok(db, 0, &a);
}

int sb_ai_script_execute(sb_db_t *db, const char *key, const char *fn, int n_in,
                         const char *const *inputs, int n_out, const char *const *outputs)
{
  args_t a = {0};
  if ((add_str(&a, "AI.SCRIPTEXECUTE") | add_str(&a, key) | add_str(&a, fn) |
       add_list(&a, "INPUTS", n_in, inputs) | add_list(&a, "OUTPUTS", n_out, outputs)) != SB_OK)
    return SB_ERR;
  return expect_ok(db, 0, &a);
}
