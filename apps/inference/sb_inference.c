/* sb-inference: images through a ResNet that runs inside the database.
 *
 * Per iteration and rank (SmartSim's inference test, in C):
 *   put_tensor     AI.TENSORSET  <in>  FLOAT N H W 3 BLOB   (HWC image batch, 0..255)
 *   run_script     AI.SCRIPTEXECUTE <script> pre_process_3ch INPUTS 1 <in> OUTPUTS 1 <pre>
 *   run_model      AI.MODELEXECUTE  <model> INPUTS 1 <pre> OUTPUTS 1 <out>
 *   unpack_tensor  AI.TENSORGET  <out> META BLOB            (N × classes logits)
 * The keys are the rank's own and are overwritten every iteration, so the
 * database does not grow. The images are pseudo-random per rank and
 * iteration. On the first iteration and every --verify-every-th after it,
 * the rank computes the same pre-processing and forward pass in-process with
 * the kernel layer and compares the logits (outside the timed part).
 *
 * --backend torch stores a TorchScript module (--model-file X.pt, made by
 * torch.jit.save from the same weights, e.g. tests/torch/trace_resnet.py)
 * with backend TORCH instead: the database runs it with libtorch (the
 * module's BACKEND_TORCH plugin), the in-process reference is still our
 * forward pass, on the safetensors weights of --weights (default: made in
 * memory from --model and --seed).
 *
 * Moves per iteration: N·H·W·3·4 bytes in, N·classes·4 bytes out; the
 * aggregate figure counts images.
 */
#include "sb_app.h"
#include "sb_crc16.h"
#include "sb_db_ai.h"
#include "sb_error.h"
#include "sb_kernels.h"
#include "sb_log.h"
#include "sb_file.h"
#include "sb_resnet.h"
#include "sb_resnet_cuda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The logits of the database and of the in-process reference must agree to
 * max|db - ref| <= SB_INFER_RTOL · max(max|ref|, 1): the same kernels run on
 * both sides, so on CPU they agree to rounding (the summation order can
 * differ with the thread count and with batching). With --backend torch the
 * database runs libtorch's convolutions (other algorithms, another order of
 * summation, batch-norm not folded) on the same weights: they agree with ours
 * to float32 rounding through the network, 6.5e-7 of max |logit| for
 * resnet50 (docs/benchmarks.md), so the same bound leaves a margin of over
 * 100 while other weights (another seed) differ by the logits' own size. */
#define SB_INFER_RTOL 1e-4
/* With --device gpu the database runs the CUDA kernels, checked with the
 * GPU forward's own bounds (SB_RESNET_CUDA_RTOL_*, kernels/sb_resnet_cuda.h:
 * FP32, or TF32 = GPU_PRECISION, the module's default) and its floor. */

/* The node-local database of --colocated (docs/design.md): this socket, unless
 * SB_COLOCATED_SOCKET names another. `stagebench db start --colocated` uses
 * the same path. */
#define SB_COLOCATED_DEFAULT "/tmp/stagebench/db.sock"

static const char *opt_model, *opt_model_file, *opt_device, *opt_backend, *opt_weights;
static int64_t opt_batch, opt_image, opt_seed, opt_num_devices, opt_verify_every, opt_wait;
static int64_t opt_db_batch, opt_db_min_batch, opt_db_min_batch_timeout;
static int opt_set_model, opt_colocated;

