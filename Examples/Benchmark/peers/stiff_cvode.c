/*
 * The SUNDIALS CVODE peer of the stiff-solver benchmarks (issue 11): BDF (variable order 1–5),
 * Newton iteration, a direct linear solver and the analytic Jacobian, double precision. Not a
 * dependency of the package; a tool run by hand. Build and run with run-cvode.sh (gcc -O2, links
 * SUNDIALS ≥ 6 — the SUNContext API; Debian: apt-get install libsundials-dev).
 *
 *   run-cvode.sh [vdp1000 robertson hires bruss] [--rtol R] [--atol A] [--tight] [--repeats N]
 *   run-cvode.sh --reference vdp1000 robertson hires bruss     (prints/writes tight references)
 *
 * The problems (the same definitions in stiff_scipy.py and stiff_diffrax.py, see stiff_problems.py):
 *
 *   vdp1000    Van der Pol, μ = 1000: y1' = y2, y2' = μ (1 − y1²) y2 − y1, y(0) = (2, 0),
 *              t ∈ [0, 3000] (MATLAB's vdp1000; about 1.9 periods of ≈ 1614); default rtol 1e-6,
 *              atol 1e-8 (--tight: 1e-8, 1e-10). Dense solver. (Not y2' = μ((1 − y1²) y2 − y1):
 *              that is Van der Pol with parameter √μ in time √μ·t, ~1900 periods on [0, 3000],
 *              whose final state is hopelessly phase-sensitive.)
 *   robertson  y1' = −0.04 y1 + 1e4 y2 y3, y2' = 0.04 y1 − 1e4 y2 y3 − 3e7 y2², y3' = 3e7 y2²,
 *              y(0) = (1, 0, 0), t ∈ [0, 1e5]; rtol 1e-6, atol 1e-10 (--tight: 1e-8, 1e-12). Dense.
 *   hires      HIRES from the Bari test set (Hairer–Wanner II), 8 variables, t ∈ [0, 321.8122];
 *              rtol 1e-6, atol 1e-8 (--tight: 1e-8, 1e-10). Dense.
 *   bruss      1-D Brusselator (Hairer–Wanner II "BRUSS"), N = 500 interior cells, unknowns
 *              interleaved (u_1, v_1, u_2, v_2, …) so that the Jacobian is banded, lower = upper = 2:
 *                u_i' = 1 + u_i² v_i − 4 u_i + α (N+1)² (u_{i−1} − 2 u_i + u_{i+1}),
 *                v_i' = 3 u_i − u_i² v_i + α (N+1)² (v_{i−1} − 2 v_i + v_{i+1}),
 *              α = 1/50, boundary u_0 = u_{N+1} = 1, v_0 = v_{N+1} = 3, initial u_i = 1 + sin(2π x_i),
 *              v_i = 3, x_i = i/(N+1), t ∈ [0, 10]; rtol 1e-6, atol 1e-6 (--tight: 1e-8, 1e-8).
 *              Band matrix (SUNBandMatrix) + band solver (SUNLinSol_Band), analytic band Jacobian.
 *
 * One solve = CVodeCreate … CVode to the end time (CVodeSetStopTime, so no interpolation past the
 * end) … CVodeFree, including the creation of the vectors, matrix and linear solver; the SUNContext
 * is created once per program. Max steps 10⁷, initial step chosen by CVODE, default max order 5.
 * Each problem is solved `repeats` times (default 20, 5 for bruss) and the median wall time
 * (clock_gettime(CLOCK_MONOTONIC)) is reported.
 *
 * Output, one JSON line per problem:
 *   {"bench": "stiff-vdp1000", "peer": "cvode", "rtol": …, "atol": …, "ms_per_solve": median ms,
 *    "evaluations": right-hand-side evaluations (CVodeGetNumRhsEvals + CVodeGetNumLinRhsEvals; the
 *                   latter is 0 with an analytic Jacobian),
 *    "jacobians": CVodeGetNumJacEvals, "factorizations": CVodeGetNumLinSolvSetups (each setup
 *                   forms and LU-factorizes I − γJ), "steps": CVodeGetNumSteps,
 *    "final": the final state (bruss: the (u, v) pairs of cells 1, 125, 250, 375, 500 only),
 *    "max_rel_error": see below}
 *
 * max_rel_error (the same definition in every peer and on the Swift side):
 *
 *     max_rel_error = max_i |y_i − ref_i| / max(|ref_i|, atol)
 *
 * over all components i of the final state, where atol is the run's absolute tolerance (a
 * scalar). That is the relative error componentwise, except that components whose reference is
 * smaller in magnitude than atol are judged absolutely, in units of atol.
 *
 * References (the final states, embedded below and in stiff_problems.py):
 *   vdp1000, robertson: this program's --reference mode (CVODE BDF, rtol 1e-13, atol 1e-14 for
 *     vdp1000, 1e-20 for robertson), all 17 digits printed; cross-checked with SciPy Radau at
 *     rtol 1e-13 (stiff_scipy.py --reference), which agrees to 2.6e-10 (vdp1000) and 8e-12
 *     (robertson) relative, far below the errors being measured (≥ 1e-8).
 *   hires: the Bari test set's published reference (RADAU5 in quadruple precision on a Cray C90,
 *     rtol = atol = 1.1e-18), all 8 components.
 *   bruss: brusselator_reference.csv next to this file (cell i, u_i, v_i), written by
 *     --reference bruss (CVODE banded, rtol 1e-12, atol 1e-14) and cross-checked with SciPy Radau;
 *     pass its path with --bruss-reference (run-cvode.sh does).
 */
