/* sb-dbinfo: what a database says about itself, as one JSON object, for the
 * front end (stagebench doctor's db.* checks; docs/frontend.md).
 *
 * A plain program, not an MPI app: no mpiexec, no sweep, no --describe. It
 * connects the way the apps do, through the suite's client (sb_db.h): the
 * address from --db, else SSDB, else tcp://127.0.0.1:6379, checked with
 * sb_db_check_addresses; credentials and timeouts from SB_DB_* through
 * sb_db_config_from_env; a cluster's seeds tried in turn by sb_db_open. Then
 * PING, then CONFIG GET of each --config NAME and INFO of each --info
 * SECTION, in the order given.
 *
 * Time: --timeout S (default 5) caps the connect and the command timeout at
 * S seconds, no command is re-sent, and no command is started once S
 * seconds have passed; so even a database that accepts connections and then
 * never answers ends the program within about 3 S.
 *
 * Output (stdout, one JSON object):
 *   {"schema": "stagebench-dbinfo", "addresses": as given, "source": "--db",
 *    "SSDB" or "default", "address": the one that answered, "cluster_shards":
 *    N (0: standalone), "config": {NAME: value or null}, "info": {SECTION:
 *    {field: value} or null}, "errors": {"CONFIG GET NAME" or "INFO
 *    SECTION": the refusal}}
 * A refused query is null with its refusal under "errors" (exit 0). When the
 * database cannot be asked at all, the object holds what was learnt plus
 * "error" (the client's message) and "error_kind": "unreachable", "auth"
 * (AUTH refused), "noauth" (a password is needed), "refused" (PING refused),
 * "timeout" (the budget ran out), and the same message is one line on
 * stderr (exit 1). A usage error (an option, the address, an SB_DB_*
 * setting) is one line on stderr and exit 2, with nothing on stdout.
 */
#include "sb_config.h"
#include "sb_db.h"
#include "sb_error.h"
#include "sb_opts.h"
#include "sb_timer.h"

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "sb-dbinfo"
#define SCHEMA "stagebench-dbinfo"
#define MAX_QUERIES 32
#define DEFAULT_BUDGET_S 5.0
#define MAX_BUDGET_S 3600.0

enum { EXIT_ANSWERED = 0, EXIT_DB = 1, EXIT_USAGE = 2 };

static const char usage[] =
  "usage: " PROG " [--db ADDRESS] [--config NAME]... [--info SECTION]... [--timeout S]\n"
  "Asks a database what it is set to and prints one JSON object on stdout\n"
  "(what stagebench doctor reports as db.*). A plain program: no mpiexec.\n"
  "\n"
  "  --db ADDRESS      database address(es): tcp://host:port or unix:///path,\n"
  "                    comma-separated (the first that answers); default $SSDB,\n"
  "                    else " SB_DEFAULT_DB ", as for the apps\n"
  "  --config NAME     CONFIG GET NAME (repeatable)\n"
  "  --info SECTION    INFO SECTION, as {field: value} (repeatable)\n"
  "  --timeout S       time budget in seconds [default 5]: connecting and each\n"
  "                    command wait at most S, none is re-sent, none starts\n"
  "                    after S (so it ends within about 3 S)\n"
  "  --help, -h        print this help and exit\n"
  "  --version         print the version and exit\n"
  "\n"
  "Output: {\"schema\": \"" SCHEMA "\", \"addresses\", \"source\", \"address\",\n"
  "\"cluster_shards\", \"config\": {NAME: value}, \"info\": {SECTION: {field: value}},\n"
  "\"errors\": {query: refusal}}; a refused query is null. When the database\n"
  "cannot be asked: \"error\" and \"error_kind\" (unreachable, auth, noauth,\n"
  "refused, timeout) in the object and the error on stderr.\n"
  "Credentials come from SB_DB_USER / SB_DB_PASSWORD or SB_DB_PASSWORD_FILE,\n"
  "timeouts from SB_DB_CONNECT_TIMEOUT / SB_DB_COMMAND_TIMEOUT (capped at S),\n"
  "never from the command line.\n"
  "\n"
  "exit status: 0 answered, 1 the database could not be asked, 2 usage error\n";

