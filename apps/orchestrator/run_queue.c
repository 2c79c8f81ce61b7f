/* The CPU queue and its worker threads, with dynamic batching and TIMEOUT
 * (see run_queue.h). */
#include "run_queue.h"

#include "model_cmd.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A batch a worker is forming: requests for `model` with inputs of h × w fit
 * in while they bring at most `room` items. */
typedef struct gather {
  const sbai_model_t *model;
  int64_t h, w;
  int64_t room;
  struct gather *next;
} gather_t;

/* A growable list of runs. */
typedef struct run_list {
  sbai_run_t **runs;
  int count, cap;
} run_list_t;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* signalled (broadcast) on every push */
  sbai_run_t *head, *tail;
  size_t length;
  gather_t *gathers;
  int workers, kernel_threads;
} queue = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- helpers ------------------------------------------------------------------ */

static int batching(const sbai_run_t *r)
{
  return r->kind == SBAI_RUN_MODEL && r->model->batchsize > 0;
}

static int expired(const sbai_run_t *r, uint64_t now)
{
  return r->deadline_ns != 0 && now >= r->deadline_ns;
}

/* Could r join the batch g is forming? */
static int fits(const sbai_run_t *r, const gather_t *g)
{
  return r->kind == SBAI_RUN_MODEL && r->model == g->model && r->in_desc[0].dims[2] == g->h
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

/* Unlinks r (whose predecessor is prev, NULL for the head). Locked. */
static void unlink_run(sbai_run_t *prev, sbai_run_t *r)
{
  if (prev)
    prev->next = r->next;
  else
    queue.head = r->next;
  if (queue.tail == r)
    queue.tail = prev;
  r->next = NULL;
  queue.length--;
}

/* The oldest run no forming batch would take. Locked. */
static sbai_run_t *take_next(void)
{
  sbai_run_t *prev = NULL;
  for (sbai_run_t *r = queue.head; r; prev = r, r = r->next) {
    const gather_t *g;
    for (g = queue.gathers; g; g = g->next)
      if (fits(r, g))
        break;
    if (!g) {
      unlink_run(prev, r);
      return r;
    }
  }
  return NULL;
}

/* Moves the queued runs that fit into g's batch into batch (and the expired
 * ones among them into dead). Locked. */
static void collect(gather_t *g, run_list_t *batch, int64_t *total, run_list_t *dead,
                    long long batchsize)
{
  uint64_t now = sbai_now_ns();
  sbai_run_t *prev = NULL, *r = queue.head;
  while (r && g->room > 0) {
    sbai_run_t *next = r->next;
    if (fits(r, g)) {
      unlink_run(prev, r);
      if (expired(r, now)) {
        list_add(dead, r);
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
    if (expired(r, now)) {
      *total -= r->batch;
      list_add(dead, r);
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
static void form_batch(sbai_run_t *first, run_list_t *batch, run_list_t *dead)
{
  const sbai_model_t *m = first->model;
  gather_t g = {.model = m, .h = first->in_desc[0].dims[2], .w = first->in_desc[0].dims[3]};
  int64_t total = first->batch;
  uint64_t batch_deadline = 0;

  list_add(batch, first);
  g.room = m->batchsize - total;
  g.next = queue.gathers;
  queue.gathers = &g;

  collect(&g, batch, &total, dead, m->batchsize);
  if (m->minbatchsize > 0 && total < m->minbatchsize && m->minbatchtimeout > 0)
    batch_deadline = sbai_now_ns() + (uint64_t)m->minbatchtimeout * 1000000u;
  while (batch->count > 0 && total < m->minbatchsize) {
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
      pthread_cond_timedwait(&queue.cv, &queue.mu, &ts);
    } else {
      pthread_cond_wait(&queue.cv, &queue.mu);
    }
    collect(&g, batch, &total, dead, m->batchsize);
  }
  expire_members(batch, &total, dead);

  /* Unregister the gather. */
  for (gather_t **p = &queue.gathers; *p; p = &(*p)->next)
    if (*p == &g) {
      *p = g.next;
      break;
    }
}

/* ---- the worker --------------------------------------------------------------- */

static void *worker_main(void *arg)
{
  run_list_t batch = {0}, dead = {0};
  (void)arg;

  pthread_mutex_lock(&queue.mu);
  for (;;) {
    sbai_run_t *r;
    while (!(r = take_next()))
      pthread_cond_wait(&queue.cv, &queue.mu);

    batch.count = dead.count = 0;
    if (expired(r, sbai_now_ns()))
      list_add(&dead, r);
    else if (batching(r))
      form_batch(r, &batch, &dead);
    else
      list_add(&batch, r);
    pthread_mutex_unlock(&queue.mu);

    for (int i = 0; i < dead.count; i++) {
      dead.runs[i]->status = SBAI_RUN_TIMEDOUT;
      sbai_run_finish(dead.runs[i]);
    }
    if (batch.count > 0) {
      sbai_run_execute(batch.runs, batch.count, queue.kernel_threads);
      for (int i = 0; i < batch.count; i++)
        sbai_run_finish(batch.runs[i]);
    }
    pthread_mutex_lock(&queue.mu);
  }
  return NULL;
}

/* ---- the interface ------------------------------------------------------------- */

int sbai_queue_start(int workers, int kernel_threads, char *err, size_t errlen)
{
  pthread_condattr_t attr;
  pthread_attr_t tattr;

  pthread_condattr_init(&attr);
  /* Deadlines are CLOCK_MONOTONIC: wall-clock steps do not move them. */
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&queue.cv, &attr);
  pthread_condattr_destroy(&attr);
  queue.workers = workers;
  queue.kernel_threads = kernel_threads;

  pthread_attr_init(&tattr);
  pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
  /* Kernels keep big arrays off the stack; 8 MiB leaves ample room. */
  pthread_attr_setstacksize(&tattr, 8u << 20);
  for (int i = 0; i < workers; i++) {
    pthread_t t;
    int rc = pthread_create(&t, &tattr, worker_main, NULL);
    if (rc != 0) {
      snprintf(err, errlen, "cannot start worker thread %d of %d: %s", i + 1, workers,
               strerror(rc));
      pthread_attr_destroy(&tattr);
      return -1;
    }
  }
  pthread_attr_destroy(&tattr);
  return 0;
}

void sbai_queue_push(sbai_run_t *run)
{
  run->next = NULL;
  pthread_mutex_lock(&queue.mu);
  if (queue.tail)
    queue.tail->next = run;
  else
    queue.head = run;
  queue.tail = run;
  queue.length++;
  /* Wake every worker: an idle one may take it, or a forming batch may. */
  pthread_cond_broadcast(&queue.cv);
  pthread_mutex_unlock(&queue.mu);
}

size_t sbai_queue_length(void)
{
  size_t n;
  pthread_mutex_lock(&queue.mu);
  n = queue.length;
  pthread_mutex_unlock(&queue.mu);
  return n;
}

int sbai_queue_workers(void)
{
  return queue.workers;
}

int sbai_queue_kernel_threads(void)
{
  return queue.kernel_threads;
}
