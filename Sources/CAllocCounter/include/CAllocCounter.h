/* Test-only malloc interposer: counts allocations per thread (see swift-systems-notes §5). */
#ifndef CALLOCCOUNTER_H
#define CALLOCCOUNTER_H
#include <stdint.h>
uint64_t sluice_thread_alloc_count(void);
uint64_t sluice_thread_alloc_bytes(void);
uint64_t sluice_process_alloc_count(void);
#endif
