/* The script side of sbai without a server: finding `def NAME(` in a source,
 * the built-in table, and pre_process_3ch's checks and output. */
#include "builtins.h"
#include "sb_check.h"
#include "script_source.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int defines(const char *src, const char *name)
{
  return sbai_script_defines(src, strlen(src), name, strlen(name));
}

static void count_def(const char *name, size_t len, void *arg)
{
  (void)name, (void)len;
  (*(int *)arg)++;
}

static void test_scan(void)
{
  const char *src = "import torch\n"
                    "def pre_process_3ch(image):\n"
                    "    return image\n"
                    "\tdef  helper (x):\n"
                    "define_me(x)\n"
                    "# def commented(x):\n"
                    "def no_paren\n"
                    "defx(y)\n"
                    "def last(a)";
  int n = 0;
  CHECK(defines(src, "pre_process_3ch"));
  CHECK(defines(src, "helper"));
  CHECK(defines(src, "last"));
  CHECK(!defines(src, "pre_process"));
  CHECK(!defines(src, "define_me"));
  CHECK(!defines(src, "commented"));
  CHECK(!defines(src, "no_paren"));
  CHECK(!defines(src, "x"));
  CHECK(!defines("", "a"));
  CHECK(!defines("def", "a"));
  CHECK(!defines("def ", ""));
  CHECK(sbai_script_each_def(src, strlen(src), count_def, &n) == 3 && n == 3);
  /* CRLF sources and a NUL inside do not confuse it. */
  CHECK(defines("def a(x):\r\n  pass\r\ndef b (y):\r\n", "b"));
  CHECK(sbai_script_is_identifier("pre_process_3ch", 15));
  CHECK(sbai_script_is_identifier("_x9", 3));
  CHECK(!sbai_script_is_identifier("9x", 2));
  CHECK(!sbai_script_is_identifier("a-b", 3));
  CHECK(!sbai_script_is_identifier("", 0));
}

static void test_table(void)
{
  char names[128];
  CHECK(sbai_builtin_count() >= 1);
  CHECK(sbai_builtin_find("pre_process_3ch", 15) == sbai_builtin_at(0));
  CHECK(sbai_builtin_find("pre_process_3c", 14) == NULL);
  CHECK(sbai_builtin_find("PRE_PROCESS_3CH", 15) == NULL);
  CHECK(sbai_builtin_at(sbai_builtin_count()) == NULL);
  sbai_builtin_names(names, sizeof names);
  CHECK(strstr(names, "pre_process_3ch") != NULL);
  for (size_t i = 0; i < sbai_builtin_count(); i++)
    CHECK(sbai_builtin_at(i)->doc && sbai_builtin_at(i)->check && sbai_builtin_at(i)->run);
}

static void test_pre_process(void)
{
  const sbai_builtin_t *b = sbai_builtin_find("pre_process_3ch", 15);
  sb_tensor_desc_t in, out[2];
  char err[SB_TENSOR_ERRLEN];
  int64_t d4[4] = {2, 4, 5, 3}, d3[3] = {4, 5, 3}, bad[4] = {2, 3, 4, 5};
  float img[2 * 4 * 5 * 3], res[2 * 3 * 4 * 5];

  sb_tensor_desc_init(&in, SB_DTYPE_FLOAT, d4, 4, 8, 1 << 20, err, sizeof err);
  CHECK(b->check(&in, 1, 0, out, 1, err, sizeof err) == 0);
  CHECK(out[0].ndims == 4 && out[0].dims[0] == 2 && out[0].dims[1] == 3 && out[0].dims[2] == 4
        && out[0].dims[3] == 5 && out[0].dtype == SB_DTYPE_FLOAT);
  CHECK(b->check(&in, 2, 0, out, 1, err, sizeof err) != 0 && strstr(err, "1 input"));
  CHECK(b->check(&in, 1, 0, out, 2, err, sizeof err) != 0 && strstr(err, "1 output"));
  CHECK(b->check(&in, 1, 1, out, 1, err, sizeof err) != 0 && strstr(err, "ARGS"));

  sb_tensor_desc_init(&in, SB_DTYPE_FLOAT, d3, 3, 8, 1 << 20, err, sizeof err);
  CHECK(b->check(&in, 1, 0, out, 1, err, sizeof err) == 0);
  CHECK(out[0].ndims == 4 && out[0].dims[0] == 1 && out[0].dims[1] == 3);

  sb_tensor_desc_init(&in, SB_DTYPE_FLOAT, bad, 4, 8, 1 << 20, err, sizeof err);
  CHECK(b->check(&in, 1, 0, out, 1, err, sizeof err) != 0 && strstr(err, "[2][3][4][5]"));
  sb_tensor_desc_init(&in, SB_DTYPE_UINT8, d4, 4, 8, 1 << 20, err, sizeof err);
  CHECK(b->check(&in, 1, 0, out, 1, err, sizeof err) != 0 && strstr(err, "FLOAT"));

  /* Values: HWC 0..255 -> normalised CHW. */
  sb_tensor_desc_init(&in, SB_DTYPE_FLOAT, d4, 4, 8, 1 << 20, err, sizeof err);
  CHECK(b->check(&in, 1, 0, out, 1, err, sizeof err) == 0);
  for (size_t i = 0; i < sizeof img / sizeof img[0]; i++)
    img[i] = (float)(i % 256);
  {
    const void *ins[1] = {img};
    void *outs[1] = {res};
    CHECK(b->run(&in, ins, 1, out, outs, 1, 1, err, sizeof err) == 0);
  }
  /* element b=1, c=2, y=3, x=4 comes from img[((1*4+3)*5+4)*3+2] */
  {
    float x = img[((1 * 4 + 3) * 5 + 4) * 3 + 2];
    float want = (x / 255.0f - 0.406f) / 0.225f;
    CHECK(fabsf(res[((1 * 3 + 2) * 4 + 3) * 5 + 4] - want) < 1e-5f);
  }
}

int main(void)
{
  test_scan();
  test_table();
  test_pre_process();
  return CHECK_DONE();
}
