/* The HDF5 writer on a small file: every rank writes its row collectively,
 * rank 0 reads the file back and checks the schema-v1 layout. Rank r
 * records r+2 samples of phase "ph" (value 1000*r + k) so rows of
 * different lengths are padded with NaN. */
#include "sb_check.h"
#include "sb_error.h"
#include "sb_h5.h"

#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

static int read_str_attr(hid_t obj, const char *name, char *buf, size_t len)
{
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0)
    return -1;
  hid_t t = H5Aget_type(a);
  size_t sz = H5Tget_size(t);
  char *tmp = calloc(sz + 1, 1);
  int rc = H5Aread(a, t, tmp) < 0 ? -1 : 0;
  snprintf(buf, len, "%s", tmp);
  free(tmp);
  H5Tclose(t);
  H5Aclose(a);
  return rc;
}

static int64_t read_int_attr(hid_t obj, const char *name)
{
  int64_t v = -999;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0)
    return v;
  if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0)
    v = -998;
  H5Aclose(a);
  return v;
}

static void check_file(const char *path, int nranks)
{
  char s[256];
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(f >= 0, "cannot open %s", path);
  if (f < 0)
    return;
  CHECK(read_str_attr(f, "schema", s, sizeof s) == 0 && strcmp(s, SB_H5_SCHEMA) == 0,
        "schema '%s'", s);
  CHECK(read_int_attr(f, "schema_version") == 1, "schema_version");
  CHECK(read_int_attr(f, "nranks") == nranks, "nranks");
  CHECK(read_str_attr(f, "status", s, sizeof s) == 0 && strcmp(s, "partial") == 0, "status '%s'",
        s);
  CHECK(read_str_attr(f, "app", s, sizeof s) == 0 && strcmp(s, "test-app") == 0, "app");
  static const char *const root_attrs[] = {"version", "git_commit", "command_line", "start_utc",
                                           "end_utc"};
  for (int k = 0; k < 5; k++)
    CHECK(H5Aexists(f, root_attrs[k]) > 0, "root attribute %s missing", root_attrs[k]);

  hid_t g = H5Gopen2(f, "params", H5P_DEFAULT);
  CHECK(read_int_attr(g, "tensor-bytes") == 4096, "/params tensor-bytes");
  CHECK(read_str_attr(g, "mode", s, sizeof s) == 0 && strcmp(s, "raw") == 0, "/params mode");
  H5Gclose(g);
  g = H5Gopen2(f, "system", H5P_DEFAULT);
  CHECK(read_str_attr(g, "hdf5_version", s, sizeof s) == 0 && s[0], "/system hdf5_version");
  H5Gclose(g);

  hid_t d = H5Dopen2(f, "/ranks/hostname", H5P_DEFAULT);
  CHECK(d >= 0, "/ranks/hostname missing");
  if (d >= 0) {
    hid_t t = H5Dget_type(d);
    size_t sz = H5Tget_size(t);
    char *names = calloc((size_t)nranks, sz);
    H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names);
    for (int r = 0; r < nranks; r++) {
      char want[32];
      snprintf(want, sizeof want, "host-%d", r);
      CHECK(strcmp(names + (size_t)r * sz, want) == 0, "hostname[%d] = '%s'", r,
            names + (size_t)r * sz);
    }
    free(names);
    H5Tclose(t);
    H5Dclose(d);
  }
  d = H5Dopen2(f, "/ranks/verify_errors", H5P_DEFAULT);
  CHECK(d >= 0, "/ranks/verify_errors missing");
  if (d >= 0) {
    int64_t *v = calloc((size_t)nranks, sizeof *v);
    H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    for (int r = 0; r < nranks; r++)
      CHECK(v[r] == 10 * r, "verify_errors[%d] = %lld", r, (long long)v[r]);
    free(v);
    H5Dclose(d);
  }

  d = H5Dopen2(f, "/timings/ph", H5P_DEFAULT);
  CHECK(d >= 0, "/timings/ph missing");
  if (d >= 0) {
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    CHECK(H5Sget_simple_extent_ndims(sp) == 2, "timings rank");
    H5Sget_simple_extent_dims(sp, dims, NULL);
    CHECK(dims[0] == (hsize_t)nranks && dims[1] == (hsize_t)(nranks + 1), "shape %llux%llu",
          (unsigned long long)dims[0], (unsigned long long)dims[1]);
    double *v = calloc(dims[0] * dims[1], sizeof *v);
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    for (int r = 0; r < nranks; r++)
      for (hsize_t k = 0; k < dims[1]; k++) {
        double x = v[(size_t)r * dims[1] + k];
        if ((int)k < r + 2)
          CHECK(x == 1000.0 * r + (double)k, "sample [%d][%llu] = %g", r, (unsigned long long)k,
                x);
        else
          CHECK(isnan(x), "padding [%d][%llu] = %g, not NaN", r, (unsigned long long)k, x);
      }
    free(v);
    CHECK(read_int_attr(d, "bytes_per_sample") == 4096, "bytes_per_sample");
    CHECK(read_int_attr(d, "items_per_sample") == 1, "items_per_sample");
    CHECK(read_str_attr(d, "units", s, sizeof s) == 0 && strcmp(s, "s") == 0, "units");
    H5Sclose(sp);
    H5Dclose(d);
  }
  d = H5Dopen2(f, "/timings/empty", H5P_DEFAULT);
  CHECK(d >= 0, "/timings/empty missing (a phase with no samples)");
  if (d >= 0)
    H5Dclose(d);
  H5Fclose(f);
}

int main(int argc, char **argv)
{
  int rank, nranks, rc = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  const char *path = argc > 1 ? argv[1] : "test_h5_writer.h5";

  sb_kv_t params = {0}, system = {0};
  sb_kv_set_int(&params, "tensor-bytes", 4096);
  sb_kv_set_str(&params, "mode", "raw");
  sb_kv_set_str(&system, "hdf5_version", "test");
  sb_timings_t t;
  sb_timings_init(&t, 4);
  int ph = sb_timings_add(&t, "ph", 64, 4096, 1);
  sb_timings_add(&t, "empty", 4, 0, 1);
  for (int k = 0; k < rank + 2; k++)
    sb_phase_record(&t.phases[ph], 1000.0 * rank + k);
  char host[32];
  snprintf(host, sizeof host, "host-%d", rank);
  static const char *const names[] = {"verify_errors"};
  int64_t counters[1] = {10 * rank};
  sb_h5_run_t run = {.app = "test-app", .command_line = "test_h5_writer", .start_utc = "s",
                     .end_utc = "e", .status = "partial", .params = &params, .system = &system,
                     .hostname = host, .device = -1, .timings = &t, .n_rank_counters = 1,
                     .rank_counter_names = names, .rank_counters = counters};
  if (sb_h5_write(path, MPI_COMM_WORLD, &run) != SB_OK) {
    fprintf(stderr, "rank %d: %s\n", rank, sb_error_msg());
    rc = 1;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0 && rc == 0) {
    check_file(path, nranks);
    rc = CHECK_DONE();
  }
  sb_timings_free(&t);
  sb_kv_free(&params);
  sb_kv_free(&system);
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return rc;
}
