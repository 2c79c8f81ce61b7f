#include "sb_metrics.h"

#include "sb_error.h"
#include "sb_kv.h"
#include "sb_log.h"
#include "sb_timer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Samples kept per node: 32768 (55 minutes at 100 ms); later ones are
 * counted in the attribute dropped_samples, not stored. */
#define SB_METRICS_CAP 32768
#define SB_METRICS_HOST_MAX 256

enum {
  S_CPU, S_NET_RX, S_NET_TX, S_LO_RX, S_LO_TX, S_GPU_UTIL, S_GPU_MEM, S_GPU_POWER, S_COUNT
};
#define S_FIRST_GPU S_GPU_UTIL

static const char *const series_names[S_COUNT] = {
  "cpu_util", "net_rx_bytes", "net_tx_bytes", "lo_rx_bytes", "lo_tx_bytes",
  "gpu_util", "gpu_mem_used_bytes", "gpu_power_w"};
static const char *const series_units[S_COUNT] = {"%", "bytes", "bytes", "bytes", "bytes",
                                                  "%", "bytes", "W"};

/* ---- NVML, loaded at run time --------------------------------------------
 * The few declarations used, from NVML's documented names and signatures;
 * no NVML header ships here. nvmlReturn_t is an enum, 0 = NVML_SUCCESS. */
typedef int nvml_return_t;
typedef struct nvml_device_st *nvml_device_t;
typedef struct {
  unsigned int gpu, memory; /* percent of the last sample period */
} nvml_utilization_t;
typedef struct {
  unsigned long long total, free, used; /* bytes */
} nvml_memory_t;

#define SB_NVML_MAX_GPUS 16

typedef struct {
  void *lib;
  nvml_return_t (*init)(void);
  nvml_return_t (*shutdown)(void);
  nvml_return_t (*count)(unsigned int *);
  nvml_return_t (*handle)(unsigned int, nvml_device_t *);
  nvml_return_t (*util)(nvml_device_t, nvml_utilization_t *);
  nvml_return_t (*mem)(nvml_device_t, nvml_memory_t *);
  nvml_return_t (*power)(nvml_device_t, unsigned int *); /* milliwatts */
  nvml_device_t dev[SB_NVML_MAX_GPUS];
  unsigned int ndev;
  char why[160]; /* "" when usable */
} nvml_t;

static void nvml_open(nvml_t *n)
{
  memset(n, 0, sizeof *n);
  n->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!n->lib) {
    snprintf(n->why, sizeof n->why, "unavailable: libnvidia-ml.so.1 cannot be loaded");
    return;
  }
#define SB_NVML_SYM(field, name)                                              \
  do {                                                                        \
    *(void **)(&n->field) = dlsym(n->lib, name);                              \
    if (!n->field) {                                                          \
      snprintf(n->why, sizeof n->why, "unavailable: %s not in libnvidia-ml", name); \
      goto fail;                                                              \
    }                                                                         \
  } while (0)
  SB_NVML_SYM(init, "nvmlInit_v2");
  SB_NVML_SYM(shutdown, "nvmlShutdown");
  SB_NVML_SYM(count, "nvmlDeviceGetCount_v2");
  SB_NVML_SYM(handle, "nvmlDeviceGetHandleByIndex_v2");
  SB_NVML_SYM(util, "nvmlDeviceGetUtilizationRates");
  SB_NVML_SYM(mem, "nvmlDeviceGetMemoryInfo");
  SB_NVML_SYM(power, "nvmlDeviceGetPowerUsage");
#undef SB_NVML_SYM
  {
    nvml_return_t r = n->init();
    unsigned int c = 0;
    if (r != 0) {
      snprintf(n->why, sizeof n->why, "unavailable: nvmlInit_v2 returned %d", r);
      goto fail;
    }
    if ((r = n->count(&c)) != 0 || c == 0) {
      snprintf(n->why, sizeof n->why, "unavailable: no GPU visible to NVML (%d)", r);
      n->shutdown();
      goto fail;
    }
    for (unsigned int k = 0; k < c && n->ndev < SB_NVML_MAX_GPUS; k++)
      if (n->handle(k, &n->dev[n->ndev]) == 0)
        n->ndev++;
    if (n->ndev == 0) {
      snprintf(n->why, sizeof n->why, "unavailable: no GPU handle from NVML");
      n->shutdown();
      goto fail;
    }
  }
  return;
