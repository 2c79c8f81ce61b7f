#include "sb_h5.h"

#include "sb_config.h"
#include "sb_error.h"

#include <hdf5.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define SB_HOSTNAME_MAX 256
/* Attributes rewritten at the end (status, end_utc) have this fixed size. */
#define SB_ATTR_FIXED 32
/* An attribute lives in its object's header: HDF5 caps it at 64 KiB. */
#define SB_ATTR_MAX 65000
/* Samples per chunk of a /timings row (each rank writes its own chunks). */
#define SB_CHUNK_SAMPLES 4096

/* Set when a file was left open after a failed write (see sb_h5_unclosed). */
static int h5_unclosed;

int sb_h5_unclosed(void) { return h5_unclosed; }

struct sb_h5_file {
  char *path;
  MPI_Comm comm;
  int nranks, rank;
  hid_t file, dxpl;
  int nphases;
  int64_t *written; /* per phase: samples of this rank already in the file */
  int64_t *extent;  /* per phase: the dataset's columns now */
  int ncounters;
  char **counter_names;
};

void sb_utc_now(char *buf, size_t len)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Closes every handle of ids[0..n) that is open (>= 0) with the close of its
 * kind: the cleanup on the way out of a function, where a failed close has
 * nothing left to undo (a file is closed where its close is checked). */
static void close_ids(const hid_t *ids, size_t n)
{
  for (size_t k = 0; k < n; k++) {
    if (ids[k] < 0)
      continue;
    switch (H5Iget_type(ids[k])) {
    case H5I_GROUP: H5Gclose(ids[k]); break;
    case H5I_DATATYPE: H5Tclose(ids[k]); break;
    case H5I_DATASPACE: H5Sclose(ids[k]); break;
    case H5I_DATASET: H5Dclose(ids[k]); break;
    case H5I_ATTR: H5Aclose(ids[k]); break;
    case H5I_GENPROP_LST: H5Pclose(ids[k]); break;
    default: break;
    }
  }
}
#define CLOSE(...) \
  close_ids((const hid_t[]){__VA_ARGS__}, sizeof((const hid_t[]){__VA_ARGS__}) / sizeof(hid_t))

/* A NUL-terminated string type of size bytes, or -1 (message set). */
static hid_t str_type(size_t size)
{
  hid_t type = -1;
  SB_H5(type = H5Tcopy(H5T_C_S1));
  SB_H5(H5Tset_size(type, size));
  SB_H5(H5Tset_strpad(type, H5T_STR_NULLTERM));
  return type;
fail:
  CLOSE(type);
  return -1;
}

