#include "sb_prov.h"

#include "sb_config.h"
#include "sb_error.h"

#include <hdf5.h>
#include <hiredis/hiredis.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The doctor's JSON (stagebench doctor --json) is one string attribute of
 * /system. Attributes live in the group's object header, which the default
 * HDF5 file format limits to 64 KiB in all: a larger file is not copied. */
#define SB_DOCTOR_JSON_MAX (48 * 1024)

static void cpu_model(char *buf, size_t len)
{
  char line[512];
  FILE *f = fopen("/proc/cpuinfo", "r");
  snprintf(buf, len, "unavailable");
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      char *colon = strchr(line, ':');
      if (colon) {
        colon += 2;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(buf, len, "%s", colon);
      }
      break;
    }
  }
  fclose(f);
}

/* /system "doctor": the content of the file SB_DOCTOR_JSON names (written by
 * `stagebench run`), or "unavailable: why" when it cannot be read. Nothing
 * when SB_DOCTOR_JSON is unset (an app launched without the front end). */
static void doctor_json(sb_kv_t *kv)
{
  const char *path = getenv("SB_DOCTOR_JSON");
  char why[512], *text = NULL;
  struct stat st;
  FILE *f;
  size_t got;
  if (!path || !*path)
    return;
  f = fopen(path, "r");
  if (!f) {
    snprintf(why, sizeof why, "unavailable: SB_DOCTOR_JSON %s: %s", path, strerror(errno));
    goto unavailable;
  }
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, sizeof why, "unavailable: SB_DOCTOR_JSON %s is not a regular file", path);
    goto unavailable;
  }
  if (st.st_size > SB_DOCTOR_JSON_MAX) {
    snprintf(why, sizeof why, "unavailable: SB_DOCTOR_JSON %s holds %lld bytes, more than %d",
             path, (long long)st.st_size, SB_DOCTOR_JSON_MAX);
    goto unavailable;
  }
  /* One byte more than the limit, so that a file growing under us shows. */
  text = malloc(SB_DOCTOR_JSON_MAX + 2);
  if (!text) {
    snprintf(why, sizeof why, "unavailable: out of memory");
    goto unavailable;
  }
  got = fread(text, 1, SB_DOCTOR_JSON_MAX + 1, f);
  if (ferror(f) || got > SB_DOCTOR_JSON_MAX) {
    snprintf(why, sizeof why, "unavailable: SB_DOCTOR_JSON %s: read error or over %d bytes", path,
             SB_DOCTOR_JSON_MAX);
    goto unavailable;
  }
  text[got] = '\0';
  while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == '\r'))
    text[--got] = '\0';
  sb_kv_set_str(kv, "doctor", text);
  free(text);
  fclose(f);
  return;
unavailable:
  free(text);
  if (f)
    fclose(f);
  sb_kv_set_str(kv, "doctor", why);
}

static int local_facts(sb_kv_t *kv)
{
  char buf[MPI_MAX_LIBRARY_VERSION_STRING + 1];
  int len = 0, major = 0, minor = 0;
  unsigned hmaj, hmin, hrel;
  struct utsname u;

  if (MPI_Get_library_version(buf, &len) == MPI_SUCCESS) {
    buf[strcspn(buf, "\n")] = '\0';
    sb_kv_set_str(kv, "mpi_library", buf);
  }
  if (MPI_Get_version(&major, &minor) == MPI_SUCCESS) {
    snprintf(buf, sizeof buf, "%d.%d", major, minor);
    sb_kv_set_str(kv, "mpi_standard", buf);
  }
  if (H5get_libversion(&hmaj, &hmin, &hrel) >= 0) {
    snprintf(buf, sizeof buf, "%u.%u.%u", hmaj, hmin, hrel);
    sb_kv_set_str(kv, "hdf5_version", buf);
  }
  snprintf(buf, sizeof buf, "%d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
  sb_kv_set_str(kv, "hiredis_version", buf);
  sb_kv_set_str(kv, "stagebench_version", SB_VERSION);
  sb_kv_set_str(kv, "git_commit", SB_GIT_COMMIT);
  sb_kv_set_int(kv, "built_with_cuda", HAVE_CUDA);
  if (gethostname(buf, sizeof buf - 1) == 0) {
    buf[sizeof buf - 1] = '\0';
    sb_kv_set_str(kv, "rank0_hostname", buf);
  }
  if (uname(&u) == 0) {
    snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
    sb_kv_set_str(kv, "os", buf);
  }
  cpu_model(buf, sizeof buf);
  sb_kv_set_str(kv, "cpu_model", buf);
  sb_kv_set_int(kv, "online_cpus", sysconf(_SC_NPROCESSORS_ONLN));
  doctor_json(kv);
  return SB_OK;
}

static void db_facts(sb_db_t *db, sb_kv_t *kv)
{
  static const char *const fields[] = {"redis_version", "redis_mode", "os", "multiplexing_api",
                                       "process_id", "tcp_port"};
  char buf[256], name[64];
  long long ver = -1;
  sb_kv_set_str(kv, "db_address", sb_db_address(db));
  for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
    snprintf(name, sizeof name, "db_%s", fields[k]);
    if (sb_db_info_field(db, "server", fields[k], buf, sizeof buf) != SB_OK)
      snprintf(buf, sizeof buf, "unavailable");
    sb_kv_set_str(kv, name, buf);
  }
  if (sb_db_info_field(db, "clients", "maxclients", buf, sizeof buf) == SB_OK ||
      sb_db_info_field(db, "server", "maxclients", buf, sizeof buf) == SB_OK)
    sb_kv_set_str(kv, "db_maxclients", buf);
  if (sb_db_module_version(db, "sbai", &ver) == SB_OK && ver >= 0)
    sb_kv_set_int(kv, "db_module_sbai_version", ver);
  else
    sb_kv_set_str(kv, "db_module_sbai_version", "not loaded");
  sb_error_clear();
}

int sb_prov_collect(MPI_Comm comm, sb_db_t *db, sb_kv_t *system)
{
  int rank;
  char *buf = NULL;
  size_t len = 0;
  unsigned long long wire = 0;
  SB_MPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    local_facts(system);
    if (db)
      db_facts(db, system);
    if (sb_kv_pack(system, &buf, &len) != SB_OK)
      len = 0;
    wire = len;
  }
  SB_MPI(MPI_Bcast(&wire, 1, MPI_UNSIGNED_LONG_LONG, 0, comm));
  if (rank != 0) {
    buf = malloc(wire ? wire : 1);
    if (!buf)
      return sb_error("out of memory for provenance");
  }
  SB_MPI(MPI_Bcast(buf, (int)wire, MPI_CHAR, 0, comm));
  if (rank != 0 && sb_kv_unpack(system, buf, wire) != SB_OK)
    goto fail;
  free(buf);
  return SB_OK;
fail:
  free(buf);
  return SB_ERR;
}
