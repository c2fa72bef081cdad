// gst-kling: the libtorch backend module
// Copyright (C) 2026 gst-kling contributors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The only file that includes torch headers.  It is built as a loadable
// module and reached through kling_backend_get_vtable(): nothing C++ crosses
// the boundary, and every exception becomes a GError.

#include <dlfcn.h>
#include <gmodule.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>
#include <ATen/Parallel.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "kling-backend.h"
}

struct _KlingModel {
  torch::jit::Module module;
  c10::Device device{c10::kCPU};
  c10::ScalarType precision = c10::kFloat;
  int threads = 1;
  std::mutex lock;  // one call at a time per model
  std::vector<std::string> extra_names;
  std::vector<std::string> extra_data;
  std::vector<std::string> method_names;
  std::vector<KlingMethodInfo> methods;
};

struct _KlingOutputs {
  std::vector<std::string> names;
  std::vector<at::Tensor> tensors;
  std::vector<KlingTensor> views;
};

// The module stands alone: it does not link the core, so it makes the
// quark itself (the same string gives the same quark).
extern "C" GQuark kling_backend_error_quark(void) {
  return g_quark_from_static_string("kling-backend-error-quark");
}

namespace {

// At most this many lines of libtorch's message reach the GError: the
// first lines say what went wrong; a TorchScript error then quotes code.
constexpr int kMaxMessageLines = 24;

// libtorch's message as the GError's text: its first line right after
// "@what: ".  Some messages (a TorchScript ErrorReport, such as an unknown
// operator at load) start with a newline, so a reader who sees only the
// first line saw "model.pt: " and nothing; leading blank lines go, and so
// do trailing ones.
std::string tidy_message(const std::string& raw) {
  std::string out;
  size_t pos = 0;
  int lines = 0;
  bool started = false;
  while (pos <= raw.size()) {
    size_t nl = raw.find('\n', pos);
    if (nl == std::string::npos) nl = raw.size();
    std::string line = raw.substr(pos, nl - pos);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r' ||
                             line.back() == '\t'))
      line.pop_back();
    pos = nl + 1;
    if (!started && line.find_first_not_of(" \t") == std::string::npos)
      continue;
    started = true;
    if (++lines > kMaxMessageLines) {
      out += "\n[...]";
      break;
    }
    if (!out.empty()) out += '\n';
    out += line;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A TorchScript interpreter error ("The following operation failed in the
// TorchScript interpreter.") is two tracebacks followed by the exception
// itself ("RuntimeError: The size of tensor a (2100) must match …"): the
// line that says what went wrong comes last, after 24 lines would have cut
// it off.  That exception (from its line to the end) is put first.
std::string reason_first(const std::string& raw) {
  static const char kInterpreter[] =
      "The following operation failed in the TorchScript interpreter.";
  if (raw.find(kInterpreter) == std::string::npos) return raw;
  size_t end = raw.size();
  while (end > 0) {
    size_t nl = raw.rfind('\n', end - 1);
    size_t start = nl == std::string::npos ? 0 : nl + 1;
    // "RuntimeError: …", "torch.jit.Error: …": a dotted name ending in
    // Error or Exception, then ": "
    size_t i = start;
    while (i < end && (g_ascii_isalnum(raw[i]) || raw[i] == '_' ||
                       raw[i] == '.'))
      i++;
    std::string name = raw.substr(start, i - start);
    if (!name.empty() && g_ascii_isalpha(name[0]) && i + 1 < end &&
        raw[i] == ':' && raw[i + 1] == ' ' &&
        (g_str_has_suffix(name.c_str(), "Error") ||
         g_str_has_suffix(name.c_str(), "Exception")))
    {
      std::string reason = raw.substr(start);
      while (!reason.empty() && reason.back() == '\n') reason.pop_back();
      return reason + "\n" + raw.substr(0, start);
    }
    if (nl == std::string::npos) break;
    end = nl;
  }
  return raw;
}

void set_error(GError** error, int code, const char* what,
               const std::string& message, const char* kind) {
  std::string text = tidy_message(reason_first(message));
  if (text.empty())
    text = std::string("libtorch raised ") + kind + " without a message";
  // the usual reason, in words a user can act on
  if (text.find("Unknown builtin op") != std::string::npos)
    text += "\n(the model calls an operator this libtorch does not have, "
            "e.g. from torchvision; export the model without it)";
  g_set_error(error, KLING_BACKEND_ERROR, code, "%s: %s", what, text.c_str());
}

// Runs fn, turning anything it throws into a GError prefixed by @what.
template <typename Fn>
bool guarded(GError** error, int code, const char* what, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const c10::Error& e) {
    set_error(error, code, what, e.what_without_backtrace(), "a c10::Error");
  } catch (const std::exception& e) {
    set_error(error, code, what, e.what(), "an exception");
  } catch (...) {
    set_error(error, code, what, "", "an unknown exception");
  }
  return false;
}

c10::ScalarType to_scalar(KlingDType dtype) {
  switch (dtype) {
    case KLING_DTYPE_FLOAT32: return c10::kFloat;
    case KLING_DTYPE_FLOAT16: return c10::kHalf;
    case KLING_DTYPE_BFLOAT16: return c10::kBFloat16;
    case KLING_DTYPE_UINT8: return c10::kByte;
    case KLING_DTYPE_INT64: return c10::kLong;
  }
  throw std::invalid_argument("unknown dtype");
}

bool from_scalar(c10::ScalarType t, KlingDType* out) {
  switch (t) {
    case c10::kFloat: *out = KLING_DTYPE_FLOAT32; return true;
    case c10::kHalf: *out = KLING_DTYPE_FLOAT16; return true;
    case c10::kBFloat16: *out = KLING_DTYPE_BFLOAT16; return true;
    case c10::kByte: *out = KLING_DTYPE_UINT8; return true;
    case c10::kLong: *out = KLING_DTYPE_INT64; return true;
    default: return false;
  }
}

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? (int)n : 1;
}

