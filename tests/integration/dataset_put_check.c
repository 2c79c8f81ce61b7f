/* dataset_put_check: sb_dataset_put against a real server, for
 * dataset_atomic.sh. Prints what it checks; exits 1 on the first failure
 * (every check is a REQUIRE, tests/lib/sb_check.h).
 *
 *   dataset_put_check ADDRESS limit   the server refuses tensors over 1 KiB
 *                                     (MAX_TENSOR_BYTES 1K): a complete put,
 *                                     then one of the same name whose second
 *                                     tensor is refused
 *   dataset_put_check ADDRESS oom     the server is near its maxmemory
 *                                     (noeviction): a put of 16 x 64 KiB
 */
#include "sb_check.h"
#include "sb_dataset.h"
#include "sb_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EXISTS key: 1 or 0. */
static long long exists(sb_db_t *db, const char *key)
{
  const char *argv[2] = {"EXISTS", key};
  size_t argvlen[2] = {6, strlen(key)};
  sb_db_reply_t *r = NULL;
  long long n;
  REQUIRE(sb_db_command(db, 1, 2, argv, argvlen, &r) == SB_OK, "EXISTS %s: %s", key,
          sb_error_msg());
  n = sb_db_reply_int(r);
  sb_db_reply_free(r);
  return n;
}

/* Nothing of dataset name is left: no meta, no tensor. */
static void nothing_left(sb_db_t *db, const char *name, int ntensors, sb_dataset_tensor_t *t)
{
  char key[SB_DATASET_KEY_MAX];
  int complete = 1;
  REQUIRE(sb_dataset_exists(db, name, &complete) == SB_OK, "exists: %s", sb_error_msg());
  REQUIRE(!complete, "dataset %s is marked complete after a refused put", name);
  REQUIRE(sb_dataset_meta_key(name, key, sizeof key) == SB_OK, "meta key");
  REQUIRE(exists(db, key) == 0, "%s exists after a refused put", key);
  for (int k = 0; k < ntensors; k++) {
    REQUIRE(sb_dataset_tensor_key(name, t[k].name, key, sizeof key) == SB_OK, "tensor key");
    REQUIRE(exists(db, key) == 0, "%s left behind after a refused put", key);
  }
  printf("nothing of dataset %s is left\n", name);
}

static void set_tensor(sb_dataset_tensor_t *t, const char *name, void *data, size_t bytes)
{
  memset(t, 0, sizeof *t);
  t->name = name;
  t->dtype = "UINT8";
  t->ndims = 1;
  t->dims[0] = (int64_t)bytes;
  t->data = data;
  t->bytes = bytes;
}

int main(int argc, char **argv)
{
  sb_db_config_t cfg;
  sb_db_t *db = NULL;
  sb_dataset_field_t fields[1] = {{"who", "dataset_put_check"}};
  if (argc != 3 || (strcmp(argv[2], "limit") && strcmp(argv[2], "oom"))) {
    fprintf(stderr, "usage: dataset_put_check ADDRESS limit|oom\n");
    return 2;
  }
  REQUIRE(sb_db_config_from_env(&cfg) == SB_OK, "config: %s", sb_error_msg());
  REQUIRE(sb_db_open(argv[1], &cfg, &db) == SB_OK, "open: %s", sb_error_msg());
  if (strcmp(argv[2], "limit") == 0) {
    static unsigned char small[256], big[4096];
    sb_dataset_tensor_t t[3];
    int complete = 0;
    memset(small, 7, sizeof small);
    memset(big, 9, sizeof big);
    set_tensor(&t[0], "t0", small, sizeof small);
    set_tensor(&t[1], "t1", small, sizeof small);
    REQUIRE(sb_dataset_put(db, "ds", 1, fields, 2, t) == SB_OK, "first put: %s", sb_error_msg());
    REQUIRE(sb_dataset_exists(db, "ds", &complete) == SB_OK && complete, "first put not complete");
    printf("a put within the limit is complete\n");
    /* The same name again: t0 fits, t1 is over the limit, t2 fits. The
     * earlier put's .COMPLETE must not vouch for it. */
    set_tensor(&t[1], "t1", big, sizeof big);
    set_tensor(&t[2], "t2", small, sizeof small);
    REQUIRE(sb_dataset_put(db, "ds", 1, fields, 3, t) == SB_ERR,
            "a put with a refused tensor succeeded");
    printf("refused: %s\n", sb_error_msg());
    REQUIRE(strstr(sb_error_msg(), "put_dataset ds") != NULL,
            "the error does not name the dataset");
    REQUIRE(strstr(sb_error_msg(), "MAX_TENSOR_BYTES") != NULL,
            "the error does not give the server's reason");
    nothing_left(db, "ds", 3, t);
  } else {
    enum { N = 16, BYTES = 64 * 1024 };
    unsigned char *data = malloc(BYTES);
    sb_dataset_tensor_t t[N];
    char names[N][8];
    REQUIRE(data != NULL, "out of memory");
    memset(data, 5, BYTES);
    for (int k = 0; k < N; k++) {
      snprintf(names[k], sizeof names[k], "t%d", k);
      set_tensor(&t[k], names[k], data, BYTES);
    }
    REQUIRE(sb_dataset_put(db, "oomds", 1, fields, N, t) == SB_ERR,
            "a put beyond maxmemory succeeded");
    printf("refused: %s\n", sb_error_msg());
    REQUIRE(strstr(sb_error_msg(), "OOM") != NULL, "the error does not give the server's reason");
    nothing_left(db, "oomds", N, t);
    free(data);
  }
  sb_db_close(db);
  printf("PASS\n");
  return 0;
}
