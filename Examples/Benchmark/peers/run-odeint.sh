#!/usr/bin/env bash
# Builds and runs the Boost.Odeint peer of rnnode-bench's integrator benchmarks.
# Needs g++ and Boost ≥ 1.74 headers (Debian: apt-get install libboost-dev).
# Usage: run-odeint.sh [rk4-lorenz rk4-competition euler-competition dopri5-lorenz]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$(mktemp -d)/odeint_peer
g++ -O3 -march=native -o "$binary" "$here/odeint_peer.cpp"
"$binary" "$@"
