/* Provenance: the facts that say what produced a result, for /system.
 * Rank 0 collects them (library versions, the host, the database's INFO
 * server section and the module's version) and every rank receives the
 * same list, as the collective HDF5 attribute writes require. */
#ifndef SB_PROV_H
#define SB_PROV_H

#include "sb_db.h"
#include "sb_kv.h"

#include <mpi.h>

/* Fills *system on every rank of comm. db may be NULL (no database facts)
 * and is only used on rank 0. Facts that cannot be read are recorded as
 * "unavailable", not treated as errors. Returns SB_OK or SB_ERR (MPI). */
int sb_prov_collect(MPI_Comm comm, sb_db_t *db, sb_kv_t *system);

#endif