typedef struct {
  const char *db;     /* the address list */
  const char *source; /* where it came from: "--db", "SSDB", "default" */
  const char *config[MAX_QUERIES];
  int nconfig;
  const char *info[MAX_QUERIES];
  int ninfo;
  double budget_s;
  int help, version;
} dbinfo_args_t;

/* ---- command line ------------------------------------------------------------ */

static int parse_seconds(const char *v, double *out)
{
  char *end = NULL;
  double d;
  if (!(isdigit((unsigned char)v[0]) || v[0] == '.'))
    return sb_error("option --timeout: '%s' is not a number of seconds", v);
  errno = 0;
  d = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(d) || !(d > 0 && d <= MAX_BUDGET_S))
    return sb_error("option --timeout: '%s': expected seconds in (0, %g]", v, MAX_BUDGET_S);
  *out = d;
  return SB_OK;
}

static int add_query(const char **list, int *n, const char *opt, const char *v)
{
  if (!*v)
    return sb_error("option %s: empty value", opt);
  if (*n >= MAX_QUERIES)
    return sb_error("option %s: more than %d of them", opt, MAX_QUERIES);
  list[(*n)++] = v;
  return SB_OK;
}

/* The address as the apps resolve it (sb_opts.c): --db, else SSDB, else
 * the default; its syntax checked without connecting. */
static int resolve_address(dbinfo_args_t *a)
{
  const char *env;
  if (a->db) {
    a->source = "--db";
    if (sb_db_check_addresses(a->db) != SB_OK)
      return sb_error_prefix("option --db");
    return SB_OK;
  }
  env = getenv("SSDB");
  if (env && !*env)
    return sb_error("SSDB is set but empty: expected the database address(es), e.g. "
                    SB_DEFAULT_DB " (unset it for that default)");
  a->db = env ? env : SB_DEFAULT_DB;
  a->source = env ? "SSDB" : "default";
  if (sb_db_check_addresses(a->db) != SB_OK)
    return sb_error_prefix("%s", a->source);
  return SB_OK;
}

static int is_option(const char *arg, size_t len, const char *name)
{
  return strlen(name) == len && strncmp(arg, name, len) == 0;
}

static int parse_args(int argc, char **argv, dbinfo_args_t *a)
{
  memset(a, 0, sizeof *a);
  a->budget_s = DEFAULT_BUDGET_S;
  sb_opts_help_version(argc, argv, &a->help, &a->version);
  if (a->help || a->version)
    return SB_OK;
  for (int k = 1; k < argc; k++) {
    const char *arg = argv[k], *eq, *val;
    size_t len;
    if (strncmp(arg, "--", 2) != 0)
      return sb_error("unexpected argument '%s' (options start with --)", arg);
    eq = strchr(arg, '=');
    len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (!is_option(arg, len, "--db") && !is_option(arg, len, "--config") &&
        !is_option(arg, len, "--info") && !is_option(arg, len, "--timeout"))
      return sb_error("unknown option '%.*s'", (int)len, arg);
    if (eq)
      val = eq + 1;
    else if (k + 1 < argc)
      val = argv[++k];
    else
      return sb_error("option %s needs a value", arg);
    if (is_option(arg, len, "--db")) {
      if (!*val)
        return sb_error("option --db: empty value");
      a->db = val;
    } else if (is_option(arg, len, "--config")) {
      if (add_query(a->config, &a->nconfig, "--config", val) != SB_OK)
        return SB_ERR;
    } else if (is_option(arg, len, "--info")) {
      if (add_query(a->info, &a->ninfo, "--info", val) != SB_OK)
        return SB_ERR;
    } else if (parse_seconds(val, &a->budget_s) != SB_OK) {
      return SB_ERR;
    }
  }
  return resolve_address(a);
}