void apply_threads(int threads) {
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

c10::Device parse_device(const char* name) {
  c10::Device device(name && *name ? std::string(name) : std::string("cpu"));
  if (device.is_cuda() && !torch::cuda::is_available())
    throw std::runtime_error(
        std::string("device \"") + name +
        "\" asked for, but this libtorch has no CUDA support or sees no GPU; "
        "use device=cpu, or build gst-kling with -Dlibtorch_dir= pointing at "
        "a CUDA LibTorch");
  if (device.is_cuda() && device.has_index() &&
      device.index() >= (int)torch::cuda::device_count())
    throw std::runtime_error(std::string("device \"") + name +
                             "\" does not exist: " +
                             std::to_string(torch::cuda::device_count()) +
                             " CUDA devices");
  if (!device.is_cpu() && !device.is_cuda())
    throw std::runtime_error(std::string("device \"") + name +
                             "\" is not supported; use cpu or cuda:N");
  return device;
}

void flatten(const c10::IValue& v, const std::string& name, _KlingOutputs* out) {
  auto child = [&](const std::string& key) {
    return name.empty() ? key : name + "." + key;
  };
  if (v.isTensor()) {
    at::Tensor t = v.toTensor().to(c10::kCPU).contiguous();
    KlingDType dtype;
    if (!from_scalar(t.scalar_type(), &dtype)) {
      if (t.scalar_type() == c10::kDouble) {
        t = t.to(c10::kFloat);
      } else if (t.scalar_type() == c10::kBool ||
                 t.scalar_type() == c10::kInt || t.scalar_type() == c10::kShort ||
                 t.scalar_type() == c10::kChar) {
        t = t.to(c10::kLong);
      } else {
        throw std::runtime_error("output \"" + (name.empty() ? "0" : name) +
                                 "\" has unsupported dtype " +
                                 std::string(c10::toString(t.scalar_type())));
      }
    }
    if (t.dim() > KLING_TENSOR_MAX_DIMS)
      throw std::runtime_error("output \"" + name + "\" has too many dims");
    out->names.push_back(name.empty() ? "0" : name);
    out->tensors.push_back(t);
  } else if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    for (size_t i = 0; i < elems.size(); i++)
      flatten(elems[i], child(std::to_string(i)), out);
  } else if (v.isList()) {
    auto list = v.toListRef();
    for (size_t i = 0; i < list.size(); i++)
      flatten(list[i], child(std::to_string(i)), out);
  } else if (v.isGenericDict()) {
    for (const auto& item : v.toGenericDict()) {
      const auto& key = item.key();
      std::string k = key.isString() ? key.toStringRef()
                      : key.isInt()  ? std::to_string(key.toInt())
                                     : throw std::runtime_error(
                                           "dict output with a key that is "
                                           "neither string nor int");
      flatten(item.value(), child(k), out);
    }
  } else if (v.isDouble() || v.isInt() || v.isBool()) {
    flatten(c10::IValue(v.isDouble() ? torch::tensor(v.toDouble(), c10::kFloat)
                        : v.isInt() ? torch::tensor(v.toInt(), c10::kLong)
                                    : torch::tensor((int64_t)v.toBool(), c10::kLong)),
            name, out);
  } else if (v.isNone()) {
    // absent optional output: nothing to return
  } else {
    throw std::runtime_error("output \"" + (name.empty() ? "0" : name) +
                             "\" is a " + v.tagKind() +
                             ", not a tensor, tuple, list or dict");
  }
}

