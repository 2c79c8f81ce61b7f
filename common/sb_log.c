#include "sb_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int log_rank = -1;
static sb_log_level_t log_threshold = SB_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void sb_log_init(int rank, sb_log_level_t level)
{
  log_rank = rank;
  log_threshold = level;
}

int sb_log_parse_level(const char *name, sb_log_level_t *level)
{
  for (int i = 0; i <= (int)SB_LOG_TRACE; i++) {
    if (strcasecmp(name, level_names[i]) == 0) {
      *level = (sb_log_level_t)i;
      return 0;
    }
  }
  return -1;
}

const char *sb_log_level_name(sb_log_level_t level)
{
  if ((int)level < 0 || level > SB_LOG_TRACE)
    return "?";
  return level_names[level];
}

sb_log_level_t sb_log_level(void) { return log_threshold; }

void sb_log(sb_log_level_t level, const char *fmt, ...)
{
  char line[2048];
  int n;
  va_list ap;
  if (level > log_threshold)
    return;
  if (log_rank >= 0)
    n = snprintf(line, sizeof line, "[stagebench %d] %s: ", log_rank, level_names[level]);
  else
    n = snprintf(line, sizeof line, "[stagebench] %s: ", level_names[level]);
  if (n < 0 || (size_t)n >= sizeof line)
    n = 0;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  /* One fputs of a whole line keeps lines from different ranks whole. */
  strncat(line, "\n", sizeof line - strlen(line) - 1);
  fputs(line, stderr);
}