static const sb_opt_t inf_opts[] = {
  {"model", SB_OPT_CHOICE, &opt_model, "resnet50", "the ResNet to run", "tiny|resnet18|resnet34|resnet50",
   0, 0},
  {"backend", SB_OPT_CHOICE, &opt_backend, "sbresnet",
   "what runs the model in the database: our kernels (safetensors) or libtorch (TorchScript of "
   "--model-file; the module needs BACKEND_TORCH)",
   "sbresnet|torch", 0, 0},
  {"model-file", SB_OPT_STR, &opt_model_file, NULL,
   "model file to store: safetensors (default: made in memory, like `stagebench model make MODEL "
   "--seed S`); with --backend torch a torch.jit.save'd module of the same weights (required)",
   NULL, 0, 0},
  {"weights", SB_OPT_STR, &opt_weights, NULL,
   "safetensors weights of the in-process reference: with --backend torch those the TorchScript "
   "was made from (default: made in memory from --model and --seed); with sbresnet also the "
   "stored model, in place of a TorchScript --model-file (so a sweep over --backend runs both)",
   NULL, 0, 0},
  {"seed", SB_OPT_INT, &opt_seed, "1", "seed of the generated model's weights", NULL, 0, 0},
  {"batch-size", SB_OPT_INT, &opt_batch, "1", "images per put_tensor and per run", NULL, 1, 4096},
  {"image-size", SB_OPT_INT, &opt_image, "0",
   "image height = width (0: the model's own, 224, or 32 for tiny)", NULL, 0, 4096},
  {"device", SB_OPT_CHOICE, &opt_device, "cpu", "where the database runs the model", "cpu|gpu", 0,
   0},
  {"num-devices", SB_OPT_INT, &opt_num_devices, "1",
   "GPUs per database: the model is stored on GPU:0..N-1, a rank uses GPU:(local rank mod N)",
   NULL, 1, 64},
  {"set-model", SB_OPT_FLAG, &opt_set_model, NULL,
   "store model and script even if they are already there", NULL, 0, 0},
  {"colocated", SB_OPT_FLAG, &opt_colocated, NULL,
   "use the node-local database on its unix socket ($SB_COLOCATED_SOCKET, default "
   SB_COLOCATED_DEFAULT ")",
   NULL, 0, 0},
  {"db-batch-size", SB_OPT_INT, &opt_db_batch, "0",
   "the model's BATCHSIZE: the database merges runs up to this many images (0: off)", NULL, 0,
   4096},
  {"db-min-batch-size", SB_OPT_INT, &opt_db_min_batch, "0", "the model's MINBATCHSIZE", NULL, 0,
   4096},
  {"db-min-batch-timeout", SB_OPT_INT, &opt_db_min_batch_timeout, "0",
   "the model's MINBATCHTIMEOUT, ms", NULL, 0, 3600000},
  {"verify-every", SB_OPT_INT, &opt_verify_every, "10",
   "check the logits in-process on the first and every N-th iteration", NULL, 1, 1000000},
  {"wait", SB_OPT_INT, &opt_wait, "60", "seconds a rank waits for model and script to appear",
   NULL, 1, 86400},
};

/* The script the database runs: RedisAI clients send TorchScript text; the
 * module runs the built-in it names (docs/module.md). */
static const char script_source[] =
    "def pre_process_3ch(image):\n"
    "    # HWC 0..255 -> CHW, /255, ImageNet mean/std, batch dimension\n"
    "    return image\n";

/* On a Redis Cluster every shard holds a copy of model and script, under
 * keys hash-tagged {s<k>} with a tag k whose slot that shard serves; a rank
 * uses copy (rank mod shards) and tags its own tensors the same way, so
 * run_script and run_model find every key on one shard (sb_db_shard_tags). */

typedef struct {
  sb_resnet_t *model;                       /* the in-process reference */
  void *blob;                               /* what is stored in the database */
  size_t blob_len;
  void *ref_blob;                           /* --backend torch: the reference's safetensors */
  size_t ref_blob_len;
  int64_t n, hw, classes;
  float *image, *pre, *logits, *ref_logits;
  void *work;
  size_t work_bytes;
  char model_key[64], script_key[64], in_key[64], pre_key[64], out_key[64];
  int64_t in_dims[4], out_dims[2];
  int put_phase, script_phase, model_phase, get_phase;
  int threads;
  double max_err;
  int nshards;                              /* 0: standalone */
  char (*shard_tags)[SB_DB_SHARD_TAG_LEN];  /* one per shard on a cluster */
  int gpu;                                  /* --device gpu: this rank's GPU; -1: cpu */
  double rtol;                              /* verification bound, relative */
  double floor;                             /* ... to max(floor, max |logit|) */
} inf_state_t;

static char colocated_db[512];

/* --backend torch: the database runs TorchScript with libtorch. */
static int use_torch(void) { return strcmp(opt_backend, "torch") == 0; }

/* torch.jit.save writes a zip archive; the module tells the backends apart
 * by the same first bytes. */
static int is_torchscript(const void *blob, size_t len)
{
  return len >= 4 && memcmp(blob, "PK\x03\x04", 4) == 0;
}