#ifndef KLING_TORCHVISION_OPS
#define KLING_TORCHVISION_OPS ""
#endif

// Scripted torchvision models call torchvision::nms, roi_align, … which
// libtorch resolves only once torchvision's operator library has registered
// them.  GST_KLING_TORCHVISION_OPS names that library; by default the one
// found at build time (Debian: python3-torchvision's _C.so).
bool load_torchvision_ops(std::string* why) {
  static std::mutex once_lock;
  static bool loaded = false;
  std::lock_guard<std::mutex> guard(once_lock);
  if (loaded) return true;
  const char* env = g_getenv("GST_KLING_TORCHVISION_OPS");
  std::string path = env && *env ? env : KLING_TORCHVISION_OPS;
  if (path.empty()) {
    *why = "no torchvision operator library is known: install "
           "python3-torchvision and rebuild, or set GST_KLING_TORCHVISION_OPS "
           "to torchvision's _C.so";
    return false;
  }
  if (!dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    const char* e = dlerror();
    *why = "could not load torchvision's operator library \"" + path +
           "\" (" + (e ? e : "unknown error") +
           "); install python3-torchvision or set GST_KLING_TORCHVISION_OPS "
           "to torchvision's _C.so";
    return false;
  }
  loaded = true;
  return true;
}

// torch::jit::load, loading torchvision's operators first when the model
// needs them and they are not registered yet.
torch::jit::Module load_module(const char* path, c10::Device device,
                               torch::jit::ExtraFilesMap& extra) {
  try {
    return torch::jit::load(path, device, extra);
  } catch (const std::exception& e) {
    std::string message = e.what();
    if (message.find("torchvision::") == std::string::npos) throw;
    std::string why;
    if (!load_torchvision_ops(&why))
      throw std::runtime_error("the model calls torchvision:: operators, but " +
                               why);
  }
  return torch::jit::load(path, device, extra);
}

// A method whose first argument is a List[Tensor] and whose other
// arguments all have defaults (torchvision detectors: images, targets=None)
// is called with the inputs as that list.
bool takes_tensor_list(const c10::FunctionSchema& schema) {
  const auto& args = schema.arguments();
  if (args.size() < 2) return false;
  auto list = args[1].type()->cast<c10::ListType>();
  if (!list || list->getElementType()->kind() != c10::TypeKind::TensorType)
    return false;
  for (size_t i = 2; i < args.size(); i++)
    if (!args[i].default_value()) return false;
  return true;
}

