/* The producer's failure notice for the consumer; see sb_agg_abort.h. */
#include "sb_agg_abort.h"

#include "sb_error.h"
#include "sb_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_agg_server_time(sb_db_t *db, double *t)
{
  const char *argv[1] = {"TIME"};
  size_t argvlen[1] = {4};
  sb_db_reply_t *r = NULL;
  const char *sec, *usec;
  if (sb_db_command_key(db, -1, 1, 1, argv, argvlen, &r) != SB_OK)
    return sb_error_prefix("TIME");
  if (sb_db_reply_kind(r) != 'a' || sb_db_reply_len(r) != 2 ||
      !(sec = sb_db_reply_str(sb_db_reply_at(r, 0), NULL)) ||
      !(usec = sb_db_reply_str(sb_db_reply_at(r, 1), NULL))) {
    sb_db_reply_free(r);
    return sb_error("TIME: unexpected reply");
  }
  *t = strtod(sec, NULL) + strtod(usec, NULL) / 1e6;
  sb_db_reply_free(r);
  return SB_OK;
}

int sb_agg_abort_clear(sb_db_t *db)
{
  if (sb_db_del(db, SB_AGG_ABORT_KEY) != SB_OK)
    return sb_error_prefix("DEL %s", SB_AGG_ABORT_KEY);
  return SB_OK;
}

int sb_agg_abort_publish(sb_db_t *db, int rank, int64_t seq, const char *message)
{
  char field[24], *value;
  double now;
  size_t cap = strlen(message ? message : "") + 64;
  int rc;
  if (sb_agg_server_time(db, &now) != SB_OK)
    return sb_error_prefix("publishing the failure in %s", SB_AGG_ABORT_KEY);
  if (!(value = malloc(cap)))
    return sb_error("out of memory");
  snprintf(field, sizeof field, "%d", rank);
  snprintf(value, cap, "%.6f %" PRId64 " %s", now, seq,
           message && *message ? message : "(no message)");
  const char *argv[4] = {"HSET", SB_AGG_ABORT_KEY, field, value};
  size_t argvlen[4] = {4, strlen(SB_AGG_ABORT_KEY), strlen(field), strlen(value)};
  rc = sb_db_command(db, 1, 4, argv, argvlen, NULL);
  free(value);
  if (rc != SB_OK)
    return sb_error_prefix("publishing the failure in %s", SB_AGG_ABORT_KEY);
  return SB_OK;
}

int sb_agg_abort_check(sb_db_t *db, double since, int log_all, int *found, char *msg,
                       size_t len)
{
  const char *argv[2] = {"HGETALL", SB_AGG_ABORT_KEY};
  size_t argvlen[2] = {7, strlen(SB_AGG_ABORT_KEY)};
  sb_db_reply_t *r = NULL;
  double first_t = 0;
  *found = 0;
  if (len)
    msg[0] = '\0';
  if (sb_db_command(db, 1, 2, argv, argvlen, &r) != SB_OK)
    return sb_error_prefix("HGETALL %s", SB_AGG_ABORT_KEY);
  if (sb_db_reply_kind(r) != 'a' || sb_db_reply_len(r) % 2) {
    sb_db_reply_free(r);
    return sb_error("HGETALL %s: unexpected reply", SB_AGG_ABORT_KEY);
  }
  for (size_t k = 0; k + 1 < sb_db_reply_len(r); k += 2) {
    size_t flen = 0, vlen = 0;
    const char *f = sb_db_reply_str(sb_db_reply_at(r, k), &flen);
    const char *v = sb_db_reply_str(sb_db_reply_at(r, k + 1), &vlen);
    char *vcopy, *end = NULL, *rest;
    double t;
    long long seq;
    if (!f || !v)
      continue;
    if (!(vcopy = malloc(vlen + 1))) {
      sb_db_reply_free(r);
      return sb_error("out of memory");
    }
    memcpy(vcopy, v, vlen);
    vcopy[vlen] = '\0';
    t = strtod(vcopy, &end);
    if (end == vcopy || t < since) { /* malformed, or an earlier run's */
      free(vcopy);
      continue;
    }
    seq = strtoll(end, &rest, 10);
    if (rest == end)
      seq = -1;
    while (*rest == ' ')
      rest++;
    if (log_all)
      sb_log(SB_LOG_WARN, "%s: producer rank %.*s, iteration %lld: %s", SB_AGG_ABORT_KEY,
             (int)flen, f, seq, rest);
    if (!*found || t < first_t) {
      first_t = t;
      if (seq >= 0)
        snprintf(msg, len, "producer rank %.*s failed in iteration %lld: %s", (int)flen, f, seq,
                 rest);
      else
        snprintf(msg, len, "producer rank %.*s failed before its first iteration: %s", (int)flen,
                 f, rest);
    }
    (*found)++;
    free(vcopy);
  }
  sb_db_reply_free(r);
  return SB_OK;
}
