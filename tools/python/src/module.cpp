// mxlab._core: the C++ side of the Python package. Every function calls the library functions
// the CLI's subcommands call (tools/mxlab/cmd_*.cpp), so the module and the CLI give the same
// bits by construction; the Python layer (mxlab/__init__.py) converts inputs and documents.
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include <sys/mman.h>
#include <string>

#include <fmt/format.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "emulator/accum_model.hpp"
#include "emulator/io/tensor_io.hpp"
#include "formats/catalog.hpp"
#include "formats/codec.hpp"
#include "formats/mx_format.hpp"
#include "tools/python/src/bind.hpp"

#ifndef MXLAB_VERSION
#define MXLAB_VERSION "0.0.0"
#endif
#ifndef MXLAB_GIT_REVISION
#define MXLAB_GIT_REVISION "unknown"
#endif

namespace mx::py {

namespace {

constexpr std::size_t kLarge = std::size_t{4} << 20;
constexpr std::size_t kHuge = std::size_t{2} << 20;
std::mutex g_cache_mutex;
void* g_cached = nullptr;
std::size_t g_cached_bytes = 0;

std::size_t mapped_size(std::size_t bytes) { return (bytes + kHuge - 1) / kHuge * kHuge; }

}  // namespace

void* alloc_bytes(std::size_t bytes) {
  if (bytes < kLarge) {
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (!p) throw std::bad_alloc();
    return p;
  }
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    if (g_cached && g_cached_bytes == bytes) {
      void* p = g_cached;
      g_cached = nullptr;
      return p;
    }
  }
  // Over-map by one huge page to align the block to 2 MiB (huge pages need the alignment).
  const std::size_t len = mapped_size(bytes) + kHuge;
  void* raw = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto a = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (a + kHuge - 1) / kHuge * kHuge;
  if (aligned > a) ::munmap(raw, aligned - a);
  const std::size_t tail = (a + len) - (aligned + mapped_size(bytes));
  if (tail) ::munmap(reinterpret_cast<void*>(aligned + mapped_size(bytes)), tail);
  void* p = reinterpret_cast<void*>(aligned);
  ::madvise(p, mapped_size(bytes), MADV_HUGEPAGE);
  return p;
}

void free_bytes(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes < kLarge) {
    std::free(p);
    return;
  }
  void* drop = p;
  std::size_t drop_bytes = bytes;
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    std::swap(drop, g_cached);  // keep the newest, release the one held before
    std::swap(drop_bytes, g_cached_bytes);
  }
  if (drop) ::munmap(drop, mapped_size(drop_bytes));
}

namespace {

const char* nonfinite_name(Nonfinite n) {
  switch (n) {
    case Nonfinite::kIeee:
      return "ieee";
    case Nonfinite::kNanOnly:
      return "nan-only";
    case Nonfinite::kFiniteOnly:
      return "finite-only";
  }
  return "?";
}

const char* kind_name(ElemKind k) {
  switch (k) {
    case ElemKind::kFloat:
      return "float";
    case ElemKind::kInt:
      return "int";
    case ElemKind::kScale:
      return "scale";
  }
  return "?";
}

nb::dict elem_dict(const ElemFormat& f) {
  nb::dict d;
  d["name"] = std::string(f.name_view());
  d["kind"] = kind_name(f.kind);
  d["bits"] = f.bits;
  d["exp_bits"] = f.exp_bits;
  d["man_bits"] = f.man_bits;
  d["bias"] = f.bias;
  d["nonfinite"] = nonfinite_name(f.nonfinite);
  d["emax"] = f.emax();
  d["emin"] = f.emin();
  d["max"] = decode(f, f.max_magnitude_code());
  d["max_code"] = f.max_magnitude_code();  // largest positive magnitude's code
  d["sign_mask"] = f.sign_mask();
  d["description"] = describe(f);
  return d;
}

// The catalogue as `mxlab formats` prints it (cmd_formats.cpp): the element formats, then the
// six concrete MX formats with their element's description.
nb::list formats() {
  nb::list out;
  for (const ElemFormat& f : catalog_formats()) {
    nb::dict d = elem_dict(f);
    d["type"] = "element";
    out.append(d);
  }
  for (auto n : concrete_mx_format_names()) {
    const MxFormat f = parse_mx_format(n);
    nb::dict d = elem_dict(f.elem);
    d["type"] = "mx";
    d["name"] = std::string(n);
    d["element"] = std::string(f.elem.name_view());
    d["block_size"] = f.block_size;
    d["scale"] = std::string(scale_format_name(f.scale));
    out.append(d);
  }
  return out;
}

}  // namespace

}  // namespace mx::py

NB_MODULE(_core, m) {
  namespace nb = nanobind;
  using namespace mx;
  m.doc() = "mxlab's C++ core (use the mxlab package, not this module)";
  // Library errors become Python exceptions with the library's one-line message: file
  // problems OSError, everything else (bad names, shapes, values) ValueError.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const nb::python_error&) {
      throw;  // a Python exception already: nanobind's own translator restores it
    } catch (const nb::builtin_exception&) {
      throw;  // nb::type_error and friends
    } catch (const mx::IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "mxlab: out of memory");
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  m.attr("__version__") = fmt::format("mxlab {} ({})", MXLAB_VERSION, MXLAB_GIT_REVISION);
  m.attr("version_number") = MXLAB_VERSION;
  m.attr("git_revision") = MXLAB_GIT_REVISION;
  m.def("formats", &mx::py::formats);

  nb::class_<AccumModel>(m, "AccumModel")
      .def(nb::init<>())
      .def("__init__",
           [](AccumModel* self, const std::string& s) {
             try {  // the library names the key; the flag is the CLI's --accum
               new (self) AccumModel(parse_accum_model(s));
             } catch (const AccumModelError& e) {
               throw mx::py::ArgError(fmt::format("--accum: {}", e.what()));
             }
           })
      .def("__str__", [](const AccumModel& a) { return to_string(a); })
      .def("__eq__",
           [](const AccumModel& a, const AccumModel& b) { return to_string(a) == to_string(b); })
      .def("__hash__", [](const AccumModel& a) { return nb::hash(nb::str(to_string(a).c_str())); })
      .def_static("presets", [] {
        std::vector<std::string> v;
        for (auto n : accum_preset_names()) v.emplace_back(n);
        return v;
      });

  mx::py::register_quantize(m);
  mx::py::register_gemm(m);
  mx::py::register_ptq(m);
  mx::py::register_model(m);
}
