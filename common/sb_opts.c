#include "sb_opts.h"

#include "sb_db.h"
#include "sb_error.h"
#include "sb_size.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The common options, as a table like the apps' own; destinations are filled
 * in by common_table(). */
enum { C_DB, C_ITER, C_WARMUP, C_OUT, C_LABEL, C_LOG, C_NOVERIFY, C_HELP, C_VERSION, C_COUNT };

static void common_table(sb_opt_t *t, sb_common_opts_t *c)
{
  static const char *label_dummy;
  t[C_DB] = (sb_opt_t){"db", SB_OPT_STR, &c->db, NULL,
                       "database address(es): tcp://host:port or unix:///path, comma-separated; "
                       "default $SSDB, else " SB_DEFAULT_DB, NULL, 0, 0};
  t[C_ITER] = (sb_opt_t){"iterations", SB_OPT_INT, &c->iterations, "100",
                         "timed iterations", NULL, 1, INT32_MAX};
  t[C_WARMUP] = (sb_opt_t){"warmup", SB_OPT_INT, &c->warmup, "1",
                           "untimed iterations before the timed ones", NULL, 0, INT32_MAX};
  t[C_OUT] = (sb_opt_t){"out", SB_OPT_STR, &c->out, NULL,
                        "HDF5 file for the per-rank timings (none if not given)", NULL, 0, 0};
  t[C_LABEL] = (sb_opt_t){"label", SB_OPT_STR, &label_dummy, NULL,
                          "key=value recorded in /params as label.key (repeatable)", NULL, 0, 0};
  t[C_LOG] = (sb_opt_t){"log-level", SB_OPT_CHOICE, &c->log_level_name, "info",
                        "log threshold", "error|warn|info|debug|trace", 0, 0};
  t[C_NOVERIFY] = (sb_opt_t){"no-verify", SB_OPT_FLAG, &c->no_verify, NULL,
                             "skip the check of every byte read back", NULL, 0, 0};
  t[C_HELP] = (sb_opt_t){"help", SB_OPT_FLAG, &c->help, NULL, "print this help and exit", NULL, 0, 0};
  t[C_VERSION] = (sb_opt_t){"version", SB_OPT_FLAG, &c->version, NULL,
                            "print the version and exit", NULL, 0, 0};
}

static int choice_ok(const char *choices, const char *v)
{
  size_t vl = strlen(v);
  const char *p = choices;
  while (*p) {
    const char *bar = strchr(p, '|');
    size_t l = bar ? (size_t)(bar - p) : strlen(p);
    if (l == vl && strncmp(p, v, l) == 0)
      return 1;
    if (!bar)
      break;
    p = bar + 1;
  }
  return 0;
}

/* Applies one textual value to one option and records it in params. */
static int apply(const sb_opt_t *o, const char *v, sb_kv_t *params)
{
  switch (o->kind) {
  case SB_OPT_FLAG:
    *(int *)o->dst = 1;
    return sb_kv_set_int(params, o->name, 1);
  case SB_OPT_INT: {
    char *end = NULL;
    long long x;
    int64_t lo = o->min, hi = o->max;
    if (lo == 0 && hi == 0)
      hi = INT64_MAX;
    /* Digits with an optional sign and nothing else: strtoll alone would
     * also take leading blanks. */
    if (!(isdigit((unsigned char)v[0]) ||
          ((v[0] == '-' || v[0] == '+') && isdigit((unsigned char)v[1]))))
      return sb_error("option --%s: '%s' is not an integer", o->name, v);
    errno = 0;
    x = strtoll(v, &end, 10);
    if (*end)
      return sb_error("option --%s: '%s' is not an integer", o->name, v);
    if (errno == ERANGE)
      return sb_error("option --%s: '%s' is out of range [%" PRId64 ", %" PRId64 "]", o->name,
                      v, lo, hi);
    if (x < lo || x > hi)
      return sb_error("option --%s: %lld is out of range [%" PRId64 ", %" PRId64 "]", o->name, x,
                      lo, hi);
    *(int64_t *)o->dst = x;
    return sb_kv_set_int(params, o->name, x);
  }
  case SB_OPT_SIZE: {
    uint64_t b;
    if (sb_size_parse(v, 0, &b) != SB_OK)
      return sb_error_prefix("option --%s", o->name);
    *(uint64_t *)o->dst = b;
    return sb_kv_set_int(params, o->name, (int64_t)b);
  }
  case SB_OPT_CHOICE:
    if (!choice_ok(o->choices, v))
      return sb_error("option --%s: '%s' is not one of %s", o->name, v, o->choices);
    /* fall through */
  case SB_OPT_STR:
    /* An empty value is never meant: it would silently stand for the
     * default (--db '') or name no file (--out ''). */
    if (!*v)
      return sb_error("option --%s: empty value", o->name);
    *(const char **)o->dst = v;
    return sb_kv_set_str(params, o->name, v);
  }
  return sb_error("option --%s: unknown kind", o->name);
}

static int add_label(sb_common_opts_t *c, sb_kv_t *params, const char *v)
{
  const char *eq = strchr(v, '=');
  char key[256];
  if (!eq || eq == v || (size_t)(eq - v) >= sizeof key - 8)
    return sb_error("option --label: '%s' is not key=value", v);
  if (c->labels.n >= SB_MAX_LABELS)
    return sb_error("option --label: more than %d labels", SB_MAX_LABELS);
  memcpy(key, v, (size_t)(eq - v));
  key[eq - v] = '\0';
  for (const char *p = key; *p; p++)
    if (*p == '/' || *p == '.')
      return sb_error("option --label: key '%s' may not contain '/' or '.'", key);
  if (sb_kv_set_str(&c->labels, key, eq + 1) != SB_OK)
    return SB_ERR;
  char name[300];
  snprintf(name, sizeof name, "label.%s", key);
  return sb_kv_set_str(params, name, eq + 1);
}

