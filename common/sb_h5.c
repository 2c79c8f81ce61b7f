#include "sb_h5.h"

#include "sb_config.h"
#include "sb_error.h"

#include <hdf5.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SB_HOSTNAME_MAX 256

void sb_utc_now(char *buf, size_t len)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int attr_str(hid_t obj, const char *name, const char *value)
{
  hid_t type = -1, space = -1, attr = -1;
  int rc = SB_ERR;
  size_t len = strlen(value);
  SB_H5(type = H5Tcopy(H5T_C_S1));
  SB_H5(H5Tset_size(type, len > 0 ? len + 1 : 1));
  SB_H5(H5Tset_strpad(type, H5T_STR_NULLTERM));
  SB_H5(space = H5Screate(H5S_SCALAR));
  SB_H5(attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  SB_H5(H5Awrite(attr, type, value));
  rc = SB_OK;
fail:
  if (attr >= 0)
    H5Aclose(attr);
  if (space >= 0)
    H5Sclose(space);
  if (type >= 0)
    H5Tclose(type);
  if (rc != SB_OK)
    sb_error_prefix("attribute %s", name);
  return rc;
}

static int attr_num(hid_t obj, const char *name, hid_t type, const void *value)
{
  hid_t space = -1, attr = -1;
  int rc = SB_ERR;
  SB_H5(space = H5Screate(H5S_SCALAR));
  SB_H5(attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  SB_H5(H5Awrite(attr, type, value));
  rc = SB_OK;
fail:
  if (attr >= 0)
    H5Aclose(attr);
  if (space >= 0)
    H5Sclose(space);
  if (rc != SB_OK)
    sb_error_prefix("attribute %s", name);
  return rc;
}

static int attrs_from_kv(hid_t obj, const sb_kv_t *kv)
{
  for (size_t k = 0; kv && k < kv->n; k++) {
    const sb_kv_item_t *it = &kv->items[k];
    int rc = it->type == SB_KV_STR   ? attr_str(obj, it->name, it->s)
             : it->type == SB_KV_INT ? attr_num(obj, it->name, H5T_NATIVE_INT64, &it->i)
                                     : attr_num(obj, it->name, H5T_NATIVE_DOUBLE, &it->d);
    if (rc != SB_OK)
      return SB_ERR;
  }
  return SB_OK;
}

/* Creates dataset `name` under loc of shape [nranks][ncols] (ncols 0: 1-D)
 * and writes this rank's row collectively. */
static int write_rows(hid_t loc, const char *name, hid_t type, hid_t dxpl, int nranks, int rank,
                      hsize_t ncols, const void *row)
{
  hid_t fspace = -1, mspace = -1, dset = -1;
  hsize_t dims[2] = {(hsize_t)nranks, ncols};
  hsize_t start[2] = {(hsize_t)rank, 0}, count[2] = {1, ncols};
  int nd = ncols ? 2 : 1;
  int rc = SB_ERR;
  SB_H5(fspace = H5Screate_simple(nd, dims, NULL));
  SB_H5(dset = H5Dcreate2(loc, name, type, fspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  SB_H5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL));
  SB_H5(mspace = H5Screate_simple(nd, count, NULL));
  SB_H5(H5Dwrite(dset, type, mspace, fspace, dxpl, row));
  rc = SB_OK;
fail:
  if (dset >= 0)
    H5Dclose(dset);
  if (mspace >= 0)
    H5Sclose(mspace);
  if (fspace >= 0)
    H5Sclose(fspace);
  if (rc != SB_OK)
    sb_error_prefix("dataset %s", name);
  return rc;
}

/* Samples of one phase: [nranks][max samples of any rank], or an empty
 * [nranks][0] dataset (written without a selection) if nobody has one. */
static int write_phase(hid_t grp, const sb_phase_t *p, hid_t dxpl, MPI_Comm comm, int nranks,
                       int rank)
{
  long long mine = p->n, most = 0;
  double *row = NULL;
  hid_t dset = -1;
  int rc = SB_ERR;
  SB_MPI(MPI_Allreduce(&mine, &most, 1, MPI_LONG_LONG, MPI_MAX, comm));
  if (most == 0) {
    hid_t space = -1;
    hsize_t dims[2] = {(hsize_t)nranks, 0};
    SB_H5(space = H5Screate_simple(2, dims, NULL));
    dset = H5Dcreate2(grp, p->name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT,
                      H5P_DEFAULT);
    H5Sclose(space);
    SB_H5(dset);
  } else {
    row = malloc((size_t)most * sizeof *row);
    if (!row) {
      sb_error("out of memory for a row of %lld samples", most);
      goto fail;
    }
    for (long long k = 0; k < most; k++)
      row[k] = k < mine ? p->samples[k] : NAN;
    if (write_rows(grp, p->name, H5T_NATIVE_DOUBLE, dxpl, nranks, rank, (hsize_t)most, row) !=
        SB_OK)
      goto fail;
    SB_H5(dset = H5Dopen2(grp, p->name, H5P_DEFAULT));
  }
  {
    int64_t b = (int64_t)p->bytes_per_sample, it = (int64_t)p->items_per_sample;
    if (attr_str(dset, "units", "s") != SB_OK ||
        attr_num(dset, "bytes_per_sample", H5T_NATIVE_INT64, &b) != SB_OK ||
        attr_num(dset, "items_per_sample", H5T_NATIVE_INT64, &it) != SB_OK)
      goto fail;
  }
  rc = SB_OK;
fail:
  if (dset >= 0)
    H5Dclose(dset);
  free(row);
  if (rc != SB_OK)
    sb_error_prefix("/timings/%s", p->name);
  return rc;
}

/* /metrics: every rank creates each dataset (collective metadata), rank 0
 * writes all of it, the others select nothing; the write is collective. */
static int write_metrics(hid_t file, const sb_h5_metrics_t *m, hid_t dxpl, int rank)
{
  hid_t grp = -1, fspace = -1, dset = -1;
  hsize_t dims[2] = {(hsize_t)m->nrows, (hsize_t)m->ncols};
  int rc = SB_ERR;
  SB_H5(grp = H5Gcreate2(file, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (attrs_from_kv(grp, m->attrs) != SB_OK)
    goto fail;
  for (int k = 0; k < m->nseries; k++) {
    SB_H5(fspace = H5Screate_simple(2, dims, NULL));
    SB_H5(dset = H5Dcreate2(grp, m->names[k], H5T_NATIVE_DOUBLE, fspace, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT));
    if (m->nrows > 0 && m->ncols > 0) {
      if (rank == 0) {
        SB_H5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl,
                       m->data + (size_t)k * (size_t)(m->nrows * m->ncols)));
      } else {
        hid_t none = -1;
        SB_H5(H5Sselect_none(fspace));
        SB_H5(none = H5Screate_simple(2, dims, NULL));
        H5Sselect_none(none);
        double dummy = 0; /* nothing is read from it; some HDF5 versions refuse NULL */
        rc = H5Dwrite(dset, H5T_NATIVE_DOUBLE, none, fspace, dxpl, &dummy) < 0 ? SB_ERR : SB_OK;
        H5Sclose(none);
        if (rc != SB_OK) {
          sb_error("H5Dwrite (no selection) failed");
          goto fail;
        }
        rc = SB_ERR;
      }
    }
    if (attr_str(dset, "units", m->units[k]) != SB_OK)
      goto fail;
    H5Dclose(dset);
    dset = -1;
    H5Sclose(fspace);
    fspace = -1;
  }
  rc = SB_OK;
fail:
  if (dset >= 0)
    H5Dclose(dset);
  if (fspace >= 0)
    H5Sclose(fspace);
  if (grp >= 0)
    H5Gclose(grp);
  if (rc != SB_OK)
    sb_error_prefix("/metrics");
  return rc;
}

static int write_file(const char *path, MPI_Comm comm, const sb_h5_run_t *run, int nranks,
                      int rank)
{
  hid_t fapl = -1, dxpl = -1, file = -1, grp = -1, strtype = -1;
  int rc = SB_ERR;
  int64_t schema_version = SB_H5_SCHEMA_VERSION, nr = nranks;
  char host[SB_HOSTNAME_MAX];

  SB_H5(fapl = H5Pcreate(H5P_FILE_ACCESS));
  SB_H5(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
  SB_H5(dxpl = H5Pcreate(H5P_DATASET_XFER));
  SB_H5(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (file < 0) {
    sb_error("cannot create HDF5 file %s", path);
    goto fail;
  }

  if (attr_str(file, "schema", SB_H5_SCHEMA) != SB_OK ||
      attr_num(file, "schema_version", H5T_NATIVE_INT64, &schema_version) != SB_OK ||
      attr_str(file, "app", run->app) != SB_OK || attr_str(file, "version", SB_VERSION) != SB_OK ||
      attr_str(file, "git_commit", SB_GIT_COMMIT) != SB_OK ||
      attr_str(file, "command_line", run->command_line) != SB_OK ||
      attr_str(file, "start_utc", run->start_utc) != SB_OK ||
      attr_str(file, "end_utc", run->end_utc) != SB_OK ||
      attr_num(file, "nranks", H5T_NATIVE_INT64, &nr) != SB_OK ||
      attr_str(file, "status", run->status) != SB_OK)
    goto fail;

  SB_H5(grp = H5Gcreate2(file, "params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (attrs_from_kv(grp, run->params) != SB_OK)
    goto fail;
  H5Gclose(grp);
  SB_H5(grp = H5Gcreate2(file, "system", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (attrs_from_kv(grp, run->system) != SB_OK)
    goto fail;
  H5Gclose(grp);

  SB_H5(grp = H5Gcreate2(file, "ranks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  memset(host, 0, sizeof host);
  snprintf(host, sizeof host, "%s", run->hostname);
  SB_H5(strtype = H5Tcopy(H5T_C_S1));
  SB_H5(H5Tset_size(strtype, SB_HOSTNAME_MAX));
  SB_H5(H5Tset_strpad(strtype, H5T_STR_NULLTERM));
  if (write_rows(grp, "hostname", strtype, dxpl, nranks, rank, 0, host) != SB_OK)
    goto fail;
  {
    int32_t dev = run->device;
    if (write_rows(grp, "device", H5T_NATIVE_INT32, dxpl, nranks, rank, 0, &dev) != SB_OK)
      goto fail;
  }
  for (int k = 0; k < run->n_rank_counters; k++)
    if (write_rows(grp, run->rank_counter_names[k], H5T_NATIVE_INT64, dxpl, nranks, rank, 0,
                   &run->rank_counters[k]) != SB_OK)
      goto fail;
  H5Gclose(grp);

  SB_H5(grp = H5Gcreate2(file, "timings", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (int k = 0; k < run->timings->n; k++)
    if (write_phase(grp, &run->timings->phases[k], dxpl, comm, nranks, rank) != SB_OK)
      goto fail;
  H5Gclose(grp);
  grp = -1;
  if (run->metrics && write_metrics(file, run->metrics, dxpl, rank) != SB_OK)
    goto fail;

  if (H5Fclose(file) < 0) {
    file = -1;
    sb_error("closing HDF5 file %s failed", path);
    goto fail;
  }
  file = -1;
  rc = SB_OK;
fail:
  if (grp >= 0)
    H5Gclose(grp);
  if (strtype >= 0)
    H5Tclose(strtype);
  if (file >= 0)
    H5Fclose(file);
  if (dxpl >= 0)
    H5Pclose(dxpl);
  if (fapl >= 0)
    H5Pclose(fapl);
  return rc;
}

int sb_h5_write(const char *path, MPI_Comm comm, const sb_h5_run_t *run)
{
  int nranks, rank, ok, all_ok = 0;
  char tmp[4096];
  SB_MPI(MPI_Comm_size(comm, &nranks));
  SB_MPI(MPI_Comm_rank(comm, &rank));
  if (snprintf(tmp, sizeof tmp, "%s.writing", path) >= (int)sizeof tmp)
    return sb_error("HDF5 path too long: %s", path);

  /* HDF5 prints its own error stack by default; our messages name the call. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  ok = write_file(tmp, comm, run, nranks, rank) == SB_OK;
  SB_MPI(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm));
  if (!all_ok) {
    if (ok)
      sb_error("writing %s failed on another rank", path);
    return sb_error_prefix("HDF5 output %s", path);
  }
  if (rank == 0 && rename(tmp, path) != 0)
    ok = 0;
  SB_MPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  if (!ok)
    return sb_error("cannot rename %s to %s", tmp, path);
  return SB_OK;
fail:
  return SB_ERR;
}
