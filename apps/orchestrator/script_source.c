/* Scanning a script's source for `def NAME(` (see script_source.h). */
#include "script_source.h"

#include <string.h>

#define IDENTIFIER_MAX 128

static int is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static int is_ident_start(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(char c)
{
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

int sbai_script_is_identifier(const char *text, size_t len)
{
  if (len == 0 || len > IDENTIFIER_MAX || !is_ident_start(text[0]))
    return 0;
  for (size_t i = 1; i < len; i++)
    if (!is_ident_char(text[i]))
      return 0;
  return 1;
}

/* If the line starting at src[pos] is a definition, stores its name and
 * returns 1. */
static int line_def(const char *src, size_t len, size_t pos, const char **name, size_t *name_len)
{
  size_t i = pos, start;

  while (i < len && is_blank(src[i]))
    i++;
  if (len - i < 4 || memcmp(src + i, "def", 3) != 0 || !is_blank(src[i + 3]))
    return 0;
  i += 3;
  while (i < len && is_blank(src[i]))
    i++;
  start = i;
  if (i >= len || !is_ident_start(src[i]))
    return 0;
  while (i < len && is_ident_char(src[i]))
    i++;
  if (i - start > IDENTIFIER_MAX)
    return 0;
  *name = src + start;
  *name_len = i - start;
  while (i < len && is_blank(src[i]))
    i++;
  return i < len && src[i] == '(';
}

size_t sbai_script_each_def(const char *src, size_t len,
                            void (*found)(const char *name, size_t name_len, void *arg),
                            void *arg)
{
  size_t count = 0, pos = 0;

  while (pos < len) {
    const char *name;
    size_t name_len;
    const char *nl = memchr(src + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - src) : len;

    if (line_def(src, end, pos, &name, &name_len)) {
      count++;
      if (found)
        found(name, name_len, arg);
    }
    pos = end + 1;
  }
  return count;
}

typedef struct match {
  const char *name;
  size_t len;
  int found;
} match_t;

static void match_one(const char *name, size_t name_len, void *arg)
{
  match_t *m = arg;
  if (name_len == m->len && memcmp(name, m->name, name_len) == 0)
    m->found = 1;
}

int sbai_script_defines(const char *src, size_t len, const char *name, size_t name_len)
{
  match_t m = {.name = name, .len = name_len, .found = 0};
  sbai_script_each_def(src, len, match_one, &m);
  return m.found;
}