KlingModel* load_model(const gchar* path, const KlingLoadOptions* options,
                       const gchar* const* extra_files, GError** error) {
  auto* model = new _KlingModel();
  bool ok = guarded(error, KLING_BACKEND_ERROR_DEVICE, "device", [&] {
    model->device = parse_device(options ? options->device : nullptr);
  });
  if (ok && options) {
    ok = guarded(error, KLING_BACKEND_ERROR_INVALID_ARGUMENT, "precision", [&] {
      switch (options->precision) {
        case KLING_PRECISION_FLOAT32: model->precision = c10::kFloat; break;
        case KLING_PRECISION_BFLOAT16: model->precision = c10::kBFloat16; break;
        case KLING_PRECISION_FLOAT16:
          if (model->device.is_cpu())
            throw std::runtime_error(
                "float16 is not supported on the CPU; use float32 or "
                "bfloat16, or a cuda device");
          model->precision = c10::kHalf;
          break;
      }
    });
  }
  if (ok) {
    model->threads = options && options->threads > 0 ? options->threads
                                                     : default_threads();
    ok = guarded(error, KLING_BACKEND_ERROR_INVALID_MODEL, path, [&] {
      torch::jit::ExtraFilesMap extra;
      for (auto p = extra_files; p && *p; p++) extra[*p] = "";
      c10::InferenceMode guard;
      model->module = load_module(path, model->device, extra);
      model->module.eval();
      if (model->precision != c10::kFloat) model->module.to(model->precision);
      for (auto p = extra_files; p && *p; p++) {
        model->extra_names.emplace_back(*p);
        model->extra_data.emplace_back(extra[*p]);
      }
      for (const auto& m : model->module.get_methods()) {
        model->method_names.push_back(m.name());
      }
      for (size_t i = 0; i < model->method_names.size(); i++) {
        auto m = model->module.get_method(model->method_names[i]);
        int n = (int)m.function().getSchema().arguments().size() - 1;
        if (takes_tensor_list(m.function().getSchema())) n = 1;
        model->methods.push_back({model->method_names[i].c_str(), n});
      }
    });
  }
  if (!ok) {
    delete model;
    return nullptr;
  }
  return model;
}

// Every entry point catches everything: what guarded() does not cover (an
// allocation failing outside it) must not cross into C either.
KlingModel* backend_load(const gchar* path, const KlingLoadOptions* options,
                         const gchar* const* extra_files, GError** error) {
  KlingModel* model = nullptr;
  guarded(error, KLING_BACKEND_ERROR_INVALID_MODEL, path,
          [&] { model = load_model(path, options, extra_files, error); });
  return model;
}

void backend_free(KlingModel* model) {
  try {
    delete model;
  } catch (...) {
  }
}

const gchar* backend_get_extra_file(KlingModel* model, const gchar* name,
                                    gsize* length) {
  for (size_t i = 0; i < model->extra_names.size(); i++) {
    if (model->extra_names[i] == name) {
      // an extra file the archive lacks reads back as empty
      if (model->extra_data[i].empty()) return nullptr;
      if (length) *length = model->extra_data[i].size();
      return model->extra_data[i].c_str();
    }
  }
  return nullptr;
}

const KlingMethodInfo* backend_list_methods(KlingModel* model, guint* n) {
  *n = (guint)model->methods.size();
  return model->methods.data();
}

