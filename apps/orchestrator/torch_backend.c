/* The TORCH backend plugin: loading it, and running models and scripts
 * through it (torch_backend.h). */
#include "torch_backend.h"

#include "clock.h"
#include "tensor_value.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Written once while the module loads, read-only afterwards. */
static const sbai_torch_api_t *loaded;
static void *library;

int sbai_torch_load(const char *path, int threads, char *err, size_t errlen)
{
  sbai_torch_abi_version_fn version;
  sbai_torch_api_fn get_api;
  const sbai_torch_api_t *api;
  void *lib;
  int v;

  if (loaded) {
    snprintf(err, errlen, "the TORCH backend is loaded already");
    return -1;
  }
  lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(err, errlen, "cannot load the TORCH backend '%.200s': %.300s", path,
             why ? why : "dlopen failed");
    return -1;
  }
  /* A function pointer through an object pointer: what POSIX dlsym gives. */
  *(void **)&version = dlsym(lib, "sbai_torch_abi_version");
  *(void **)&get_api = dlsym(lib, "sbai_torch_api");
  if (!version || !get_api) {
    snprintf(err, errlen, "'%.200s' is not an sbai TORCH backend (no sbai_torch_abi_version or "
             "sbai_torch_api)", path);
    dlclose(lib);
    return -1;
  }
  v = version();
  if (v != SBAI_TORCH_ABI_VERSION) {
    snprintf(err, errlen, "the TORCH backend '%.200s' has ABI version %d; this module needs %d "
             "(rebuild them together)", path, v, SBAI_TORCH_ABI_VERSION);
    dlclose(lib);
    return -1;
  }
  api = get_api();
  if (!api || !api->version || !api->init || !api->model_load || !api->model_run
      || !api->model_free || !api->script_compile || !api->script_count || !api->script_name
      || !api->script_run || !api->script_free) {
    snprintf(err, errlen, "the TORCH backend '%.200s' gave an incomplete function table", path);
    dlclose(lib);
    return -1;
  }
  if (api->init(threads, err, errlen) != 0) {
    dlclose(lib);
    return -1;
  }
  library = lib; /* never closed: libtorch does not unload cleanly */
  loaded = api;
  return 0;
}

const sbai_torch_api_t *sbai_torch(void)
{
  return loaded;
}

const char *sbai_torch_version(void)
{
  return loaded ? loaded->version() : NULL;
}

int sbai_torch_is_zip(const void *blob, size_t len)
{
  return len >= 4 && memcmp(blob, "PK\3\4", 4) == 0;
}

/* ---- running (worker thread) ------------------------------------------------------ */

static void fail(sbai_run_t *run, const char *msg)
{
  run->status = SBAI_RUN_FAILED;
  snprintf(run->err, sizeof run->err, "%s", msg);
}

/* Makes run->out[i] from the plugin's output (whose data it frees). */
static int take_output(sbai_run_t *run, int i, sbai_torch_tensor_t *o, char *err, size_t errlen)
{
  sb_tensor_desc_t desc;
  int64_t one = 1;
  int rc;

  if (o->dtype < 0 || o->dtype >= SB_DTYPE_COUNT) {
    snprintf(err, errlen, "output %d has an unknown dtype code %d", i, o->dtype);
    rc = -1;
  } else {
    /* A scalar (0 dimensions) is stored as a tensor of shape [1]. */
    rc = o->ndims == 0
             ? sb_tensor_desc_init(&desc, (sb_dtype_t)o->dtype, &one, 1, SB_TENSOR_RANK_CAP,
                                   UINT64_MAX, err, errlen)
             : sb_tensor_desc_init(&desc, (sb_dtype_t)o->dtype, o->dims, o->ndims,
                                   SB_TENSOR_RANK_CAP, UINT64_MAX, err, errlen);
    if (rc == 0 && desc.nbytes != o->nbytes) {
      snprintf(err, errlen, "output %d has %zu bytes for %llu expected", i, o->nbytes,
               (unsigned long long)desc.nbytes);
      rc = -1;
    }
  }
  if (rc == 0) {
    run->out_desc[i] = desc;
    run->out[i] = sbai_tensor_new_zeros(&desc);
    if (desc.nbytes)
      memcpy(run->out[i]->owned, o->data, desc.nbytes);
  }
  free(o->data);
  o->data = NULL;
  return rc;
}

void sbai_torch_execute(sbai_run_t *run, void *handle, const char *fn)
{
  sbai_torch_tensor_t in[SBAI_RUN_MAX_IO], out[SBAI_RUN_MAX_IO];
  sbai_torch_str_t *keys = NULL, *args = NULL;
  char err[sizeof run->err - 32] = "";
  uint64_t t0, t1;
  int rc, nkeys = 0;

  run->leader = 1;
  run->batch_total = run->batch;
  if (!loaded || !handle) {
    fail(run, fn ? SBAI_TORCH_MISSING_SCRIPT : SBAI_TORCH_MISSING);
    return;
  }
  memset(in, 0, sizeof in);
  memset(out, 0, sizeof out);
  for (int i = 0; i < run->nin; i++) {
    const sb_tensor_desc_t *d = &run->in_desc[i];
    in[i].dtype = (int)d->dtype;
    in[i].ndims = d->ndims;
    for (int k = 0; k < d->ndims; k++)
      in[i].dims[k] = d->dims[k];
    in[i].data = run->in_data[i];
    in[i].nbytes = (size_t)d->nbytes;
  }
  if (fn) {
    nkeys = run->keys ? run->nkeys : 0;
    keys = malloc(((size_t)nkeys + 1) * sizeof *keys);
    args = malloc(((size_t)run->nargs + 1) * sizeof *args);
    if (!keys || !args) {
      free(keys);
      free(args);
      fail(run, "out of memory for the script's KEYS and ARGS");
      return;
    }
    for (int i = 0; i < nkeys; i++) {
      keys[i].ptr = run->keys[i];
      keys[i].len = run->keys_len[i];
    }
    for (int i = 0; i < run->nargs; i++) {
      args[i].ptr = run->args ? run->args[i] : "";
      args[i].len = run->args ? run->args_len[i] : 0;
    }
  }
  t0 = sbai_now_ns();
  rc = fn ? loaded->script_run(handle, fn, in, run->nin, keys, nkeys, args, run->nargs, out,
                               run->nout, err, sizeof err)
          : loaded->model_run(handle, in, run->nin, out, run->nout, err, sizeof err);
  t1 = sbai_now_ns();
  free(keys);
  free(args);
  run->duration_us = (long long)((t1 - t0) / 1000u);
  if (rc != 0) {
    fail(run, err[0] ? err : "the TORCH backend failed (no reason given)");
    return;
  }
  for (int i = 0; i < run->nout; i++)
    if (rc == 0 && take_output(run, i, &out[i], err, sizeof err) != 0)
      rc = -1;
    else
      free(out[i].data);
  if (rc != 0) {
    for (int i = 0; i < run->nout; i++)
      if (run->out[i]) {
        sbai_tensor_free(run->out[i]);
        run->out[i] = NULL;
      }
    fail(run, err);
    return;
  }
  run->status = SBAI_RUN_DONE;
}
