// sbai_torch.so: the optional TORCH backend of the sbai module. It runs
// torch.jit.save'd modules and TorchScript scripts with libtorch, behind the
// C ABI of sbai_torch_abi.h; the module loads it with dlopen
// (BACKEND_TORCH <path>). The only C++ of the module: every function of the
// table catches every exception and turns it into a return code and a
// one-line message.

#include "sbai_torch_abi.h"

#include <torch/jit.h>
#include <torch/script.h>
#include <torch/version.h>

#include <ATen/Parallel.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

// ---- errors --------------------------------------------------------------------

// Writes msg into err as one line: runs of blanks and newlines become one
// space, and the text is cut to fit.
void set_err(char *err, size_t errlen, const std::string &msg)
{
  if (!err || errlen == 0)
    return;
  size_t n = 0;
  bool blank = false;
  for (char c : msg) {
    if (n + 1 >= errlen)
      break;
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      blank = n > 0;
      continue;
    }
    if (blank && n + 2 < errlen)
      err[n++] = ' ';
    blank = false;
    err[n++] = c;
  }
  err[n] = '\0';
}

// The body of every ABI function: f() returns 0 or throws.
template <typename F>
int guarded(char *err, size_t errlen, const char *what, F &&f)
{
  try {
    return f();
  } catch (const c10::Error &e) {
    set_err(err, errlen, std::string(what) + ": " + e.what_without_backtrace());
  } catch (const std::exception &e) {
    set_err(err, errlen, std::string(what) + ": " + e.what());
  } catch (...) {
    set_err(err, errlen, std::string(what) + ": an unknown C++ exception");
  }
  return -1;
}

struct failure : std::exception {
  std::string msg;
  explicit failure(std::string m) : msg(std::move(m)) {}
  const char *what() const noexcept override { return msg.c_str(); }
};

// ---- tensors across the ABI ----------------------------------------------------------

c10::ScalarType to_torch(int dtype)
{
  switch (dtype) {
  case SB_DTYPE_FLOAT: return c10::kFloat;
  case SB_DTYPE_DOUBLE: return c10::kDouble;
  case SB_DTYPE_INT8: return c10::kChar;
  case SB_DTYPE_INT16: return c10::kShort;
  case SB_DTYPE_INT32: return c10::kInt;
  case SB_DTYPE_INT64: return c10::kLong;
  case SB_DTYPE_UINT8: return c10::kByte;
  case SB_DTYPE_UINT16: return c10::kUInt16;
  case SB_DTYPE_BOOL: return c10::kBool;
  default: throw failure("unknown dtype code " + std::to_string(dtype));
  }
}

int from_torch(c10::ScalarType t)
{
  switch (t) {
  case c10::kFloat: return SB_DTYPE_FLOAT;
  case c10::kDouble: return SB_DTYPE_DOUBLE;
  case c10::kChar: return SB_DTYPE_INT8;
  case c10::kShort: return SB_DTYPE_INT16;
  case c10::kInt: return SB_DTYPE_INT32;
  case c10::kLong: return SB_DTYPE_INT64;
  case c10::kByte: return SB_DTYPE_UINT8;
  case c10::kUInt16: return SB_DTYPE_UINT16;
  case c10::kBool: return SB_DTYPE_BOOL;
  default:
    throw failure(std::string("an output of dtype ") + c10::toString(t)
                  + " (the module stores FLOAT, DOUBLE, INT8..INT64, UINT8, UINT16 and BOOL)");
  }
}

// A tensor over the caller's data (not copied; the caller's buffer is a copy
// the run owns, so a module writing into its input harms nothing).
at::Tensor wrap(const sbai_torch_tensor_t &t)
{
  if (t.ndims < 0 || t.ndims > SBAI_TORCH_MAX_DIMS)
    throw failure("an input of rank " + std::to_string(t.ndims));
  std::vector<int64_t> dims(t.dims, t.dims + t.ndims);
  return torch::from_blob(t.data, dims, torch::TensorOptions().dtype(to_torch(t.dtype)));
}

std::vector<at::Tensor> result_tensors(const c10::IValue &v)
{
  std::vector<at::Tensor> out;
  auto add = [&out](const c10::IValue &e) {
    if (!e.isTensor())
      throw failure(std::string("the result holds a ") + e.tagKind() + ", not a tensor");
    out.push_back(e.toTensor());
  };
  if (v.isTensor())
    out.push_back(v.toTensor());
  else if (v.isTuple())
    for (const auto &e : v.toTupleRef().elements())
      add(e);
  else if (v.isList())
    for (const auto &e : v.toList())
      add(e);
  else
    throw failure(std::string("the result is a ") + v.tagKind()
                  + ", not a tensor or a tuple or list of tensors");
  return out;
}

