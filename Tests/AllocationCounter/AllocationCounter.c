// The malloc family, counting. Each function forwards to glibc's own allocator through the entry
// points glibc (2.36 here) exports for exactly this — __libc_malloc, __libc_calloc, __libc_realloc,
// __libc_free, __libc_memalign, __libc_valloc, __libc_pvalloc — so blocks from here and from glibc
// are interchangeable: malloc_usable_size, which the Swift runtime calls, works on them unchanged.
// glibc has no __libc_posix_memalign or __libc_aligned_alloc; both are __libc_memalign after the
// argument checks POSIX and C11 ask for (glibc 2.36's own aligned_alloc is an alias of memalign).
//
// Why this works process-wide: an executable's definitions of these symbols are exported to its
// dynamic symbol table (the linker exports every symbol a linked shared library references), and
// the dynamic linker binds the shared libraries' references — libswiftCore's swift_slowAlloc,
// Foundation, Dispatch, libstdc++'s operator new, and glibc's own strdup and the like — to the
// first definition in search order, the executable's. rnnode-allocations checks this at run time
// before it trusts a count.
//
// The counters are atomics shared by all threads (the code under test runs work on Dispatch's
// threads and on the C kernels' worker pool), incremented with relaxed ordering: counting adds a
// few nanoseconds per call and no lock. An allocation is attributed to a library by its caller's
// address (the return address of the malloc call), against the library's executable segments.
//
// Elsewhere (macOS, musl) the file defines only the counting API, which reports itself unavailable:
// replacing malloc there takes other means.

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // dl_iterate_phdr
#endif

#include "AllocationCounter.h"

#if defined(__linux__) && defined(__GLIBC__)

#include <errno.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static atomic_bool counting;
static _Atomic uint64_t allocations;
static _Atomic uint64_t bytes;
static _Atomic uint64_t attributed;
static _Atomic uint64_t frees;

/// The executable segments of the attributed library: [start, end) address ranges.
#define MAX_RANGES 8
static uintptr_t range_starts[MAX_RANGES];
static uintptr_t range_ends[MAX_RANGES];
static int range_count;

static inline void count_allocation(size_t size, void *caller) {
    if (!atomic_load_explicit(&counting, memory_order_relaxed)) return;
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes, size, memory_order_relaxed);
    uintptr_t address = (uintptr_t)caller;
    for (int i = 0; i < range_count; i++) {
        if (address >= range_starts[i] && address < range_ends[i]) {
            atomic_fetch_add_explicit(&attributed, 1, memory_order_relaxed);
            return;
        }
    }
}

static inline void count_free(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) atomic_fetch_add_explicit(&frees, 1, memory_order_relaxed);
}

int rnnode_allocation_counter_available(void) { return 1; }

/// dl_iterate_phdr's callback: records the executable segments of the object whose path contains
/// the name in `data`, and stops there.
static int record_library(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, (const char *)data) == NULL) return 0;
    for (int i = 0; i < info->dlpi_phnum && range_count < MAX_RANGES; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type == PT_LOAD && (header->p_flags & PF_X)) {
            range_starts[range_count] = info->dlpi_addr + header->p_vaddr;
            range_ends[range_count] = range_starts[range_count] + header->p_memsz;
            range_count++;
        }
    }
    return 1;
}

int rnnode_allocation_counter_attribute(const char *library) {
    range_count = 0;
    dl_iterate_phdr(record_library, (void *)library);
    return range_count > 0;
}

void rnnode_allocation_counting_start(void) {
    atomic_store(&allocations, 0);
    atomic_store(&bytes, 0);
    atomic_store(&attributed, 0);
    atomic_store(&frees, 0);
    atomic_store(&counting, true);
}

rnnode_allocation_counts rnnode_allocation_counting_stop(void) {
    atomic_store(&counting, false);
    rnnode_allocation_counts counts = {
        atomic_load(&allocations), atomic_load(&bytes), atomic_load(&attributed), atomic_load(&frees)};
    return counts;
}

void *malloc(size_t size) {
    count_allocation(size, __builtin_return_address(0));
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    size_t total;
    count_allocation(__builtin_mul_overflow(count, size, &total) ? SIZE_MAX : total, __builtin_return_address(0));
    return __libc_calloc(count, size);
}

/// realloc for `caller`: with a non-null pointer and size 0 it frees (glibc); otherwise it may allocate.
static void *counted_realloc(void *pointer, size_t size, void *caller) {
    if (pointer != NULL && size == 0) {
        count_free();
    } else {
        count_allocation(size, caller);
    }
    return __libc_realloc(pointer, size);
}

void *realloc(void *pointer, size_t size) { return counted_realloc(pointer, size, __builtin_return_address(0)); }

void *reallocarray(void *pointer, size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return counted_realloc(pointer, total, __builtin_return_address(0));
}

void free(void *pointer) {
    if (pointer != NULL) count_free();
    __libc_free(pointer);
}

void *memalign(size_t alignment, size_t size) {
    count_allocation(size, __builtin_return_address(0));
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count_allocation(size, __builtin_return_address(0));
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    // POSIX: the alignment must be a power of two and a multiple of sizeof(void *); errno is left alone.
    if (alignment == 0 || alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    count_allocation(size, __builtin_return_address(0));
    int saved = errno;
    void *pointer = __libc_memalign(alignment, size);
    errno = saved;
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

void *valloc(size_t size) {
    count_allocation(size, __builtin_return_address(0));
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    count_allocation(size, __builtin_return_address(0));
    return __libc_pvalloc(size);
}

#else

int rnnode_allocation_counter_available(void) { return 0; }

int rnnode_allocation_counter_attribute(const char *library) {
    (void)library;
    return 0;
}

void rnnode_allocation_counting_start(void) {}

rnnode_allocation_counts rnnode_allocation_counting_stop(void) {
    rnnode_allocation_counts counts = {0, 0, 0, 0};
    return counts;
}

#endif
