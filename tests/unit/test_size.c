/* Sizes with K/M/G suffixes and lists of them. */
#include "sb_check.h"
#include "sb_error.h"
#include "sb_size.h"

#include <stdlib.h>
#include <string.h>

static void ok(const char *text, uint64_t want)
{
  uint64_t got = 0;
  int rc = sb_size_parse(text, 0, &got);
  CHECK(rc == SB_OK && got == want, "'%s' -> rc %d, %llu (want %llu): %s", text, rc,
        (unsigned long long)got, (unsigned long long)want, sb_error_msg());
}

static void bad(const char *text)
{
  uint64_t got = 0;
  CHECK(sb_size_parse(text, 0, &got) == SB_ERR, "'%s' accepted as %llu", text,
        (unsigned long long)got);
  CHECK(strstr(sb_error_msg(), text) != NULL, "message '%s' does not name '%s'",
        sb_error_msg(), text);
}

int main(void)
{
  uint64_t *v = NULL;
  size_t n = 0;
  char buf[32];

  ok("1", 1);
  ok("512", 512);
  ok("1K", 1024);
  ok("1k", 1024);
  ok("64K", 65536);
  ok("1M", 1048576);
  ok("1MiB", 1048576);
  ok("1MB", 1048576);
  ok("2G", 2147483648ull);
  bad("");
  bad("0");
  bad("-1");
  bad("1.5M");
  bad("1X");
  bad("1Mb2");
  bad("K");
  bad(" 1");
  bad("99999999999999999999");
  bad("9999999999G");

  CHECK(sb_size_list_parse("1K,64K,1M", &v, &n) == SB_OK && n == 3 && v[0] == 1024 &&
            v[1] == 65536 && v[2] == 1048576,
        "list 1K,64K,1M");
  free(v);
  CHECK(sb_size_list_parse("1K,,1M", &v, &n) == SB_ERR, "empty element accepted");
  CHECK(sb_size_list_parse("1K,abc", &v, &n) == SB_ERR, "bad element accepted");
  CHECK(sb_size_list_parse("", &v, &n) == SB_ERR, "empty list accepted");

  sb_size_format(1048576, buf, sizeof buf);
  CHECK(strcmp(buf, "1M") == 0, "format 1M: %s", buf);
  sb_size_format(65536, buf, sizeof buf);
  CHECK(strcmp(buf, "64K") == 0, "format 64K: %s", buf);
  sb_size_format(1000, buf, sizeof buf);
  CHECK(strcmp(buf, "1000") == 0, "format 1000: %s", buf);
  return CHECK_DONE();
}
