// jaxsched._fused_kernel: the one-pass optimizer update as an XLA FFI handler (see jaxsched/_fused.py).
//
// One call updates up to a few dozen parameter leaves of one dtype: it reads each leaf's parameter
// and gradient, reads and writes the optimizer's packed state buffers in place (the caller aliases
// them to the outputs) at `offset` + the element's position among the call's leaves, and writes
// each leaf's update (or, with kApply, the updated parameter in place). Work is split into chunks over XLA's intra-op thread pool; the calling thread
// takes chunks too and waits only for chunks already taken, so a busy pool cannot stall it.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernel.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace jaxsched_kernel {
namespace {

struct Isa {
  const char* name;
  Table table;
  FloorFn floor;
};

Isa isas[3];
int isa_count = 0;
const Isa* active = nullptr;

void init_isas() {
  auto add = [](const char* name, void (*fill)(Table&), FloorFn floor) {
    Isa& isa = isas[isa_count++];
    isa.name = name;
    fill(isa.table);
    isa.floor = floor;
  };
  add("generic", generic::fill, generic::floor);
  active = &isas[0];
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) {
    add("avx2", avx2::fill, avx2::floor);
    active = &isas[isa_count - 1];
  }
  if (__builtin_cpu_supports("avx512f")) {
    add("avx512", avx512::fill, avx512::floor);
    active = &isas[isa_count - 1];
  }
#endif
}

// Below this many elements per chunk, handing work to another thread costs more than it saves.
constexpr int64_t kMinChunk = 1 << 16;

// Run body(begin, end) over [0, total) in chunks, on the pool's threads and the calling thread.
template <typename Body>
void parallel_for(ffi::ThreadPool& pool, int64_t total, const Body& body) {
  int64_t threads = pool.num_threads();
  if (threads <= 0 || total < 2 * kMinChunk) {
    body(0, total);
    return;
  }
  // many small chunks: a pool thread the OS deschedules mid-chunk holds up the caller for one chunk only
  int64_t chunks = std::min<int64_t>(total / kMinChunk, 64 * (threads + 1));
  int64_t chunk = (total + chunks - 1) / chunks;
  struct Shared {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> finished{0};
  };
  auto shared = std::make_shared<Shared>();
  // A task starting after every chunk is taken touches only `shared` (kept alive by its copy),
  // never `body`, which may be gone by then.
  auto work = [shared, chunks, chunk, total, &body]() {
    for (int64_t c; (c = shared->next.fetch_add(1)) < chunks;) {
      body(c * chunk, std::min(total, (c + 1) * chunk));
      shared->finished.fetch_add(1, std::memory_order_release);
    }
  };
  for (int64_t t = 0; t < std::min(threads, chunks - 1); ++t) pool.Schedule(decltype(work)(work));
  work();
  while (shared->finished.load(std::memory_order_acquire) < chunks) std::this_thread::yield();
}

ffi::Error FusedUpdate(ffi::ThreadPool pool, ffi::AnyBuffer scalars, ffi::RemainingArgs args, ffi::RemainingRets rets,
                       int32_t op, int32_t flags, int64_t offset, int64_t buffers) {
  Dtype dtype;
  size_t width;
  if (scalars.element_type() == ffi::DataType::F32) {
    dtype = kFloat32, width = 4;
  } else if (scalars.element_type() == ffi::DataType::F64) {
    dtype = kFloat64, width = 8;
  } else {
    return ffi::Error::InvalidArgument("jaxsched_fused_update: scalars must be float32 or float64");
  }
  if (op < 0 || op >= kNumOps || flags < 0 || flags >= kFlagCombinations || buffers < 0 || buffers > 3) {
    return ffi::Error::InvalidArgument("jaxsched_fused_update: bad op, flags or buffer count");
  }
  int64_t leaves = (static_cast<int64_t>(args.size()) - buffers) / 2;
  if (leaves < 0 || static_cast<int64_t>(args.size()) != buffers + 2 * leaves ||
      static_cast<int64_t>(rets.size()) != buffers + leaves) {
    return ffi::Error::InvalidArgument("jaxsched_fused_update: expects buffers, params, grads -> buffers, updates");
  }
  char* state[3] = {nullptr, nullptr, nullptr};
  for (int64_t k = 0; k < buffers; ++k) {
    auto in = args.get<ffi::AnyBuffer>(k);
    auto out = rets.get<ffi::AnyBuffer>(k);
    if (!in.has_value() || !out.has_value()) return ffi::Error::InvalidArgument("jaxsched_fused_update: bad buffer");
    if (in->element_type() != scalars.element_type()) {
      return ffi::Error::InvalidArgument("jaxsched_fused_update: state dtype differs from the scalars'");
    }
    state[k] = static_cast<char*>((*out)->untyped_data());
    // XLA honours the aliasing by construction; copying keeps the kernel correct if it ever did not
    if ((*out)->untyped_data() != in->untyped_data()) std::memcpy(state[k], in->untyped_data(), in->size_bytes());
  }
  std::vector<const char*> params(leaves), grads(leaves);
  std::vector<char*> updates(leaves);
  std::vector<int64_t> starts(leaves + 1, 0);
  for (int64_t l = 0; l < leaves; ++l) {
    auto param = args.get<ffi::AnyBuffer>(buffers + l);
    auto grad = args.get<ffi::AnyBuffer>(buffers + leaves + l);
    auto update = rets.get<ffi::AnyBuffer>(buffers + l);
    if (!param.has_value() || !grad.has_value() || !update.has_value()) {
      return ffi::Error::InvalidArgument("jaxsched_fused_update: bad leaf");
    }
    if (param->element_type() != scalars.element_type() || grad->element_type() != scalars.element_type() ||
        grad->element_count() != param->element_count()) {
      return ffi::Error::InvalidArgument("jaxsched_fused_update: leaf dtype or size mismatch");
    }
    grads[l] = static_cast<const char*>(grad->untyped_data());
    updates[l] = static_cast<char*>((*update)->untyped_data());
    params[l] = static_cast<const char*>(param->untyped_data());
    // with kApply the result is the parameter, aliased in place (copied in if XLA ever did not)
    if ((flags & kApply) != 0 && updates[l] != params[l]) std::memcpy(updates[l], params[l], param->size_bytes());
    starts[l + 1] = starts[l] + static_cast<int64_t>(param->element_count());
  }
  RangeFn fn = active->table[op][dtype][flags];
  const void* s = scalars.untyped_data();
  auto body = [&](int64_t begin, int64_t end) {
    int64_t l = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
    for (; begin < end; ++l) {
      int64_t stop = std::min(end, starts[l + 1]);
      size_t local = (begin - starts[l]) * width, packed = (offset + begin) * width;
      auto at = [&](int k) -> void* { return state[k] == nullptr ? nullptr : state[k] + packed; };
      fn(s, stop - begin, params[l] + local, grads[l] + local, at(0), at(1), at(2), updates[l] + local);
      begin = stop;
    }
  };
  parallel_for(pool, starts[leaves], body);
  return ffi::Error::Success();
}

