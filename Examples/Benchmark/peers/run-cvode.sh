#!/usr/bin/env bash
# Builds and runs the SUNDIALS CVODE peer of the stiff-solver benchmarks (stiff_cvode.c).
# Needs gcc and SUNDIALS ≥ 6 (Debian: apt-get install libsundials-dev). Links -lsundials_core
# as well when the installed SUNDIALS has it (7.x does; 6.x keeps the core in each library).
# Usage: run-cvode.sh [vdp1000 robertson hires bruss] [--rtol R] [--atol A] [--tight] [--repeats N]
#        run-cvode.sh --reference PROBLEM...   (tight reference solves; see stiff_cvode.c)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(mktemp -d)/stiff_cvode
libraries=(-lsundials_cvode -lsundials_nvecserial -lsundials_sunlinsoldense -lsundials_sunmatrixdense
           -lsundials_sunlinsolband -lsundials_sunmatrixband)
if printf 'int main(void){return 0;}' | gcc -x c - -o /dev/null -lsundials_core 2>/dev/null; then
    libraries+=(-lsundials_core)
fi
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -o "$binary" "$here/stiff_cvode.c" \
    "${libraries[@]}" -lm
"$binary" --bruss-reference "$here/brusselator_reference.csv" "$@"
