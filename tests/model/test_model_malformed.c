/* Malformed model files: each one refused with its own message, naming the
 * tensor, and nothing read or written out of bounds (CI runs a copy of this
 * test under AddressSanitizer + UBSan). Every case starts from a valid tiny
 * model and breaks one thing: the bytes, the JSON header, or the tensors
 * (rebuilt with the writer). A bounded fuzz loop at the end flips header
 * bytes and truncates at random; each result must be a clean load or a
 * clean refusal. */
#include "model_test.h"
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <jansson.h>
#include <stdint.h>

static void *tiny_blob;
static size_t tiny_len;

static uint64_t header_len(const void *blob)
{
  uint64_t n;
  memcpy(&n, blob, 8);
  return n;
}

/* A copy of the tiny model's data area behind `header` (padded to 8). */
static void *with_header(const char *header, size_t *len)
{
  uint64_t old = header_len(tiny_blob);
  size_t data = tiny_len - 8 - old, hl = strlen(header), padded = (hl + 7) & ~(size_t)7;
  unsigned char *b = malloc(8 + padded + data);
  MT_REQUIRE(b, "out of memory");
  uint64_t n = padded;
  memcpy(b, &n, 8);
  memcpy(b + 8, header, hl);
  memset(b + 8 + hl, ' ', padded - hl);
  memcpy(b + 8 + padded, (unsigned char *)tiny_blob + 8 + old, data);
  *len = 8 + padded + data;
  return b;
}

/* The tiny model's header as JSON, to edit. */
static json_t *header_json(void)
{
  json_error_t je;
  json_t *h = json_loadb((const char *)tiny_blob + 8, header_len(tiny_blob), 0, &je);
  MT_REQUIRE(h, "tiny header: %s", je.text);
  return h;
}

static void *from_json(json_t *h, size_t *len)
{
  char *s = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
  MT_REQUIRE(s, "json_dumps");
  void *b = with_header(s, len);
  free(s);
  json_decref(h);
  return b;
}

/* The tiny model's header with field `field` of entry `name` set to value
 * (NULL: the field removed), ready for from_json. */
static json_t *header_with(const char *name, const char *field, json_t *value)
{
  json_t *h = header_json();
  json_t *entry = json_object_get(h, name);
  MT_REQUIRE(entry, "no %s", name);
  if (value)
    json_object_set_new(entry, field, value);
  else
    json_object_del(entry, field);
  return h;
}

static void set_offsets(json_t *h, const char *name, json_int_t begin, json_int_t end)
{
  json_t *o = json_object_get(json_object_get(h, name), "data_offsets");
  MT_REQUIRE(o, "no %s", name);
  json_array_set_new(o, 0, json_integer(begin));
  json_array_set_new(o, 1, json_integer(end));
}

static json_int_t offset(json_t *h, const char *name, int which)
{
  return json_integer_value(
      json_array_get(json_object_get(json_object_get(h, name), "data_offsets"), (size_t)which));
}

/* Rebuilds the tiny model tensor by tensor with the writer, applying one
 * change: drop `name`, change its dtype or shape, add a tensor, or copy all
 * tensors under one prefix to another. */
typedef enum { OP_DROP, OP_DTYPE, OP_SHAPE, OP_ADD, OP_COPY_PREFIX } op_t;

