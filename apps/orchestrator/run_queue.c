/* The device queues and their worker threads, with dynamic batching and
 * TIMEOUT (see run_queue.h). */
#include "run_queue.h"

#include "clock.h"
#include "device.h"
#include "redismodule_api.h"
#include "run_worker.h"

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A batch a worker is forming: requests for `target` (a model) with inputs
 * of h × w fit in while they bring at most `room` items. */
typedef struct gather {
  const void *target;
  int64_t h, w;
  int64_t room;
  struct gather *next;
} gather_t;

/* A growable list of runs. */
typedef struct run_list {
  sbai_run_t **runs;
  int count, cap;
} run_list_t;

/* One device's queue. Everything but `device` and `started` is under mu. */
typedef struct queue {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* signalled (broadcast) on every push */
  sbai_run_t *head, *tail;
  size_t length;
  gather_t *gathers;
  int workers, kernel_threads;
  int live;             /* workers started or starting that have not left (worker_leave) */
  char dead_why[256];   /* once live is 0: why, the error of every run given to the queue */
  int device;           /* SBAI_DEVICE_CPU or the GPU's number */
  unsigned trims;       /* sbai_queue_trim calls so far: a worker that saw fewer frees its scratch */
  sbai_queue_worker_init_fn worker_init; /* a GPU queue's: run by each worker as it starts */
  atomic_int started;   /* set (main thread) once its workers run */
} queue_t;

/* queues[0]: the CPU; queues[1 + n]: GPU:n. */
static queue_t queues[1 + SBAI_MAX_GPUS];

/* The worker's argument: its queue, and its number in it. */
typedef struct worker_arg {
  queue_t *q;
  int index;
} worker_arg_t;

static queue_t *queue_of(int device)
{
  return &queues[device < 0 ? 0 : 1 + device];
}

/* ---- helpers ------------------------------------------------------------------ */

static int batching(const sbai_run_t *r)
{
  return r->batching.batchsize > 0;
}

static int expired(const sbai_run_t *r, uint64_t now)
{
  return r->deadline_ns != 0 && now >= r->deadline_ns;
}

/* Its client disconnected: the run is not to be executed. */
static int gone(sbai_run_t *r)
{
  return atomic_load(&r->gone) != 0;
}

/* Puts r on the list of runs handed back unexecuted: skipped for a client
 * that left, or else timed out. */
static void add_dead(run_list_t *dead, sbai_run_t *r);

/* Could r join the batch g is forming? */
static int fits(const sbai_run_t *r, const gather_t *g)
{
  return r->batching.batchsize > 0 && r->target == g->target && r->in_desc[0].dims[2] == g->h
         && r->in_desc[0].dims[3] == g->w && r->batch <= g->room;
}

static void list_add(run_list_t *l, sbai_run_t *r)
{
  if (l->count == l->cap) {
    int cap = l->cap ? 2 * l->cap : 16;
    sbai_run_t **runs = realloc(l->runs, (size_t)cap * sizeof *runs);
    if (!runs) {
      /* Cannot grow: fail this one run rather than lose it. */
      r->status = SBAI_RUN_FAILED;
      snprintf(r->err, sizeof r->err, "out of memory while forming a batch");
      sbai_run_finish(r);
      return;
    }
    l->runs = runs, l->cap = cap;
  }
  l->runs[l->count++] = r;
}

static void add_dead(run_list_t *dead, sbai_run_t *r)
{
  r->status = gone(r) ? SBAI_RUN_SKIPPED : SBAI_RUN_TIMEDOUT;
  list_add(dead, r);
}

/* Unlinks r (whose predecessor is prev, NULL for the head). Locked. */
static void unlink_run(queue_t *q, sbai_run_t *prev, sbai_run_t *r)
{
  if (prev)
    prev->next = r->next;
  else
    q->head = r->next;
  if (q->tail == r)
    q->tail = prev;
  r->next = NULL;
  q->length--;
}

/* The oldest run no forming batch would take. Locked. */
static sbai_run_t *take_next(queue_t *q)
{
  sbai_run_t *prev = NULL;
  for (sbai_run_t *r = q->head; r; prev = r, r = r->next) {
    const gather_t *g;
    for (g = q->gathers; g; g = g->next)
      if (fits(r, g))
        break;
    if (!g) {
      unlink_run(q, prev, r);
      return r;
    }
  }
  return NULL;
}

/* Moves the queued runs that fit into g's batch into batch (and the expired
 * ones among them into dead). Locked. */