static const sb_opt_t *find(const sb_opt_t *a, int na, const sb_opt_t *b, int nb,
                            const char *name, size_t len)
{
  for (int k = 0; k < na; k++)
    if (strlen(a[k].name) == len && strncmp(a[k].name, name, len) == 0)
      return &a[k];
  for (int k = 0; k < nb; k++)
    if (strlen(b[k].name) == len && strncmp(b[k].name, name, len) == 0)
      return &b[k];
  return NULL;
}

void sb_opts_help_version(int argc, char **argv, int *help, int *version)
{
  for (int k = 1; k < argc; k++) {
    if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
      *help = 1;
    else if (strcmp(argv[k], "--version") == 0)
      *version = 1;
  }
}

int sb_opts_parse(int argc, char **argv, const sb_opt_t *app_opts, int n_app,
                  sb_common_opts_t *c, sb_kv_t *params)
{
  sb_opt_t ct[C_COUNT];
  memset(c, 0, sizeof *c);
  common_table(ct, c);

  sb_opts_help_version(argc, argv, &c->help, &c->version);
  if (c->help || c->version)
    return SB_OK;

  for (int k = 0; k < n_app; k++)
    if (app_opts[k].defval && apply(&app_opts[k], app_opts[k].defval, params) != SB_OK)
      return SB_ERR;
  for (int k = 0; k < C_COUNT; k++)
    if (ct[k].defval && apply(&ct[k], ct[k].defval, params) != SB_OK)
      return SB_ERR;

  for (int k = 1; k < argc; k++) {
    const char *arg = argv[k];
    const char *eq, *val = NULL;
    size_t len;
    if (strncmp(arg, "--", 2) != 0)
      return sb_error("unexpected argument '%s' (options start with --; see --help)", arg);
    arg += 2;
    eq = strchr(arg, '=');
    len = eq ? (size_t)(eq - arg) : strlen(arg);
    const sb_opt_t *o = find(app_opts, n_app, ct, C_COUNT, arg, len);
    if (!o)
      return sb_error("unknown option '--%.*s' (see --help)", (int)len, arg);
    if (o->kind == SB_OPT_FLAG) {
      if (eq)
        return sb_error("option --%s takes no value", o->name);
    } else if (eq) {
      val = eq + 1;
    } else {
      if (k + 1 >= argc)
        return sb_error("option --%s needs a value", o->name);
      val = argv[++k];
    }
    if (o == &ct[C_LABEL]) {
      if (add_label(c, params, val) != SB_OK)
        return SB_ERR;
    } else if (apply(o, val, params) != SB_OK) {
      return SB_ERR;
    }
  }

  if (sb_log_parse_level(c->log_level_name, &c->log_level) != 0)
    return sb_error("option --log-level: '%s' unknown", c->log_level_name);
  if (!c->db) {
    const char *env = getenv("SSDB");
    if (env && !*env)
      return sb_error("SSDB is set but empty: expected the database address(es), e.g. "
                      SB_DEFAULT_DB " (unset it for that default)");
    c->db = env ? env : SB_DEFAULT_DB;
    if (sb_db_check_addresses(c->db) != SB_OK)
      return sb_error_prefix("SSDB");
  } else if (sb_db_check_addresses(c->db) != SB_OK) {
    return sb_error_prefix("option --db");
  }
  return sb_kv_set_str(params, "db", c->db);
}

static void usage_line(FILE *f, const sb_opt_t *o)
{
  char left[64];
  const char *meta = o->kind == SB_OPT_FLAG     ? ""
                     : o->kind == SB_OPT_SIZE   ? " SIZE"
                     : o->kind == SB_OPT_INT    ? " N"
                     : o->kind == SB_OPT_CHOICE ? " CHOICE"
                                                : " VALUE";
  snprintf(left, sizeof left, "--%s%s", o->name, meta);
  fprintf(f, "  %-26s %s", left, o->help);
  if (o->kind == SB_OPT_CHOICE)
    fprintf(f, " (%s)", o->choices);
  if (o->defval && o->kind != SB_OPT_FLAG)
    fprintf(f, " [default %s]", o->defval);
  fputc('\n', f);
}

void sb_opts_usage(FILE *f, const char *prog, const char *summary, const sb_opt_t *app_opts,
                   int n_app)
{
  sb_common_opts_t dummy;
  sb_opt_t ct[C_COUNT];
  memset(&dummy, 0, sizeof dummy);
  common_table(ct, &dummy);
  fprintf(f, "usage: mpiexec -n N %s [options]\n%s\n", prog, summary);
  if (n_app > 0) {
    fprintf(f, "\n%s options:\n", prog);
    for (int k = 0; k < n_app; k++)
      usage_line(f, &app_opts[k]);
  }
  fprintf(f, "\ncommon options:\n");
  for (int k = 0; k < C_COUNT; k++)
    usage_line(f, &ct[k]);
  fprintf(f, "\nSizes take K, M or G suffixes (binary: 1K = 1024 bytes).\n"
             "Credentials come from SB_DB_USER / SB_DB_PASSWORD or SB_DB_PASSWORD_FILE,\n"
             "never from the command line.\n");
}

void sb_opts_free(sb_common_opts_t *c) { sb_kv_free(&c->labels); }