static void *rebuild(op_t op, const char *name, sb_st_dtype_t dtype, int ndim,
                     const int64_t *shape, const char *to_prefix, size_t *len)
{
  sb_st_file_t st;
  char err[512];
  MT_REQUIRE(sb_st_parse(tiny_blob, tiny_len, &st, err, sizeof err) == 0, "%s", err);
  sb_st_writer_t *w = sb_st_writer_new();
  MT_REQUIRE(w, "writer");
  size_t plen = to_prefix ? strlen(name) : 0;
  for (size_t i = 0; i < st.ntensors; i++) {
    const sb_st_tensor_t *t = &st.tensors[i];
    int hit = strcmp(t->name, name) == 0;
    if (op == OP_DROP && hit)
      continue;
    if ((op == OP_DTYPE || op == OP_SHAPE) && hit) {
      sb_st_dtype_t d = op == OP_DTYPE ? dtype : t->dtype;
      MT_REQUIRE(sb_st_writer_reserve(w, t->name, d, op == OP_SHAPE ? ndim : t->ndim,
                                      op == OP_SHAPE ? shape : t->shape),
                 "reserve %s", t->name);
      continue;
    }
    sb_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data);
  }
  if (op == OP_ADD)
    sb_st_writer_reserve(w, name, dtype, ndim, shape);
  if (op == OP_COPY_PREFIX)
    for (size_t i = 0; i < st.ntensors; i++) {
      const sb_st_tensor_t *t = &st.tensors[i];
      if (strncmp(t->name, name, plen) == 0) {
        char nn[128];
        snprintf(nn, sizeof nn, "%s%s", to_prefix, t->name + plen);
        sb_st_writer_add(w, nn, t->dtype, t->ndim, t->shape, t->data);
      }
    }
  void *blob;
  MT_REQUIRE(sb_st_writer_finish(w, &blob, len, err, sizeof err) == 0, "finish: %s", err);
  sb_st_writer_free(w);
  sb_st_free(&st);
  return blob;
}

/* The load must fail with a message holding want1 (and want2 if given). */
static void expect(const char *what, void *blob, size_t len, const char *want1, const char *want2)
{
  char err[512] = "";
  sb_resnet_t *m = (sb_resnet_t *)1;
  int rc = sb_resnet_load(blob, len, &m, err, sizeof err);
  printf("%-34s -> %s\n", what, rc ? err : "(loaded)");
  MT_CHECK(rc != 0, "%s: loaded", what);
  MT_CHECK(m == NULL, "%s: *model not NULL after a refusal", what);
  MT_CHECK(strstr(err, want1) && (!want2 || strstr(err, want2)), "%s: message '%s' lacks '%s'%s%s",
           what, err, want1, want2 ? " / " : "", want2 ? want2 : "");
  MT_CHECK(strchr(err, '\n') == NULL, "%s: message is not one line", what);
  if (rc == 0)
    sb_resnet_free(m);
  if (blob != tiny_blob)
    free(blob);
}

/* The blob expression sets len: evaluate it before reading len. */
#define EXPECT(what, blob_expr, want1, want2)                                      \
  do {                                                                             \
    void *blob_ = (blob_expr);                                                     \
    expect(what, blob_, len, want1, want2);                                        \
  } while (0)

static void expect_loads(const char *what, void *blob, size_t len)
{
  char err[512] = "";
  sb_resnet_t *m = NULL;
  int rc = sb_resnet_load(blob, len, &m, err, sizeof err);
  printf("%-34s -> %s\n", what, rc ? err : "(loaded)");
  MT_CHECK(rc == 0, "%s: %s", what, err);
  sb_resnet_free(m);
  if (blob != tiny_blob)
    free(blob);
}

static void *copy_tiny(size_t len)
{
  void *b = malloc(len ? len : 1);
  MT_REQUIRE(b, "out of memory");
  memcpy(b, tiny_blob, len < tiny_len ? len : tiny_len);
  return b;
}

static void *tiny_with_len_field(uint64_t n, size_t *len)
{
  unsigned char *b = copy_tiny(tiny_len);
  memcpy(b, &n, 8);
  *len = tiny_len;
  return b;
}