KlingOutputs* call_method(KlingModel* model, const gchar* method,
                          const KlingTensor* inputs, guint n_inputs,
                          GError** error) {
  int n_args = -1;
  for (const auto& m : model->methods)
    if (g_strcmp0(m.name, method) == 0) n_args = m.n_args;
  if (n_args < 0) {
    std::string names;
    for (const auto& m : model->method_names) names += (names.empty() ? "" : ", ") + m;
    g_set_error(error, KLING_BACKEND_ERROR, KLING_BACKEND_ERROR_NO_METHOD,
                "the model has no method `%s` (it has: %s)", method,
                names.c_str());
    return nullptr;
  }
  if ((int)n_inputs != n_args) {
    g_set_error(error, KLING_BACKEND_ERROR,
                KLING_BACKEND_ERROR_INVALID_ARGUMENT,
                "method `%s` takes %d inputs, %u given", method, n_args,
                n_inputs);
    return nullptr;
  }
  std::unique_ptr<_KlingOutputs> out(new _KlingOutputs());
  std::string what = std::string("method `") + method + "`";
  bool ok = guarded(error, KLING_BACKEND_ERROR_RUNTIME, what.c_str(), [&] {
    std::lock_guard<std::mutex> lock(model->lock);
    c10::InferenceMode guard;
    apply_threads(model->threads);
    auto m = model->module.get_method(method);
    // A method taking one List[Tensor] (torchvision detectors) gets the
    // inputs as that list.
    bool as_list = takes_tensor_list(m.function().getSchema());
    std::vector<c10::IValue> args;
    c10::List<at::Tensor> list;
    args.reserve(n_inputs);
    for (guint i = 0; i < n_inputs; i++) {
      const KlingTensor& in = inputs[i];
      if (in.n_dims > KLING_TENSOR_MAX_DIMS || (!in.data && in.n_dims > 0))
        throw std::invalid_argument("input " + std::to_string(i) +
                                    " is not a valid tensor");
      std::vector<int64_t> shape(in.shape, in.shape + in.n_dims);
      std::vector<int64_t> strides(in.strides, in.strides + in.n_dims);
      at::Tensor t = torch::from_blob(in.data, shape, strides,
                                      torch::TensorOptions().dtype(to_scalar(in.dtype)));
      // float32 inputs follow the model's precision; other dtypes are
      // passed as given
      if (t.scalar_type() == c10::kFloat && model->precision != c10::kFloat)
        t = t.to(model->device, model->precision);
      else if (!model->device.is_cpu())
        t = t.to(model->device);
      if (as_list)
        list.push_back(std::move(t));
      else
        args.emplace_back(std::move(t));
    }
    if (as_list) args.emplace_back(std::move(list));
    c10::IValue result = m(std::move(args));
    flatten(result, "", out.get());
  });
  if (!ok) return nullptr;
  out->views.resize(out->tensors.size());
  for (size_t i = 0; i < out->tensors.size(); i++) {
    const at::Tensor& t = out->tensors[i];
    KlingTensor& v = out->views[i];
    from_scalar(t.scalar_type(), &v.dtype);
    v.n_dims = (guint)t.dim();
    for (int d = 0; d < t.dim(); d++) {
      v.shape[d] = t.size(d);
      v.strides[d] = t.stride(d);
    }
    v.data = t.data_ptr();
  }
  return out.release();
}

KlingOutputs* backend_call(KlingModel* model, const gchar* method,
                           const KlingTensor* inputs, guint n_inputs,
                           GError** error) {
  KlingOutputs* out = nullptr;
  guarded(error, KLING_BACKEND_ERROR_RUNTIME, method,
          [&] { out = call_method(model, method, inputs, n_inputs, error); });
  return out;
}

guint backend_outputs_count(KlingOutputs* o) { return (guint)o->tensors.size(); }
const gchar* backend_outputs_name(KlingOutputs* o, guint i) {
  return i < o->names.size() ? o->names[i].c_str() : nullptr;
}
const KlingTensor* backend_outputs_tensor(KlingOutputs* o, guint i) {
  return i < o->views.size() ? &o->views[i] : nullptr;
}
void backend_outputs_free(KlingOutputs* o) {
  try {
    delete o;
  } catch (...) {
  }
}

gint backend_get_threads() { return at::get_num_threads(); }

gboolean backend_device_available(const gchar* device, GError** error) {
  return guarded(error, KLING_BACKEND_ERROR_DEVICE, "device",
                 [&] { parse_device(device); });
}

std::string describe_backend() {
  return std::string("libtorch ") + TORCH_VERSION +
         (torch::cuda::is_available() ? " (cuda)" : " (cpu)");
}

}  // namespace

extern "C" G_MODULE_EXPORT const KlingBackendVTable* kling_backend_get_vtable(
    guint abi_version) {
  static std::string name;
  static KlingBackendVTable vtable;
  if (abi_version != KLING_BACKEND_ABI_VERSION) return nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      name = describe_backend();
    } catch (...) {
      name = "libtorch";
    }
    vtable = KlingBackendVTable{
        KLING_BACKEND_ABI_VERSION, name.c_str(),       backend_load,
        backend_free,              backend_get_extra_file, backend_list_methods,
        backend_call,              backend_outputs_count,  backend_outputs_name,
        backend_outputs_tensor,    backend_outputs_free,   backend_get_threads,
        backend_device_available};
  });
  return &vtable;
}
