/* h5_metrics_check: checks the /metrics group of a stagebench HDF5 file
 * (docs/hdf5-schema.md) for the shell tests. Prints every failed
 * expectation and exits 1 if any failed.
 *
 *   h5_metrics_check FILE none             the file has no /metrics
 *   h5_metrics_check FILE NVML_PREFIX MIN_LO_BYTES
 *       /metrics has cpu_util, net_{rx,tx}_bytes, lo_{rx,tx}_bytes, each
 *       [samples > 0][1 + nnodes]; times finite, >= 0, non-decreasing;
 *       every finite cpu_util in [0, 100] and at least one; byte counts
 *       >= 0 and non-decreasing per node; the last lo_tx_bytes of node 0
 *       >= MIN_LO_BYTES; attribute nvml begins with NVML_PREFIX and, when
 *       it says unavailable, there are no gpu_* series. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_check.h"

static double *read_series(hid_t grp, const char *name, hsize_t dims[2])
{
  hid_t d, sp;
  double *v = NULL;
  if (H5Lexists(grp, name, H5P_DEFAULT) <= 0) {
    CHECK(0, "/metrics/%s missing", name);
    return NULL;
  }
  d = H5Dopen2(grp, name, H5P_DEFAULT);
  sp = H5Dget_space(d);
  if (H5Sget_simple_extent_ndims(sp) != 2) {
    CHECK(0, "/metrics/%s is not 2-D", name);
  } else {
    H5Sget_simple_extent_dims(sp, dims, NULL);
    v = malloc((dims[0] * dims[1] + 1) * sizeof *v);
    if (v && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
      CHECK(0, "/metrics/%s unreadable", name);
      free(v);
      v = NULL;
    }
  }
  H5Sclose(sp);
  H5Dclose(d);
  return v;
}

static int attr_int(hid_t obj, const char *name, long long *out)
{
  hid_t a;
  int rc;
  if (H5Aexists(obj, name) <= 0)
    return -1;
  a = H5Aopen(obj, name, H5P_DEFAULT);
  rc = H5Aread(a, H5T_NATIVE_LLONG, out) < 0 ? -1 : 0;
  H5Aclose(a);
  return rc;
}

static int attr_str(hid_t obj, const char *name, char *buf, size_t len)
{
  hid_t a, t;
  char *tmp;
  int rc = -1;
  if (H5Aexists(obj, name) <= 0)
    return -1;
  a = H5Aopen(obj, name, H5P_DEFAULT);
  t = H5Aget_type(a);
  tmp = calloc(H5Tget_size(t) + 1, 1);
  if (tmp && H5Aread(a, t, tmp) >= 0) {
    snprintf(buf, len, "%s", tmp);
    rc = 0;
  }
  free(tmp);
  H5Tclose(t);
  H5Aclose(a);
  return rc;
}

int main(int argc, char **argv)
{
  static const char *const counters[] = {"net_rx_bytes", "net_tx_bytes", "lo_rx_bytes",
                                         "lo_tx_bytes"};
  hid_t f, g;
  long long nnodes = 0;
  char nvml[512] = "";
  if (argc < 3) {
    fprintf(stderr, "usage: h5_metrics_check FILE none | FILE NVML_PREFIX MIN_LO_BYTES\n");
    return 2;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    fprintf(stderr, "h5_metrics_check: cannot open %s\n", argv[1]);
    return 1;
  }
  if (strcmp(argv[2], "none") == 0) {
    CHECK(H5Lexists(f, "metrics", H5P_DEFAULT) <= 0, "/metrics present, expected none");
    H5Fclose(f);
    return sb_check_failures ? 1 : 0;
  }
  if (H5Lexists(f, "metrics", H5P_DEFAULT) <= 0) {
    fprintf(stderr, "h5_metrics_check: no /metrics\n");
    return 1;
  }
  g = H5Gopen2(f, "metrics", H5P_DEFAULT);
  CHECK(attr_int(g, "nnodes", &nnodes) == 0 && nnodes >= 1, "attribute nnodes missing or < 1");
  CHECK(attr_str(g, "nvml", nvml, sizeof nvml) == 0, "attribute nvml missing");
  CHECK(strncmp(nvml, argv[2], strlen(argv[2])) == 0, "nvml = '%s', expected it to begin '%s'",
        nvml, argv[2]);
  if (strncmp(nvml, "unavailable", 11) == 0)
    CHECK(H5Lexists(g, "gpu_util", H5P_DEFAULT) <= 0, "gpu_util present without NVML");
  {
    hsize_t dims[2] = {0, 0};
    double *v = read_series(g, "cpu_util", dims);
    size_t finite = 0;
    if (v) {
      CHECK(dims[0] > 0, "cpu_util has no samples");
      CHECK(dims[1] == (hsize_t)nnodes + 1, "cpu_util has %llu columns, expected %lld",
            (unsigned long long)dims[1], nnodes + 1);
      for (hsize_t i = 0; i < dims[0]; i++) {
        double t = v[i * dims[1]];
        CHECK(isfinite(t) && t >= 0, "time %llu = %g", (unsigned long long)i, t);
        if (i)
          CHECK(t >= v[(i - 1) * dims[1]], "time %llu goes backwards", (unsigned long long)i);
        for (hsize_t c = 1; c < dims[1]; c++) {
          double u = v[i * dims[1] + c];
          if (isfinite(u)) {
            finite++;
            CHECK(u >= 0 && u <= 100, "cpu_util[%llu][%llu] = %g", (unsigned long long)i,
                  (unsigned long long)c, u);
          }
        }
      }
      CHECK(finite > 0, "no finite cpu_util sample");
      printf("h5_metrics_check: %llu samples, %lld node(s), nvml: %s\n",
             (unsigned long long)dims[0], nnodes, nvml);
      free(v);
    }
  }
  for (int k = 0; k < 4; k++) {
    hsize_t dims[2] = {0, 0};
    double *v = read_series(g, counters[k], dims);
    if (!v)
      continue;
    CHECK(dims[0] > 0 && dims[1] == (hsize_t)nnodes + 1, "%s shape", counters[k]);
    for (hsize_t c = 1; c < dims[1]; c++)
      for (hsize_t i = 0; i < dims[0]; i++) {
        double b = v[i * dims[1] + c];
        CHECK(isfinite(b) && b >= 0, "%s[%llu][%llu] = %g", counters[k], (unsigned long long)i,
              (unsigned long long)c, b);
        if (i)
          CHECK(b >= v[(i - 1) * dims[1] + c], "%s decreases at %llu", counters[k],
                (unsigned long long)i);
      }
    if (k == 3 && dims[0] > 0 && dims[1] > 1) {
      double last = v[(dims[0] - 1) * dims[1] + 1];
      CHECK(last >= atof(argv[3]), "lo_tx_bytes at the end = %.0f, expected >= %s", last, argv[3]);
    }
    free(v);
  }
  H5Gclose(g);
  H5Fclose(f);
  return sb_check_failures ? 1 : 0;
}