// Copies the result into out[0..nout) (malloc'd data); nothing is left
// allocated when it throws.
void store_outputs(const c10::IValue &v, sbai_torch_tensor_t *out, int nout)
{
  std::vector<at::Tensor> ts = result_tensors(v);
  if ((int)ts.size() != nout)
    throw failure("it made " + std::to_string(ts.size()) + " output tensor"
                  + (ts.size() == 1 ? "" : "s") + ", " + std::to_string(nout) + " output key"
                  + (nout == 1 ? "" : "s") + " given");
  std::vector<sbai_torch_tensor_t> made(nout);
  for (int i = 0; i < nout; i++) {
    at::Tensor t = ts[i].to(torch::kCPU).contiguous();
    sbai_torch_tensor_t &o = made[i];
    std::memset(&o, 0, sizeof o);
    o.dtype = from_torch(t.scalar_type());
    if (t.dim() > SBAI_TORCH_MAX_DIMS)
      throw failure("an output of rank " + std::to_string(t.dim()));
    o.ndims = (int)t.dim();
    for (int d = 0; d < o.ndims; d++)
      o.dims[d] = t.size(d);
    o.nbytes = t.nbytes();
  }
  // Allocation last: either every output gets its buffer or none does.
  for (int i = 0; i < nout; i++) {
    made[i].data = std::malloc(made[i].nbytes ? made[i].nbytes : 1);
    if (!made[i].data) {
      for (int j = 0; j < i; j++)
        std::free(made[j].data);
      throw failure("out of memory for the outputs");
    }
    at::Tensor t = ts[i].to(torch::kCPU).contiguous();
    if (made[i].nbytes)
      std::memcpy(made[i].data, t.data_ptr(), made[i].nbytes);
  }
  for (int i = 0; i < nout; i++)
    out[i] = made[i];
}

// ---- models ----------------------------------------------------------------------

// Reads the blob in place (no copy) for torch::jit::load.
class BlobReader : public caffe2::serialize::ReadAdapterInterface {
public:
  BlobReader(const void *p, size_t n) : p_(static_cast<const char *>(p)), n_(n) {}
  size_t size() const override { return n_; }
  size_t read(uint64_t pos, void *buf, size_t n, const char *) const override
  {
    if (pos >= n_)
      return 0;
    if (n > n_ - pos)
      n = n_ - pos;
    std::memcpy(buf, p_ + pos, n);
    return n;
  }

private:
  const char *p_;
  size_t n_;
};

struct Model {
  torch::jit::Module module;
};

const char *plugin_version()
{
  static const std::string v = std::string("libtorch ") + TORCH_VERSION;
  return v.c_str();
}

int plugin_init(int threads, char *err, size_t errlen)
{
  return guarded(err, errlen, "cannot set up libtorch", [&] {
    if (threads >= 1)
      at::set_num_threads(threads);
    return 0;
  });
}

int model_load(const void *blob, size_t len, int device, void **handle, char *err, size_t errlen)
{
  *handle = nullptr;
  return guarded(err, errlen, "libtorch cannot load the TorchScript module", [&] {
    if (device >= 0)
      throw failure("this plugin runs TORCH models on the CPU only");
    auto reader = std::make_shared<BlobReader>(blob, len);
    auto m = std::make_unique<Model>();
    m->module = torch::jit::load(std::move(reader), torch::kCPU);
    m->module.eval();
    *handle = m.release();
    return 0;
  });
}

int model_run(void *handle, const sbai_torch_tensor_t *in, int nin, sbai_torch_tensor_t *out,
              int nout, char *err, size_t errlen)
{
  return guarded(err, errlen, "the TorchScript model failed", [&] {
    auto *m = static_cast<Model *>(handle);
    c10::InferenceMode guard;
    std::vector<c10::IValue> args;
    args.reserve((size_t)nin);
    for (int i = 0; i < nin; i++)
      args.emplace_back(wrap(in[i]));
    // forward() is const on the module's state: runs may share it.
    c10::IValue r = m->module.forward(std::move(args));
    store_outputs(r, out, nout);
    return 0;
  });
}

// Deletes a handle of the ABI; nothing escapes to the C side.
template <class T> void delete_handle(void *handle) noexcept
{
  try {
    delete static_cast<T *>(handle);
  } catch (...) {
  }
}

void model_free(void *handle) { delete_handle<Model>(handle); }

// ---- scripts ----------------------------------------------------------------------

struct Script {
  std::shared_ptr<torch::jit::CompilationUnit> cu;
  std::vector<std::string> names;
};