static void collect(queue_t *q, gather_t *g, run_list_t *batch, int64_t *total,
                    run_list_t *dead, long long batchsize)
{
  uint64_t now = sbai_now_ns();
  sbai_run_t *prev = NULL, *r = q->head;
  while (r && g->room > 0) {
    sbai_run_t *next = r->next;
    if (fits(r, g)) {
      unlink_run(q, prev, r);
      if (gone(r) || expired(r, now)) {
        add_dead(dead, r);
      } else {
        list_add(batch, r);
        *total += r->batch;
        g->room = batchsize - *total;
      }
    } else {
      prev = r;
    }
    r = next;
  }
}

static void to_timespec(uint64_t ns, struct timespec *ts)
{
  ts->tv_sec = (time_t)(ns / 1000000000u);
  ts->tv_nsec = (long)(ns % 1000000000u);
}

/* Drops the batch members whose TIMEOUT has passed into dead; returns the
 * earliest deadline of those left (0: none). */
static uint64_t expire_members(run_list_t *batch, int64_t *total, run_list_t *dead)
{
  uint64_t now = sbai_now_ns(), earliest = 0;
  int kept = 0;
  for (int i = 0; i < batch->count; i++) {
    sbai_run_t *r = batch->runs[i];
    if (gone(r) || expired(r, now)) {
      *total -= r->batch;
      add_dead(dead, r);
      continue;
    }
    if (r->deadline_ns && (!earliest || r->deadline_ns < earliest))
      earliest = r->deadline_ns;
    batch->runs[kept++] = r;
  }
  batch->count = kept;
  return earliest;
}

/* Forms a batch around first (already taken from the queue). Locked; may
 * wait on the condition variable (which unlocks meanwhile). */
static void form_batch(queue_t *q, sbai_run_t *first, run_list_t *batch, run_list_t *dead)
{
  const sbai_batching_t *bp = &first->batching;
  gather_t g = {.target = first->target,
                .h = first->in_desc[0].dims[2],
                .w = first->in_desc[0].dims[3]};
  int64_t total = first->batch;
  uint64_t batch_deadline = 0;

  list_add(batch, first);
  g.room = bp->batchsize - total;
  g.next = q->gathers;
  q->gathers = &g;

  collect(q, &g, batch, &total, dead, bp->batchsize);
  if (bp->minbatchsize > 0 && total < bp->minbatchsize && bp->minbatchtimeout > 0)
    batch_deadline = sbai_now_ns() + (uint64_t)bp->minbatchtimeout * 1000000u;
  while (batch->count > 0 && total < bp->minbatchsize) {
    uint64_t member_deadline = expire_members(batch, &total, dead);
    uint64_t wake = batch_deadline;
    if (batch->count == 0)
      break;
    if (member_deadline && (!wake || member_deadline < wake))
      wake = member_deadline;
    if (wake) {
      struct timespec ts;
      if (sbai_now_ns() >= batch_deadline && batch_deadline)
        break;
      to_timespec(wake, &ts);
      pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    } else {
      pthread_cond_wait(&q->cv, &q->mu);
    }
    collect(q, &g, batch, &total, dead, bp->batchsize);
  }
  expire_members(batch, &total, dead);

  /* Unregister the gather. */
  for (gather_t **p = &q->gathers; *p; p = &(*p)->next)
    if (*p == &g) {
      *p = g.next;
      break;
    }
}

/* ---- workers that cannot serve -------------------------------------------------- */

/* `count` workers of q will never serve it (their start-up failed, or their
 * thread could not be created): they leave. When none is left, every run
 * queued now or given to the queue later fails at once with q->dead_why
 * (no run ever waits for a worker that will not come). Logs why. Any
 * thread; q->mu not held. */
static void worker_leave(queue_t *q, int index, int count, const char *why)
{
  char name[SBAI_DEVICE_NAME_LEN], msg[sizeof q->dead_why];
  run_list_t orphans = {0};
  int left;

  sbai_device_name(q->device, name);
  pthread_mutex_lock(&q->mu);
  q->live -= count;
  left = q->live;
  if (left == 0) {
    snprintf(q->dead_why, sizeof q->dead_why, "no worker could start on %s: %s", name, why);
    snprintf(msg, sizeof msg, "%s", q->dead_why);
    while (q->head) {
      sbai_run_t *r = q->head;
      unlink_run(q, NULL, r);
      list_add(&orphans, r);
    }
  }
  pthread_mutex_unlock(&q->mu);

  if (index >= 0)
    RedisModule_Log(NULL, "warning",
                    "sbai: %s: worker %d of %d could not start and does not serve the queue: "
                    "%s (%d worker(s) left)", name, index + 1, q->workers, why, left);
  else
    RedisModule_Log(NULL, "warning", "sbai: %s: %d worker(s) not started: %s (%d left)", name,
                    count, why, left);
  if (left > 0)
    return;
  RedisModule_Log(NULL, "warning", "sbai: %s has no worker left: every run given to it fails at "
                  "once (%s)", name, msg);
  for (int i = 0; i < orphans.count; i++) {
    sbai_run_t *r = orphans.runs[i];
    if (gone(r)) {
      r->status = SBAI_RUN_SKIPPED;
    } else {
      r->status = SBAI_RUN_FAILED;
      snprintf(r->err, sizeof r->err, "%s", msg);
    }
    sbai_run_finish(r);
  }
  free(orphans.runs);
}