int main(void)
{
  char err[512] = "";
  MT_REQUIRE(sb_resnet_make("tiny", 3, &tiny_blob, &tiny_len, err, sizeof err) == 0, "%s", err);
  size_t len;
  json_t *h;
  char buf[256];

  /* Controls: the unmodified file loads and runs, with exactly the
   * advertised workspace (under ASan an overrun would show). */
  {
    sb_resnet_t *m = NULL;
    MT_REQUIRE(sb_resnet_load(tiny_blob, tiny_len, &m, err, sizeof err) == 0, "tiny: %s", err);
    size_t ws = sb_resnet_workspace_bytes(m, 2, 32, 32, 2);
    float *in = calloc(2 * 3 * 32 * 32, sizeof *in), *out = malloc(2 * 10 * sizeof *out);
    void *work = malloc(ws);
    MT_REQUIRE(in && out && work, "setup");
    for (int i = 0; i < 2 * 3 * 32 * 32; i++)
      in[i] = (float)((i * 37 % 101) - 50) / 25.0f;
    MT_CHECK(sb_resnet_forward(m, in, 2, 32, 32, out, work, ws, 2, err, sizeof err) == 0,
             "tiny forward: %s", err);
    free(in);
    free(out);
    free(work);
    sb_resnet_free(m);
  }
  /* Without the num_batches_tracked counters (older exports) it loads too. */
  {
    sb_st_file_t st;
    MT_REQUIRE(sb_st_parse(tiny_blob, tiny_len, &st, err, sizeof err) == 0, "%s", err);
    sb_st_writer_t *w = sb_st_writer_new();
    for (size_t i = 0; i < st.ntensors; i++)
      if (st.tensors[i].dtype == SB_ST_F32)
        sb_st_writer_add(w, st.tensors[i].name, SB_ST_F32, st.tensors[i].ndim,
                         st.tensors[i].shape, st.tensors[i].data);
    void *b;
    MT_REQUIRE(sb_st_writer_finish(w, &b, &len, err, sizeof err) == 0, "%s", err);
    sb_st_writer_free(w);
    sb_st_free(&st);
    expect_loads("no num_batches_tracked", b, len);
  }
  /* The layout safetensors' own writer produces from a torch state_dict:
   * __metadata__ {"format": "pt"}, tensors sorted by dtype alignment
   * (the I64 counters first), then by name. */
  {
    sb_st_file_t st;
    MT_REQUIRE(sb_st_parse(tiny_blob, tiny_len, &st, err, sizeof err) == 0, "%s", err);
    size_t *order = malloc(st.ntensors * sizeof *order);
    MT_REQUIRE(order, "out of memory");
    for (size_t i = 0; i < st.ntensors; i++)
      order[i] = i;
    for (size_t i = 1; i < st.ntensors; i++) /* insertion sort: small */
      for (size_t j = i; j > 0; j--) {
        const sb_st_tensor_t *a = &st.tensors[order[j - 1]], *b = &st.tensors[order[j]];
        size_t sa = sb_st_dtype_size(a->dtype), sb = sb_st_dtype_size(b->dtype);
        if (sa > sb || (sa == sb && strcmp(a->name, b->name) <= 0))
          break;
        size_t t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
    sb_st_writer_t *w = sb_st_writer_new();
    sb_st_writer_meta(w, "format", "pt");
    for (size_t i = 0; i < st.ntensors; i++) {
      const sb_st_tensor_t *t = &st.tensors[order[i]];
      sb_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data);
    }
    void *b;
    MT_REQUIRE(sb_st_writer_finish(w, &b, &len, err, sizeof err) == 0, "%s", err);
    sb_st_writer_free(w);
    MT_CHECK(strstr((char *)b + 8, "{\"__metadata__\":{\"format\":\"pt\"},\"bn1.num_batches_tracked\"") ==
                 (char *)b + 8,
             "sorted layout");
    free(order);
    sb_st_free(&st);
    expect_loads("torch safetensors layout", b, len);
  }
  /* Header keys in another order than the data (safetensors' Python writer
   * sorts the data by dtype alignment, then name): any order is fine. */
  {
    h = header_json();
    json_int_t a0 = offset(h, "fc.bias", 0), a1 = offset(h, "fc.bias", 1);
    /* Move fc.bias (the last range) to the front of the header. */
    json_t *nh = json_object();
    json_object_set(nh, "fc.bias", json_object_get(h, "fc.bias"));
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v)
      if (strcmp(k, "fc.bias") != 0)
        json_object_set(nh, k, v);
    json_decref(h);
    MT_CHECK(a1 > a0, "fc.bias offsets");
    void *b = from_json(nh, &len);
    expect_loads("keys in another order", b, len);
  }

  /* ---- the bytes ---- */
  len = tiny_len - 4;
  EXPECT("truncated data", copy_tiny(len), "fc.bias: data_offsets",
         "run past the end of the data area");
  len = 5;
  EXPECT("truncated header (5 bytes)", copy_tiny(len), "truncated header: 5 bytes", NULL);
  len = 8 + (size_t)header_len(tiny_blob) / 2;
  snprintf(buf, sizeof buf, "header length %llu runs past the end",
           (unsigned long long)header_len(tiny_blob));
  EXPECT("truncated header (mid-JSON)", copy_tiny(len), buf, NULL);
  EXPECT("header length past the end", tiny_with_len_field(tiny_len - 7, &len),
         "runs past the end of the file", NULL);
  EXPECT("absurd header length (2^40)", tiny_with_len_field(UINT64_C(1) << 40, &len),
         "header length 1099511627776 is absurd", NULL);
  EXPECT("absurd header length (2^64-1)", tiny_with_len_field(UINT64_MAX, &len),
         "is absurd", NULL);
  len = 0;
  EXPECT("empty blob", NULL, "truncated header: 0 bytes", NULL);

  /* ---- the JSON ---- */
  EXPECT("bad JSON", with_header("{\"conv1.weight\": {\"dtype\": \"F32\", ", &len),
         "header is not valid JSON", NULL);
  EXPECT("JSON not an object", with_header("[1, 2, 3]", &len),
         "header is an array, not a JSON object", NULL);
  EXPECT("duplicate key",
         with_header("{\"bn1.bias\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]},"
                     " \"bn1.bias\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}",
                     &len), "header is not valid JSON: duplicate object key", NULL);
  EXPECT("empty header object", with_header("{}", &len), "missing tensor conv1.weight",
         NULL);
  h = header_json();
  json_object_set_new(h, "__metadata__", json_pack("{s:i}", "format", 1));
  EXPECT("__metadata__ not strings", from_json(h, &len), "__metadata__ value of \"format\"",
         NULL);
  h = header_json();
  json_object_set_new(h, "bn1.weight", json_integer(5));
  EXPECT("entry not an object", from_json(h, &len), "bn1.weight: header entry is a number",
         NULL);

  /* ---- entries ---- */
  EXPECT("unknown dtype",
         from_json(header_with("layer2.0.conv1.weight", "dtype", json_string("Q8")), &len),
         "layer2.0.conv1.weight: unknown dtype \"Q8\"", NULL);
  EXPECT("dtype missing", from_json(header_with("bn1.bias", "dtype", NULL), &len),
         "bn1.bias: \"dtype\" missing", NULL);
  EXPECT("negative shape", from_json(header_with("bn1.bias", "shape", json_pack("[i]", -8)), &len),
         "bn1.bias: shape element 0 is not a non-negative integer", NULL);
  EXPECT("fractional shape",
         from_json(header_with("bn1.bias", "shape", json_pack("[f]", 8.0)), &len),
         "bn1.bias: shape element 0 is not a non-negative integer", NULL);
  EXPECT("shape overflowing 64 bits",
         from_json(header_with("fc.weight", "shape",
                               json_pack("[I,I,I]", (json_int_t)1 << 31, (json_int_t)1 << 31,
                                         (json_int_t)1 << 31)),
                   &len),
         "fc.weight: shape [2147483648,2147483648,2147483648] holds more elements", NULL);
  EXPECT("data_offsets not a pair",
         from_json(header_with("fc.bias", "data_offsets", json_pack("[i]", 0)), &len),
         "fc.bias: \"data_offsets\" missing or not [begin, end]", NULL);
  h = header_json();
  set_offsets(h, "fc.bias", offset(h, "fc.bias", 1), offset(h, "fc.bias", 0));
  EXPECT("data_offsets reversed", from_json(h, &len), "fc.bias: data_offsets",
         "end before they begin");
  h = header_json();
  {
    json_int_t data = (json_int_t)(tiny_len - 8 - header_len(tiny_blob));
    set_offsets(h, "fc.weight", data, data + 10 * 64 * 4);
    snprintf(buf, sizeof buf, "fc.weight: data_offsets [%lld, %lld] run past the end",
             (long long)data, (long long)(data + 10 * 64 * 4));
  }
  EXPECT("offsets out of range", from_json(h, &len), buf, NULL);
  h = header_json();
  set_offsets(h, "fc.weight", (json_int_t)INT64_MAX - 2560, (json_int_t)INT64_MAX);
  EXPECT("offsets near 2^63", from_json(h, &len), "fc.weight: data_offsets",
         "run past the end");
  h = header_json();
  set_offsets(h, "layer1.0.conv2.weight", offset(h, "layer1.0.conv1.weight", 0),
              offset(h, "layer1.0.conv1.weight", 1));
  EXPECT("overlapping offsets (same range)", from_json(h, &len), "layer1.0.conv2.weight",
         "layer1.0.conv1.weight");
  h = header_json();
  set_offsets(h, "bn1.bias", offset(h, "bn1.weight", 0) + 4, offset(h, "bn1.weight", 1) + 4);
  EXPECT("overlapping offsets (shifted)", from_json(h, &len),
         "bn1.bias: data_offsets", "overlap those of bn1.weight");
  EXPECT("size mismatch", from_json(header_with("bn1.weight", "shape", json_pack("[i]", 9)), &len),
         "bn1.weight: data_offsets", "hold 32 bytes, but F32 [9] needs 36");

  /* ---- tensors against the architecture ---- */
  {
    const int64_t s[4] = {8, 3, 7, 7};
    void *b = rebuild(OP_DTYPE, "conv1.weight", SB_ST_F16, 4, s, NULL, &len);
    EXPECT("wrong dtype (F16 weight)", b, "conv1.weight: dtype F16, expected F32", NULL);
    b = rebuild(OP_DTYPE, "layer3.0.conv2.weight", SB_ST_F64, 0, NULL, NULL, &len);
    EXPECT("wrong dtype (F64 weight)", b, "layer3.0.conv2.weight: dtype F64, expected F32",
           NULL);
    b = rebuild(OP_DTYPE, "layer2.0.bn1.running_var", SB_ST_I32, 0, NULL, NULL, &len);
    EXPECT("wrong dtype (I32 statistics)", b,
           "layer2.0.bn1.running_var: dtype I32, expected F32", NULL);
  }
  EXPECT("missing tensor",
         rebuild(OP_DROP, "layer2.0.downsample.1.running_var", 0, 0, NULL, NULL, &len),
         "missing tensor layer2.0.downsample.1.running_var", NULL);
  EXPECT("missing fc", rebuild(OP_DROP, "fc.bias", 0, 0, NULL, NULL, &len),
         "missing tensor fc.bias", NULL);
  EXPECT("missing projection",
         rebuild(OP_DROP, "layer3.0.downsample.0.weight", 0, 0, NULL, NULL, &len),
         "missing tensor layer3.0.downsample.0.weight", NULL);
  {
    const int64_t s[2] = {3, 4};
    EXPECT("extra tensor", rebuild(OP_ADD, "foo.bar", SB_ST_F32, 2, s, NULL, &len),
           "unexpected tensor foo.bar", NULL);
    EXPECT("extra counter",
           rebuild(OP_ADD, "fc.num_batches_tracked", SB_ST_I64, 0, NULL, NULL, &len),
           "unexpected tensor fc.num_batches_tracked", NULL);
    const int64_t d[4] = {8, 8, 1, 1};
    EXPECT("projection where none belongs",
           rebuild(OP_ADD, "layer1.0.downsample.0.weight", SB_ST_F32, 4, d, NULL, &len),
           "unexpected tensor layer1.0.downsample.0.weight", NULL);
    EXPECT("conv3 in a BasicBlock model",
           rebuild(OP_ADD, "layer2.0.conv3.weight", SB_ST_F32, 4, d, NULL, &len),
           "unexpected tensor layer2.0.conv3.weight", NULL);
  }
  {
    const int64_t s[4] = {8, 8, 1, 1};
    EXPECT("wrong shape", rebuild(OP_SHAPE, "layer1.0.conv2.weight", 0, 4, s, NULL, &len),
           "layer1.0.conv2.weight: shape [8,8,1,1] expected [8,8,3,3]", NULL);
    const int64_t f[2] = {10, 63};
    EXPECT("wrong fc shape", rebuild(OP_SHAPE, "fc.weight", 0, 2, f, NULL, &len),
           "fc.weight: shape [10,63] expected [10,64]", NULL);
    const int64_t b[1] = {7};
    EXPECT("wrong batch-norm shape",
           rebuild(OP_SHAPE, "layer4.0.bn2.running_mean", 0, 1, b, NULL, &len),
           "layer4.0.bn2.running_mean: shape [7] expected [64]", NULL);
    const int64_t c[3] = {8, 3, 49};
    EXPECT("stem of 3 dimensions", rebuild(OP_SHAPE, "conv1.weight", 0, 3, c, NULL, &len),
           "conv1.weight: shape [8,3,49] expected [C,3,7,7]", NULL);
    const int64_t z[4] = {0, 3, 7, 7};
    EXPECT("stem of zero channels", rebuild(OP_SHAPE, "conv1.weight", 0, 4, z, NULL, &len),
           "conv1.weight: shape [0,3,7,7] expected [C,3,7,7]", NULL);
  }
  EXPECT("unknown layout (extra block)",
         rebuild(OP_COPY_PREFIX, "layer1.0.", 0, 0, NULL, "layer1.1.", &len),
         "unknown layout: BasicBlock blocks [2,1,1,1], stem 8, widths [8,16,32,64]", NULL);
  {
    /* A negative running variance would make the fold's sqrt NaN. */
    h = header_json();
    json_int_t at = offset(h, "bn1.running_var", 0);
    json_decref(h);
    unsigned char *b = copy_tiny(tiny_len);
    float neg = -0.5f;
    memcpy(b + 8 + header_len(tiny_blob) + at + 4, &neg, 4);
    len = tiny_len;
    EXPECT("negative running_var", b, "bn1.running_var: element 1 is -0.5", NULL);
  }

  /* ---- bounded fuzz: flips in the header, random truncations ---- */
  {
    unsigned long long seed = 99;
    int loaded = 0, refused = 0;
    uint64_t hl = header_len(tiny_blob);
    for (int it = 0; it < 400; it++) {
      size_t l = tiny_len;
      unsigned char *b = copy_tiny(tiny_len);
      int flips = 1 + (int)((mt_rand(&seed) + 1) * 2);
      for (int f = 0; f < flips; f++) {
        size_t at = (size_t)((mt_rand(&seed) + 1) / 2 * (double)(8 + hl));
        b[at < tiny_len ? at : 0] ^= (unsigned char)(1u << ((unsigned)(it + f) % 8));
      }
      if (it % 4 == 3)
        l = (size_t)((mt_rand(&seed) + 1) / 2 * (double)tiny_len);
      sb_resnet_t *m = NULL;
      err[0] = '\0';
      if (sb_resnet_load(b, l, &m, err, sizeof err) == 0) {
        loaded++;
        sb_resnet_free(m);
      } else {
        refused++;
        MT_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL, "fuzz %d: empty or multi-line", it);
      }
      free(b);
    }
    printf("fuzz: %d loaded, %d refused\n", loaded, refused);
  }

  free(tiny_blob);
  return mt_finish("malformed model files");
}