#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_types.h>
#include <sunlinsol/sunlinsol_band.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_band.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Van der Pol, μ = 1000 ---------------------------------------------------------------- */

static const double MU = 1000.0;

static int vdp_f(sunrealtype t, N_Vector yv, N_Vector dv, void* data) {
    (void)t; (void)data;
    const double* y = N_VGetArrayPointer(yv);
    double* d = N_VGetArrayPointer(dv);
    d[0] = y[1];
    d[1] = MU * (1.0 - y[0] * y[0]) * y[1] - y[0];
    return 0;
}

static int vdp_jac(sunrealtype t, N_Vector yv, N_Vector fy, SUNMatrix J, void* data,
                   N_Vector t1, N_Vector t2, N_Vector t3) {
    (void)t; (void)fy; (void)data; (void)t1; (void)t2; (void)t3;
    const double* y = N_VGetArrayPointer(yv);
    SM_ELEMENT_D(J, 0, 0) = 0.0;
    SM_ELEMENT_D(J, 0, 1) = 1.0;
    SM_ELEMENT_D(J, 1, 0) = -2.0 * MU * y[0] * y[1] - 1.0;
    SM_ELEMENT_D(J, 1, 1) = MU * (1.0 - y[0] * y[0]);
    return 0;
}

static void vdp_init(double* y) { y[0] = 2.0; y[1] = 0.0; }

/* --reference (rtol 1e-13, atol 1e-14; 19593 steps), cross-checked with SciPy Radau at rtol 1e-13
 * (stiff_scipy.py --reference) and with CVODE at rtol 1e-12: agreement to 2.6e-10 relative. */
static const double vdp_ref[2] = {-1.5106069365894994, 0.0011783800010397689};

/* ---- Robertson ---------------------------------------------------------------------------- */

static int rober_f(sunrealtype t, N_Vector yv, N_Vector dv, void* data) {
    (void)t; (void)data;
    const double* y = N_VGetArrayPointer(yv);
    double* d = N_VGetArrayPointer(dv);
    const double a = 0.04 * y[0], b = 1e4 * y[1] * y[2], c = 3e7 * y[1] * y[1];
    d[0] = -a + b;
    d[1] = a - b - c;
    d[2] = c;
    return 0;
}

