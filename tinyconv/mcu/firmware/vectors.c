/* The vector table of tinyconv's firmware harness, linked where the board boots: the
 * initial stack pointer (top of a RAM of the board), the reset vector (newlib's _start,
 * which clears .bss, copies .data and calls main), a fault handler that ends the run with
 * a status the host reads, and the SysTick handler that counts the timer's wraps. */
#include <stdint.h>

#include "harness_config.h"

extern void _start(void);
extern void _exit(int status);
extern void TinyconvSysTickHandler(void);

static void TinyconvFault(void) { _exit(70); }

__attribute__((section(".vectors"), used)) const uintptr_t tinyconv_vectors[16] = {
    TINYCONV_STACK_TOP,                        /* initial SP: top of a RAM of the board */
    (uintptr_t)_start,                         /* reset */
    (uintptr_t)TinyconvFault,                  /* NMI */
    (uintptr_t)TinyconvFault,                  /* HardFault */
    (uintptr_t)TinyconvFault,                  /* MemManage */
    (uintptr_t)TinyconvFault,                  /* BusFault */
    (uintptr_t)TinyconvFault,                  /* UsageFault */
    0, 0, 0, 0,                                /* reserved */
    (uintptr_t)TinyconvFault,                  /* SVCall */
    (uintptr_t)TinyconvFault,                  /* DebugMonitor */
    0,                                         /* reserved */
    (uintptr_t)TinyconvFault,                  /* PendSV */
    (uintptr_t)TinyconvSysTickHandler,         /* SysTick */
};
