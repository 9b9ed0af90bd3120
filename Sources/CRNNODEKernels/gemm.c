// Path selection, per-thread scratch memory and the public entry points of the GEMM kernels.

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // sched_getaffinity, CPU_COUNT
#endif

#include "CRNNODEKernels.h"
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <sched.h>
#endif

#if RNNODE_HAVE_X86_KERNELS
#include <cpuid.h>
#endif

// MARK: - Paths

/// -1 until detected, then the best path this CPU supports.
static atomic_int best_path = -1;
/// -1 until RNNODE_KERNELS has been read, then the highest path it allows.
static atomic_int environment_cap = -1;
/// 1 while rnnode_gemm_force_portable holds the portable path, else 0.
static atomic_int forced_portable = 0;

#if RNNODE_HAVE_X86_KERNELS
/// Whether the CPU has AVX-512F and the OS saves its state: CPUID.1:ECX.OSXSAVE, XCR0's SSE, AVX,
/// opmask, ZMM_Hi256 and Hi16_ZMM bits (0xE6, read with XGETBV), and CPUID.(7, 0):EBX.AVX512F.
static int supports_avx512(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 0;
    unsigned xcr0Low, xcr0High;
    __asm__ volatile("xgetbv" : "=a"(xcr0Low), "=d"(xcr0High) : "c"(0));
    if ((xcr0Low & 0xE6) != 0xE6) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & (1u << 16)) != 0;
}
#endif

int rnnode_gemm_best_path(void) {
    int path = atomic_load_explicit(&best_path, memory_order_relaxed);
    if (path < 0) {
        path = RNNODE_GEMM_PATH_PORTABLE;
#if RNNODE_HAVE_X86_KERNELS
        // __builtin_cpu_supports also checks that the OS saves the ymm registers (XGETBV).
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            path = supports_avx512() ? RNNODE_GEMM_PATH_AVX512 : RNNODE_GEMM_PATH_AVX2_FMA;
        }
#endif
        atomic_store_explicit(&best_path, path, memory_order_relaxed);
    }
    return path;
}

/// The highest path RNNODE_KERNELS allows (read once).
static int allowed_by_environment(void) {
    int cap = atomic_load_explicit(&environment_cap, memory_order_relaxed);
    if (cap < 0) {
        const char *setting = getenv("RNNODE_KERNELS");
        cap = RNNODE_GEMM_PATH_AVX512;
        if (setting != NULL && setting[0] != 0) {
            if (strcmp(setting, "portable") == 0) {
                cap = RNNODE_GEMM_PATH_PORTABLE;
            } else if (strcmp(setting, "avx2") == 0) {
                cap = RNNODE_GEMM_PATH_AVX2_FMA;
            } else if (strcmp(setting, "avx512") != 0) {
                fprintf(stderr, "RNNODE_KERNELS=%.40s is not one of portable, avx2, avx512: ignored\n", setting);
            }
        }
        int expected = -1;
        atomic_compare_exchange_strong(&environment_cap, &expected, cap);
        cap = atomic_load_explicit(&environment_cap, memory_order_relaxed);
    }
    return cap;
}

int rnnode_gemm_path(void) {
    if (atomic_load(&forced_portable)) return RNNODE_GEMM_PATH_PORTABLE;
    int best = rnnode_gemm_best_path();
    int cap = allowed_by_environment();
    return best < cap ? best : cap;
}

int rnnode_gemm_force_portable(int force) { return atomic_exchange(&forced_portable, force != 0); }

const char *rnnode_gemm_path_name(int path) {
    switch (path) {
    case RNNODE_GEMM_PATH_AVX2_FMA: return "avx2-fma";
    case RNNODE_GEMM_PATH_AVX512: return "avx512";
    case RNNODE_GEMM_PATH_PORTABLE: return "portable";
    default: return "unknown";
    }
}

int rnnode_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count;
    }
#endif
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? (int)count : 1;
}

int rnnode_resolved_path(int path) {
    if (path < RNNODE_GEMM_PATH_PORTABLE || path > RNNODE_GEMM_PATH_AVX512) return RNNODE_GEMM_PATH_PORTABLE;
    int best = rnnode_gemm_best_path();
    return path < best ? path : best;
}

ptrdiff_t rnnode_packed_granule(int path, size_t scalarSize) {
    ptrdiff_t floats;
    switch (rnnode_resolved_path(path)) {
    case RNNODE_GEMM_PATH_AVX512: floats = 32; break;
    case RNNODE_GEMM_PATH_AVX2_FMA: floats = 16; break;
    default: floats = 8; break;
    }
    return scalarSize == sizeof(double) ? floats / 2 : floats;
}