static int rober_jac(sunrealtype t, N_Vector yv, N_Vector fy, SUNMatrix J, void* data,
                     N_Vector t1, N_Vector t2, N_Vector t3) {
    (void)t; (void)fy; (void)data; (void)t1; (void)t2; (void)t3;
    const double* y = N_VGetArrayPointer(yv);
    SUNMatZero(J);
    SM_ELEMENT_D(J, 0, 0) = -0.04;
    SM_ELEMENT_D(J, 0, 1) = 1e4 * y[2];
    SM_ELEMENT_D(J, 0, 2) = 1e4 * y[1];
    SM_ELEMENT_D(J, 1, 0) = 0.04;
    SM_ELEMENT_D(J, 1, 1) = -1e4 * y[2] - 6e7 * y[1];
    SM_ELEMENT_D(J, 1, 2) = -1e4 * y[1];
    SM_ELEMENT_D(J, 2, 1) = 6e7 * y[1];
    return 0;
}

static void rober_init(double* y) { y[0] = 1.0; y[1] = 0.0; y[2] = 0.0; }

/* --reference (rtol 1e-13, atol 1e-20), cross-checked with CVODE at rtol 1e-12 and with SciPy
 * Radau at rtol 1e-13: agreement to 8e-12 relative. */
static const double rober_ref[3] = {0.01786592114224797, 7.2747514684978863e-08,
                                    0.98213400611023571};

/* ---- HIRES -------------------------------------------------------------------------------- */

static int hires_f(sunrealtype t, N_Vector yv, N_Vector dv, void* data) {
    (void)t; (void)data;
    const double* y = N_VGetArrayPointer(yv);
    double* d = N_VGetArrayPointer(dv);
    d[0] = -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007;
    d[1] = 1.71 * y[0] - 8.75 * y[1];
    d[2] = -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4];
    d[3] = 8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3];
    d[4] = -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6];
    d[5] = -280.0 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6];
    d[6] = 280.0 * y[5] * y[7] - 1.81 * y[6];
    d[7] = -d[6];
    return 0;
}

static int hires_jac(sunrealtype t, N_Vector yv, N_Vector fy, SUNMatrix J, void* data,
                     N_Vector t1, N_Vector t2, N_Vector t3) {
    (void)t; (void)fy; (void)data; (void)t1; (void)t2; (void)t3;
    const double* y = N_VGetArrayPointer(yv);
    SUNMatZero(J);
#define E(i, j) SM_ELEMENT_D(J, i, j)
    E(0, 0) = -1.71; E(0, 1) = 0.43; E(0, 2) = 8.32;
    E(1, 0) = 1.71; E(1, 1) = -8.75;
    E(2, 2) = -10.03; E(2, 3) = 0.43; E(2, 4) = 0.035;
    E(3, 1) = 8.32; E(3, 2) = 1.71; E(3, 3) = -1.12;
    E(4, 4) = -1.745; E(4, 5) = 0.43; E(4, 6) = 0.43;
    E(5, 3) = 0.69; E(5, 4) = 1.71; E(5, 5) = -280.0 * y[7] - 0.43; E(5, 6) = 0.69;
    E(5, 7) = -280.0 * y[5];
    E(6, 5) = 280.0 * y[7]; E(6, 6) = -1.81; E(6, 7) = 280.0 * y[5];
    E(7, 5) = -280.0 * y[7]; E(7, 6) = 1.81; E(7, 7) = -280.0 * y[5];
#undef E
    return 0;
}

static void hires_init(double* y) {
    for (int i = 0; i < 8; i++) y[i] = 0.0;
    y[0] = 1.0;
    y[7] = 0.0057;
}

/* The Bari test set's reference (hires.f, subroutine solut: RADAU5 in quadruple precision). */
static const double hires_ref[8] = {
    0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2,
    0.2386356198831331e-2, 0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2};

/* ---- 1-D Brusselator, N = 500, interleaved unknowns --------------------------------------- */

enum { BN = 500 };
static const double ALPHA = 1.0 / 50.0;

