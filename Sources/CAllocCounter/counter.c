/* Defining malloc & co. in the test executable puts these first in symbol lookup, so every
 * allocation (libswiftCore, Foundation, the test runner, our code) is counted. Thread-local
 * counters keep parallel tests from polluting the thread under test. */
#include "CAllocCounter.h"
#include <stddef.h>
#include <errno.h>
#include <stdatomic.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static _Thread_local uint64_t tl_count, tl_bytes;
static _Atomic uint64_t g_count;

static inline void note(size_t n) {
    tl_count++; tl_bytes += n;
    atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed);
}
void *malloc(size_t n) { note(n); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(a * b); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(n); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t al, size_t n) { note(n); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { note(n); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    note(n);
    void *p = __libc_memalign(al, n);
    if (!p) return ENOMEM;
    *out = p; return 0;
}
uint64_t sluice_thread_alloc_count(void) { return tl_count; }
uint64_t sluice_thread_alloc_bytes(void) { return tl_bytes; }
uint64_t sluice_process_alloc_count(void) { return atomic_load_explicit(&g_count, memory_order_relaxed); }
