// The Boost.Odeint side of rnnode-bench's integrator benchmarks: the same models, steps and
// tolerances, one JSON line per benchmark. Build and run with run-odeint.sh (g++ -O3 -march=native).
#include <boost/numeric/odeint.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>

using namespace boost::numeric::odeint;
typedef std::array<double, 3> state3;
typedef std::array<double, 2> state2;

struct Lorenz {
    void operator()(const state3& u, state3& du, double) const {
        du[0] = 10.0 * (u[1] - u[0]);
        du[1] = u[0] * (28.0 - u[2]) - u[1];
        du[2] = u[0] * u[1] - 8.0 / 3.0 * u[2];
    }
};

// Su Jianlin's competition model (eq. 7).
struct Competition {
    void operator()(const state2& x, state2& dx, double) const {
        dx[0] = 0.1 * x[0] * (1 - 0.002 * x[0]) - 1e-4 * x[0] * x[1];
        dx[1] = 0.3 * x[1] * (1 - 0.003 * x[1]) - 2e-4 * x[0] * x[1];
    }
};

static double seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best of `repeats` runs of `steps` fixed steps; prints ns per step and the final state.
template <class Stepper, class System, class State>
void fixed(const char* name, System system, State start, double dt, long steps, int repeats) {
    double best = 1e300;
    State x = start;
    for (int r = 0; r < repeats; r++) {
        Stepper stepper;
        x = start;
        double t = 0, begin = seconds();
        for (long i = 0; i < steps; i++) {
            stepper.do_step(system, x, t, dt);
            t += dt;
        }
        best = std::min(best, seconds() - begin);
    }
    std::printf("{\"bench\": \"%s\", \"ns_per_step\": %.3f, \"state\": [", name, best / steps * 1e9);
    for (size_t i = 0; i < x.size(); i++) std::printf(i ? ", %.17g" : "%.17g", x[i]);
    std::printf("]}\n");
}

int main(int argc, char** argv) {
    auto wanted = [&](const char* name) {
        if (argc < 2) return true;
        for (int i = 1; i < argc; i++) if (!std::strcmp(argv[i], name)) return true;
        return false;
    };
    const int repeats = 3;
    if (wanted("rk4-competition"))
        fixed<runge_kutta4<state2>>("rk4-competition", Competition(), state2{100, 150}, 0.1, 10000000, repeats);
    if (wanted("euler-competition"))
        fixed<euler<state2>>("euler-competition", Competition(), state2{100, 150}, 0.1, 10000000, repeats);
    if (wanted("rk4-lorenz"))
        fixed<runge_kutta4<state3>>("rk4-lorenz", Lorenz(), state3{1, 1, 1}, 0.001, 10000000, repeats);
    if (wanted("dopri5-lorenz")) {
        const int solves = 50;
        double best = 1e300;
        size_t steps = 0;
        state3 u{};
        for (int r = 0; r < repeats; r++) {
            double begin = seconds();
            for (int i = 0; i < solves; i++) {
                u = state3{1, 1, 1};
                steps = integrate_adaptive(
                    make_controlled<runge_kutta_dopri5<state3>>(1e-8, 1e-8), Lorenz(), u, 0.0, 100.0, 0.01);
            }
            best = std::min(best, (seconds() - begin) / solves);
        }
        std::printf(
            "{\"bench\": \"dopri5-lorenz\", \"us_per_solve\": %.3f, \"steps\": %zu, \"state\": [%.17g, %.17g, %.17g]}\n",
            best * 1e6, steps, u[0], u[1], u[2]);
    }
}