static int inf_configure(sb_app_ctx_t *ctx)
{
  /* Option values are checked here, before any connection, so that a bad
   * one is a usage error (exit 2), not a failed setup (exit 1). */
  if (opt_image != 0 && opt_image < 32)
    return sb_error("--image-size %lld: at least 32 (0: the model's own)",
                    (long long)opt_image);
  if (strcmp(opt_device, "gpu") != 0 && opt_num_devices != 1)
    return sb_error("--num-devices %lld: only meaningful with --device gpu",
                    (long long)opt_num_devices);
  if (opt_db_min_batch > 0 && opt_db_batch == 0)
    return sb_error("--db-min-batch-size needs --db-batch-size");
  if (opt_db_min_batch > opt_db_batch)
    return sb_error("--db-min-batch-size %lld is larger than --db-batch-size %lld",
                    (long long)opt_db_min_batch, (long long)opt_db_batch);
  if (use_torch()) {
    if (!opt_model_file || !*opt_model_file)
      return sb_error("--backend torch needs --model-file FILE.pt: a TorchScript module of the "
                      "--model network (torch.jit.save); sb-inference cannot make one "
                      "(tests/torch/trace_resnet.py makes it from a safetensors file)");
    if (strcmp(opt_device, "cpu") != 0)
      return sb_error("--backend torch: the module runs TorchScript on the CPU only");
    if (opt_db_batch > 0)
      return sb_error("--backend torch: the module does not batch TORCH models "
                      "(--db-batch-size)");
  }
  if (opt_colocated) {
    const char *sock = getenv("SB_COLOCATED_SOCKET");
    snprintf(colocated_db, sizeof colocated_db, "unix://%s",
             sock && *sock ? sock : SB_COLOCATED_DEFAULT);
    ctx->opts.db = colocated_db;
    if (sb_kv_set_str(&ctx->params, "db", colocated_db) != SB_OK)
      return SB_ERR;
  }
  return SB_OK;
}

/* The rank that stores model and script: rank 0, or with --colocated the
 * first rank of each node (each node has its own database). */
static int is_storer(const sb_app_ctx_t *ctx)
{
  return opt_colocated ? ctx->local_rank == 0 : ctx->rank == 0;
}

/* The model's device on the database: "CPU", or "GPU:d". */
static const char *model_device(int gpu, char buf[16])
{
  if (gpu < 0)
    return "CPU";
  snprintf(buf, 16, "GPU:%d", gpu);
  return buf;
}

/* Stores the model under s->model_key on device `gpu` (-1: CPU) unless
 * the database holds it with this tag already, and the script (always on
 * the CPU: sbai runs scripts there). */
static int store_model_and_script(sb_app_ctx_t *ctx, inf_state_t *s, const char *tag, int gpu)
{
  char dev[16];
  int stored = 0;
  sb_ai_model_spec_t spec = {.backend = use_torch() ? "TORCH" : "SBRESNET",
                             .device = model_device(gpu, dev),
                             .tag = tag,
                             .batch_size = opt_db_batch,
                             .min_batch_size = opt_db_min_batch,
                             .min_batch_timeout_ms = opt_db_min_batch_timeout};
  if (sb_ai_model_ensure(ctx->db, s->model_key, &spec, s->blob, s->blob_len, opt_set_model,
                         &stored) != SB_OK)
    return sb_error_prefix("storing the model");
  if (stored)
    sb_log(SB_LOG_INFO, "stored model %s (%s, %.1f MB) as %s on %s, backend %s", opt_model, tag,
           s->blob_len / 1e6, s->model_key, spec.device, spec.backend);
  else
    sb_log(SB_LOG_INFO, "model %s already stored as %s", tag, s->model_key);
  if (sb_ai_script_ensure(ctx->db, s->script_key, "CPU", script_source, opt_set_model) != SB_OK)
    return sb_error_prefix("storing the script");
  return SB_OK;
}

/* The keys of model copy / rank tensors under a tag ("" standalone); with
 * --device gpu one model key per GPU (":gpu<d>" appended); with --backend
 * torch the model's key ends in ":torch", so both backends' models can be
 * in one database. */
