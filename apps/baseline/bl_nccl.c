#include "bl_nccl.h"

#include "sb_error.h"
#include "sb_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_NCCL
#include <cuda_runtime_api.h>
#include <nccl.h>

struct bl_nccl {
  ncclComm_t comm; /* NULL once aborted */
  int rank, nranks;
};

/* Records a failed NCCL call with NCCL's text for the code and its last
 * error detail. Returns SB_ERR. */
static int nccl_error(const char *file, int line, const char *expr, ncclResult_t r)
{
  const char *detail = ncclGetLastError(NULL);
  return sb_error("%s:%d: %s failed: %s%s%s", file, line, expr, ncclGetErrorString(r),
                  detail && detail[0] ? ": " : "", detail ? detail : "");
}

#define BL_NCCL(expr)                                                         \
  do {                                                                        \
    ncclResult_t bl_r_ = (expr);                                              \
    if (bl_r_ != ncclSuccess)                                                 \
      return nccl_error(__FILE__, __LINE__, #expr, bl_r_);                    \
  } while (0)

#define AS_STREAM(s) ((cudaStream_t)(s))

int bl_nccl_built(void) { return 1; }

int bl_nccl_version(char *buf, size_t len)
{
  int v = 0;
  BL_NCCL(ncclGetVersion(&v));
  /* NCCL's code: major*10000 + minor*100 + patch since 2.9, major*1000 +
   * minor*100 + patch before. */
  if (v >= 20900)
    snprintf(buf, len, "%d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
  else
    snprintf(buf, len, "%d.%d.%d", v / 1000, (v % 1000) / 100, v % 100);
  return SB_OK;
}

int bl_nccl_open(MPI_Comm comm, bl_nccl_t **out)
{
  ncclUniqueId id;
  bl_nccl_t *n;
  int rc;
  *out = NULL;
  n = calloc(1, sizeof *n);
  if (!n)
    return sb_error("out of memory");
  if ((rc = MPI_Comm_rank(comm, &n->rank)) != MPI_SUCCESS ||
      (rc = MPI_Comm_size(comm, &n->nranks)) != MPI_SUCCESS) {
    free(n);
    return sb_error_mpi(__FILE__, __LINE__, "MPI_Comm_rank/size", rc);
  }
  /* Every rank reaches the broadcast, whatever rank 0's ncclGetUniqueId
   * said: a zeroed id then makes every rank's ncclCommInitRank fail rather
   * than leaving them waiting in MPI_Bcast. */
  memset(&id, 0, sizeof id);
  ncclResult_t idr = n->rank == 0 ? ncclGetUniqueId(&id) : ncclSuccess;
  if ((rc = MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, comm)) != MPI_SUCCESS) {
    free(n);
    return sb_error_mpi(__FILE__, __LINE__, "MPI_Bcast(ncclUniqueId)", rc);
  }
  if (idr != ncclSuccess) {
    free(n);
    return nccl_error(__FILE__, __LINE__, "ncclGetUniqueId(&id)", idr);
  }
  ncclResult_t r = ncclCommInitRank(&n->comm, n->nranks, id, n->rank);
  if (r != ncclSuccess) {
    free(n);
    return nccl_error(__FILE__, __LINE__, "ncclCommInitRank(&comm, nranks, id, rank)", r);
  }
  *out = n;
  return SB_OK;
}

int bl_nccl_close(bl_nccl_t *n)
{
  ncclResult_t r = ncclSuccess;
  if (!n)
    return SB_OK;
  if (n->comm)
    r = ncclCommDestroy(n->comm);
  free(n);
  if (r != ncclSuccess)
    return nccl_error(__FILE__, __LINE__, "ncclCommDestroy(comm)", r);
  return SB_OK;
}

/* Waits for stream by polling it and the communicator's asynchronous error
 * (a dead or failing peer surfaces there instead of as a hang). */
static int wait_done(bl_nccl_t *n, void *stream)
{
  for (;;) {
    cudaError_t e = cudaStreamQuery(AS_STREAM(stream));
    ncclResult_t async = ncclSuccess;
    if (e == cudaSuccess)
      return SB_OK;
    if (e != cudaErrorNotReady)
      return sb_error_cuda(__FILE__, __LINE__, "cudaStreamQuery(stream)", (int)e);
    BL_NCCL(ncclCommGetAsyncError(n->comm, &async));
    if (async != ncclSuccess && async != ncclInProgress) {
      int rc = nccl_error(__FILE__, __LINE__, "ncclCommGetAsyncError (asynchronous)", async);
      (void)ncclCommAbort(n->comm);
      n->comm = NULL;
      return rc;
    }
  }
}

#define BL_NEED_COMM(n)                                                       \
  do {                                                                        \
    if (!(n) || !(n)->comm)                                                   \
      return sb_error("NCCL communicator not open (or aborted after an error)"); \
  } while (0)

int bl_nccl_pingpong(bl_nccl_t *n, const void *send, void *recv, size_t bytes, int peer,
                     int first, void *stream)
{
  BL_NEED_COMM(n);
  if (first) {
    BL_NCCL(ncclSend(send, bytes, ncclUint8, peer, n->comm, AS_STREAM(stream)));
    BL_NCCL(ncclRecv(recv, bytes, ncclUint8, peer, n->comm, AS_STREAM(stream)));
  } else {
    BL_NCCL(ncclRecv(recv, bytes, ncclUint8, peer, n->comm, AS_STREAM(stream)));
    BL_NCCL(ncclSend(send, bytes, ncclUint8, peer, n->comm, AS_STREAM(stream)));
  }
  return wait_done(n, stream);
}

int bl_nccl_sendrecv(bl_nccl_t *n, const void *send, void *recv, size_t bytes, int to,
                     int from, void *stream)
{
  ncclResult_t r1, r2, r3;
  BL_NEED_COMM(n);
  BL_NCCL(ncclGroupStart());
  r1 = ncclSend(send, bytes, ncclUint8, to, n->comm, AS_STREAM(stream));
  r2 = ncclRecv(recv, bytes, ncclUint8, from, n->comm, AS_STREAM(stream));
  r3 = ncclGroupEnd(); /* always closes the group, even after a failed call in it */
  if (r1 != ncclSuccess)
    return nccl_error(__FILE__, __LINE__, "ncclSend(send, bytes, ncclUint8, to, comm, stream)",
                      r1);
  if (r2 != ncclSuccess)
    return nccl_error(__FILE__, __LINE__, "ncclRecv(recv, bytes, ncclUint8, from, comm, stream)",
                      r2);
  if (r3 != ncclSuccess)
    return nccl_error(__FILE__, __LINE__, "ncclGroupEnd()", r3);
  return wait_done(n, stream);
}

int bl_nccl_allgather(bl_nccl_t *n, const void *send, void *recv, size_t bytes, void *stream)
{
  BL_NEED_COMM(n);
  BL_NCCL(ncclAllGather(send, recv, bytes, ncclUint8, n->comm, AS_STREAM(stream)));
  return wait_done(n, stream);
}

#else /* !HAVE_NCCL */

#define BL_NCCL_NOT_BUILT                                                     \
  "NCCL was not found at build time (CMake looked for nccl.h and libnccl.so "  \
  "in the CUDA toolkit and /usr/local/cuda/lib); rebuild where NCCL is "     \
  "installed for --device gpu"

int bl_nccl_built(void) { return 0; }

int bl_nccl_version(char *buf, size_t len)
{
  snprintf(buf, len, "none");
  return sb_error("%s", BL_NCCL_NOT_BUILT);
}

int bl_nccl_open(MPI_Comm comm, bl_nccl_t **nccl)
{
  (void)comm;
  *nccl = NULL;
  return sb_error("%s", BL_NCCL_NOT_BUILT);
}

int bl_nccl_close(bl_nccl_t *nccl)
{
  (void)nccl;
  return SB_OK;
}

int bl_nccl_pingpong(bl_nccl_t *nccl, const void *send, void *recv, size_t bytes, int peer,
                     int first, void *stream)
{
  (void)nccl, (void)send, (void)recv, (void)bytes, (void)peer, (void)first, (void)stream;
  return sb_error("%s", BL_NCCL_NOT_BUILT);
}

int bl_nccl_sendrecv(bl_nccl_t *nccl, const void *send, void *recv, size_t bytes, int to,
                     int from, void *stream)
{
  (void)nccl, (void)send, (void)recv, (void)bytes, (void)to, (void)from, (void)stream;
  return sb_error("%s", BL_NCCL_NOT_BUILT);
}

int bl_nccl_allgather(bl_nccl_t *nccl, const void *send, void *recv, size_t bytes,
                      void *stream)
{
  (void)nccl, (void)send, (void)recv, (void)bytes, (void)stream;
  return sb_error("%s", BL_NCCL_NOT_BUILT);
}

#endif /* HAVE_NCCL */