/* ---- the worker --------------------------------------------------------------- */

/* Frees the worker's scratch if a trim was asked since it last looked
 * (*seen). Called locked; unlocks while freeing. */
static void trim_if_asked(queue_t *q, unsigned *seen, sbai_exec_t *ex)
{
  if (q->trims == *seen)
    return;
  *seen = q->trims;
  pthread_mutex_unlock(&q->mu);
  sbai_scratch_release(ex->workspace);
  sbai_scratch_release(ex->batch_input);
  pthread_mutex_lock(&q->mu);
}

static void *worker_main(void *arg)
{
  worker_arg_t wa = *(worker_arg_t *)arg;
  queue_t *q = wa.q;
  run_list_t batch = {0}, dead = {0};
  /* Only this thread uses them: reused from run to run, freed on a trim. */
  sbai_scratch_t workspace = {0}, batch_input = {0};
  sbai_exec_t ex = {.device = q->device,
                    .threads = q->kernel_threads,
                    .stream = NULL,
                    .workspace = &workspace,
                    .batch_input = &batch_input};
  unsigned seen;

  free(arg);
  /* A GPU worker: its device current on this thread, its own stream. One
   * that cannot start takes no run: it leaves the queue. */
  if (q->worker_init) {
    char why[256];
    if (q->worker_init(q->device, &ex.stream, why, sizeof why) != 0) {
      worker_leave(q, wa.index, 1, why);
      return NULL;
    }
  }

  pthread_mutex_lock(&q->mu);
  seen = q->trims;
  for (;;) {
    sbai_run_t *r;
    /* A trim asked while idle is done at once (the broadcast wakes us). */
    trim_if_asked(q, &seen, &ex);
    while (!(r = take_next(q))) {
      pthread_cond_wait(&q->cv, &q->mu);
      trim_if_asked(q, &seen, &ex);
    }

    batch.count = dead.count = 0;
    if (gone(r) || expired(r, sbai_now_ns()))
      add_dead(&dead, r);
    else if (batching(r))
      form_batch(q, r, &batch, &dead);
    else
      list_add(&batch, r);
    pthread_mutex_unlock(&q->mu);

    for (int i = 0; i < dead.count; i++)
      sbai_run_finish(dead.runs[i]);
    if (batch.count > 0) {
      sbai_run_execute(batch.runs, batch.count, &ex);
      for (int i = 0; i < batch.count; i++)
        sbai_run_finish(batch.runs[i]);
    }
    pthread_mutex_lock(&q->mu);
  }
  return NULL;
}

/* ---- the interface ------------------------------------------------------------- */

/* Initialises q and starts its workers. Main thread. */
static int start_queue(queue_t *q, int device, int workers, int kernel_threads,
                       sbai_queue_worker_init_fn worker_init, char *err, size_t errlen)
{
  pthread_condattr_t attr;
  pthread_attr_t tattr;
  char name[SBAI_DEVICE_NAME_LEN];

  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_init(&attr);
  /* Deadlines are CLOCK_MONOTONIC: wall-clock steps do not move them. */
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cv, &attr);
  pthread_condattr_destroy(&attr);
  q->device = device;
  q->workers = workers;
  q->live = workers; /* before any thread runs: a failing one subtracts itself */
  q->kernel_threads = kernel_threads;
  q->worker_init = worker_init;

  pthread_attr_init(&tattr);
  pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
  /* Kernels keep big arrays off the stack; 8 MiB leaves ample room. */
  pthread_attr_setstacksize(&tattr, 8u << 20);
  for (int i = 0; i < workers; i++) {
    pthread_t t;
    worker_arg_t *wa = malloc(sizeof *wa);
    int rc = wa ? 0 : ENOMEM;
    if (wa) {
      wa->q = q, wa->index = i;
      rc = pthread_create(&t, &tattr, worker_main, wa);
      if (rc != 0)
        free(wa);
    }
    if (rc != 0) {
      snprintf(err, errlen, "cannot start worker thread %d of %d for %s: %s", i + 1, workers,
               sbai_device_name(device, name), strerror(rc));
      pthread_attr_destroy(&tattr);
      /* The workers already started serve the queue; the others leave it. */
      if (i > 0) {
        worker_leave(q, -1, workers - i, err);
        atomic_store(&q->started, 1);
      }
      return -1;
    }
  }
  pthread_attr_destroy(&tattr);
  atomic_store(&q->started, 1);
  return 0;
}

