#include "sb_size.h"

#include "sb_error.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sb_size_parse(const char *text, int allow_zero, uint64_t *bytes)
{
  const char *p = text;
  char *end = NULL;
  unsigned long long v;
  uint64_t mult = 1;

  if (!text || !isdigit((unsigned char)*p))
    return sb_error("invalid size '%s': expected a number with an optional K/M/G suffix",
                    text ? text : "");
  errno = 0;
  v = strtoull(p, &end, 10);
  if (errno == ERANGE)
    return sb_error("invalid size '%s': too large", text);
  if (*end) {
    char c = (char)toupper((unsigned char)*end);
    if (c == 'K')
      mult = 1ull << 10;
    else if (c == 'M')
      mult = 1ull << 20;
    else if (c == 'G')
      mult = 1ull << 30;
    else
      return sb_error("invalid size '%s': unknown suffix '%s' (use K, M or G)", text, end);
    end++;
    if (*end && strcasecmp(end, "B") != 0 && strcasecmp(end, "iB") != 0)
      return sb_error("invalid size '%s': unknown suffix", text);
  }
  if (v > (1ull << 62) / mult)
    return sb_error("invalid size '%s': too large", text);
  if (v == 0 && !allow_zero)
    return sb_error("invalid size '%s': must be positive", text);
  *bytes = (uint64_t)v * mult;
  return SB_OK;
}

int sb_size_list_parse(const char *text, uint64_t **sizes, size_t *count)
{
  size_t n = 1, k = 0;
  char *copy, *tok, *save = NULL;
  uint64_t *out;

  if (!text || !*text)
    return sb_error("empty size list");
  for (const char *p = text; *p; p++)
    n += (*p == ',');
  out = calloc(n, sizeof *out);
  copy = strdup(text);
  if (!out || !copy) {
    free(out);
    free(copy);
    return sb_error("out of memory");
  }
  for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (sb_size_parse(tok, 0, &out[k]) != SB_OK) {
      free(out);
      free(copy);
      return SB_ERR;
    }
    k++;
  }
  free(copy);
  if (k != n) {
    free(out);
    return sb_error("invalid size list '%s': empty element", text);
  }
  *sizes = out;
  *count = k;
  return SB_OK;
}

void sb_size_format(uint64_t bytes, char *buf, size_t len)
{
  static const char suffix[] = {'G', 'M', 'K'};
  for (int s = 0; s < 3; s++) {
    uint64_t unit = 1ull << (10 * (3 - s));
    if (bytes >= unit && bytes % unit == 0) {
      snprintf(buf, len, "%" PRIu64 "%c", bytes / unit, suffix[s]);
      return;
    }
  }
  snprintf(buf, len, "%" PRIu64, bytes);
}
