/* cluster_client: drives the client's pipelines against a Redis Cluster for
 * pipeline.sh, step by step (the script moves slots between the steps):
 *
 *   cluster_client ADDRESSES
 *
 * Reads one word per line from stdin and answers one line on stdout:
 *   put TAG     a pipeline of SETs over 40 keys in many slots plus 8 keys
 *               hash-tagged {mv}, value "TAG:<key>"; then every key read
 *               back (GET) and compared          -> "ok put TAG redirects=N"
 *   err         a pipeline whose commands 3 and 6 are refused (WRONGTYPE):
 *               SB_ERR naming command 3, the others applied -> "ok err"
 *   del         DEL {mv}.k0 {mv}.k5 (one slot, two keys; TRYAGAIN while the
 *               slot's keys are half migrated)  -> "ok del n=N redirects=N"
 *   shards                                       -> "ok shards=N"
 * Anything that fails: "fail <why>" (and exit 1 at the end). */
#include "sb_db.h"
#include "sb_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPLAIN 40
#define NTAG 8
#define NKEYS (NPLAIN + NTAG)

static void key_name(int i, char *buf, size_t len)
{
  if (i < NPLAIN)
    snprintf(buf, len, "pk:%d", i);
  else
    snprintf(buf, len, "{mv}.k%d", i - NPLAIN);
}

static int do_put(sb_db_t *db, const char *tag)
{
  static char keys[NKEYS][32], vals[NKEYS][128];
  static const char *argv[NKEYS][3];
  static size_t argvlen[NKEYS][3];
  sb_db_cmd_t cmds[NKEYS];
  for (int i = 0; i < NKEYS; i++) {
    key_name(i, keys[i], sizeof keys[i]);
    snprintf(vals[i], sizeof vals[i], "%s:%s", tag, keys[i]);
    argv[i][0] = "SET", argvlen[i][0] = 3;
    argv[i][1] = keys[i], argvlen[i][1] = strlen(keys[i]);
    argv[i][2] = vals[i], argvlen[i][2] = strlen(vals[i]);
    cmds[i] = (sb_db_cmd_t){3, argv[i], argvlen[i]};
  }
  if (sb_db_pipeline(db, NKEYS, cmds) != SB_OK) {
    printf("fail put %s: %s\n", tag, sb_error_msg());
    return 1;
  }
  for (int i = 0; i < NKEYS; i++) {
    char buf[160];
    size_t n = 0;
    if (sb_db_get(db, keys[i], buf, sizeof buf, &n) != SB_OK) {
      printf("fail get %s: %s\n", keys[i], sb_error_msg());
      return 1;
    }
    if (n != strlen(vals[i]) || memcmp(buf, vals[i], n) != 0) {
      printf("fail %s holds '%.*s', expected '%s'\n", keys[i], (int)n, buf, vals[i]);
      return 1;
    }
  }
  printf("ok put %s redirects=%llu\n", tag, (unsigned long long)sb_db_redirects(db));
  return 0;
}

static int do_err(sb_db_t *db)
{
  /* pk:0..pk:5 are strings (put first): HSET on pk:2 and pk:5 is refused. */
  const char *a[6][4] = {{"SET", "ek:0", "x"},         {"SET", "ek:1", "y"},
                         {"HSET", "pk:2", "f", "v"},   {"SET", "{mv}.e", "z"},
                         {"SET", "ek:4", "w"},         {"HSET", "pk:5", "f", "v"}};
  size_t l[6][4];
  sb_db_cmd_t cmds[6];
  for (int i = 0; i < 6; i++) {
    int argc = strcmp(a[i][0], "HSET") == 0 ? 4 : 3;
    for (int k = 0; k < argc; k++)
      l[i][k] = strlen(a[i][k]);
    cmds[i] = (sb_db_cmd_t){argc, a[i], l[i]};
  }
  if (sb_db_pipeline(db, 6, cmds) == SB_OK) {
    printf("fail err: the pipeline succeeded\n");
    return 1;
  }
  const char *m = sb_error_msg();
  if (!strstr(m, "command 3 of a pipeline of 6") || !strstr(m, "WRONGTYPE")) {
    printf("fail err: message '%s'\n", m);
    return 1;
  }
  /* The commands that were not refused were applied, on their shards. */
  const char *want[4][2] = {{"ek:0", "x"}, {"ek:1", "y"}, {"{mv}.e", "z"}, {"ek:4", "w"}};
  for (int i = 0; i < 4; i++) {
    char buf[16];
    size_t n = 0;
    if (sb_db_get(db, want[i][0], buf, sizeof buf, &n) != SB_OK || n != 1 ||
        buf[0] != want[i][1][0]) {
      printf("fail err: %s not applied\n", want[i][0]);
      return 1;
    }
  }
  printf("ok err\n");
  return 0;
}

int main(int argc, char **argv)
{
  sb_db_config_t cfg;
  sb_db_t *db = NULL;
  char line[256];
  int failed = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: cluster_client ADDRESSES\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (sb_db_config_from_env(&cfg) != SB_OK || sb_db_open(argv[1], &cfg, &db) != SB_OK) {
    printf("fail open: %s\n", sb_error_msg());
    return 1;
  }
  while (fgets(line, sizeof line, stdin)) {
    char word[32] = "", arg[64] = "";
    if (sscanf(line, "%31s %63s", word, arg) < 1)
      continue;
    if (strcmp(word, "put") == 0)
      failed |= do_put(db, arg[0] ? arg : "v");
    else if (strcmp(word, "err") == 0)
      failed |= do_err(db);
    else if (strcmp(word, "del") == 0) {
      const char *a[3] = {"DEL", "{mv}.k0", "{mv}.k5"};
      size_t l[3] = {3, 7, 7};
      sb_db_reply_t *r = NULL;
      if (sb_db_command(db, 1, 3, a, l, &r) != SB_OK) {
        printf("fail del: %s\n", sb_error_msg());
        failed = 1;
      } else {
        printf("ok del n=%lld redirects=%llu\n", sb_db_reply_int(r),
               (unsigned long long)sb_db_redirects(db));
        sb_db_reply_free(r);
      }
    } else if (strcmp(word, "shards") == 0)
      printf("ok shards=%d\n", sb_db_cluster_shards(db));
    else
      printf("fail unknown step '%s'\n", word), failed = 1;
  }
  sb_db_close(db);
  return failed;
}