static void name_keys(inf_state_t *s, const char *tag, int rank, const char *arch, int gpu)
{
  char pre[32] = "sb:inf:";
  if (*tag)
    snprintf(pre, sizeof pre, "sb:inf:{%s}:", tag);
  if (gpu >= 0)
    snprintf(s->model_key, sizeof s->model_key, "%smodel:%s:gpu%d", pre, arch, gpu);
  else
    snprintf(s->model_key, sizeof s->model_key, "%smodel:%s%s", pre, arch,
             use_torch() ? ":torch" : "");
  snprintf(s->script_key, sizeof s->script_key, "%sscript", pre);
  snprintf(s->in_key, sizeof s->in_key, "%sr%d:in", pre, rank);
  snprintf(s->pre_key, sizeof s->pre_key, "%sr%d:pre", pre, rank);
  snprintf(s->out_key, sizeof s->out_key, "%sr%d:out", pre, rank);
}

/* The verification bound: the CPU's, or on a GPU the one of the precision
 * the module runs convolutions in (AI.CONFIG GET GPU_PRECISION: 0 FP32,
 * 1 TF32; TF32's bound when the server does not say). */
static double gpu_rtol(sb_app_ctx_t *ctx)
{
  long long precision = -1;
  if (sb_ai_config_get_int(ctx->db, "GPU_PRECISION", &precision) != SB_OK)
    sb_log(SB_LOG_DEBUG, "%s; taking TF32's bound", sb_error_msg());
  return precision == 0 ? SB_RESNET_CUDA_RTOL_FP32 : SB_RESNET_CUDA_RTOL_TF32;
}

