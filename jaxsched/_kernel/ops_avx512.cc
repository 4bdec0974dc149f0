// The kernel for AVX-512 (16 float32 lanes); chosen at run time when the CPU has it.
#if defined(__x86_64__)
#define JAXSCHED_ARCH avx512
#define JAXSCHED_TARGET "avx512f"
#include "isa.h"
#endif