int script_compile(const char *source, size_t len, void **handle, char *err, size_t errlen)
{
  *handle = nullptr;
  return guarded(err, errlen, "libtorch cannot compile the script", [&] {
    auto s = std::make_unique<Script>();
    // The parser wants the last line ended; text sent by hand often is not.
    std::string text(source, len);
    if (text.empty() || text.back() != '\n')
      text.push_back('\n');
    s->cu = torch::jit::compile(text);
    for (torch::jit::Function *f : s->cu->get_functions())
      s->names.push_back(f->name());
    if (s->names.empty())
      throw failure("the source defines no function");
    *handle = s.release();
    return 0;
  });
}

int script_count(void *handle)
{
  return (int)static_cast<Script *>(handle)->names.size();
}

const char *script_name(void *handle, int i)
{
  auto *s = static_cast<Script *>(handle);
  return i >= 0 && (size_t)i < s->names.size() ? s->names[(size_t)i].c_str() : nullptr;
}

// A string argument converted to the type of parameter `p`.
c10::IValue convert_arg(const c10::Argument &p, const sbai_torch_str_t &a)
{
  std::string text(a.ptr, a.len);
  const c10::TypeKind k = p.type()->kind();
  size_t used = 0;
  try {
    if (k == c10::TypeKind::StringType)
      return c10::IValue(text);
    if (k == c10::TypeKind::IntType) {
      long long v = std::stoll(text, &used);
      if (used == text.size())
        return c10::IValue((int64_t)v);
    } else if (k == c10::TypeKind::FloatType) {
      double v = std::stod(text, &used);
      if (used == text.size())
        return c10::IValue(v);
    } else if (k == c10::TypeKind::BoolType) {
      if (text == "1" || text == "true" || text == "True")
        return c10::IValue(true);
      if (text == "0" || text == "false" || text == "False")
        return c10::IValue(false);
    } else {
      throw failure("parameter '" + p.name() + "' is a " + p.type()->str()
                    + "; ARGS fill only str, int, float and bool parameters");
    }
  } catch (const std::logic_error &) {
  }
  throw failure("argument '" + text.substr(0, 40) + "' is not a " + p.type()->str()
                + " (parameter '" + p.name() + "')");
}

int script_run(void *handle, const char *fn, const sbai_torch_tensor_t *in, int nin,
               const sbai_torch_str_t *keys, int nkeys, const sbai_torch_str_t *args, int nargs,
               sbai_torch_tensor_t *out, int nout, char *err, size_t errlen)
{
  std::string what = std::string("function '") + fn + "' failed";
  return guarded(err, errlen, what.c_str(), [&] {
    auto *s = static_cast<Script *>(handle);
    torch::jit::Function *f = s->cu->find_function(fn);
    if (!f)
      throw failure("the script has no such function");
    c10::InferenceMode guard;
    const auto &params = f->getSchema().arguments();
    std::vector<c10::IValue> stack;
    const bool lists = params.size() == 3
                       && *params[0].type() == *c10::ListType::ofTensors()
                       && *params[1].type() == *c10::ListType::ofStrings()
                       && *params[2].type() == *c10::ListType::ofStrings();
    if (lists) {
      // RedisAI's AI.SCRIPTEXECUTE convention.
      c10::List<at::Tensor> ts;
      c10::List<std::string> ks, as;
      for (int i = 0; i < nin; i++)
        ts.push_back(wrap(in[i]));
      for (int i = 0; i < nkeys; i++)
        ks.push_back(std::string(keys[i].ptr, keys[i].len));
      for (int i = 0; i < nargs; i++)
        as.push_back(std::string(args[i].ptr, args[i].len));
      stack.emplace_back(ts);
      stack.emplace_back(ks);
      stack.emplace_back(as);
    } else {
      if ((size_t)(nin + nargs) > params.size())
        throw failure("it takes " + std::to_string(params.size()) + " parameter"
                      + (params.size() == 1 ? "" : "s") + ", " + std::to_string(nin)
                      + " input tensor(s) and " + std::to_string(nargs) + " ARGS given");
      for (int i = 0; i < nin; i++)
        stack.emplace_back(wrap(in[i]));
      for (int i = 0; i < nargs; i++)
        stack.emplace_back(convert_arg(params[(size_t)(nin + i)], args[i]));
    }
    c10::IValue r = (*f)(std::move(stack));
    store_outputs(r, out, nout);
    return 0;
  });
}

void script_free(void *handle) { delete_handle<Script>(handle); }

const sbai_torch_api_t api = {
  plugin_version, plugin_init, model_load, model_run, model_free,
  script_compile, script_count, script_name, script_run, script_free,
};

} // namespace

extern "C" __attribute__((visibility("default"))) int sbai_torch_abi_version(void)
{
  return SBAI_TORCH_ABI_VERSION;
}

extern "C" __attribute__((visibility("default"))) const sbai_torch_api_t *sbai_torch_api(void)
{
  return &api;
}
