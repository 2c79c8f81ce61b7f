/* h5_expect: checks a stagebench HDF5 file against expectations given on
 * the command line, for the shell tests. Prints every failed expectation
 * and exits 1 if any failed.
 *
 *   h5_expect FILE [--status S] [--nranks N] [--samples N | --min-samples N]
 *             [--phase NAME]... [--param NAME=VALUE]... [--system NAME]...
 *             [--rank-sum NAME=N | --rank-sum NAME>=N]...
 *
 * --rank-sum: the sum over ranks of the per-rank counter /ranks/NAME (e.g.
 * redirects, verify_errors) is N, or at least N.
 * --samples N: every /timings phase but client_init is [nranks][N] with
 * every value finite and > 0. --min-samples N: at least N finite samples in
 * each such phase, row 0 (a partial run). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_check.h"

/* Reads a scalar attribute as text (strings as they are, integers and
 * reals printed). Returns 0 on success. */
static int attr_text(hid_t obj, const char *name, char *buf, size_t len)
{
  hid_t a, t;
  int rc = -1;
  if (H5Aexists(obj, name) <= 0)
    return -1;
  a = H5Aopen(obj, name, H5P_DEFAULT);
  t = H5Aget_type(a);
  if (H5Tget_class(t) == H5T_STRING) {
    size_t sz = H5Tget_size(t);
    char *tmp = calloc(sz + 1, 1);
    if (H5Aread(a, t, tmp) >= 0) {
      snprintf(buf, len, "%s", tmp);
      rc = 0;
    }
    free(tmp);
  } else if (H5Tget_class(t) == H5T_INTEGER) {
    long long v;
    if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0) {
      snprintf(buf, len, "%lld", v);
      rc = 0;
    }
  } else if (H5Tget_class(t) == H5T_FLOAT) {
    double v;
    if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0) {
      snprintf(buf, len, "%g", v);
      rc = 0;
    }
  }
  H5Tclose(t);
  H5Aclose(a);
  return rc;
}

typedef struct {
  long long samples, min_samples, nranks;
} expect_t;