/* The SB_DB_* configuration with the budget's caps: a bad setting is a
 * usage error, as for the apps. */
static int db_config(const dbinfo_args_t *a, sb_db_config_t *cfg)
{
  if (sb_db_config_from_env(cfg) != SB_OK)
    return SB_ERR;
  if (cfg->connect_timeout_s > a->budget_s)
    cfg->connect_timeout_s = a->budget_s;
  if (cfg->command_timeout_s > a->budget_s)
    cfg->command_timeout_s = a->budget_s;
  cfg->command_retries = 0;
  return SB_OK;
}

/* ---- JSON ----------------------------------------------------------------------- */

/* A JSON string of len bytes; bytes that are not valid UTF-8 become '?'
 * (the server's text is ASCII in practice). NULL only when out of memory. */
static json_t *text(const char *s, size_t len)
{
  json_t *j = json_stringn(s, len);
  char *copy;
  if (j)
    return j;
  if (!(copy = malloc(len + 1)))
    return NULL;
  for (size_t k = 0; k < len; k++)
    copy[k] = (unsigned char)s[k] < 0x80 && s[k] ? s[k] : '?';
  copy[len] = '\0';
  j = json_stringn(copy, len);
  free(copy);
  return j;
}

/* obj[key] = value (value taken over, NULL: JSON null). The key made
 * printable ASCII, as JSON keys must be valid text. */
static int put(json_t *obj, const char *key, size_t klen, json_t *value)
{
  char k[256];
  size_t n = klen < sizeof k - 1 ? klen : sizeof k - 1;
  for (size_t i = 0; i < n; i++)
    k[i] = isprint((unsigned char)key[i]) ? key[i] : '?';
  k[n] = '\0';
  if (!value && !(value = json_null()))
    return sb_error("out of memory");
  if (json_object_set_new(obj, k, value) != 0)
    return sb_error("out of memory");
  return SB_OK;
}

static int put_text(json_t *obj, const char *key, const char *s)
{
  json_t *v = text(s, strlen(s));
  if (!v)
    return sb_error("out of memory");
  return put(obj, key, strlen(key), v);
}

/* The fields of an INFO reply ("# Section" headers, "field:value" lines
 * ended by CRLF) into an object. */
static int info_fields(const char *s, size_t len, json_t *obj)
{
  const char *end = s + len;
  while (s < end) {
    const char *eol = memchr(s, '\n', (size_t)(end - s));
    const char *colon;
    size_t n = (size_t)((eol ? eol : end) - s);
    if (n && s[n - 1] == '\r')
      n--;
    colon = n ? memchr(s, ':', n) : NULL;
    if (colon && s[0] != '#') {
      json_t *v = text(colon + 1, n - (size_t)(colon + 1 - s));
      if (!v)
        return sb_error("out of memory");
      if (put(obj, s, (size_t)(colon - s), v) != SB_OK)
        return SB_ERR;
    }
    s = eol ? eol + 1 : end;
  }
  return SB_OK;
}

/* ---- the queries ---------------------------------------------------------------- */

/* The object being filled: root owns everything; config, info and errors
 * are its members (borrowed). */
typedef struct {
  json_t *root, *config, *info, *errors;
  const char *error_kind; /* set when the database could not be asked */
} report_t;

/* One keyless, idempotent command; SB_OK with *r, or SB_ERR with the
 * client's message. */
static int ask(sb_db_t *db, int argc, const char **argv, sb_db_reply_t **r)
{
  size_t argvlen[3];
  for (int k = 0; k < argc; k++)
    argvlen[k] = strlen(argv[k]);
  return sb_db_command_key(db, -1, 1, argc, argv, argvlen, r);
}

/* A query the server refused: null in its place, the refusal under
 * "errors". */
static int refused(report_t *rep, json_t *where, const char *name, const char *query)
{
  if (put(where, name, strlen(name), NULL) != SB_OK)
    return SB_ERR;
  return put_text(rep->errors, query, sb_error_msg());
}

