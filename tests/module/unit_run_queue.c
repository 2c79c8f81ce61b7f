/* Unit test of the device queues (apps/orchestrator/run_queue.c) when
 * workers cannot start: run_queue.c linked with stand-ins for what it calls
 * above and beside it, so the paths a GPU queue takes when its workers fail
 * (cudaSetDevice or the stream creation of sbai_gpu_worker_init) run on a
 * machine without a GPU.
 *
 * The stand-ins: a worker start-up function that fails on demand (instead of
 * gpu.c's), sbai_run_execute and sbai_run_finish (instead of run_worker.c's:
 * execute marks the runs done and records which worker ran them, finish
 * records the run as handed back), and RedisModule_Log (instead of the
 * server's: the lines are kept and can be waited for).
 *
 * What it checks:
 * - a queue whose every worker fails to start: runs already waiting in it
 *   and runs given to it later fail with "no worker could start on GPU:0:
 *   <reason>"; a later run fails before
 *   sbai_queue_push returns; a run whose client left is skipped; the log says
 *   which worker failed and why, and that none is left;
 *   sbai_queue_live_workers answers 0 with that reason;
 * - a queue where some workers fail: runs are done, and only by a worker
 *   whose start-up succeeded; the failed ones are logged and counted out;
 * - the CPU queue keeps running runs meanwhile;
 * - a CPU worker keeps its scratch (sbai_exec_t.workspace) from run to run,
 *   and frees it after sbai_queue_trim, before its next run.
 * Every wait is for a condition, bounded (WAIT_S); a run not handed back in
 * time is a failure, not a hang.
 */
#include "run_queue.h"

#include "device.h"
#include "run_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_check.h"

/* Longest wait for anything the queues should do promptly. */
#define WAIT_S 10

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

/* ---- stand-ins ------------------------------------------------------------------ */

/* The log: every line, appended under mu. */
static char log_text[16384];