/* --rank-sum NAME=N or NAME>=N over the int64 counter /ranks/NAME. */
static void check_rank_sum(hid_t f, const char *spec)
{
  char name[256], path[300];
  const char *op = strstr(spec, ">=");
  int at_least = op != NULL;
  if (!op)
    op = strchr(spec, '=');
  if (!op || op == spec) {
    CHECK(0, "--rank-sum %s: expected NAME=N or NAME>=N", spec);
    return;
  }
  long long want = atoll(op + (at_least ? 2 : 1)), sum = 0;
  snprintf(name, sizeof name, "%.*s", (int)(op - spec), spec);
  snprintf(path, sizeof path, "/ranks/%s", name);
  if (H5Lexists(f, "ranks", H5P_DEFAULT) <= 0 || H5Lexists(f, path, H5P_DEFAULT) <= 0) {
    CHECK(0, "%s missing", path);
    return;
  }
  hid_t d = H5Dopen2(f, path, H5P_DEFAULT), sp = H5Dget_space(d);
  hssize_t n = H5Sget_simple_extent_npoints(sp);
  long long *v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
  if (n > 0 && H5Dread(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
    CHECK(0, "%s cannot be read as integers", path);
  for (hssize_t k = 0; k < n; k++)
    sum += v[k];
  if (at_least)
    CHECK(sum >= want, "%s sums to %lld over %lld ranks, expected >= %lld", path, sum, (long long)n,
          want);
  else
    CHECK(sum == want, "%s sums to %lld over %lld ranks, expected %lld", path, sum, (long long)n,
          want);
  printf("h5_expect: %s sums to %lld\n", path, sum);
  free(v);
  H5Sclose(sp);
  H5Dclose(d);
}

static herr_t check_phase(hid_t grp, const char *name, const H5L_info_t *info, void *op)
{
  const expect_t *e = op;
  hid_t d = H5Dopen2(grp, name, H5P_DEFAULT), sp;
  hsize_t dims[2] = {0, 0};
  (void)info;
  if (d < 0) {
    CHECK(0, "/timings/%s cannot be opened", name);
    return 0;
  }
  sp = H5Dget_space(d);
  CHECK(H5Sget_simple_extent_ndims(sp) == 2, "/timings/%s is not 2-D", name);
  H5Sget_simple_extent_dims(sp, dims, NULL);
  if (e->nranks >= 0)
    CHECK((long long)dims[0] == e->nranks, "/timings/%s has %llu rows, expected %lld", name,
          (unsigned long long)dims[0], e->nranks);
  int is_init = strcmp(name, "client_init") == 0;
  size_t n = (size_t)(dims[0] * dims[1]);
  double *v = calloc(n ? n : 1, sizeof *v);
  if (n)
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  if (e->samples >= 0 && !is_init) {
    CHECK((long long)dims[1] == e->samples, "/timings/%s has %llu columns, expected %lld", name,
          (unsigned long long)dims[1], e->samples);
    for (size_t k = 0; k < n; k++)
      if (!(isfinite(v[k]) && v[k] > 0)) {
        CHECK(0, "/timings/%s sample %zu is %g (expected finite > 0)", name, k, v[k]);
        break;
      }
  }
  if (e->min_samples >= 0 && !is_init) {
    long long good = 0;
    for (size_t k = 0; k < dims[1]; k++)
      good += isfinite(v[k]) && v[k] > 0;
    CHECK(good >= e->min_samples, "/timings/%s row 0 has %lld samples, expected >= %lld", name,
          good, e->min_samples);
  }
  char units[16] = "";
  CHECK(attr_text(d, "units", units, sizeof units) == 0 && strcmp(units, "s") == 0,
        "/timings/%s units '%s'", name, units);
  free(v);
  H5Sclose(sp);
  H5Dclose(d);
  return 0;
}

int main(int argc, char **argv)
{
  expect_t e = {-1, -1, -1};
  char buf[1024];
  hid_t f, g;
  if (argc < 2) {
    fprintf(stderr, "usage: h5_expect FILE [expectations]\n");
    return 2;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    fprintf(stderr, "h5_expect: cannot open %s as HDF5\n", argv[1]);
    return 1;
  }
  CHECK(attr_text(f, "schema", buf, sizeof buf) == 0 && strcmp(buf, "stagebench-timings") == 0,
        "schema is '%s'", buf);
  CHECK(attr_text(f, "schema_version", buf, sizeof buf) == 0 && strcmp(buf, "1") == 0,
        "schema_version is '%s'", buf);
  for (int k = 2; k < argc; k++) {
    const char *opt = argv[k], *val = k + 1 < argc ? argv[k + 1] : "";
    k++;
    if (strcmp(opt, "--status") == 0) {
      CHECK(attr_text(f, "status", buf, sizeof buf) == 0 && strcmp(buf, val) == 0,
            "status is '%s', expected '%s'", buf, val);
    } else if (strcmp(opt, "--nranks") == 0) {
      e.nranks = atoll(val);
      CHECK(attr_text(f, "nranks", buf, sizeof buf) == 0 && strcmp(buf, val) == 0,
            "nranks is '%s', expected '%s'", buf, val);
    } else if (strcmp(opt, "--samples") == 0) {
      e.samples = atoll(val);
    } else if (strcmp(opt, "--min-samples") == 0) {
      e.min_samples = atoll(val);
    } else if (strcmp(opt, "--phase") == 0) {
      snprintf(buf, sizeof buf, "/timings/%s", val);
      CHECK(H5Lexists(f, "timings", H5P_DEFAULT) > 0 && H5Lexists(f, buf, H5P_DEFAULT) > 0,
            "phase %s missing", val);
    } else if (strcmp(opt, "--param") == 0 || strcmp(opt, "--system") == 0) {
      const char *grp = opt[2] == 'p' ? "params" : "system";
      char name[256];
      const char *eq = strchr(val, '=');
      snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - val) : (int)strlen(val), val);
      g = H5Gopen2(f, grp, H5P_DEFAULT);
      int rc = g >= 0 ? attr_text(g, name, buf, sizeof buf) : -1;
      CHECK(rc == 0, "/%s has no attribute %s", grp, name);
      if (rc == 0 && eq)
        CHECK(strcmp(buf, eq + 1) == 0, "/%s %s is '%s', expected '%s'", grp, name, buf, eq + 1);
      if (g >= 0)
        H5Gclose(g);
    } else if (strcmp(opt, "--rank-sum") == 0) {
      check_rank_sum(f, val);
    } else {
      fprintf(stderr, "h5_expect: unknown expectation %s\n", opt);
      return 2;
    }
  }
  static const char *const root[] = {"app", "version", "git_commit", "command_line", "start_utc",
                                     "end_utc"};
  for (size_t k = 0; k < sizeof root / sizeof root[0]; k++)
    CHECK(attr_text(f, root[k], buf, sizeof buf) == 0, "root attribute %s missing", root[k]);
  CHECK(H5Lexists(f, "/ranks/hostname", H5P_DEFAULT) > 0, "/ranks/hostname missing");
  CHECK(H5Lexists(f, "/ranks/device", H5P_DEFAULT) > 0, "/ranks/device missing");
  g = H5Gopen2(f, "timings", H5P_DEFAULT);
  CHECK(g >= 0, "/timings missing");
  if (g >= 0) {
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, check_phase, &e);
    H5Gclose(g);
  }
  H5Fclose(f);
  if (sb_check_failures)
    fprintf(stderr, "h5_expect: %d expectation(s) failed for %s\n", sb_check_failures, argv[1]);
  else
    printf("h5_expect: %s as expected\n", argv[1]);
  return sb_check_failures ? 1 : 0;
}