static int config_get(sb_db_t *db, report_t *rep, const char *name)
{
  const char *argv[3] = {"CONFIG", "GET", name};
  char query[300];
  sb_db_reply_t *r = NULL;
  int rc = SB_OK, found = 0;
  snprintf(query, sizeof query, "CONFIG GET %s", name);
  if (ask(db, 3, argv, &r) != SB_OK)
    return refused(rep, rep->config, name, query);
  /* [name, value, ...]: a glob may match several, a name none. */
  for (size_t k = 0; sb_db_reply_kind(r) == 'a' && k + 1 < sb_db_reply_len(r) && rc == SB_OK;
       k += 2) {
    size_t nl = 0, vl = 0;
    const char *n = sb_db_reply_str(sb_db_reply_at(r, k), &nl);
    const char *v = sb_db_reply_str(sb_db_reply_at(r, k + 1), &vl);
    json_t *jv;
    if (!n || !v)
      continue;
    if (!(jv = text(v, vl)))
      rc = sb_error("out of memory");
    else
      rc = put(rep->config, n, nl, jv);
    found++;
  }
  sb_db_reply_free(r);
  if (rc == SB_OK && !found)
    rc = put(rep->config, name, strlen(name), NULL);
  return rc;
}

static int info_section(sb_db_t *db, report_t *rep, const char *section)
{
  const char *argv[2] = {"INFO", section};
  char query[300];
  sb_db_reply_t *r = NULL;
  const char *s;
  size_t len = 0;
  json_t *fields;
  int rc;
  snprintf(query, sizeof query, "INFO %s", section);
  if (ask(db, 2, argv, &r) != SB_OK)
    return refused(rep, rep->info, section, query);
  s = sb_db_reply_str(r, &len);
  if (!(fields = json_object())) {
    sb_db_reply_free(r);
    return sb_error("out of memory");
  }
  rc = info_fields(s ? s : "", s ? len : 0, fields);
  sb_db_reply_free(r);
  if (rc != SB_OK) {
    json_decref(fields);
    return SB_ERR;
  }
  return put(rep->info, section, strlen(section), fields);
}

/* The database could not be asked: the client's message stays, its kind
 * is noted. */
static int cannot_ask(report_t *rep, const char *kind)
{
  rep->error_kind = kind;
  return SB_ERR;
}

/* SB_OK: the report is filled. SB_ERR with rep->error_kind set: the
 * database could not be asked (the message is the client's); without it:
 * this program failed (out of memory). */
static int query(const dbinfo_args_t *a, const sb_db_config_t *cfg, report_t *rep)
{
  sb_db_t *db = NULL;
  const char *ping[1] = {"PING"};
  sb_db_reply_t *r = NULL;
  json_t *shards;
  double t0 = sb_now();
  int rc = SB_ERR;

  if (sb_db_open(a->db, cfg, &db) != SB_OK)
    return cannot_ask(rep, strstr(sb_error_msg(), "authentication failed") ? "auth"
                                                                           : "unreachable");
  if (put_text(rep->root, "address", sb_db_address(db)) != SB_OK)
    goto out;
  if (!(shards = json_integer(sb_db_cluster_shards(db)))) {
    sb_error("out of memory");
    goto out;
  }
  if (put(rep->root, "cluster_shards", 14, shards) != SB_OK)
    goto out;
  if (ask(db, 1, ping, &r) != SB_OK) {
    cannot_ask(rep, strstr(sb_error_msg(), "NOAUTH") ? "noauth" : "refused");
    goto out;
  }
  sb_db_reply_free(r);
  for (int k = 0; k < a->nconfig + a->ninfo; k++) {
    int is_config = k < a->nconfig;
    const char *what = is_config ? a->config[k] : a->info[k - a->nconfig];
    if (sb_now() - t0 >= a->budget_s) {
      sb_error("%s: the time budget of %g s (--timeout) ran out before %s %s",
               sb_db_address(db), a->budget_s, is_config ? "CONFIG GET" : "INFO", what);
      cannot_ask(rep, "timeout");
      goto out;
    }
    if ((is_config ? config_get(db, rep, what) : info_section(db, rep, what)) != SB_OK)
      goto out;
  }
  rc = SB_OK;
out:
  sb_db_close(db);
  return rc;
}

