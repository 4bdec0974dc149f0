// Declarations shared by the kernel's translation units (see ops.h and fused.cc).
#ifndef JAXSCHED_KERNEL_KERNEL_H_
#define JAXSCHED_KERNEL_KERNEL_H_

#include <cstdint>
#include <utility>

namespace jaxsched_kernel {

// Optimizer ops and dtypes, numbered as jaxsched/_fused.py numbers them.
enum Op { kAdam, kSgd, kRmsprop, kAdagrad, kAdamax, kNadam, kRadam, kLion, kNumOps };
enum Dtype { kFloat32, kFloat64, kNumDtypes };

// Structural flags, a bit mask: each combination is its own compiled loop (no branch per element).
constexpr int kL2 = 1;         // weight_decay added to the gradient
constexpr int kDecoupled = 2;  // weight_decay applied AdamW-style after the step
constexpr int kOpFlagA = 4;    // adam: amsgrad; sgd: momentum; rmsprop: centered; lion: weight decay
constexpr int kOpFlagB = 8;    // sgd: nesterov; rmsprop: momentum
constexpr int kApply = 16;     // write p + update into the parameter, in place, instead of the update
constexpr int kFlagCombinations = 32;

// The scalars operand starts with these, then the op's own scalars.
enum CommonScalar { kSign, kWeightDecay, kNegativeLr, kNegativeShrink, kCommonScalars };

// One contiguous piece: n elements of one parameter leaf and the same elements of up to three
// packed state buffers. `out` receives the update, or with kApply is the parameter itself (`param`
// is then not read).
using RangeFn = void (*)(const void* scalars, int64_t n, const void* param, const void* grad, void* buffer0,
                         void* buffer1, void* buffer2, void* out);
using Table = RangeFn[kNumOps][kNumDtypes][kFlagCombinations];
using FloorFn = void (*)(int64_t n, float* param, const float* grad, float* m, float* v);

#define JAXSCHED_DECLARE_ISA(isa)   \
  namespace isa {                   \
  void fill(Table& table);          \
  void floor(int64_t n, float* param, const float* grad, float* m, float* v); \
  }
JAXSCHED_DECLARE_ISA(generic)
#if defined(__x86_64__)
JAXSCHED_DECLARE_ISA(avx2)
JAXSCHED_DECLARE_ISA(avx512)
#endif
#undef JAXSCHED_DECLARE_ISA

}  // namespace jaxsched_kernel

#endif  // JAXSCHED_KERNEL_KERNEL_H_