int sbai_queue_start(int workers, int kernel_threads, char *err, size_t errlen)
{
  return start_queue(queue_of(SBAI_DEVICE_CPU), SBAI_DEVICE_CPU, workers, kernel_threads, NULL,
                     err, errlen);
}

int sbai_queue_start_gpu(int gpu, int workers, sbai_queue_worker_init_fn worker_init, char *err,
                         size_t errlen)
{
  if (gpu < 0 || gpu >= SBAI_MAX_GPUS) {
    snprintf(err, errlen, "no queue for GPU:%d (at most %d GPUs)", gpu, SBAI_MAX_GPUS);
    return -1;
  }
  if (atomic_load(&queue_of(gpu)->started))
    return 0;
  /* A GPU worker runs no CPU kernels: one kernel thread. */
  return start_queue(queue_of(gpu), gpu, workers, 1, worker_init, err, errlen);
}

int sbai_queue_started(int device)
{
  return atomic_load(&queue_of(device)->started);
}

void sbai_queue_push(sbai_run_t *run)
{
  queue_t *q = queue_of(run->device);
  if (!atomic_load(&q->started)) {
    /* Commands check the device before queueing; never leave a client
     * blocked if one did not. */
    char name[SBAI_DEVICE_NAME_LEN];
    run->status = SBAI_RUN_FAILED;
    snprintf(run->err, sizeof run->err, "device %s has no queue on this server",
             sbai_device_name(run->device, name));
    sbai_run_finish(run);
    return;
  }
  run->next = NULL;
  pthread_mutex_lock(&q->mu);
  if (q->live == 0) {
    /* Every worker left (worker_leave): fail now, never wait. */
    run->status = SBAI_RUN_FAILED;
    snprintf(run->err, sizeof run->err, "%s", q->dead_why);
    pthread_mutex_unlock(&q->mu);
    sbai_run_finish(run);
    return;
  }
  if (q->tail)
    q->tail->next = run;
  else
    q->head = run;
  q->tail = run;
  q->length++;
  /* Wake every worker: an idle one may take it, or a forming batch may. */
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

int sbai_queue_remove(sbai_run_t *run)
{
  queue_t *q = queue_of(run->device);
  sbai_run_t *prev = NULL, *r;
  if (!atomic_load(&q->started))
    return 0;
  pthread_mutex_lock(&q->mu);
  for (r = q->head; r && r != run; prev = r, r = r->next)
    ;
  if (r)
    unlink_run(q, prev, r);
  pthread_mutex_unlock(&q->mu);
  return r != NULL;
}

int sbai_queue_live_workers(int device, char *why, size_t whylen)
{
  queue_t *q = queue_of(device);
  char name[SBAI_DEVICE_NAME_LEN];
  int live;
  if (!atomic_load(&q->started)) {
    if (why && whylen)
      snprintf(why, whylen, "device %s has no queue on this server",
               sbai_device_name(device, name));
    return 0;
  }
  pthread_mutex_lock(&q->mu);
  live = q->live;
  if (live == 0 && why && whylen)
    snprintf(why, whylen, "%s", q->dead_why);
  pthread_mutex_unlock(&q->mu);
  return live;
}

void sbai_queue_trim(int device)
{
  queue_t *q = queue_of(device);
  if (!atomic_load(&q->started))
    return;
  pthread_mutex_lock(&q->mu);
  q->trims++;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

size_t sbai_queue_length(void)
{
  size_t n = 0;
  for (size_t i = 0; i < sizeof queues / sizeof queues[0]; i++) {
    queue_t *q = &queues[i];
    if (!atomic_load(&q->started))
      continue;
    pthread_mutex_lock(&q->mu);
    n += q->length;
    pthread_mutex_unlock(&q->mu);
  }
  return n;
}

int sbai_queue_workers(void)
{
  return queues[0].workers;
}

int sbai_queue_kernel_threads(void)
{
  return queues[0].kernel_threads;
}