#if RNNODE_HAVE_X86_KERNELS
/// Calls PREFIX_avx512SUFFIX, PREFIX_avx2SUFFIX or PREFIX_portableSUFFIX with ARGUMENTS, as `path`
/// resolves.
#define ON_PATH(path, PREFIX, SUFFIX, ARGUMENTS)                                                          \
    (rnnode_resolved_path(path) == RNNODE_GEMM_PATH_AVX512     ? PREFIX##_avx512##SUFFIX ARGUMENTS        \
     : rnnode_resolved_path(path) == RNNODE_GEMM_PATH_AVX2_FMA ? PREFIX##_avx2##SUFFIX ARGUMENTS          \
                                                               : PREFIX##_portable##SUFFIX ARGUMENTS)
#else
#define ON_PATH(path, PREFIX, SUFFIX, ARGUMENTS) ((void)(path), PREFIX##_portable##SUFFIX ARGUMENTS)
#endif

// MARK: - Scratch memory

static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;
static _Thread_local void *workspace_data;
static _Thread_local size_t workspace_size;

static void make_workspace_key(void) { pthread_key_create(&workspace_key, free); }

void *rnnode_workspace(size_t bytes) {
    if (workspace_size >= bytes) return workspace_data;
    pthread_once(&workspace_once, make_workspace_key);
    free(workspace_data);
    workspace_data = NULL;
    workspace_size = 0;
    // Grow geometrically so that a sequence of growing products does not reallocate every time.
    size_t size = bytes < 65536 ? 65536 : bytes + bytes / 4;
    void *data = NULL;
    if (posix_memalign(&data, 64, size) != 0) {
        pthread_setspecific(workspace_key, NULL);
        return NULL;
    }
    workspace_data = data;
    workspace_size = size;
    // The key's destructor (free) releases the memory when the thread exits.
    pthread_setspecific(workspace_key, data);
    return data;
}

// MARK: - Entry points

void rnnode_sgemm_on_path(int path, int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a,
                          ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    if (n == 1 && m > 1 && ldc == 1) {
        // A column of C is also a row: C = op(A)·b is Cᵀ = bᵀ·op(A)ᵀ, a one-row product that needs
        // no padding of a single column to the micro-kernel's width.
        rnnode_sgemm_on_path(path, !transB, !transA, 1, m, k, b, ldb, a, lda, c, m);
        return;
    }
    ON_PATH(path, rnnode_sgemm, , (transA, transB, m, n, k, a, lda, b, ldb, c, ldc));
}

void rnnode_dgemm_on_path(int path, int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a,
                          ptrdiff_t lda, const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc) {
    if (n == 1 && m > 1 && ldc == 1) {
        // A column of C is also a row: C = op(A)·b is Cᵀ = bᵀ·op(A)ᵀ, a one-row product that needs
        // no padding of a single column to the micro-kernel's width.
        rnnode_dgemm_on_path(path, !transB, !transA, 1, m, k, b, ldb, a, lda, c, m);
        return;
    }
    ON_PATH(path, rnnode_dgemm, , (transA, transB, m, n, k, a, lda, b, ldb, c, ldc));
}

void rnnode_sgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                  const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    rnnode_sgemm_on_path(rnnode_gemm_path(), transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
}

void rnnode_dgemm(int transA, int transB, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *a, ptrdiff_t lda,
                  const double *b, ptrdiff_t ldb, double *c, ptrdiff_t ldc) {
    rnnode_dgemm_on_path(rnnode_gemm_path(), transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
}

// MARK: - Products with a packed B

#define PACKED_API(T, NAME)                                                                               \
    size_t NAME##_packed_b_count(int path, ptrdiff_t k, ptrdiff_t n) {                                     \
        return ON_PATH(path, NAME, _packed_count, (k, n));                                                   \
    }                                                                                                     \
    void NAME##_pack_b(int path, int transB, ptrdiff_t k, ptrdiff_t n, const T *b, ptrdiff_t ldb, T *packed) { \
        ON_PATH(path, NAME, _pack_b, (transB, k, n, b, ldb, packed));                                        \
    }                                                                                                     \
    void NAME##_packed_range(int path, int transA, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T *a,       \
                             ptrdiff_t lda, const T *packed, ptrdiff_t j0, ptrdiff_t j1, T *c, ptrdiff_t ldc) { \
        ON_PATH(path, NAME, _packed, (transA, m, n, k, a, lda, packed, j0, j1, c, ldc));                      \
    }

PACKED_API(float, rnnode_sgemm)
PACKED_API(double, rnnode_dgemm)