// The one-pass floor for benchmarks/run.py: p, g, m, v (float32) -> p, m, v in place.
ffi::Error Floor(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> param, ffi::Buffer<ffi::F32> grad,
                 ffi::Buffer<ffi::F32> m, ffi::Buffer<ffi::F32> v, ffi::ResultBuffer<ffi::F32> param_out,
                 ffi::ResultBuffer<ffi::F32> m_out, ffi::ResultBuffer<ffi::F32> v_out) {
  float* p = param_out->typed_data();
  const float* g = grad.typed_data();
  float* mo = m_out->typed_data();
  float* vo = v_out->typed_data();
  if (p != param.typed_data() || mo != m.typed_data() || vo != v.typed_data()) {
    return ffi::Error::InvalidArgument("jaxsched_floor: outputs must alias the inputs");
  }
  parallel_for(pool, static_cast<int64_t>(param.element_count()), [&](int64_t begin, int64_t end) {
    active->floor(end - begin, p + begin, g + begin, mo + begin, vo + begin);
  });
  return ffi::Error::Success();
}

}  // namespace
}  // namespace jaxsched_kernel

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxschedFusedUpdate, jaxsched_kernel::FusedUpdate,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .RemainingArgs()
                                  .RemainingRets()
                                  .Attr<int32_t>("op")
                                  .Attr<int32_t>("flags")
                                  .Attr<int64_t>("offset")
                                  .Attr<int64_t>("buffers"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxschedFloor, jaxsched_kernel::Floor,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

// --- the Python module -----------------------------------------------------------------------------

static PyObject* registrations(PyObject*, PyObject*) {
  PyObject* dict = PyDict_New();
  if (dict == nullptr) return nullptr;
  struct {
    const char* name;
    void* handler;
  } targets[] = {{"jaxsched_fused_update", reinterpret_cast<void*>(JaxschedFusedUpdate)},
                 {"jaxsched_floor", reinterpret_cast<void*>(JaxschedFloor)}};
  for (const auto& target : targets) {
    PyObject* capsule = PyCapsule_New(target.handler, nullptr, nullptr);
    if (capsule == nullptr || PyDict_SetItemString(dict, target.name, capsule) < 0) {
      Py_XDECREF(capsule);
      Py_DECREF(dict);
      return nullptr;
    }
    Py_DECREF(capsule);
  }
  return dict;
}

static PyObject* isa(PyObject*, PyObject*) { return PyUnicode_FromString(jaxsched_kernel::active->name); }

static PyObject* isas(PyObject*, PyObject*) {
  PyObject* list = PyList_New(0);
  for (int i = 0; list != nullptr && i < jaxsched_kernel::isa_count; ++i) {
    PyObject* name = PyUnicode_FromString(jaxsched_kernel::isas[i].name);
    if (name == nullptr || PyList_Append(list, name) < 0) {
      Py_XDECREF(name);
      Py_DECREF(list);
      return nullptr;
    }
    Py_DECREF(name);
  }
  return list;
}

static PyObject* use_isa(PyObject*, PyObject* arg) {
  const char* name = PyUnicode_AsUTF8(arg);
  if (name == nullptr) return nullptr;
  for (int i = 0; i < jaxsched_kernel::isa_count; ++i) {
    if (std::strcmp(jaxsched_kernel::isas[i].name, name) == 0) {
      jaxsched_kernel::active = &jaxsched_kernel::isas[i];
      Py_RETURN_NONE;
    }
  }
  PyErr_Format(PyExc_ValueError, "use_isa: %s is not available on this CPU", name);
  return nullptr;
}

static PyMethodDef methods[] = {
    {"registrations", registrations, METH_NOARGS, "FFI target name -> handler capsule."},
    {"isa", isa, METH_NOARGS, "The instruction set the kernel runs with."},
    {"isas", isas, METH_NOARGS, "The instruction sets this CPU can run the kernel with."},
    {"use_isa", use_isa, METH_O, "Run the kernel with another available instruction set (benchmarks, tests)."},
    {nullptr, nullptr, 0, nullptr}};

static PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fused_kernel",
                             "jaxsched's one-pass optimizer kernel (XLA FFI, CPU).", -1, methods};

PyMODINIT_FUNC PyInit__fused_kernel(void) {
  jaxsched_kernel::init_isas();
  return PyModule_Create(&module);
}
