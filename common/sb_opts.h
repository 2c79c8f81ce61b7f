/* Command-line options shared by every stagebench app.
 *
 * An app describes its own options as a table of sb_opt_t; sb_opts_parse
 * applies the defaults, then the command line (`--name value` or
 * `--name=value`), checks every value, and records every option as resolved
 * (names as on the command line, without the dashes) for /params.
 */
#ifndef SB_OPTS_H
#define SB_OPTS_H

#include "sb_kv.h"
#include "sb_log.h"

#include <stdint.h>
#include <stdio.h>

typedef enum {
  SB_OPT_FLAG,   /* int*: 1 when given, takes no value */
  SB_OPT_INT,    /* int64_t*, within [min, max] */
  SB_OPT_SIZE,   /* uint64_t*, bytes with K/M/G suffixes, > 0 */
  SB_OPT_STR,    /* const char**, points into argv or the default */
  SB_OPT_CHOICE  /* const char**, one of the '|'-separated choices */
} sb_opt_kind_t;

typedef struct {
  const char *name;    /* "tensor-bytes" for --tensor-bytes */
  sb_opt_kind_t kind;
  void *dst;
  const char *defval;  /* default as text; NULL: none (STR stays NULL) */
  const char *help;
  const char *choices; /* SB_OPT_CHOICE: "tensor|raw" */
  int64_t min, max;    /* SB_OPT_INT bounds (both 0: 0..INT64_MAX) */
} sb_opt_t;

#define SB_MAX_LABELS 32

/* The options every app takes (DESIGN.md, "The apps"). */
typedef struct {
  const char *db;          /* resolved: --db, else $SSDB, else the default */
  int64_t iterations;      /* timed iterations (100) */
  int64_t warmup;          /* untimed iterations before them (1) */
  const char *out;         /* HDF5 file, NULL: none */
  const char *log_level_name;
  sb_log_level_t log_level;
  int no_verify;
  int help, version;
  sb_kv_t labels;          /* --label key=value, repeatable */
} sb_common_opts_t;

/* The default database address when neither --db nor SSDB is set. */
#define SB_DEFAULT_DB "tcp://127.0.0.1:6379"

/* Sets *help when argv holds --help or -h and *version when it holds
 * --version, wherever they stand: they win over everything else, even bad
 * options (every binary of the suite answers them the same way). */
void sb_opts_help_version(int argc, char **argv, int *help, int *version);

/* Parses argv (argv[0] is the program). On SB_OK, *common and the app's
 * destinations hold the resolved values and *params the record of all of
 * them (labels as "label.KEY"). If --help or --version was given, the
 * matching flag is set and nothing else is checked. On SB_ERR the message
 * names the option at fault. */
int sb_opts_parse(int argc, char **argv, const sb_opt_t *app_opts, int n_app,
                  sb_common_opts_t *common, sb_kv_t *params);

/* Prints usage: the summary line, the app's options, then the common ones,
 * each with its default. */
void sb_opts_usage(FILE *f, const char *prog, const char *summary,
                   const sb_opt_t *app_opts, int n_app);

/* Frees what sb_opts_parse allocated in *common. */
void sb_opts_free(sb_common_opts_t *common);

#endif