/* A member object of the root, kept as a borrowed pointer. */
static int member(json_t *root, const char *key, json_t **obj)
{
  if (!(*obj = json_object()))
    return sb_error("out of memory");
  return put(root, key, strlen(key), *obj);
}

/* The root with its members in the order they are printed; "address" and
 * "cluster_shards" null until the database answered. */
static int report_init(const dbinfo_args_t *a, report_t *rep)
{
  memset(rep, 0, sizeof *rep);
  if (!(rep->root = json_object()))
    return sb_error("out of memory");
  if (put_text(rep->root, "schema", SCHEMA) != SB_OK ||
      put_text(rep->root, "addresses", a->db) != SB_OK ||
      put_text(rep->root, "source", a->source) != SB_OK ||
      put(rep->root, "address", 7, NULL) != SB_OK ||
      put(rep->root, "cluster_shards", 14, NULL) != SB_OK ||
      member(rep->root, "config", &rep->config) != SB_OK ||
      member(rep->root, "info", &rep->info) != SB_OK ||
      member(rep->root, "errors", &rep->errors) != SB_OK)
    return SB_ERR;
  return SB_OK;
}

/* The object on stdout, with the error when there is one. */
static int report_print(report_t *rep, const char *error)
{
  if (error && (put_text(rep->root, "error", error) != SB_OK ||
                put_text(rep->root, "error_kind", rep->error_kind) != SB_OK))
    return SB_ERR;
  if (json_dumpf(rep->root, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0)
    return sb_error("cannot write the JSON to stdout");
  if (fputc('\n', stdout) == EOF || fflush(stdout) != 0)
    return sb_error("cannot write to stdout: %s", strerror(errno));
  return SB_OK;
}

static int error_exit(const char *msg, int code)
{
  fprintf(stderr, PROG ": error: %s\n", msg);
  return code;
}

int main(int argc, char **argv)
{
  dbinfo_args_t a;
  sb_db_config_t cfg;
  report_t rep;
  char error[SB_ERRMSG_MAX] = "";
  int rc;

  if (parse_args(argc, argv, &a) != SB_OK ||
      (!a.help && !a.version && db_config(&a, &cfg) != SB_OK)) {
    fprintf(stderr, PROG ": error: %s (" PROG " --help for usage)\n", sb_error_msg());
    return EXIT_USAGE;
  }
  if (a.help) {
    fputs(usage, stdout);
    return EXIT_ANSWERED;
  }
  if (a.version) {
    printf(PROG " %s (git %.12s)\n", SB_VERSION, SB_GIT_COMMIT);
    return EXIT_ANSWERED;
  }
  if (report_init(&a, &rep) != SB_OK) {
    json_decref(rep.root);
    return error_exit(sb_error_msg(), EXIT_DB);
  }
  rc = query(&a, &cfg, &rep);
  /* The credentials do not outlive the queries. */
  for (volatile unsigned char *p = (volatile unsigned char *)&cfg; p < (unsigned char *)(&cfg + 1);
       p++)
    *p = 0;
  if (rc != SB_OK)
    snprintf(error, sizeof error, "%s", sb_error_msg());
  if (rc != SB_OK && !rep.error_kind) { /* this program's own failure */
    json_decref(rep.root);
    return error_exit(error, EXIT_DB);
  }
  if (report_print(&rep, rc == SB_OK ? NULL : error) != SB_OK) {
    json_decref(rep.root);
    return error_exit(sb_error_msg(), EXIT_DB);
  }
  json_decref(rep.root);
  return rc == SB_OK ? EXIT_ANSWERED : error_exit(error, EXIT_DB);
}
