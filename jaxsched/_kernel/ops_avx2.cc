// The kernel for AVX2 (8 float32 lanes); chosen at run time when the CPU has it. No FMA: the
// fallback's rounding is one multiply, then one add.
#if defined(__x86_64__)
#define JAXSCHED_ARCH avx2
#define JAXSCHED_TARGET "avx2"
#include "isa.h"
#endif
