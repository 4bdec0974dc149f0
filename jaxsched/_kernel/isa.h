// Body of ops_<isa>.cc: compile ops.h for one instruction set (JAXSCHED_ARCH, JAXSCHED_TARGET).
#include <cmath>
#include <cstdint>
#include <utility>

#include "kernel.h"

#ifdef JAXSCHED_TARGET
// `#pragma GCC target(MACRO)` does not expand the macro (GCC warns and compiles for the baseline):
// _Pragma of a string built after expansion does.
#define JAXSCHED_PRAGMA_STRING(text) _Pragma(#text)
#define JAXSCHED_PRAGMA(text) JAXSCHED_PRAGMA_STRING(text)
#if defined(__clang__)
JAXSCHED_PRAGMA(clang attribute push(__attribute__((target(JAXSCHED_TARGET))), apply_to = function))
#else
#pragma GCC push_options
JAXSCHED_PRAGMA(GCC target(JAXSCHED_TARGET))
#endif
#endif

#include "ops.h"

namespace jaxsched_kernel {
namespace JAXSCHED_ARCH {
void fill(Table& table) { fill_table(table); }
void floor(int64_t n, float* param, const float* grad, float* m, float* v) { floor_pass(n, param, grad, m, v); }
}  // namespace JAXSCHED_ARCH
}  // namespace jaxsched_kernel

#ifdef JAXSCHED_TARGET
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
