// The kernel for the compiler's baseline instruction set (SSE2 on x86-64; any other CPU).
#define JAXSCHED_ARCH generic
#include "isa.h"