fail:
  dlclose(n->lib);
  n->lib = NULL;
  n->ndev = 0;
}

static void nvml_close(nvml_t *n)
{
  if (n->lib) {
    n->shutdown();
    dlclose(n->lib);
    n->lib = NULL;
  }
}

/* ---- /proc readers, into a preallocated buffer ---------------------------- */

typedef struct {
  unsigned long long busy, total;        /* jiffies, all CPUs */
  unsigned long long rx, tx, lo_rx, lo_tx; /* bytes since boot */
} proc_reading_t;

static int read_file(const char *path, char *buf, size_t len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  if (fd < 0)
    return -1;
  while (got + 1 < len) {
    ssize_t r = read(fd, buf + got, len - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  return got > 0 ? 0 : -1;
}

/* cpu line: user nice system idle iowait irq softirq steal (guest time is
 * already in user); busy = total - idle - iowait. */
static int read_cpu(char *buf, size_t len, proc_reading_t *r)
{
  unsigned long long v[8] = {0};
  if (read_file("/proc/stat", buf, len) != 0 ||
      sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
             &v[4], &v[5], &v[6], &v[7]) < 4)
    return -1;
  r->total = 0;
  for (int k = 0; k < 8; k++)
    r->total += v[k];
  r->busy = r->total - v[3] - v[4];
  return 0;
}

/* /proc/net/dev: two header lines, then "iface: rx_bytes 7 more  tx_bytes ...". */
static int read_net(char *buf, size_t len, proc_reading_t *r)
{
  char *line, *save = NULL;
  int n = 0;
  r->rx = r->tx = r->lo_rx = r->lo_tx = 0;
  if (read_file("/proc/net/dev", buf, len) != 0)
    return -1;
  for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *colon = strchr(line, ':'), *name = line;
    unsigned long long v[9];
    if (!colon)
      continue;
    *colon = '\0';
    while (*name == ' ')
      name++;
    if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
               &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) != 9)
      continue;
    if (strcmp(name, "lo") == 0) {
      r->lo_rx += v[0];
      r->lo_tx += v[8];
    } else {
      r->rx += v[0];
      r->tx += v[8];
    }
    n++;
  }
  return n > 0 ? 0 : -1;
}

/* ---- the sampler ------------------------------------------------------------ */

struct sb_metrics {
  MPI_Comm comm;
  int rank, leader, node_index;
  double interval_s;
  /* sampler state (leader only) */
  pthread_t thread;
  int running;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stop;
  char sampler_why[128]; /* "" when the thread ran */
  double t0, t_last;
  proc_reading_t ref, prev;
  int have_cpu, have_net;
  nvml_t nvml;
  char buf[65536];
  int64_t n, dropped;
  double *time_s, *vals[S_COUNT];
  /* gathered (sb_metrics_gather) */
  int nseries;
  const char *names[S_COUNT], *units[S_COUNT];
  double *data;
  sb_kv_t attrs;
};

static double nan_or(int ok, double v) { return ok ? v : NAN; }

/* One sample: the values since the reference reading (bytes) or since the
 * previous one (CPU). Called from the thread only. */