static int inf_setup(sb_app_ctx_t *ctx)
{
  char err[256], tag[96];
  int storer = is_storer(ctx), ok_local, ok_all;
  const int use_gpu = strcmp(opt_device, "gpu") == 0;
  inf_state_t *s = calloc(1, sizeof *s);
  if (!s)
    return sb_error("out of memory");
  ctx->state = s;
  s->gpu = -1;
  s->rtol = SB_INFER_RTOL;
  s->floor = 1;
  if (use_gpu) {
    s->gpu = (int)(ctx->local_rank % opt_num_devices);
    ctx->device = s->gpu;
  }
  if (sb_ai_require_module(ctx->db, "it runs the model") != SB_OK)
    return SB_ERR;

  /* The model, on every rank: stored by one, used by all for verification.
   * With --backend torch the stored blob is the TorchScript of --model-file
   * and the reference is the safetensors of --weights (or made). */
  if (!use_torch() && opt_weights) {
    /* sbresnet with --weights: that file is stored, and a TorchScript
     * --model-file (for the torch cases of a sweep) is left aside. */
    if (opt_model_file) {
      if (sb_file_read(opt_model_file, &s->blob, &s->blob_len, err, sizeof err) != 0)
        return sb_error("--model-file %s", err);
      if (!is_torchscript(s->blob, s->blob_len))
        return sb_error("--model-file %s and --weights %s both name the safetensors to store: "
                        "give one",
                        opt_model_file, opt_weights);
      free(s->blob);
      s->blob = NULL;
      sb_log(SB_LOG_INFO, "--backend sbresnet: storing --weights %s, not the TorchScript %s",
             opt_weights, opt_model_file);
    }
    if (sb_file_read(opt_weights, &s->blob, &s->blob_len, err, sizeof err) != 0)
      return sb_error("--weights %s", err);
    if (is_torchscript(s->blob, s->blob_len))
      return sb_error("--weights %s is a TorchScript module, not safetensors", opt_weights);
  } else if (opt_model_file) {
    if (sb_file_read(opt_model_file, &s->blob, &s->blob_len, err, sizeof err) != 0)
      return sb_error("--model-file %s", err);
    if (use_torch() && !is_torchscript(s->blob, s->blob_len))
      return sb_error("--model-file %s is no TorchScript module (torch.jit.save writes a zip "
                      "archive), as --backend torch needs",
                      opt_model_file);
    if (!use_torch() && is_torchscript(s->blob, s->blob_len))
      return sb_error("--model-file %s is a TorchScript module: use --backend torch (with "
                      "--weights, the safetensors it was made from)",
                      opt_model_file);
  } else if (sb_resnet_make(opt_model, (uint64_t)opt_seed, &s->blob, &s->blob_len, err,
                            sizeof err) != 0) {
    return sb_error("making model %s: %s", opt_model, err);
  }
  const char *ref_name = !use_torch() && opt_weights ? opt_weights
                         : opt_model_file             ? opt_model_file
                                                      : opt_model;
  const void *ref = s->blob;
  size_t ref_len = s->blob_len;
  if (use_torch()) {
    if (opt_weights) {
      if (sb_file_read(opt_weights, &s->ref_blob, &s->ref_blob_len, err, sizeof err) != 0)
        return sb_error("--weights %s", err);
    } else if (sb_resnet_make(opt_model, (uint64_t)opt_seed, &s->ref_blob, &s->ref_blob_len,
                              err, sizeof err) != 0) {
      return sb_error("making model %s: %s", opt_model, err);
    }
    ref = s->ref_blob, ref_len = s->ref_blob_len;
    ref_name = opt_weights ? opt_weights : opt_model;
  }
  if (sb_resnet_load(ref, ref_len, &s->model, err, sizeof err) != 0)
    return sb_error("model %s: %s", ref_name, err);
  if (ref_name != opt_model && strcmp(sb_resnet_arch(s->model), opt_model) != 0)
    return sb_error("%s %s holds a %s, not a %s (--model)",
                    ref_name == opt_weights ? "--weights" : "--model-file", ref_name,
                    sb_resnet_arch(s->model), opt_model);
  sb_ai_backend_blob_tag(use_torch() ? "torch" : "sbresnet", sb_resnet_arch(s->model), s->blob,
                         s->blob_len, tag, sizeof tag);

  s->n = opt_batch;
  s->hw = opt_image > 0 ? opt_image : sb_resnet_image_size(s->model);
  if (s->hw < 32) /* --image-size was checked in configure: the model's own size */
    return sb_error("model %s: image size %lld, at least 32 needed", sb_resnet_arch(s->model),
                    (long long)s->hw);
  s->classes = sb_resnet_classes(s->model);
  s->in_dims[0] = s->n, s->in_dims[1] = s->hw, s->in_dims[2] = s->hw, s->in_dims[3] = 3;
  s->out_dims[0] = s->n, s->out_dims[1] = s->classes;
  size_t img = (size_t)(s->n * s->hw * s->hw * 3);
  s->image = malloc(img * sizeof(float));
  s->pre = malloc(img * sizeof(float));
  s->logits = malloc((size_t)(s->n * s->classes) * sizeof(float));
  s->ref_logits = malloc((size_t)(s->n * s->classes) * sizeof(float));
  s->threads = 1;
  s->work_bytes = sb_resnet_workspace_bytes(s->model, s->n, s->hw, s->hw, s->threads);
  s->work = malloc(s->work_bytes ? s->work_bytes : 1);
  if (!s->image || !s->pre || !s->logits || !s->ref_logits || !s->work)
    return sb_error("out of memory for batch %lld at %lldx%lld", (long long)s->n,
                    (long long)s->hw, (long long)s->hw);

  if (sb_db_shard_tags(ctx->db, &s->shard_tags, &s->nshards) != SB_OK)
    return SB_ERR;
  if (s->nshards)
    sb_kv_set_int(&ctx->params, "model-copies", s->nshards);

  s->put_phase = sb_timings_add(&ctx->timings, "put_tensor", ctx->opts.iterations,
                                img * sizeof(float), (uint64_t)s->n);
  s->script_phase = sb_timings_add(&ctx->timings, "run_script", ctx->opts.iterations, 0,
                                   (uint64_t)s->n);
  s->model_phase = sb_timings_add(&ctx->timings, "run_model", ctx->opts.iterations, 0,
                                  (uint64_t)s->n);
  s->get_phase = sb_timings_add(&ctx->timings, "unpack_tensor", ctx->opts.iterations,
                                (uint64_t)(s->n * s->classes) * sizeof(float), (uint64_t)s->n);
  if (s->put_phase < 0 || s->script_phase < 0 || s->model_phase < 0 || s->get_phase < 0)
    return SB_ERR;
  sb_kv_set_str(&ctx->params, "model-tag", tag);
  sb_kv_set_int(&ctx->params, "image-size-used", s->hw);
  sb_kv_set_real(&ctx->params, "gflop-per-image",
                 sb_resnet_flops(s->model, 1, s->hw, s->hw) / 1e9);

  /* One rank per database stores, then everyone checks, bounded. A failure
   * to store is reported by every rank rather than left to the wait. */
  ok_local = 1;
  for (int k = 0; storer && ok_local && k < (s->nshards ? s->nshards : 1); k++)
    for (int d = 0; ok_local && d < (use_gpu ? (int)opt_num_devices : 1); d++) {
      name_keys(s, s->nshards ? s->shard_tags[k] : "", ctx->rank, sb_resnet_arch(s->model),
                use_gpu ? d : -1);
      ok_local = store_model_and_script(ctx, s, tag, use_gpu ? d : -1) == SB_OK;
    }
  /* This rank's copy and keys. */
  name_keys(s, s->nshards ? s->shard_tags[ctx->rank % s->nshards] : "", ctx->rank,
            sb_resnet_arch(s->model), s->gpu);
  if (!ok_local)
    sb_log(SB_LOG_ERROR, "%s", sb_error_msg());
  SB_MPI(MPI_Allreduce(&ok_local, &ok_all, 1, MPI_INT, MPI_MIN, ctx->comm));
  if (!ok_all)
    return ok_local ? sb_error("another rank could not store the model") : SB_ERR;
  if (use_gpu) {
    s->rtol = gpu_rtol(ctx);
    s->floor = SB_RESNET_CUDA_RTOL_FLOOR;
    sb_kv_set_str(&ctx->params, "model-device", model_device(s->gpu, err));
  }
  sb_kv_set_real(&ctx->params, "verify-rtol", s->rtol);
  return sb_ai_wait_ready(ctx->db, s->model_key, tag, s->script_key, (double)opt_wait);
fail:
  return SB_ERR;
}