/* A scalar attribute of type (a number, or a string of str_type). */
static int attr_scalar(hid_t obj, const char *name, hid_t type, const void *value)
{
  hid_t space = -1, attr = -1;
  int rc = SB_ERR;
  SB_H5(space = H5Screate(H5S_SCALAR));
  SB_H5(attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  SB_H5(H5Awrite(attr, type, value));
  rc = SB_OK;
fail:
  CLOSE(attr, space);
  return rc == SB_OK ? SB_OK : sb_error_prefix("attribute %s", name);
}

/* A string attribute of the value's size, or of `fixed` bytes (0: the
 * value's) so that it can be rewritten later with attr_str_rewrite. */
static int attr_str_sized(hid_t obj, const char *name, const char *value, size_t fixed)
{
  hid_t type;
  int rc;
  size_t len = strlen(value);
  char *buf = NULL;
  if (len > SB_ATTR_MAX) {
    return sb_error("attribute %s is %zu bytes; an HDF5 attribute holds at most %d (shorten the "
                    "value)",
                    name, len, SB_ATTR_MAX);
  }
  if (fixed) {
    if (len >= fixed)
      return sb_error("attribute %s: value of %zu bytes exceeds its %zu", name, len, fixed);
    if (!(buf = calloc(fixed, 1)))
      return sb_error("out of memory");
    memcpy(buf, value, len);
    value = buf;
  }
  type = str_type(fixed ? fixed : len > 0 ? len + 1 : 1);
  rc = type < 0 ? sb_error_prefix("attribute %s", name) : attr_scalar(obj, name, type, value);
  CLOSE(type);
  free(buf);
  return rc;
}

static int attr_str(hid_t obj, const char *name, const char *value)
{
  return attr_str_sized(obj, name, value, 0);
}

/* Rewrites a string attribute made by attr_str_sized with fixed size. */
static int attr_str_rewrite(hid_t obj, const char *name, const char *value)
{
  hid_t attr = -1, type = -1;
  char buf[SB_ATTR_FIXED];
  int rc = SB_ERR;
  memset(buf, 0, sizeof buf);
  snprintf(buf, sizeof buf, "%s", value);
  SB_H5(attr = H5Aopen(obj, name, H5P_DEFAULT));
  SB_H5(type = H5Aget_type(attr));
  if (H5Tget_size(type) != SB_ATTR_FIXED) {
    sb_error("unexpected size");
    goto fail;
  }
  SB_H5(H5Awrite(attr, type, buf));
  rc = SB_OK;
fail:
  CLOSE(type, attr);
  return rc == SB_OK ? SB_OK : sb_error_prefix("attribute %s", name);
}

static int attrs_from_kv(hid_t obj, const sb_kv_t *kv)
{
  for (size_t k = 0; kv && k < kv->n; k++) {
    const sb_kv_item_t *it = &kv->items[k];
    int rc = it->type == SB_KV_STR   ? attr_str(obj, it->name, it->s)
             : it->type == SB_KV_INT ? attr_scalar(obj, it->name, H5T_NATIVE_INT64, &it->i)
                                     : attr_scalar(obj, it->name, H5T_NATIVE_DOUBLE, &it->d);
    if (rc != SB_OK)
      return SB_ERR;
  }
  return SB_OK;
}


/* Every rank's verdict on a step it just took: 1 on every rank when all
 * succeeded. A rank that failed keeps its message; the others get one that
 * says a peer failed. This is what keeps a rank from entering the next
 * collective HDF5/MPI-IO call alone. */
static int agree(MPI_Comm comm, int ok)
{
  int all = 0;
  if (MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) {
    sb_error("MPI_Allreduce (agreeing on an HDF5 step) failed");
    return 0;
  }
  if (!all && ok)
    sb_error("another rank failed to write the file");
  return all;
}

/* Creates loc/name: type, dims[ndims] (maxdims NULL: fixed), chunked by
 * chunk (NULL: contiguous), every chunk allocated and written now with
 * *fill (NULL: HDF5's default, zero). *out: the open dataset, or -1. */
static int create_filled(hid_t loc, const char *name, hid_t type, int ndims, const hsize_t *dims,
                         const hsize_t *maxdims, const hsize_t *chunk, const void *fill,
                         hid_t *out)
{
  hid_t space = -1, dcpl = -1;
  int rc = SB_ERR;
  *out = -1;
  SB_H5(space = H5Screate_simple(ndims, dims, maxdims));
  SB_H5(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  if (chunk)
    SB_H5(H5Pset_chunk(dcpl, ndims, chunk));
  SB_H5(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
  SB_H5(H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC));
  if (fill)
    SB_H5(H5Pset_fill_value(dcpl, type, fill));
  SB_H5(*out = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  rc = SB_OK;
fail:
  CLOSE(dcpl, space);
  return rc;
}

/* Creates a 1-D [nranks] dataset (counters, hostname, device). */
static int create_ranks_dset(hid_t loc, const char *name, hid_t type, int nranks, hid_t *out)
{
  hsize_t dims[1] = {(hsize_t)nranks};
  if (create_filled(loc, name, type, 1, dims, NULL, NULL, NULL, out) != SB_OK)
    return sb_error_prefix("dataset %s", name);
  return SB_OK;
}

/* Writes the block count[ndims] at start of dset from buf with independent
 * I/O: no rank waits inside HDF5 for another's write, so one rank's failure
 * (a full disk) cannot leave the others in a collective; the caller agrees
 * on the outcome. dset may be -1: this rank failed to open it. */
static int write_block(hid_t dset, hid_t type, hid_t dxpl, int ndims, const hsize_t *start,
                       const hsize_t *count, const void *buf)
{
  hid_t fspace = -1, mspace = -1;
  int ok = dset >= 0 && (fspace = H5Dget_space(dset)) >= 0 &&
           H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
           (mspace = H5Screate_simple(ndims, count, NULL)) >= 0;
  if (!ok)
    sb_error("preparing the write failed");
  else if (!(ok = H5Dwrite(dset, type, mspace, fspace, dxpl, buf) >= 0))
    sb_error("H5Dwrite failed");
  CLOSE(mspace, fspace);
  return ok ? SB_OK : SB_ERR;
}

/* This rank's element of a 1-D [nranks] dataset (write_block). */
static int write_rank_elem(hid_t dset, hid_t type, hid_t dxpl, int rank, const void *value,
                           const char *name)
{
  hsize_t start[1] = {(hsize_t)rank}, count[1] = {1};
  if (write_block(dset, type, dxpl, 1, start, count, value) != SB_OK)
    return sb_error_prefix("dataset %s", name);
  return SB_OK;
}

/* /timings/<phase>: [nranks][0] at creation, extended at every checkpoint
 * to the longest row; chunked by row so that every rank writes its own
 * chunks; chunks are allocated when the extent grows (collectively). */
static int create_phase(hid_t grp, const sb_phase_t *p, int nranks)
{
  hid_t dset;
  hsize_t dims[2] = {(hsize_t)nranks, (hsize_t)p->cap};
  hsize_t maxdims[2] = {(hsize_t)nranks, H5S_UNLIMITED};
  hsize_t chunk[2] = {1, (hsize_t)(p->cap < 1 ? 1 : p->cap < SB_CHUNK_SAMPLES ? p->cap
                                                                                : SB_CHUNK_SAMPLES)};
  double nan = NAN;
  int64_t b = (int64_t)p->bytes_per_sample, it = (int64_t)p->items_per_sample;
  int ok;
  /* Every chunk of a full run allocated and written (NaN) now, while the
   * space check's verdict holds: the run's checkpoints then only overwrite
   * (no file growth, no metadata change, nothing to fail on a disk that
   * others fill meanwhile). */
  ok = create_filled(grp, p->name, H5T_NATIVE_DOUBLE, 2, dims, maxdims, chunk, &nan, &dset) ==
           SB_OK &&
       attr_str(dset, "units", "s") == SB_OK &&
       attr_scalar(dset, "bytes_per_sample", H5T_NATIVE_INT64, &b) == SB_OK &&
       attr_scalar(dset, "items_per_sample", H5T_NATIVE_INT64, &it) == SB_OK;
  CLOSE(dset);
  return ok ? SB_OK : sb_error_prefix("/timings/%s", p->name);
}

/* Writes columns [from, most) of this rank's row: its samples, then NaN up
 * to the dataset's extent `most` (the padding of a shorter row; later
 * samples overwrite it). Independent I/O; the caller agrees. */
static int write_phase_tail(hid_t grp, const sb_phase_t *p, int64_t from, int64_t most,
                            hid_t dxpl, int rank)
{
  hid_t dset = -1;
  int64_t n = most - from;
  hsize_t start[2] = {(hsize_t)rank, (hsize_t)from}, count[2] = {1, (hsize_t)(n > 0 ? n : 1)};
  double *row = NULL;
  int ok = 1;
  if (n > 0) {
    ok = (row = malloc((size_t)n * sizeof *row)) != NULL;
    if (!ok)
      sb_error("out of memory for %lld samples", (long long)n);
    for (int64_t k = 0; ok && k < n; k++)
      row[k] = from + k < p->n ? p->samples[from + k] : NAN;
    if (ok) {
      dset = H5Dopen2(grp, p->name, H5P_DEFAULT);
      ok = write_block(dset, H5T_NATIVE_DOUBLE, dxpl, 2, start, count, row) == SB_OK;
    }
  }
  free(row);
  CLOSE(dset);
  return ok ? SB_OK : sb_error_prefix("/timings/%s", p->name);
}

/* Sets /timings/<phase> to [nranks][most] columns (collective). */
static int extend_phase(hid_t grp, const char *name, int64_t most)
{
  hid_t dset = -1, space = -1;
  hsize_t dims[2];
  int rc = SB_ERR;
  SB_H5(dset = H5Dopen2(grp, name, H5P_DEFAULT));
  SB_H5(space = H5Dget_space(dset));
  SB_H5(H5Sget_simple_extent_dims(space, dims, NULL));
  if ((hsize_t)most != dims[1]) {
    dims[1] = (hsize_t)most;
    SB_H5(H5Dset_extent(dset, dims));
  }
  rc = SB_OK;
fail:
  CLOSE(space, dset);
  if (rc != SB_OK)
    sb_error_prefix("/timings/%s (extending to %lld samples)", name, (long long)most);
  return rc;
}

/* Creates group /name with the attributes kv (NULL: none): the group, or -1
 * with the message set. Local: the caller agrees. */
static hid_t new_group(hid_t file, const char *name, const sb_kv_t *kv)
{
  hid_t grp = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (grp < 0) {
    sb_error("cannot create group /%s", name);
  } else if (attrs_from_kv(grp, kv) != SB_OK) {
    H5Gclose(grp);
    grp = -1;
  }
  return grp;
}

/* /metrics: every rank creates each dataset (collective metadata), rank 0
 * writes all of it; every step is agreed among ranks. */
static int write_metrics(hid_t file, const sb_h5_metrics_t *m, hid_t dxpl, MPI_Comm comm,
                         int rank)
{
  hid_t grp, space = -1, dset = -1;
  hsize_t dims[2] = {(hsize_t)m->nrows, (hsize_t)m->ncols};
  int ok = (grp = new_group(file, "metrics", m->attrs)) >= 0;
  if (!agree(comm, ok))
    goto fail;
  for (int k = 0; k < m->nseries; k++) {
    ok = (space = H5Screate_simple(2, dims, NULL)) >= 0 &&
         (dset = H5Dcreate2(grp, m->names[k], H5T_NATIVE_DOUBLE, space, H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT)) >= 0;
    if (!ok)
      sb_error("cannot create dataset %s", m->names[k]);
    CLOSE(space);
    space = -1;
    if (!agree(comm, ok))
      goto fail;
    if (m->nrows > 0 && m->ncols > 0) {
      /* rank 0 alone (independent I/O: nobody waits in HDF5 for it) */
      ok = rank != 0 || H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl,
                                 m->data + (size_t)k * (size_t)(m->nrows * m->ncols)) >= 0;
      if (!ok)
        sb_error("H5Dwrite of %s failed", m->names[k]);
      if (!agree(comm, ok))
        goto fail;
    }
    ok = attr_str(dset, "units", m->units[k]) == SB_OK;
    if (!agree(comm, ok))
      goto fail;
    H5Dclose(dset);
    dset = -1;
  }
  H5Gclose(grp);
  return SB_OK;
fail:
  CLOSE(dset, grp);
  return sb_error_prefix("/metrics");
}

static void file_free(sb_h5_file_t *f)
{
  if (!f)
    return;
  if (f->dxpl >= 0)
    H5Pclose(f->dxpl);
  for (int k = 0; f->counter_names && k < f->ncounters; k++)
    free(f->counter_names[k]);
  free(f->counter_names);
  free(f->written);
  free(f->extent);
  free(f->path);
  free(f);
}

/* Collective: /ranks/<name> [nranks] of type (in grp), this rank's element
 * value written; each step agreed. ok: 0 when this rank has already failed
 * (message set). */
static int create_rank_value(sb_h5_file_t *f, hid_t grp, int ok, const char *name, hid_t type,
                             const void *value)
{
  hid_t dset = -1;
  ok = ok && create_ranks_dset(grp, name, type, f->nranks, &dset) == SB_OK;
  if (!agree(f->comm, ok)) {
    CLOSE(dset);
    return SB_ERR;
  }
  ok = write_rank_elem(dset, type, f->dxpl, f->rank, value, name) == SB_OK;
  H5Dclose(dset);
  return agree(f->comm, ok) ? SB_OK : SB_ERR;
}

/* Everything that exists before the loop, each step agreed among ranks. */
static int create_contents(sb_h5_file_t *f, const sb_h5_run_t *run)
{
  hid_t grp = -1, strtype = -1, dset = -1;
  int64_t schema_version = SB_H5_SCHEMA_VERSION, nr = f->nranks;
  int32_t dev = run->device;
  char host[SB_HOSTNAME_MAX];
  int ok;

  ok = attr_str(f->file, "schema", SB_H5_SCHEMA) == SB_OK &&
       attr_scalar(f->file, "schema_version", H5T_NATIVE_INT64, &schema_version) == SB_OK &&
       attr_str(f->file, "app", run->app) == SB_OK &&
       (!run->latency_phase || attr_str(f->file, "latency_phase", run->latency_phase) == SB_OK) &&
       (!run->rate_phase || attr_str(f->file, "rate_phase", run->rate_phase) == SB_OK) &&
       attr_str(f->file, "version", SB_VERSION) == SB_OK &&
       attr_str(f->file, "git_commit", SB_GIT_COMMIT) == SB_OK &&
       attr_str(f->file, "command_line", run->command_line) == SB_OK &&
       attr_str(f->file, "start_utc", run->start_utc) == SB_OK &&
       attr_str_sized(f->file, "end_utc", "", SB_ATTR_FIXED) == SB_OK &&
       attr_scalar(f->file, "nranks", H5T_NATIVE_INT64, &nr) == SB_OK &&
       attr_str_sized(f->file, "status", "running", SB_ATTR_FIXED) == SB_OK;
  if (!agree(f->comm, ok))
    return SB_ERR;

  ok = (grp = new_group(f->file, "params", run->params)) >= 0;
  CLOSE(grp);
  if (!agree(f->comm, ok))
    return sb_error_prefix("/params");
  ok = (grp = new_group(f->file, "system", run->system)) >= 0;
  CLOSE(grp);
  if (!agree(f->comm, ok))
    return sb_error_prefix("/system");

  /* /ranks: hostname and device now, the counters at every checkpoint. */
  memset(host, 0, sizeof host);
  snprintf(host, sizeof host, "%s", run->hostname);
  ok = (grp = new_group(f->file, "ranks", NULL)) >= 0 &&
       (strtype = str_type(SB_HOSTNAME_MAX)) >= 0;
  if (!ok)
    sb_error("cannot create group /ranks");
  if (create_rank_value(f, grp, ok, "hostname", strtype, host) != SB_OK ||
      create_rank_value(f, grp, 1, "device", H5T_NATIVE_INT32, &dev) != SB_OK)
    goto fail;
  ok = 1;
  for (int k = 0; k < run->n_rank_counters && ok; k++) {
    ok = create_ranks_dset(grp, run->rank_counter_names[k], H5T_NATIVE_INT64, f->nranks,
                           &dset) == SB_OK;
    CLOSE(dset);
    dset = -1;
  }
  if (!agree(f->comm, ok))
    goto fail;
  H5Gclose(grp);

  ok = (grp = new_group(f->file, "timings", NULL)) >= 0;
  for (int k = 0; ok && k < run->timings->n; k++) {
    ok = create_phase(grp, &run->timings->phases[k], f->nranks) == SB_OK;
    f->extent[k] = run->timings->phases[k].cap;
  }
  if (!agree(f->comm, ok))
    goto fail;
  H5Gclose(grp);
  H5Tclose(strtype);
  return SB_OK;
fail:
  CLOSE(grp, strtype);
  return SB_ERR;
}

/* The directory that holds path ("." for a bare name), malloc'd; NULL when
 * out of memory (error set). */
static char *dir_of(const char *path)
{
  char *dir = strdup(path), *slash;
  if (!dir) {
    sb_error("out of memory");
    return NULL;
  }
  slash = strrchr(dir, '/');
  if (!slash)
    strcpy(dir, ".");
  else if (slash == dir)
    slash[1] = '\0';
  else
    *slash = '\0';
  return dir;
}

/* Bytes free to this user on the filesystem that holds path: SB_OK with
 * *bytes set, SB_ERR when unknown (out of memory, statvfs failed). */
static int free_bytes(const char *path, double *bytes)
{
  struct statvfs vfs;
  char *dir = dir_of(path);
  int rc;
  if (!dir)
    return SB_ERR;
  rc = statvfs(dir, &vfs);
  free(dir);
  if (rc != 0)
    return SB_ERR;
  *bytes = (double)vfs.f_bavail * (double)vfs.f_frsize;
  return SB_OK;
}

/* Rank 0: the file at the end of a full run (every phase full, plus room
 * for metadata and /metrics) must fit in the free space of its
 * filesystem, or the run would end without its samples. */
static int check_space(const char *path, const sb_h5_run_t *run, int nranks)
{
  double need = 512 << 10, have; /* metadata, a short /metrics */
  /* rows are allocated in whole chunks */
  for (int k = 0; k < run->timings->n; k++) {
    int64_t cap = run->timings->phases[k].cap;
    int64_t chunk = cap < 1 ? 1 : cap < SB_CHUNK_SAMPLES ? cap : SB_CHUNK_SAMPLES;
    need += 8.0 * (double)nranks * (double)((cap + chunk - 1) / chunk * chunk);
  }
  if (free_bytes(path, &have) != SB_OK) {
    sb_error_clear();
    return SB_OK; /* nothing to say; H5Fcreate will */
  }
  if (need > have)
    return sb_error("a full run needs about %.1f MB for its samples, the filesystem has %.1f MB "
                    "free (fewer --iterations, or another --out)",
                    need / 1e6, have / 1e6);
  return SB_OK;
}

int sb_h5_create(const char *path, MPI_Comm comm, const sb_h5_run_t *run, sb_h5_file_t **out)
{
  sb_h5_file_t *f = calloc(1, sizeof *f);
  hid_t fapl = -1;
  int ok = f != NULL;
  *out = NULL;
  /* HDF5 prints its own error stack by default; our messages name the call. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (!ok) {
    sb_error("out of memory");
  } else {
    f->file = f->dxpl = -1;
    f->comm = comm;
    f->nphases = run->timings->n;
    f->ncounters = run->n_rank_counters;
    ok = MPI_Comm_size(comm, &f->nranks) == MPI_SUCCESS &&
         MPI_Comm_rank(comm, &f->rank) == MPI_SUCCESS;
    ok = ok && (f->path = strdup(path)) != NULL &&
         (f->written = calloc((size_t)(f->nphases + 1), sizeof *f->written)) != NULL &&
         (f->extent = calloc((size_t)(f->nphases + 1), sizeof *f->extent)) != NULL &&
         (f->counter_names = calloc((size_t)(f->ncounters + 1), sizeof *f->counter_names)) !=
             NULL;
    for (int k = 0; ok && k < f->ncounters; k++)
      ok = (f->counter_names[k] = strdup(run->rank_counter_names[k])) != NULL;
    if (!ok)
      sb_error("out of memory");
    ok = ok && (fapl = H5Pcreate(H5P_FILE_ACCESS)) >= 0 &&
         H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) >= 0 &&
         (f->dxpl = H5Pcreate(H5P_DATASET_XFER)) >= 0 &&
         H5Pset_dxpl_mpio(f->dxpl, H5FD_MPIO_INDEPENDENT) >= 0;
  }
  if (!agree(comm, ok))
    goto fail;
  if (f->rank == 0)
    ok = check_space(path, run, f->nranks) == SB_OK;
  if (!agree(comm, ok))
    goto fail;
  /* Every rank calls H5Fcreate (collective); the result is agreed. */
  f->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  ok = f->file >= 0;
  if (!ok)
    sb_error("cannot create the file (%s)", strerror(errno ? errno : EIO));
  if (!agree(comm, ok))
    goto fail;
  H5Pclose(fapl);
  fapl = -1;
  if (create_contents(f, run) != SB_OK)
    goto fail;
  /* Everything so far on disk: a reader can open the file from now on. */
  ok = H5Fflush(f->file, H5F_SCOPE_GLOBAL) >= 0;
  if (!ok)
    sb_error("H5Fflush failed");
  if (!agree(comm, ok))
    goto fail;
  *out = f;
  return SB_OK;
fail:
  sb_error_prefix("HDF5 output %s", path);
  CLOSE(fapl);
  if (f && f->file >= 0) {
    H5Fclose(f->file);
    if (f->rank == 0)
      unlink(path); /* never usable: nothing of a run is lost */
  }
  file_free(f);
  return SB_ERR;
}

/* Collective: cuts every phase k to want[k] columns (the longest row) and
 * flushes (the metadata changed). Agreed: the same on every rank. A failed
 * step is not cut short, so every rank makes the same collective calls. */
static int cut_all(sb_h5_file_t *f, const sb_h5_run_t *run, const int64_t *want)
{
  hid_t grp = -1;
  int ok = (grp = H5Gopen2(f->file, "timings", H5P_DEFAULT)) >= 0;
  for (int k = 0; k < f->nphases; k++)
    if (want[k] != f->extent[k]) {
      ok = grp >= 0 && extend_phase(grp, run->timings->phases[k].name, want[k]) == SB_OK && ok;
      f->extent[k] = want[k];
    }
  if (H5Fflush(f->file, H5F_SCOPE_GLOBAL) < 0 && ok) {
    sb_error("H5Fflush failed");
    ok = 0;
  }
  ok = agree(f->comm, ok);
  CLOSE(grp);
  return ok ? SB_OK : SB_ERR;
}

/* Local: this rank's samples recorded since the last write, and its
 * counters (independent I/O, no collective). The extents must already hold
 * them. */
static int write_samples(sb_h5_file_t *f, const sb_h5_run_t *run)
{
  hid_t grp = -1, rgrp = -1, dset = -1;
  int64_t *upto;
  int ok;
  if (run->timings->n != f->nphases || run->n_rank_counters != f->ncounters)
    return sb_error("internal: the phases or counters changed after the file was created");
  if (!(upto = calloc((size_t)f->nphases + 1, sizeof *upto)))
    return sb_error("out of memory");
  ok = (grp = H5Gopen2(f->file, "timings", H5P_DEFAULT)) >= 0;
  /* Up to the extent: samples beyond it (recorded since the agreement
   * that sized it) go with the next checkpoint. */
  for (int k = 0; ok && k < f->nphases; k++) {
    const sb_phase_t *p = &run->timings->phases[k];
    upto[k] = p->n < f->extent[k] ? p->n : f->extent[k];
    if (upto[k] > f->written[k])
      ok = write_phase_tail(grp, p, f->written[k], upto[k], f->dxpl, f->rank) == SB_OK;
  }
  ok = ok && (rgrp = H5Gopen2(f->file, "ranks", H5P_DEFAULT)) >= 0;
  for (int k = 0; ok && k < f->ncounters; k++) {
    dset = H5Dopen2(rgrp, f->counter_names[k], H5P_DEFAULT);
    ok = write_rank_elem(dset, H5T_NATIVE_INT64, f->dxpl, f->rank, &run->rank_counters[k],
                         f->counter_names[k]) == SB_OK;
    CLOSE(dset);
  }
  if (ok)
    for (int k = 0; k < f->nphases; k++)
      f->written[k] = upto[k];
  CLOSE(grp, rgrp);
  free(upto);
  return ok ? SB_OK : SB_ERR;
}

int sb_h5_checkpoint(sb_h5_file_t *f, const sb_h5_run_t *run)
{
  if (write_samples(f, run) != SB_OK) {
    sb_error_prefix("checkpoint of %s (rank %d)", f->path, f->rank);
    return SB_H5_RETRY;
  }
  return SB_OK;
}

/* Rank 0: room for what the last write adds (/metrics, metadata)? On a full
 * disk HDF5's parallel metadata flush can leave ranks waiting for each
 * other, so the last write is not tried without it. */
static int check_final_space(const sb_h5_file_t *f, const sb_h5_run_t *run)
{
  double need = 256 << 10, have;
  if (free_bytes(f->path, &have) != SB_OK) {
    sb_error_clear();
    return SB_OK;
  }
  if (run->metrics)
    need += 8.0 * run->metrics->nseries * (double)run->metrics->nrows * (double)run->metrics->ncols;
  if (have < need)
    return sb_error("the last write needs about %.2f MB, the filesystem has %.2f MB free", need / 1e6,
                    have / 1e6);
  return SB_OK;
}

void sb_h5_abandon(sb_h5_file_t *f)
{
  if (!f)
    return;
  /* Abandoned after a failed collective step: closing could hang (see
   * sb_h5_finish), so the file stays open and as the last flush left it. */
  if (f->file >= 0)
    h5_unclosed = 1;
  f->file = -1;
  file_free(f);
}

int sb_h5_finish(sb_h5_file_t *f, const sb_h5_run_t *run)
{
  int64_t *mine = calloc((size_t)f->nphases + 1, sizeof *mine);
  int64_t *want = calloc((size_t)f->nphases + 1, sizeof *want);
  int ok = mine && want, rc = SB_ERR;
  if (!ok)
    sb_error("out of memory");
  /* The samples are in the file (every chunk was allocated at creation);
   * only the last write's metadata could want more space. */
  ok = ok && write_samples(f, run) == SB_OK;
  if (ok && f->rank == 0)
    ok = check_final_space(f, run) == SB_OK;
  if (!agree(f->comm, ok)) {
    h5_unclosed = 1; /* closing would flush, which is what cannot be done */
    goto fail;
  }
  /* The rows' common length: the longest any rank recorded. */
  for (int k = 0; k < f->nphases; k++)
    mine[k] = run->timings->phases[k].n;
  if (MPI_Allreduce(mine, want, f->nphases, MPI_INT64_T, MPI_MAX, f->comm) != MPI_SUCCESS) {
    sb_error("MPI_Allreduce (row lengths) failed");
    goto fail;
  }
  if (cut_all(f, run, want) != SB_OK)
    goto fail;
  if (run->metrics) {
    if (write_metrics(f->file, run->metrics, f->dxpl, f->comm, f->rank) != SB_OK)
      goto fail;
  }
  /* The status last: a file that says complete has everything. */
  ok = attr_str_rewrite(f->file, "end_utc", run->end_utc) == SB_OK &&
       attr_str_rewrite(f->file, "status", run->status) == SB_OK;
  if (!agree(f->comm, ok))
    goto fail;
  ok = H5Fclose(f->file) >= 0;
  f->file = -1;
  if (!ok) {
    /* HDF5 keeps a file whose close failed, and tries again (and crashes)
     * at MPI_Finalize. */
    sb_error("closing the file failed");
    h5_unclosed = 1;
  }
  if (!agree(f->comm, ok))
    goto fail;
  rc = SB_OK;
fail:
  if (rc != SB_OK)
    sb_error_prefix("final write of %s", f->path);
  free(mine);
  free(want);
  /* After a failed write, H5Fclose flushes again, and on a full disk its
   * ranks part ways inside HDF5 (one in a barrier, one in a broadcast):
   * the file is left as the last flush made it, and open. */
  sb_h5_abandon(f);
  return rc;
}

const char *sb_h5_path(const sb_h5_file_t *f) { return f->path; }

int sb_h5_write(const char *path, MPI_Comm comm, const sb_h5_run_t *run)
{
  sb_h5_file_t *f = NULL;
  if (sb_h5_create(path, comm, run, &f) != SB_OK)
    return SB_ERR;
  return sb_h5_finish(f, run);
}

int sb_h5_check_path(const char *path)
{
  char *dir;
  struct stat st;
  int rc = SB_ERR;
  if (!path || !*path)
    return sb_error("--out is empty (give a file name, e.g. --out run.h5)");
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return sb_error("--out %s is a directory (give a file name)", path);
  if (!(dir = dir_of(path)))
    return SB_ERR;
  if (stat(dir, &st) != 0) {
    sb_error("--out %s: directory %s does not exist", path, dir);
    goto done;
  }
  if (!S_ISDIR(st.st_mode)) {
    sb_error("--out %s: %s is not a directory", path, dir);
    goto done;
  }
  if (access(dir, W_OK) != 0) {
    sb_error("--out %s: directory %s is not writable (%s)", path, dir, strerror(errno));
    goto done;
  }
  if (access(path, F_OK) == 0 && access(path, W_OK) != 0) {
    sb_error("--out %s: the file exists and is not writable (%s)", path, strerror(errno));
    goto done;
  }
  rc = SB_OK;
done:
  free(dir);
  return rc;
}
