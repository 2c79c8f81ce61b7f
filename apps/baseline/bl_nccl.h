/* sb-baseline's NCCL transport (--device gpu): one communicator over the
 * app's ranks, one GPU each, and the three operations the baseline times.
 *
 * Built with NCCL when CMake found nccl.h and libnccl.so (HAVE_NCCL 1);
 * otherwise every function returns SB_ERR "NCCL was not found at build
 * time", so the app needs no #if of its own. Functions return SB_OK or
 * SB_ERR with the message set (sb_error.h), naming the failing NCCL or CUDA
 * call and, for NCCL, its error string and last error detail.
 *
 * Every operation is enqueued on the caller's stream and waited for before
 * it returns (polling the stream and the communicator's asynchronous error,
 * as nccl-tests does), so a timer around the call measures the whole
 * transfer, and a peer that fails is an error, not a hang.
 */
#ifndef BL_NCCL_H
#define BL_NCCL_H

#include <mpi.h>
#include <stddef.h>

typedef struct bl_nccl bl_nccl_t;

/* 1 when this binary was built with NCCL, else 0. */
int bl_nccl_built(void);

/* The NCCL library's version as loaded at run time ("2.21.5"). */
int bl_nccl_version(char *buf, size_t len);

/* Collective over comm: rank 0 makes the unique id, MPI_Bcast hands it to
 * every rank, and each rank joins the communicator on its current CUDA
 * device (set by sb_gpu_place before). */
int bl_nccl_open(MPI_Comm comm, bl_nccl_t **nccl);

/* Releases the communicator (NULL accepted): SB_OK, or SB_ERR when
 * ncclCommDestroy fails (the memory is released either way). */
int bl_nccl_close(bl_nccl_t *nccl);

/* Ping-pong with peer: the rank with first=1 sends bytes then receives
 * them back; its peer receives, then sends. One call is the round trip. */
int bl_nccl_pingpong(bl_nccl_t *nccl, const void *send, void *recv, size_t bytes, int peer,
                     int first, void *stream);

/* Sends bytes to rank `to` and receives bytes from rank `from` in one NCCL
 * group (nccl-tests' sendrecv); to == from == self works on one rank. */
int bl_nccl_sendrecv(bl_nccl_t *nccl, const void *send, void *recv, size_t bytes, int to,
                     int from, void *stream);

/* All-gather: every rank contributes bytes; recv (nranks x bytes) gets rank
 * r's at offset r x bytes. */
int bl_nccl_allgather(bl_nccl_t *nccl, const void *send, void *recv, size_t bytes,
                      void *stream);

#endif