/* Pseudo-random pixels in 0..255 for (rank, iteration). */
static int inf_prepare(sb_app_ctx_t *ctx, int64_t seq)
{
  inf_state_t *s = ctx->state;
  size_t n = (size_t)(s->n * s->hw * s->hw * 3);
  uint64_t x = ((uint64_t)ctx->rank << 40) ^ (uint64_t)seq ^ 0x5851f42d4c957f2dull;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s->image[i] = (float)(x % 256);
  }
  return SB_OK;
}

static int inf_iteration(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  inf_state_t *s = ctx->state;
  const char *in[1] = {s->in_key}, *pre[1] = {s->pre_key}, *out[1] = {s->out_key};
  size_t img_bytes = (size_t)(s->n * s->hw * s->hw * 3) * sizeof(float);
  double t0, t1, t2, t3, t4;
  (void)seq;
  t0 = sb_now();
  if (sb_db_put_tensor(ctx->db, s->in_key, "FLOAT", s->in_dims, 4, s->image, img_bytes) != SB_OK)
    return sb_error_prefix("put_tensor");
  t1 = sb_now();
  if (sb_ai_script_execute(ctx->db, s->script_key, "pre_process_3ch", 1, in, 1, pre) != SB_OK)
    return sb_error_prefix("run_script");
  t2 = sb_now();
  if (sb_ai_model_execute(ctx->db, s->model_key, 1, pre, 1, out) != SB_OK)
    return sb_error_prefix("run_model");
  t3 = sb_now();
  if (sb_db_get_tensor(ctx->db, s->out_key, "FLOAT", s->out_dims, 2, s->logits,
                       (size_t)(s->n * s->classes) * sizeof(float)) != SB_OK)
    return sb_error_prefix("unpack_tensor");
  t4 = sb_now();
  if (timed) {
    sb_phase_record(&ctx->timings.phases[s->put_phase], t1 - t0);
    sb_phase_record(&ctx->timings.phases[s->script_phase], t2 - t1);
    sb_phase_record(&ctx->timings.phases[s->model_phase], t3 - t2);
    sb_phase_record(&ctx->timings.phases[s->get_phase], t4 - t3);
  }
  return SB_OK;
}

/* Sequence numbers count warm-up iterations first; the sample is the first
 * iteration of the run and every verify_every-th after it. */