static void test_log(RedisModuleCtx *ctx, const char *level, const char *fmt, ...)
{
  char line[1024];
  va_list ap;
  (void)ctx;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "log %s: %s\n", level, line);
  pthread_mutex_lock(&mu);
  if (strlen(log_text) + strlen(line) + 2 <= sizeof log_text) {
    strcat(log_text, line);
    strcat(log_text, "\n");
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

void (*RedisModule_Log)(RedisModuleCtx *ctx, const char *level, const char *fmt, ...) = test_log;

/* Runs handed back, and runs executed by a worker that had not started. */
static int finished_count, bad_executions;

/* A GPU worker that started has its stream: the address of good_stream. */
static char good_stream;

/* CPU runs: whether the worker's workspace held a buffer when the last one
 * started, and whether every reserve succeeded. */
static int last_had_workspace, reserve_failed;

void sbai_run_execute(sbai_run_t **runs, int n, const sbai_exec_t *ex)
{
  if (ex->device < 0) {
    /* As model_exec.c does: the workspace comes from the worker's scratch. */
    int had = ex->workspace->data != NULL;
    void *p = sbai_scratch_reserve(ex->workspace, 1u << 20);
    pthread_mutex_lock(&mu);
    last_had_workspace = had;
    reserve_failed |= p == NULL;
    pthread_mutex_unlock(&mu);
  }
  for (int i = 0; i < n; i++) {
    if (ex->device >= 0 && ex->stream != &good_stream) {
      pthread_mutex_lock(&mu);
      bad_executions++;
      pthread_mutex_unlock(&mu);
    }
    runs[i]->status = SBAI_RUN_DONE;
  }
}

void sbai_run_finish(sbai_run_t *run)
{
  pthread_mutex_lock(&mu);
  run->batch_total = 1; /* marks it handed back (the test reads it under mu) */
  finished_count++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* The worker start-up: a gate holds it until the test opens it; then the
 * first `fail_left` calls fail (as gpu.c's does when cudaSetDevice or the
 * stream creation fails), the others succeed with good_stream. */
static int gate_open = 1, fail_left, init_calls;

static int fake_worker_init(int device, void **stream, char *err, size_t errlen)
{
  int fail;
  pthread_mutex_lock(&mu);
  init_calls++;
  pthread_cond_broadcast(&cv);
  while (!gate_open)
    pthread_cond_wait(&cv, &mu);
  fail = fail_left > 0;
  if (fail)
    fail_left--;
  pthread_mutex_unlock(&mu);
  if (fail) {
    snprintf(err, errlen,
             "GPU:%d: gpu.c:1: cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking): "
             "cudaErrorDevicesUnavailable: test fault",
             device);
    return -1;
  }
  *stream = &good_stream;
  return 0;
}

/* ---- helpers -------------------------------------------------------------------- */

static struct timespec deadline(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += WAIT_S;
  return ts;
}

static sbai_run_t *new_run(int device)
{
  sbai_run_t *r = calloc(1, sizeof *r);
  REQUIRE(r);
  r->device = device;
  r->batch = 1;
  return r;
}

/* Waits until run r is handed back; 0, or -1 after WAIT_S. */
static int wait_finished(sbai_run_t *r)
{
  struct timespec ts = deadline();
  int rc = 0;
  pthread_mutex_lock(&mu);
  while (!r->batch_total && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&cv, &mu, &ts);
  rc = r->batch_total ? 0 : -1;
  pthread_mutex_unlock(&mu);
  return rc;
}

/* Waits until the log holds `text`; 0, or -1 after WAIT_S. */
static int wait_log(const char *text)
{
  struct timespec ts = deadline();
  int rc = 0;
  pthread_mutex_lock(&mu);
  while (!strstr(log_text, text) && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&cv, &mu, &ts);
  rc = strstr(log_text, text) ? 0 : -1;
  pthread_mutex_unlock(&mu);
  return rc;
}

/* Waits until `n` start-ups have been called; 0, or -1 after WAIT_S. */
static int wait_init_calls(int n)
{
  struct timespec ts = deadline();
  int rc = 0;
  pthread_mutex_lock(&mu);
  while (init_calls < n && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&cv, &mu, &ts);
  rc = init_calls >= n ? 0 : -1;
  pthread_mutex_unlock(&mu);
  return rc;
}

static int finished_now(sbai_run_t *r)
{
  int f;
  pthread_mutex_lock(&mu);
  f = r->batch_total != 0;
  pthread_mutex_unlock(&mu);
  return f;
}

static const char *const WANT =
    "no worker could start on GPU:0: GPU:0: gpu.c:1: "
    "cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking): cudaErrorDevicesUnavailable: "
    "test fault";

/* A CPU run is done within WAIT_S. */
static void check_cpu_runs(const char *when)
{
  sbai_run_t *r = new_run(SBAI_DEVICE_CPU);
  sbai_queue_push(r);
  CHECK(wait_finished(r) == 0, "a CPU run %s was not handed back within %d s", when, WAIT_S);
  CHECK(r->status == SBAI_RUN_DONE, "a CPU run %s: status %d", when, (int)r->status);
  if (finished_now(r))
    free(r);
}

int main(void)
{
  char err[256], why[300];
  sbai_run_t *queued[3], *r;

  REQUIRE(sbai_queue_start(2, 1, err, sizeof err) == 0, "%s", err);
  check_cpu_runs("before any GPU queue");

  /* ---- the CPU workers' scratch: reused, and freed on a trim ------------------- */
  {
    int reused = 0, had;
    /* Three runs one after another on two workers: one worker runs two, and
     * its second finds the buffer of its first. */
    for (int i = 0; i < 3; i++) {
      check_cpu_runs("to fill the scratch");
      pthread_mutex_lock(&mu);
      reused |= last_had_workspace;
      pthread_mutex_unlock(&mu);
    }
    CHECK(reused, "no CPU run found its worker's workspace of an earlier run");
    /* After a trim the next run finds none, whichever worker takes it. */
    sbai_queue_trim(SBAI_DEVICE_CPU);
    check_cpu_runs("after a trim");
    pthread_mutex_lock(&mu);
    had = last_had_workspace;
    CHECK(!reserve_failed, "a workspace reserve failed");
    pthread_mutex_unlock(&mu);
    CHECK(!had, "the first CPU run after sbai_queue_trim found the old workspace");
    /* A queue never started: nothing, no crash. */
    sbai_queue_trim(7);
  }

  /* ---- GPU:0: both workers fail to start, runs already waiting ---------------- */
  pthread_mutex_lock(&mu);
  gate_open = 0;
  fail_left = 2;
  pthread_mutex_unlock(&mu);
  REQUIRE(sbai_queue_start_gpu(0, 2, fake_worker_init, err, sizeof err) == 0, "%s", err);
  REQUIRE(wait_init_calls(2) == 0, "the GPU:0 workers did not start within %d s", WAIT_S);
  CHECK(sbai_queue_live_workers(0, NULL, 0) == 2, "two workers are still starting");
  for (int i = 0; i < 3; i++) {
    queued[i] = new_run(0);
    sbai_queue_push(queued[i]);
  }
  /* The client of the last one leaves before any worker could take it. */
  atomic_store(&queued[2]->gone, 1);
  CHECK(!finished_now(queued[0]), "a run waits while workers are starting");
  pthread_mutex_lock(&mu);
  gate_open = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < 3; i++) {
    CHECK(wait_finished(queued[i]) == 0, "queued GPU:0 run %d not handed back within %d s", i,
          WAIT_S);
    if (!finished_now(queued[i]))
      continue; /* never free a run a thread may still hold */
    if (i < 2) {
      CHECK(queued[i]->status == SBAI_RUN_FAILED, "queued run %d: status %d", i,
            (int)queued[i]->status);
      CHECK(strcmp(queued[i]->err, WANT) == 0, "queued run %d: error [%s]", i, queued[i]->err);
    } else {
      CHECK(queued[i]->status == SBAI_RUN_SKIPPED, "a run whose client left: status %d",
            (int)queued[i]->status);
    }
    free(queued[i]);
  }
  CHECK(wait_log("GPU:0 has no worker left") == 0, "the log lacks the queue's end");
  CHECK(wait_log("sbai: GPU:0: worker 1 of 2 could not start") == 0, "the log lacks worker 1");
  CHECK(wait_log("sbai: GPU:0: worker 2 of 2 could not start") == 0, "the log lacks worker 2");
  CHECK(strstr(log_text, "cudaErrorDevicesUnavailable: test fault") != NULL,
        "the log lacks the reason");
  CHECK(sbai_queue_live_workers(0, why, sizeof why) == 0, "GPU:0 has no worker left");
  CHECK(strcmp(why, WANT) == 0, "sbai_queue_live_workers reason [%s]", why);

  /* A run given to the dead queue fails before sbai_queue_push returns. */
  r = new_run(0);
  sbai_queue_push(r);
  CHECK(finished_now(r), "a run on a queue without workers is handed back at once");
  CHECK(r->status == SBAI_RUN_FAILED && strcmp(r->err, WANT) == 0,
        "a later GPU:0 run: status %d, error [%s]", (int)r->status, r->err);
  if (finished_now(r))
    free(r);
  /* Starting it again changes nothing (the queue exists). */
  CHECK(sbai_queue_start_gpu(0, 2, fake_worker_init, err, sizeof err) == 0, "%s", err);
  CHECK(sbai_queue_live_workers(0, NULL, 0) == 0, "still no worker on GPU:0");
  check_cpu_runs("after GPU:0 lost its workers");

  /* ---- GPU:1: two of three workers fail; the third serves alone ---------------- */
  pthread_mutex_lock(&mu);
  fail_left = 2;
  pthread_mutex_unlock(&mu);
  REQUIRE(sbai_queue_start_gpu(1, 3, fake_worker_init, err, sizeof err) == 0, "%s", err);
  for (int i = 0; i < 20; i++) {
    r = new_run(1);
    sbai_queue_push(r);
    CHECK(wait_finished(r) == 0, "GPU:1 run %d not handed back within %d s", i, WAIT_S);
    if (!finished_now(r))
      continue;
    CHECK(r->status == SBAI_RUN_DONE, "GPU:1 run %d: status %d [%s]", i, (int)r->status, r->err);
    free(r);
  }
  /* Both failures are logged once the third worker has run the runs above
   * (or before): wait for the count, not for time. */
  CHECK(wait_log("(1 worker(s) left)") == 0, "the log lacks GPU:1's failed workers");
  CHECK(sbai_queue_live_workers(1, NULL, 0) == 1, "GPU:1 has one worker");
  pthread_mutex_lock(&mu);
  CHECK(bad_executions == 0, "%d run(s) executed by a worker that had not started",
        bad_executions);
  pthread_mutex_unlock(&mu);
  check_cpu_runs("at the end");

  /* A queue never started answers 0 and says so. */
  CHECK(sbai_queue_live_workers(5, why, sizeof why) == 0 && strstr(why, "GPU:5 has no queue"),
        "GPU:5: [%s]", why);
  return CHECK_DONE();
}