static int bruss_f(sunrealtype t, N_Vector yv, N_Vector dv, void* data) {
    (void)t; (void)data;
    const double* y = N_VGetArrayPointer(yv);
    double* d = N_VGetArrayPointer(dv);
    const double c = ALPHA * (BN + 1.0) * (BN + 1.0);
    for (int i = 0; i < BN; i++) {
        const double u = y[2 * i], v = y[2 * i + 1];
        const double ul = i > 0 ? y[2 * i - 2] : 1.0, ur = i < BN - 1 ? y[2 * i + 2] : 1.0;
        const double vl = i > 0 ? y[2 * i - 1] : 3.0, vr = i < BN - 1 ? y[2 * i + 3] : 3.0;
        const double uuv = u * u * v;
        d[2 * i] = 1.0 + uuv - 4.0 * u + c * (ul - 2.0 * u + ur);
        d[2 * i + 1] = 3.0 * u - uuv + c * (vl - 2.0 * v + vr);
    }
    return 0;
}

static int bruss_jac(sunrealtype t, N_Vector yv, N_Vector fy, SUNMatrix J, void* data,
                     N_Vector t1, N_Vector t2, N_Vector t3) {
    (void)t; (void)fy; (void)data; (void)t1; (void)t2; (void)t3;
    const double* y = N_VGetArrayPointer(yv);
    const double c = ALPHA * (BN + 1.0) * (BN + 1.0);
    SUNMatZero(J);
    for (int i = 0; i < BN; i++) {
        const double u = y[2 * i], v = y[2 * i + 1];
        const int ru = 2 * i, rv = 2 * i + 1;
        SM_ELEMENT_B(J, ru, ru) = 2.0 * u * v - 4.0 - 2.0 * c;
        SM_ELEMENT_B(J, ru, rv) = u * u;
        SM_ELEMENT_B(J, rv, ru) = 3.0 - 2.0 * u * v;
        SM_ELEMENT_B(J, rv, rv) = -u * u - 2.0 * c;
        if (i > 0) { SM_ELEMENT_B(J, ru, ru - 2) = c; SM_ELEMENT_B(J, rv, rv - 2) = c; }
        if (i < BN - 1) { SM_ELEMENT_B(J, ru, ru + 2) = c; SM_ELEMENT_B(J, rv, rv + 2) = c; }
    }
    return 0;
}

static void bruss_init(double* y) {
    for (int i = 0; i < BN; i++) {
        const double x = (i + 1.0) / (BN + 1.0);
        y[2 * i] = 1.0 + sin(2.0 * M_PI * x);
        y[2 * i + 1] = 3.0;
    }
}

static double bruss_ref[2 * BN];  /* read from brusselator_reference.csv */
static int bruss_ref_loaded = 0;

static void load_bruss_reference(const char* path) {
    FILE* file = fopen(path, "r");
    if (!file) return;
    char line[256];
    int count = 0;
    while (fgets(line, sizeof line, file)) {
        int i;
        double u, v;
        if (sscanf(line, "%d,%lf,%lf", &i, &u, &v) == 3 && i >= 1 && i <= BN) {
            bruss_ref[2 * (i - 1)] = u;
            bruss_ref[2 * (i - 1) + 1] = v;
            count++;
        }
    }
    fclose(file);
    bruss_ref_loaded = count == BN;
}

/* ---- The table of problems ---------------------------------------------------------------- */

typedef struct {
    const char* name;
    const char* bench;
    int n;
    int banded; /* 0: dense; otherwise the lower = upper bandwidth */
    CVRhsFn f;
    CVLsJacFn jac;
    void (*init)(double*);
    double t1;
    double rtol, atol, tight_rtol, tight_atol;
    double reference_rtol, reference_atol; /* of --reference, unless --rtol/--atol are given */
    int repeats;
    const double* ref;
} Problem;

static const Problem problems[] = {
    {"vdp1000", "stiff-vdp1000", 2, 0, vdp_f, vdp_jac, vdp_init, 3000.0,
     1e-6, 1e-8, 1e-8, 1e-10, 1e-12, 1e-14, 20, vdp_ref},
    {"robertson", "stiff-robertson", 3, 0, rober_f, rober_jac, rober_init, 1e5,
     1e-6, 1e-10, 1e-8, 1e-12, 1e-13, 1e-20, 20, rober_ref},
    {"hires", "stiff-hires", 8, 0, hires_f, hires_jac, hires_init, 321.8122,
     1e-6, 1e-8, 1e-8, 1e-10, 1e-13, 1e-16, 20, hires_ref},
    {"bruss", "stiff-bruss500", 2 * BN, 2, bruss_f, bruss_jac, bruss_init, 10.0,
     1e-6, 1e-6, 1e-8, 1e-8, 1e-12, 1e-14, 5, bruss_ref},
};

