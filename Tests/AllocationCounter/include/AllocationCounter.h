// A counting allocator for the allocation check (`rnnode-allocations`): the process's malloc family,
// forwarding to glibc's allocator and counting, while switched on, every call that allocates, on
// every thread. Linked into an executable, these definitions take the place of glibc's for the whole
// process (the Swift runtime, Foundation and Dispatch included); see AllocationCounter.c.

#ifndef RNNODE_ALLOCATION_COUNTER_H
#define RNNODE_ALLOCATION_COUNTER_H

#include <stdint.h>

/// What the process allocated while counting was on.
typedef struct {
    /// Calls that allocate: malloc, calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
    /// memalign, valloc and pvalloc (a realloc that only resizes counts too; one that frees does not).
    uint64_t allocations;
    /// The bytes those calls asked for.
    uint64_t bytes;
    /// Of `allocations`, the calls made directly by the library named to
    /// rnnode_allocation_counter_attribute (0 when none was named or it is not loaded).
    uint64_t attributed;
    /// Calls of free with a non-null pointer, and of realloc with a size of 0.
    uint64_t frees;
} rnnode_allocation_counts;

/// 1 when the counter replaces the process's allocator (Linux with glibc), 0 where it is not built
/// (there the counts stay 0).
int rnnode_allocation_counter_available(void);

/// Attributes the allocations whose caller is the code of the loaded library whose path contains
/// `library` (e.g. "libdispatch.so"): they are counted in `attributed` as well. Returns 1 when such
/// a library is loaded, 0 otherwise. Call it while not counting.
int rnnode_allocation_counter_attribute(const char *library);

/// Zeroes the counts and starts counting, on every thread.
void rnnode_allocation_counting_start(void);

/// Stops counting and returns the counts since the last start.
rnnode_allocation_counts rnnode_allocation_counting_stop(void);

#endif
