// The element loops of the one-pass optimizer kernel, one template per optimizer.
//
// Included once per instruction set (ops_generic.cc, ops_avx2.cc, ops_avx512.cc) inside a namespace
// named by JAXSCHED_ARCH, so each translation unit's instances are compiled for its own target and
// the linker cannot merge them. Every expression follows jaxsched's pure-JAX math (the fallback)
// operation by operation, which follows torch's single-tensor order; scalars that depend only on
// hyperparameters and the step (bias corrections, 1 - beta, -learning_rate) come computed by that
// same JAX code, so kernel and fallback round alike (in the form XLA compiles that code to). No FMA
// contraction (-ffp-contract=off).
#include <cmath>
#include <cstdint>

#include "kernel.h"

namespace jaxsched_kernel {
namespace JAXSCHED_ARCH {

// jnp.maximum: NaN if either side is NaN
template <typename T>
inline T nan_max(T a, T b) {
  return a != a ? a : (a > b ? a : b);
}

// Adam / AdamW (bias-corrected, optional AMSGrad). Buffers: exp_avg, exp_avg_sq[, max_exp_avg_sq].
// The bias corrections come as reciprocals, 1 / sqrt(1 - beta2^t) and 1 / (1 - beta1^t): XLA
// compiles the pure-JAX math's divisions by them into these multiplications, and a division per
// element costs more than the memory traffic.
template <typename T, int F>
struct Adam {
  static constexpr bool kReadsParam = false;
  static constexpr bool kAppliesLr = false;
  T one_minus_beta1, beta2, one_minus_beta2, inverse_correction2_sqrt, eps, inverse_correction1;
  explicit Adam(const T* s)
      : one_minus_beta1(s[0]), beta2(s[1]), one_minus_beta2(s[2]), inverse_correction2_sqrt(s[3]), eps(s[4]),
        inverse_correction1(s[5]) {}
  inline T operator()(T g, T, T* __restrict b0, T* __restrict b1, T* __restrict b2, int64_t i) const {
    T m = b0[i];
    T v = b1[i];
    m = m + (g - m) * one_minus_beta1;
    v = v * beta2 + (one_minus_beta2 * g) * g;
    b0[i] = m;
    b1[i] = v;
    T denominator_v = v;
    if constexpr ((F & kOpFlagA) != 0) {  // amsgrad
      denominator_v = nan_max(b2[i], v);
      b2[i] = denominator_v;
    }
    return m / (std::sqrt(denominator_v) * inverse_correction2_sqrt + eps) * inverse_correction1;
  }
};

// SGD: flag A momentum, flag B nesterov. Buffer: momentum_buffer.
template <typename T, int F>
struct Sgd {
  static constexpr bool kReadsParam = false;
  static constexpr bool kAppliesLr = false;
  T momentum, gradient_coefficient;
  explicit Sgd(const T* s) : momentum(s[0]), gradient_coefficient(s[1]) {}
  inline T operator()(T g, T, T* __restrict b0, T*, T*, int64_t i) const {
    if constexpr ((F & kOpFlagA) == 0) {
      return g;
    } else {
      T buffer = momentum * b0[i] + gradient_coefficient * g;
      b0[i] = buffer;
      if constexpr ((F & kOpFlagB) != 0) return g + momentum * buffer;
      return buffer;
    }
  }
};

// RMSprop: flag A centered, flag B momentum. Buffers: square_avg[, grad_avg][, momentum_buffer].
template <typename T, int F>
struct Rmsprop {
  static constexpr bool kReadsParam = false;
  static constexpr bool kAppliesLr = false;
  static constexpr bool kCentered = (F & kOpFlagA) != 0;
  T alpha, one_minus_alpha, lerp_weight, one_minus_lerp_weight, eps, momentum;
  explicit Rmsprop(const T* s)
      : alpha(s[0]), one_minus_alpha(s[1]), lerp_weight(s[2]), one_minus_lerp_weight(s[3]), eps(s[4]),
        momentum(s[5]) {}
  inline T operator()(T g, T, T* __restrict b0, T* __restrict b1, T* __restrict b2, int64_t i) const {
    T square_avg = b0[i] * alpha + one_minus_alpha * g * g;
    b0[i] = square_avg;
    T variance = square_avg;
    if constexpr (kCentered) {
      T grad_avg = b1[i];
      T difference = g - grad_avg;
      // torch.lerp switches formula at |weight| = 0.5 (jaxsched.core._base.torch_lerp)
      grad_avg = std::fabs(lerp_weight) < T(0.5) ? grad_avg + lerp_weight * difference
                                                  : g - difference * one_minus_lerp_weight;
      b1[i] = grad_avg;
      variance = square_avg - grad_avg * grad_avg;
    }
    T direction = g / (std::sqrt(variance) + eps);
    if constexpr ((F & kOpFlagB) != 0) {
      T* __restrict buffer = kCentered ? b2 : b1;
      direction = momentum * buffer[i] + direction;
      buffer[i] = direction;
    }
    return direction;
  }
};

// Adagrad, its decayed learning rate included. Buffer: sum.
template <typename T, int F>
struct Adagrad {
  static constexpr bool kReadsParam = false;
  static constexpr bool kAppliesLr = true;
  T first_step, initial_accumulator_value, negative_clr, eps;
  explicit Adagrad(const T* s)
      : first_step(s[0]), initial_accumulator_value(s[1]), negative_clr(s[2]), eps(s[3]) {}
  inline T operator()(T g, T, T* __restrict b0, T*, T*, int64_t i) const {
    // torch fills the sum when its state is created, at the first step
    T sum = (first_step != T(0) ? initial_accumulator_value : b0[i]) + g * g;
    b0[i] = sum;
    return (negative_clr * g) / (std::sqrt(sum) + eps);
  }
};

// Adamax. Buffers: exp_avg, exp_inf.
template <typename T, int F>
struct Adamax {
  static constexpr bool kReadsParam = false;
  static constexpr bool kAppliesLr = false;
  T one_minus_beta1, beta2, eps, inverse_correction1;
  explicit Adamax(const T* s) : one_minus_beta1(s[0]), beta2(s[1]), eps(s[2]), inverse_correction1(s[3]) {}
  inline T operator()(T g, T, T* __restrict b0, T* __restrict b1, T*, int64_t i) const {
    T m = b0[i] + (g - b0[i]) * one_minus_beta1;
    T u = nan_max(b1[i] * beta2, std::fabs(g) + eps);
    b0[i] = m;
    b1[i] = u;
    return m / u * inverse_correction1;
  }
};

// NAdam. Buffers: exp_avg, exp_avg_sq. Its mu product is a scalar of the state (see fused.py).
template <typename T, int F>
struct Nadam {
  static constexpr bool kReadsParam = false;
  static constexpr bool kAppliesLr = false;
  T one_minus_beta1, beta2, one_minus_beta2, inverse_correction2, eps, gradient_coefficient, momentum_coefficient;
  explicit Nadam(const T* s)
      : one_minus_beta1(s[0]), beta2(s[1]), one_minus_beta2(s[2]), inverse_correction2(s[3]), eps(s[4]),
        gradient_coefficient(s[5]), momentum_coefficient(s[6]) {}
  inline T operator()(T g, T, T* __restrict b0, T* __restrict b1, T*, int64_t i) const {
    T m = b0[i] + (g - b0[i]) * one_minus_beta1;
    T v = b1[i] * beta2 + (one_minus_beta2 * g) * g;
    b0[i] = m;
    b1[i] = v;
    T denominator = std::sqrt(v * inverse_correction2) + eps;
    return gradient_coefficient * (g / denominator) + momentum_coefficient * (m / denominator);
  }
};

// RAdam: the rectified step while rho_t > 5, else the bias-corrected momentum. Buffers: exp_avg, exp_avg_sq.
template <typename T, int F>
struct Radam {
  static constexpr bool kReadsParam = false;
  static constexpr bool kAppliesLr = false;
  T one_minus_beta1, beta2, one_minus_beta2, inverse_correction1, correction2_sqrt, eps, rectify, rect;
  explicit Radam(const T* s)
      : one_minus_beta1(s[0]), beta2(s[1]), one_minus_beta2(s[2]), inverse_correction1(s[3]),
        correction2_sqrt(s[4]), eps(s[5]), rectify(s[6]), rect(s[7]) {}
  inline T operator()(T g, T, T* __restrict b0, T* __restrict b1, T*, int64_t i) const {
    T m = b0[i] + (g - b0[i]) * one_minus_beta1;
    T v = b1[i] * beta2 + (one_minus_beta2 * g) * g;
    b0[i] = m;
    b1[i] = v;
    T factor = rectify != T(0) ? correction2_sqrt / (std::sqrt(v) + eps) * rect : T(1);
    return m * inverse_correction1 * factor;
  }
};

// jnp.sign: +-1, and 0, -0 and NaN as they are
template <typename T>
inline T sign(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);
}

// Lion (lion-pytorch), its learning rate and flag A's weight decay included. Buffer: exp_avg.
template <typename T, int F>
struct Lion {
  static constexpr bool kReadsParam = (F & kOpFlagA) != 0;
  static constexpr bool kAppliesLr = true;
  T beta1, one_minus_beta1, beta2, one_minus_beta2, negative_lr, lr_times_decay;
  explicit Lion(const T* s)
      : beta1(s[0]), one_minus_beta1(s[1]), beta2(s[2]), one_minus_beta2(s[3]), negative_lr(s[4]),
        lr_times_decay(s[5]) {}
  inline T operator()(T g, T p, T* __restrict b0, T*, T*, int64_t i) const {
    T m = b0[i];
    T step = negative_lr * sign(m * beta1 + g * one_minus_beta1);
    if constexpr (kReadsParam) step = step - lr_times_decay * p;
    b0[i] = m * beta2 + g * one_minus_beta2;
    return step;
  }
};

// torch_optimizer's order around the math: maximize -> L2 decay -> math -> -lr -> decoupled decay;
// then, with kApply, jaxsched.apply_updates' p + u.
template <template <typename, int> class Op, typename T, int F>
void run(const void* scalars_, int64_t n, const void* param_, const void* grad_, void* b0_, void* b1_, void* b2_,
         void* out_) {
  constexpr bool kInPlace = (F & kApply) != 0;
  const T* s = static_cast<const T*>(scalars_);
  // in place, the parameter is read through `out` only: two restrict pointers may not share memory
  const T* __restrict param = kInPlace ? nullptr : static_cast<const T*>(param_);
  const T* __restrict grad = static_cast<const T*>(grad_);
  T* __restrict b0 = static_cast<T*>(b0_);
  T* __restrict b1 = static_cast<T*>(b1_);
  T* __restrict b2 = static_cast<T*>(b2_);
  T* __restrict out = static_cast<T*>(out_);
  const T sign = s[kSign], weight_decay = s[kWeightDecay], negative_lr = s[kNegativeLr],
          negative_shrink = s[kNegativeShrink];
  const Op<T, F> op(s + kCommonScalars);
  for (int64_t i = 0; i < n; ++i) {
    T p = 0;
    if constexpr (kInPlace) {
      p = out[i];
    } else if constexpr ((F & (kL2 | kDecoupled)) != 0 || Op<T, F>::kReadsParam) {
      p = param[i];
    }
    T g = grad[i] * sign;
    if constexpr ((F & kL2) != 0) g = g + weight_decay * p;
    T u = op(g, p, b0, b1, b2, i);
    if constexpr (!Op<T, F>::kAppliesLr) u = negative_lr * u;
    if constexpr ((F & kDecoupled) != 0) u = u + negative_shrink * p;
    if constexpr (kInPlace) {
      out[i] = p + u;
    } else {
      out[i] = u;
    }
  }
}

template <template <typename, int> class Op, typename T, int... Fs>
constexpr void fill_flags(RangeFn* row, std::integer_sequence<int, Fs...>) {
  ((row[Fs] = &run<Op, T, Fs>), ...);
}

template <template <typename, int> class Op>
void fill_op(Table& table, int op) {
  fill_flags<Op, float>(table[op][kFloat32], std::make_integer_sequence<int, kFlagCombinations>());
  fill_flags<Op, double>(table[op][kFloat64], std::make_integer_sequence<int, kFlagCombinations>());
}

inline void fill_table(Table& table) {
  fill_op<Adam>(table, kAdam);
  fill_op<Sgd>(table, kSgd);
  fill_op<Rmsprop>(table, kRmsprop);
  fill_op<Adagrad>(table, kAdagrad);
  fill_op<Adamax>(table, kAdamax);
  fill_op<Nadam>(table, kNadam);
  fill_op<Radam>(table, kRadam);
  fill_op<Lion>(table, kLion);
}

// The benchmarks' physical floor: one pass with Adam's access pattern (4 reads, 3 writes), no math
// beyond what keeps the loop honest.
inline void floor_pass(int64_t n, float* __restrict p, const float* __restrict g, float* __restrict m,
                       float* __restrict v) {
  for (int64_t i = 0; i < n; ++i) {
    float mi = m[i] + g[i];
    float vi = v[i] + g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - mi * vi;
  }
}

}  // namespace JAXSCHED_ARCH
}  // namespace jaxsched_kernel