static void take_sample(struct sb_metrics *m)
{
  proc_reading_t cur = m->prev;
  int cpu_ok = m->have_cpu && read_cpu(m->buf, sizeof m->buf, &cur) == 0;
  int net_ok = m->have_net && read_net(m->buf, sizeof m->buf, &cur) == 0;
  double now = sb_now();
  int64_t i = m->n;
  if (i >= SB_METRICS_CAP) {
    m->dropped++;
    return;
  }
  m->time_s[i] = now - m->t0;
  {
    unsigned long long dt = cur.total - m->prev.total, db = cur.busy - m->prev.busy;
    m->vals[S_CPU][i] = nan_or(cpu_ok && dt > 0, 100.0 * (double)db / (double)(dt ? dt : 1));
  }
  m->vals[S_NET_RX][i] = nan_or(net_ok, (double)(cur.rx - m->ref.rx));
  m->vals[S_NET_TX][i] = nan_or(net_ok, (double)(cur.tx - m->ref.tx));
  m->vals[S_LO_RX][i] = nan_or(net_ok, (double)(cur.lo_rx - m->ref.lo_rx));
  m->vals[S_LO_TX][i] = nan_or(net_ok, (double)(cur.lo_tx - m->ref.lo_tx));
  {
    /* Over the node's GPUs: mean utilisation, summed memory and power. */
    double util = 0, mem = 0, power = 0;
    int nu = 0, nm = 0, np = 0;
    for (unsigned int g = 0; g < m->nvml.ndev; g++) {
      nvml_utilization_t u;
      nvml_memory_t mi;
      unsigned int mw;
      if (m->nvml.util(m->nvml.dev[g], &u) == 0)
        util += u.gpu, nu++;
      if (m->nvml.mem(m->nvml.dev[g], &mi) == 0)
        mem += (double)mi.used, nm++;
      if (m->nvml.power(m->nvml.dev[g], &mw) == 0)
        power += mw / 1000.0, np++;
    }
    m->vals[S_GPU_UTIL][i] = nu ? util / nu : NAN;
    m->vals[S_GPU_MEM][i] = nm ? mem : NAN;
    m->vals[S_GPU_POWER][i] = np ? power : NAN;
  }
  if (cpu_ok)
    m->prev.busy = cur.busy, m->prev.total = cur.total;
  m->t_last = now;
  m->n = i + 1;
}

static void *sampler_main(void *arg)
{
  struct sb_metrics *m = arg;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  pthread_mutex_lock(&m->lock);
  while (!m->stop) {
    long ns = (long)(m->interval_s * 1e9);
    next.tv_sec += ns / 1000000000L;
    next.tv_nsec += ns % 1000000000L;
    if (next.tv_nsec >= 1000000000L)
      next.tv_sec++, next.tv_nsec -= 1000000000L;
    while (!m->stop && pthread_cond_timedwait(&m->cond, &m->lock, &next) != ETIMEDOUT)
      ;
    if (m->stop)
      break;
    pthread_mutex_unlock(&m->lock);
    take_sample(m);
    pthread_mutex_lock(&m->lock);
  }
  pthread_mutex_unlock(&m->lock);
  /* The last stretch, so that the byte counters cover the whole loop
   * (cpu_util is NaN there when /proc/stat's clock did not tick). */
  take_sample(m);
  return NULL;
}

int sb_metrics_start(MPI_Comm comm, int local_rank, double interval_s, sb_metrics_t **out)
{
  struct sb_metrics *m = calloc(1, sizeof *m);
  *out = NULL;
  if (!m)
    return sb_error("out of memory");
  m->comm = comm;
  m->interval_s = interval_s;
  SB_MPI(MPI_Comm_rank(comm, &m->rank));
  m->leader = local_rank == 0;
  snprintf(m->sampler_why, sizeof m->sampler_why, "not a node's lowest rank");
  if (m->leader) {
    pthread_condattr_t ca;
    m->time_s = malloc(SB_METRICS_CAP * sizeof(double));
    for (int s = 0; s < S_COUNT; s++)
      m->vals[s] = malloc(SB_METRICS_CAP * sizeof(double));
    for (int s = 0; s < S_COUNT; s++)
      if (!m->vals[s])
        m->time_s = (free(m->time_s), NULL);
    if (!m->time_s) {
      sb_metrics_free(m);
      return sb_error("out of memory for the metrics samples");
    }
    nvml_open(&m->nvml);
    m->have_cpu = read_cpu(m->buf, sizeof m->buf, &m->ref) == 0;
    m->have_net = read_net(m->buf, sizeof m->buf, &m->ref) == 0;
    m->prev = m->ref;
    m->t0 = m->t_last = sb_now();
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&m->thread, NULL, sampler_main, m) == 0) {
      m->running = 1;
      m->sampler_why[0] = '\0';
    } else {
      snprintf(m->sampler_why, sizeof m->sampler_why, "the sampling thread did not start");
      sb_log(SB_LOG_WARN, "metrics: %s", m->sampler_why);
    }
  }
  *out = m;
  return SB_OK;