static int inf_check(sb_app_ctx_t *ctx, int64_t seq)
{
  inf_state_t *s = ctx->state;
  char err[256];
  double maxref = 0, maxdiff = 0;
  int64_t worst = 0, count = s->n * s->classes;
  if (seq % opt_verify_every != 0)
    return SB_OK;
  sb_k_pre_process_3ch(s->image, s->n, s->hw, s->hw, s->pre, s->threads);
  if (sb_resnet_forward(s->model, s->pre, s->n, s->hw, s->hw, s->ref_logits, s->work,
                        s->work_bytes, s->threads, err, sizeof err) != 0)
    return sb_error("verification forward pass: %s", err);
  for (int64_t i = 0; i < count; i++) {
    double d = fabs((double)s->logits[i] - s->ref_logits[i]);
    if (fabs(s->ref_logits[i]) > maxref)
      maxref = fabs(s->ref_logits[i]);
    if (!(d <= maxdiff)) /* NaN counts as worst */
      maxdiff = d, worst = i;
  }
  if (maxref < s->floor)
    maxref = s->floor;
  if (maxdiff / maxref > s->max_err || isnan(maxdiff))
    s->max_err = maxdiff / maxref;
  if (!(maxdiff <= s->rtol * maxref)) {
    if (ctx->verify_errors < 5)
      sb_log(SB_LOG_ERROR,
             "verification: rank %d iteration %lld: logit [%lld][%lld] is %g, in-process %g "
             "(max |diff| %.3g > %.0e × %.3g)",
             ctx->rank, (long long)seq, (long long)(worst / s->classes),
             (long long)(worst % s->classes), s->logits[worst], s->ref_logits[worst], maxdiff,
             s->rtol, maxref);
    ctx->verify_errors++;
  }
  return SB_OK;
}

static void inf_teardown(sb_app_ctx_t *ctx)
{
  inf_state_t *s = ctx->state;
  if (!s)
    return;
  if (ctx->db && s->in_key[0]) {
    const char *keys[3] = {s->in_key, s->pre_key, s->out_key};
    for (int i = 0; i < 3; i++)
      if (sb_db_del(ctx->db, keys[i]) != SB_OK)
        sb_log(SB_LOG_DEBUG, "cleanup: %s", sb_error_msg());
  }
  if (s->max_err > 0)
    sb_log(SB_LOG_DEBUG, "largest relative logit difference checked: %.3g", s->max_err);
  sb_resnet_free(s->model);
  free(s->shard_tags);
  free(s->blob);
  free(s->ref_blob);
  free(s->image);
  free(s->pre);
  free(s->logits);
  free(s->ref_logits);
  free(s->work);
  free(s);
  ctx->state = NULL;
}

static uint64_t inf_loop_bytes(const sb_app_ctx_t *ctx)
{
  const inf_state_t *s = ctx->state;
  if (!s)
    return 0;
  return (uint64_t)(s->n * s->hw * s->hw * 3 + s->n * s->classes) * sizeof(float);
}

static uint64_t inf_loop_items(const sb_app_ctx_t *ctx)
{
  const inf_state_t *s = ctx->state;
  return s ? (uint64_t)s->n : 1;
}

static void inf_describe(const sb_app_ctx_t *ctx, char *buf, size_t len)
{
  const inf_state_t *s = ctx->state;
  if (!s) {
    snprintf(buf, len, "%s, batch %lld", opt_model, (long long)opt_batch);
    return;
  }
  if (use_torch()) {
    snprintf(buf, len, "%s, batch %lld, %lldx%lld images, cpu, libtorch (TorchScript)", opt_model,
             (long long)s->n, (long long)s->hw, (long long)s->hw);
    return;
  }
  if (s->gpu >= 0)
    snprintf(buf, len, "%s, batch %lld, %lldx%lld images, gpu (%lld per database)", opt_model,
             (long long)s->n, (long long)s->hw, (long long)s->hw, (long long)opt_num_devices);
  else
    snprintf(buf, len, "%s, batch %lld, %lldx%lld images, cpu", opt_model, (long long)s->n,
             (long long)s->hw, (long long)s->hw);
}

static const sb_app_t inference_app = {
  .name = "sb-inference",
  .summary = "put_tensor, run_script (pre_process_3ch), run_model (ResNet), unpack_tensor per "
             "rank and iteration, against the database's sbai module.",
  .opts = inf_opts,
  .n_opts = (int)(sizeof inf_opts / sizeof inf_opts[0]),
  .configure = inf_configure,
  .setup = inf_setup,
  .prepare = inf_prepare,
  .iteration = inf_iteration,
  .check = inf_check,
  .teardown = inf_teardown,
  .loop_bytes = inf_loop_bytes,
  .loop_items = inf_loop_items,
  .describe = inf_describe,
  .latency_phase = "run_model",
  .fom_items = "images",
  .verify_passed = "sampled logits matched the in-process forward pass",
  .verify_failed = "sampled batches differed from the in-process forward pass",
  .sweep_params = (const char *const[]){"device=dev", "num-devices=nd", "model=model",
                                        "batch-size=bs", "backend=be", NULL},
};

int main(int argc, char **argv) { return sb_app_main(&inference_app, argc, argv); }