typedef struct {
    long steps, evaluations, jacobians, factorizations;
    int flag;
} Stats;

static void check(int flag, const char* what) {
    if (flag < 0) { fprintf(stderr, "%s failed with flag %d\n", what, flag); exit(1); }
}

/* One solve from t = 0 to p->t1; the final state goes to `out`. */
static Stats solve(const Problem* p, SUNContext ctx, double rtol, double atol, double* out) {
    N_Vector y = N_VNew_Serial(p->n, ctx);
    p->init(N_VGetArrayPointer(y));
    SUNMatrix A = p->banded ? SUNBandMatrix(p->n, p->banded, p->banded, ctx)
                            : SUNDenseMatrix(p->n, p->n, ctx);
    SUNLinearSolver LS = p->banded ? SUNLinSol_Band(y, A, ctx) : SUNLinSol_Dense(y, A, ctx);
    void* mem = CVodeCreate(CV_BDF, ctx);
    check(CVodeInit(mem, p->f, 0.0, y), "CVodeInit");
    check(CVodeSStolerances(mem, rtol, atol), "CVodeSStolerances");
    check(CVodeSetLinearSolver(mem, LS, A), "CVodeSetLinearSolver");
    check(CVodeSetJacFn(mem, p->jac), "CVodeSetJacFn");
    check(CVodeSetMaxNumSteps(mem, 10000000L), "CVodeSetMaxNumSteps");
    check(CVodeSetStopTime(mem, p->t1), "CVodeSetStopTime");
    sunrealtype t = 0.0;
    Stats s = {0, 0, 0, 0, 0};
    s.flag = CVode(mem, p->t1, y, &t, CV_NORMAL);
    long nfe = 0, nfels = 0;
    CVodeGetNumSteps(mem, &s.steps);
    CVodeGetNumRhsEvals(mem, &nfe);
    CVodeGetNumLinRhsEvals(mem, &nfels);
    CVodeGetNumJacEvals(mem, &s.jacobians);
    CVodeGetNumLinSolvSetups(mem, &s.factorizations);
    s.evaluations = nfe + nfels;
    memcpy(out, N_VGetArrayPointer(y), sizeof(double) * p->n);
    CVodeFree(&mem);
    SUNLinSolFree(LS);
    SUNMatDestroy(A);
    N_VDestroy(y);
    return s;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int compare_doubles(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

/* max_i |y_i − ref_i| / max(|ref_i|, atol), the definition in the header. */
static double max_rel_error(const double* y, const double* ref, int n, double atol) {
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
        const double scale = fmax(fabs(ref[i]), atol);
        worst = fmax(worst, fabs(y[i] - ref[i]) / scale);
    }
    return worst;
}

static void print_final(const Problem* p, const double* y) {
    printf("[");
    if (p->banded) {
        const int cells[5] = {1, 125, 250, 375, 500};
        for (int k = 0; k < 5; k++)
            printf("%s%.17g, %.17g", k ? ", " : "", y[2 * (cells[k] - 1)], y[2 * (cells[k] - 1) + 1]);
    } else {
        for (int i = 0; i < p->n; i++) printf("%s%.17g", i ? ", " : "", y[i]);
    }
    printf("]");
}

static void bench(const Problem* p, SUNContext ctx, double rtol, double atol, int repeats) {
    double* y = malloc(sizeof(double) * p->n);
    double* times = malloc(sizeof(double) * repeats);
    Stats s = {0, 0, 0, 0, 0};
    for (int r = 0; r < repeats; r++) {
        const double start = now_ms();
        s = solve(p, ctx, rtol, atol, y);
        times[r] = now_ms() - start;
        if (s.flag < 0) { fprintf(stderr, "%s: CVode failed with flag %d\n", p->name, s.flag); exit(1); }
    }
    qsort(times, repeats, sizeof(double), compare_doubles);
    const double median = repeats % 2 ? times[repeats / 2]
                                      : 0.5 * (times[repeats / 2 - 1] + times[repeats / 2]);
    printf("{\"bench\": \"%s\", \"peer\": \"cvode\", \"rtol\": %g, \"atol\": %g, "
           "\"ms_per_solve\": %.4f, \"repeats\": %d, \"evaluations\": %ld, \"jacobians\": %ld, "
           "\"factorizations\": %ld, \"steps\": %ld, \"final\": ",
           p->bench, rtol, atol, median, repeats, s.evaluations, s.jacobians, s.factorizations,
           s.steps);
    print_final(p, y);
    if (p->banded && !bruss_ref_loaded)
        printf(", \"max_rel_error\": null}\n");
    else
        printf(", \"max_rel_error\": %.3e}\n", max_rel_error(y, p->ref, p->n, atol));
    fflush(stdout);
    free(times);
    free(y);
}

/* --reference: one tight solve; prints the final state (bruss: as the CSV "i,u_i,v_i"). */
static void reference(const Problem* p, SUNContext ctx, double rtol, double atol) {
    double* y = malloc(sizeof(double) * p->n);
    if (rtol <= 0) rtol = p->reference_rtol;
    if (atol <= 0) atol = p->reference_atol;
    const Stats s = solve(p, ctx, rtol, atol, y);
    fprintf(stderr, "%s: rtol %g atol %g, %ld steps, flag %d\n", p->name, rtol, atol, s.steps, s.flag);
    if (p->banded) {
        printf("i,u,v\n");
        for (int i = 0; i < BN; i++) printf("%d,%.17g,%.17g\n", i + 1, y[2 * i], y[2 * i + 1]);
    } else {
        printf("%s:", p->name);
        for (int i = 0; i < p->n; i++) printf(" %.17g", y[i]);
        printf("\n");
    }
    free(y);
}

int main(int argc, char** argv) {
    double rtol = 0.0, atol = 0.0;
    int repeats = 0, tight = 0, make_reference = 0;
    const char* bruss_path = "brusselator_reference.csv";
    const Problem* chosen[8];
    int count = 0;
    const int known = (int)(sizeof problems / sizeof problems[0]);
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--rtol") && a + 1 < argc) rtol = atof(argv[++a]);
        else if (!strcmp(argv[a], "--atol") && a + 1 < argc) atol = atof(argv[++a]);
        else if (!strcmp(argv[a], "--repeats") && a + 1 < argc) repeats = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--bruss-reference") && a + 1 < argc) bruss_path = argv[++a];
        else if (!strcmp(argv[a], "--tight")) tight = 1;
        else if (!strcmp(argv[a], "--reference")) make_reference = 1;
        else {
            int found = 0;
            for (int k = 0; k < known; k++)
                if (!strcmp(argv[a], problems[k].name) && count < 8) { chosen[count++] = &problems[k]; found = 1; }
            if (!found) {
                fprintf(stderr, "usage: %s [vdp1000 robertson hires bruss] [--rtol R] [--atol A] "
                                "[--tight] [--repeats N] [--bruss-reference CSV] [--reference]\n", argv[0]);
                return 2;
            }
        }
    }
    if (count == 0) for (int k = 0; k < known; k++) chosen[count++] = &problems[k];
    load_bruss_reference(bruss_path);

    SUNContext ctx;
    if (SUNContext_Create(NULL, &ctx) != 0) { fprintf(stderr, "SUNContext_Create failed\n"); return 1; }
    for (int k = 0; k < count; k++) {
        const Problem* p = chosen[k];
        if (make_reference) { reference(p, ctx, rtol, atol); continue; }
        const double r = rtol > 0 ? rtol : (tight ? p->tight_rtol : p->rtol);
        const double a = atol > 0 ? atol : (tight ? p->tight_atol : p->atol);
        bench(p, ctx, r, a, repeats > 0 ? repeats : p->repeats);
    }
    SUNContext_Free(&ctx);
    return 0;
}
