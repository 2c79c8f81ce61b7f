/* `APP --describe`: the app's sb_app_t and option table as JSON. */
#include "sb_describe.h"

#include "sb_error.h"

#include <inttypes.h>
#include <string.h>

/* A JSON string, or null for NULL. */
static void json_str(FILE *f, const char *s)
{
  if (!s) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

/* "a|b|c" as ["a", "b", "c"]. */
static void json_choices(FILE *f, const char *choices)
{
  if (!choices) {
    fputs("null", f);
    return;
  }
  fputc('[', f);
  for (const char *p = choices;;) {
    const char *bar = strchr(p, '|');
    size_t l = bar ? (size_t)(bar - p) : strlen(p);
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)(l < sizeof buf - 1 ? l : sizeof buf - 1), p);
    json_str(f, buf);
    if (!bar)
      break;
    fputs(", ", f);
    p = bar + 1;
  }
  fputc(']', f);
}

static const char *kind_name(sb_opt_kind_t k)
{
  switch (k) {
  case SB_OPT_FLAG: return "flag";
  case SB_OPT_INT: return "int";
  case SB_OPT_SIZE: return "size";
  case SB_OPT_STR: return "str";
  case SB_OPT_CHOICE: return "choice";
  }
  return "unknown";
}

/* The short name app->sweep_params gives option `name` ("tensor-bytes=tb"),
 * or NULL when a sweep does not vary it. */
static const char *sweep_short(const sb_app_t *app, const char *name)
{
  size_t l = strlen(name);
  for (const char *const *p = app->sweep_params; p && *p; p++)
    if (strncmp(*p, name, l) == 0 && (*p)[l] == '=')
      return *p + l + 1;
  return NULL;
}

/* Every entry of app->sweep_params names an option and gives a short name. */
static int check_sweep_params(const sb_app_t *app, const sb_opt_t *opts, int n)
{
  for (const char *const *p = app->sweep_params; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    int found = 0;
    if (!eq || eq == *p || !eq[1])
      return sb_error("%s: sweep parameter '%s' is not OPTION=SHORT", app->name, *p);
    for (int k = 0; k < n && !found; k++)
      found = strlen(opts[k].name) == (size_t)(eq - *p) &&
              strncmp(opts[k].name, *p, (size_t)(eq - *p)) == 0;
    if (!found)
      return sb_error("%s: sweep parameter '%s' names no option", app->name, *p);
  }
  return SB_OK;
}

int sb_describe_app(FILE *f, const sb_app_t *app, const sb_opt_t *opts, int n)
{
  char sweep_name[64];
  if (check_sweep_params(app, opts, n) != SB_OK)
    return SB_ERR;
  if (app->sweep_name)
    snprintf(sweep_name, sizeof sweep_name, "%s", app->sweep_name);
  else
    snprintf(sweep_name, sizeof sweep_name, "%s",
             strncmp(app->name, "sb-", 3) == 0 ? app->name + 3 : app->name);
  fputs("{\"schema\": \"stagebench-app\", \"schema_version\": 1,\n \"name\": ", f);
  json_str(f, app->name);
  fputs(", \"app\": ", f);
  json_str(f, sweep_name);
  fputs(", \"role\": ", f);
  json_str(f, app->role);
  fputs(",\n \"summary\": ", f);
  json_str(f, app->summary);
  fprintf(f, ",\n \"database\": %s,\n \"latency_phase\": ", app->no_database ? "false" : "true");
  json_str(f, app->latency_phase);
  fputs(", \"rate_phase\": ", f);
  json_str(f, app->rate_phase ? app->rate_phase : "loop_time");
  fputs(", \"figure_of_merit\": ", f);
  if (app->fom_items)
    fprintf(f, "\"%s/s\"", app->fom_items);
  else
    fputs("\"B/s\"", f);
  /* The swept options in the app's order: the order of the tags in case
   * names. */
  fputs(",\n \"sweep\": [", f);
  for (const char *const *p = app->sweep_params; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    char opt[64];
    snprintf(opt, sizeof opt, "%.*s", (int)(eq - *p), *p);
    fputs(p == app->sweep_params ? "{\"option\": " : ", {\"option\": ", f);
    json_str(f, opt);
    fputs(", \"short\": ", f);
    json_str(f, eq + 1);
    fputc('}', f);
  }
  fputs("],\n \"options\": [", f);
  for (int k = 0; k < n; k++) {
    const sb_opt_t *o = &opts[k];
    fputs(k ? ",\n  {\"name\": " : "\n  {\"name\": ", f);
    json_str(f, o->name);
    fprintf(f, ", \"kind\": \"%s\", \"default\": ", kind_name(o->kind));
    json_str(f, o->defval);
    fputs(", \"choices\": ", f);
    json_choices(f, o->kind == SB_OPT_CHOICE ? o->choices : NULL);
    if (o->kind == SB_OPT_INT)
      fprintf(f, ", \"min\": %" PRId64 ", \"max\": %" PRId64, o->min,
              o->min == 0 && o->max == 0 ? INT64_MAX : o->max);
    fputs(", \"sweep\": ", f);
    json_str(f, sweep_short(app, o->name));
    fputs(",\n   \"help\": ", f);
    json_str(f, o->help);
    fputc('}', f);
  }
  fputs("\n ]}\n", f);
  return ferror(f) ? sb_error("writing the description failed") : SB_OK;
}
