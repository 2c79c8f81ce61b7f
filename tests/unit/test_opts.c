/* The common options and an app's own: defaults, values, errors that name
 * the option, the record kept for /params. */
#include "sb_check.h"
#include "sb_error.h"
#include "sb_opts.h"

#include <stdlib.h>
#include <string.h>

static uint64_t bytes;
static const char *mode;
static int64_t count;
static const sb_opt_t app[] = {
  {"tensor-bytes", SB_OPT_SIZE, &bytes, "1M", "bytes", NULL, 0, 0},
  {"mode", SB_OPT_CHOICE, &mode, "tensor", "mode", "tensor|raw", 0, 0},
  {"count", SB_OPT_INT, &count, "3", "count", NULL, 1, 10},
};
#define NAPP 3

static int parse(sb_common_opts_t *c, sb_kv_t *p, int argc, const char **argv)
{
  memset(p, 0, sizeof *p);
  return sb_opts_parse(argc, (char **)argv, app, NAPP, c, p);
}

static void expect_error(const char *what, int argc, const char **argv, const char *needle)
{
  sb_common_opts_t c;
  sb_kv_t p;
  int rc = parse(&c, &p, argc, argv);
  CHECK(rc == SB_ERR, "%s: accepted", what);
  CHECK(strstr(sb_error_msg(), needle) != NULL, "%s: message '%s' lacks '%s'", what,
        sb_error_msg(), needle);
  sb_kv_free(&p);
  sb_opts_free(&c);
}

int main(void)
{
  sb_common_opts_t c;
  sb_kv_t p;
  const sb_kv_item_t *it;

  unsetenv("SSDB");
  {
    const char *argv[] = {"prog"};
    CHECK(parse(&c, &p, 1, argv) == SB_OK, "defaults: %s", sb_error_msg());
    CHECK(c.iterations == 100 && c.warmup == 1, "default iterations/warmup");
    CHECK(strcmp(c.db, SB_DEFAULT_DB) == 0, "default db: %s", c.db);
    CHECK(bytes == 1048576 && strcmp(mode, "tensor") == 0 && count == 3, "app defaults");
    CHECK(c.log_level == SB_LOG_INFO && !c.no_verify && !c.out, "common defaults");
    it = sb_kv_get(&p, "tensor-bytes");
    CHECK(it && it->type == SB_KV_INT && it->i == 1048576, "params tensor-bytes");
    it = sb_kv_get(&p, "db");
    CHECK(it && it->type == SB_KV_STR && strcmp(it->s, SB_DEFAULT_DB) == 0, "params db");
    sb_kv_free(&p);
    sb_opts_free(&c);
  }
  setenv("SSDB", "10.0.0.1:6380", 1);
  {
    const char *argv[] = {"prog", "--tensor-bytes", "64K", "--mode=raw", "--iterations", "7",
                          "--warmup=0", "--label", "site=test", "--label", "run=2",
                          "--no-verify", "--log-level", "debug", "--out", "x.h5"};
    CHECK(parse(&c, &p, 16, argv) == SB_OK, "values: %s", sb_error_msg());
    CHECK(bytes == 65536 && strcmp(mode, "raw") == 0, "app values");
    CHECK(c.iterations == 7 && c.warmup == 0 && c.no_verify && strcmp(c.out, "x.h5") == 0,
          "common values");
    CHECK(c.log_level == SB_LOG_DEBUG, "log level");
    CHECK(strcmp(c.db, "10.0.0.1:6380") == 0, "SSDB used: %s", c.db);
    it = sb_kv_get(&p, "label.site");
    CHECK(it && strcmp(it->s, "test") == 0, "label.site recorded");
    CHECK(sb_kv_get(&p, "label.run") != NULL, "label.run recorded");
    sb_kv_free(&p);
    sb_opts_free(&c);
  }
  {
    const char *argv[] = {"prog", "--db", "unix:///tmp/x.sock"};
    CHECK(parse(&c, &p, 3, argv) == SB_OK && strcmp(c.db, "unix:///tmp/x.sock") == 0,
          "--db wins over SSDB");
    sb_kv_free(&p);
    sb_opts_free(&c);
  }
  {
    const char *argv[] = {"prog", "--bogus", "--help"};
    CHECK(parse(&c, &p, 3, argv) == SB_OK && c.help, "--help wins");
    sb_kv_free(&p);
    sb_opts_free(&c);
  }
  {
    /* Each refused: its arguments after "prog" (one or two), and what the
     * message must name. */
    static const struct {
      const char *what, *arg, *value, *needle;
    } bad[] = {
      {"bad size", "--tensor-bytes", "1Q", "--tensor-bytes"},
      {"zero iterations", "--iterations", "0", "--iterations"},
      {"non-numeric iterations", "--iterations", "ten", "--iterations"},
      {"bad choice", "--mode", "fast", "--mode"},
      {"out of range", "--count", "11", "--count"},
      {"unknown option", "--frobnicate", NULL, "--frobnicate"},
      {"missing value", "--tensor-bytes", NULL, "--tensor-bytes"},
      {"bad label", "--label", "novalue", "--label"},
      {"flag with value", "--no-verify=1", NULL, "--no-verify"},
      {"positional", "stray", NULL, "stray"},
      {"bad log level", "--log-level", "loud", "--log-level"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      const char *argv[] = {"prog", bad[k].arg, bad[k].value};
      expect_error(bad[k].what, bad[k].value ? 3 : 2, argv, bad[k].needle);
    }
  }
  return CHECK_DONE();
}