fail:
  free(m);
  return SB_ERR;
}

void sb_metrics_stop(sb_metrics_t *m)
{
  if (!m || !m->running)
    return;
  pthread_mutex_lock(&m->lock);
  m->stop = 1;
  pthread_cond_signal(&m->cond);
  pthread_mutex_unlock(&m->lock);
  pthread_join(m->thread, NULL);
  m->running = 0;
}

int sb_metrics_gather(sb_metrics_t *m, sb_h5_metrics_t *out)
{
  MPI_Comm leaders = MPI_COMM_NULL;
  int nnodes = 0, gpu_local, gpu_any = 0, nrows_i;
  long long mine[2], most[2];
  double *sendbuf = NULL, *recvbuf = NULL;
  char host[SB_METRICS_HOST_MAX], *hosts = NULL, *packed = NULL;
  int *gpus = NULL;
  long long *dropped = NULL;
  size_t packed_len = 0;
  unsigned long long wire = 0;
  int rc = SB_ERR;

  sb_metrics_stop(m);
  memset(out, 0, sizeof *out);
  gpu_local = m->leader ? (int)m->nvml.ndev : 0;
  mine[0] = m->leader ? m->n : 0;
  mine[1] = m->leader;
  SB_MPI(MPI_Allreduce(mine, most, 1, MPI_LONG_LONG, MPI_MAX, m->comm));
  SB_MPI(MPI_Allreduce(&mine[1], &most[1], 1, MPI_LONG_LONG, MPI_SUM, m->comm));
  SB_MPI(MPI_Allreduce(&gpu_local, &gpu_any, 1, MPI_INT, MPI_MAX, m->comm));
  nnodes = (int)most[1];
  nrows_i = (int)most[0];
  m->nseries = gpu_any ? S_COUNT : S_FIRST_GPU;
  for (int s = 0; s < m->nseries; s++) {
    m->names[s] = series_names[s];
    m->units[s] = series_units[s];
  }
  SB_MPI(MPI_Comm_split(m->comm, m->leader ? 0 : MPI_UNDEFINED, m->rank, &leaders));
  if (m->leader) {
    /* Every leader's series padded to nrows with NaN: [nseries + 1][nrows]
     * (times first). */
    size_t per = (size_t)(m->nseries + 1) * (size_t)nrows_i;
    long long drop = m->dropped;
    sendbuf = malloc((per ? per : 1) * sizeof *sendbuf);
    if (!sendbuf) {
      sb_error("out of memory");
      goto fail;
    }
    for (int s = -1; s < m->nseries; s++)
      for (int i = 0; i < nrows_i; i++)
        sendbuf[(size_t)(s + 1) * (size_t)nrows_i + (size_t)i] =
            i < m->n ? (s < 0 ? m->time_s[i] : m->vals[s][i]) : NAN;
    memset(host, 0, sizeof host);
    gethostname(host, sizeof host - 1);
    if (m->rank == 0) {
      recvbuf = malloc((size_t)nnodes * (per ? per : 1) * sizeof *recvbuf);
      hosts = calloc((size_t)nnodes, sizeof host);
      gpus = calloc((size_t)nnodes, sizeof *gpus);
      dropped = calloc((size_t)nnodes, sizeof *dropped);
      if (!recvbuf || !hosts || !gpus || !dropped) {
        sb_error("out of memory");
        goto fail;
      }
    }
    SB_MPI(MPI_Gather(sendbuf, (int)per, MPI_DOUBLE, recvbuf, (int)per, MPI_DOUBLE, 0, leaders));
    SB_MPI(MPI_Gather(host, (int)sizeof host, MPI_CHAR, hosts, (int)sizeof host, MPI_CHAR, 0,
                      leaders));
    SB_MPI(MPI_Gather(&gpu_local, 1, MPI_INT, gpus, 1, MPI_INT, 0, leaders));
    SB_MPI(MPI_Gather(&drop, 1, MPI_LONG_LONG, dropped, 1, MPI_LONG_LONG, 0, leaders));
  }
  if (m->rank == 0) {
    /* data[s][row][col]: col 0 the time of node 0's sample, col 1+k node k. */
    size_t per = (size_t)(m->nseries + 1) * (size_t)nrows_i, ncols = (size_t)nnodes + 1;
    char *joined;
    long long total_drop = 0;
    int gpu_nodes = 0, gpu_count = 0;
    m->data = malloc(((size_t)m->nseries * (size_t)nrows_i * ncols + 1) * sizeof *m->data);
    joined = calloc((size_t)nnodes, sizeof host + 1);
    if (!m->data || !joined) {
      free(joined);
      sb_error("out of memory");
      goto fail;
    }
    for (int s = 0; s < m->nseries; s++)
      for (int i = 0; i < nrows_i; i++) {
        double *row = m->data + ((size_t)s * (size_t)nrows_i + (size_t)i) * ncols;
        row[0] = recvbuf[(size_t)i];
        for (int k = 0; k < nnodes; k++)
          row[1 + k] = recvbuf[(size_t)k * per + (size_t)(s + 1) * (size_t)nrows_i + (size_t)i];
      }
    for (int k = 0; k < nnodes; k++) {
      if (k)
        strcat(joined, ",");
      strcat(joined, hosts + (size_t)k * sizeof host);
      gpu_nodes += gpus[k] > 0;
      gpu_count += gpus[k];
      total_drop += dropped[k];
    }
    if (sb_kv_set_real(&m->attrs, "interval_s", m->interval_s) != SB_OK ||
        sb_kv_set_int(&m->attrs, "nnodes", nnodes) != SB_OK ||
        sb_kv_set_str(&m->attrs, "hosts", joined) != SB_OK ||
        sb_kv_set_str(&m->attrs, "columns",
                      "time_s (node 0's sampler, from the start of the timed loop), then one "
                      "column per node in the order of hosts") != SB_OK ||
        sb_kv_set_int(&m->attrs, "dropped_samples", total_drop) != SB_OK ||
        sb_kv_set_str(&m->attrs, "sampler",
                      m->sampler_why[0] ? m->sampler_why : "one thread per node") != SB_OK) {
      free(joined);
      goto fail;
    }
    free(joined);
    {
      char nv[256];
      if (gpu_nodes)
        snprintf(nv, sizeof nv, "available on %d of %d nodes (%d GPUs)", gpu_nodes, nnodes,
                 gpu_count);
      else
        snprintf(nv, sizeof nv, "%s", m->nvml.why[0] ? m->nvml.why : "unavailable");
      if (sb_kv_set_str(&m->attrs, "nvml", nv) != SB_OK)
        goto fail;
    }
    if (sb_kv_pack(&m->attrs, &packed, &packed_len) != SB_OK)
      goto fail;
    wire = packed_len;
  }
  SB_MPI(MPI_Bcast(&wire, 1, MPI_UNSIGNED_LONG_LONG, 0, m->comm));
  if (m->rank != 0 && !(packed = malloc(wire ? wire : 1))) {
    sb_error("out of memory");
    goto fail;
  }
  SB_MPI(MPI_Bcast(packed, (int)wire, MPI_CHAR, 0, m->comm));
  if (m->rank != 0 && sb_kv_unpack(&m->attrs, packed, wire) != SB_OK)
    goto fail;
  out->nseries = m->nseries;
  out->names = m->names;
  out->units = m->units;
  out->nrows = nrows_i;
  out->ncols = nnodes + 1;
  out->data = m->data;
  out->attrs = &m->attrs;
  rc = SB_OK;
fail:
  if (leaders != MPI_COMM_NULL)
    MPI_Comm_free(&leaders);
  free(sendbuf);
  free(recvbuf);
  free(hosts);
  free(gpus);
  free(dropped);
  free(packed);
  return rc;
}

void sb_metrics_free(sb_metrics_t *m)
{
  if (!m)
    return;
  sb_metrics_stop(m);
  if (m->leader && m->time_s) {
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
  }
  nvml_close(&m->nvml);
  free(m->time_s);
  for (int s = 0; s < S_COUNT; s++)
    free(m->vals[s]);
  free(m->data);
  sb_kv_free(&m->attrs);
  free(m);
}
