// Benchmark (not a test): HMC with and without Fourier acceleration in the critical region of
// 2D phi^4 (hopping form, kappa = 0.34, lambda = 0.5, as input/quickstart.ini) at L = 16, 32,
// 64, on one rank. Both use trajectory length 1 and Omelyan 2MN; md_steps is the smallest
// number whose acceptance in a pilot run is at least 80 %. After thermalisation, each chain
// runs for the same wall-time budget (per L), and its N trajectories give the integrated
// autocorrelation times (Gamma method) of |m| and of m^2 (chi' = V <m^2>) in trajectories, the
// wall time per trajectory, and the cost of one independent sample, 2 tau_int x seconds per
// trajectory, for each observable.
//
// The kernel mass M^2 = 0.01 is the best of a rough scan (0.0005 ... 4) at L = 32 and 64: the
// bare curvature of the action along the zero mode stays O(1) at the critical point, so a
// smaller M^2 makes the zero mode stiff (many more md steps) without shortening tau_int.
//
// Usage: bench_fourier_acceleration [fa_mass2 [time_scale [L ...]]]
//   fa_mass2    M^2 of the kernel M~(p) = phat^2 + M^2 (default 0.01)
//   time_scale  multiplies the wall-time budget of every chain (default 1: about 3 minutes)
//   L ...       only these of the sizes 16, 32, 64
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "lattice/geometry.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "random/counter_rng.hpp"
#include "samplers/hmc.hpp"
#include "stats/autocorrelation.hpp"

namespace latdiff {
namespace {

const ActionConfig kCritical{ActionForm::hopping, 0.34, 0.5, 0, 0};
constexpr double kTrajectoryLength = 1.0;
constexpr double kMinAcceptance = 0.8;
constexpr int kPilot = 200;
constexpr std::uint64_t kSeed = 2026;

constexpr int kThermalize = 1000;

struct Size {
  int l;
  double seconds;  // wall-time budget of each measured chain
};
constexpr Size kSizes[] = {{16, 6}, {32, 18}, {64, 45}};

struct Row {
  int l = 0;
  bool fa = false;
  int md_steps = 0;
  int trajectories = 0;
  double acceptance = 0;
  stats::GammaResult abs_m{}, m2{};
  double seconds_per_trajectory = 0;
};

double magnetisation(const Geometry& g, const Field& phi) {
  double s = 0;
  for_each_site(g, [&](std::size_t p, std::int64_t) { s += phi[p]; });
  return s / static_cast<double>(g.global_volume());
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Row measure(const Geometry& g, const Phi4Model& model, int l, double budget, bool fa,
            double fa_mass2) {
  Row row{l, fa};
  Field phi = make_field(g);
  CounterRng hot(kSeed, Stream::hot_start);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) {
    phi[p] = 2 * hot.uniform(static_cast<std::uint64_t>(gi), 0) - 1;
  });
  HaloExchange(g).exchange(phi);
  std::uint64_t index = 0;
  auto advance = [&](Hmc<Phi4Model>& hmc, int n, std::vector<double>* m) {
    double accepted = 0;
    for (int i = 0; i < n; ++i, ++index) {
      accepted += hmc.update(phi, index).acceptance;
      if (m) m->push_back(magnetisation(g, phi));
    }
    return accepted / n;
  };
  // Pilot runs at increasing md_steps, each continuing the chain (which also thermalises it);
  // the last one's timing sets the number of trajectories that fit the budget.
  double pilot_seconds = 0;
  for (int steps = 2;; ++steps) {
    Hmc hmc(model, g, {Integrator::omelyan, kTrajectoryLength, steps, fa, fa_mass2}, kSeed);
    const auto t0 = Clock::now();
    const double acceptance = advance(hmc, kPilot, nullptr);
    pilot_seconds = seconds_since(t0) / kPilot;
    if (acceptance >= kMinAcceptance || steps == 64) {
      row.md_steps = steps;
      break;
    }
  }
  Hmc hmc(model, g, {Integrator::omelyan, kTrajectoryLength, row.md_steps, fa, fa_mass2}, kSeed);
  advance(hmc, kThermalize, nullptr);
  row.trajectories = std::max(1000, static_cast<int>(budget / pilot_seconds));
  std::vector<double> m;
  m.reserve(static_cast<std::size_t>(row.trajectories));
  const auto t0 = Clock::now();
  row.acceptance = advance(hmc, row.trajectories, &m);
  row.seconds_per_trajectory = seconds_since(t0) / row.trajectories;
  std::vector<double> abs_m(m.size()), m2(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    abs_m[i] = std::abs(m[i]);
    m2[i] = m[i] * m[i];
  }
  row.abs_m = stats::gamma_method(abs_m);
  row.m2 = stats::gamma_method(m2);
  return row;
}

}  // namespace
}  // namespace latdiff

int main(int argc, char** argv) {
  using namespace latdiff;
  MPI_Init(&argc, &argv);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 1) {
    std::fprintf(stderr, "bench_fourier_acceleration: run on one rank\n");
    MPI_Finalize();
    return 1;
  }
  const double fa_mass2 = argc > 1 ? std::atof(argv[1]) : 0.01;
  const double scale = argc > 2 ? std::atof(argv[2]) : 1.0;
  std::printf(
      "2D phi^4, hopping form, kappa = %.2f, lambda = %.2f; HMC Omelyan, trajectory length "
      "%.1f;\nFourier acceleration with M~(p) = phat^2 + %.3g. tau_int in trajectories; cost = "
      "2 tau_int x s/traj.\n\n",
      kCritical.kappa, kCritical.lambda, kTrajectoryLength, fa_mass2);
  std::printf("%4s %3s %5s %6s %8s %15s %15s %10s %12s %12s\n", "L", "FA", "steps", "acc", "N",
              "tau(|m|)", "tau(m^2)", "ms/traj", "cost(|m|) s", "cost(m^2) s");
  std::vector<int> only;
  for (int i = 3; i < argc; ++i) only.push_back(std::atoi(argv[i]));
  for (const auto& s : kSizes) {
    if (!only.empty() && std::find(only.begin(), only.end(), s.l) == only.end()) continue;
    Geometry g({s.l, s.l}, {}, MPI_COMM_SELF);
    Phi4Model model(g, kCritical);
    for (bool fa : {false, true}) {
      const Row r = measure(g, model, s.l, s.seconds * scale, fa, fa_mass2);
      const double ms = 1e3 * r.seconds_per_trajectory;
      std::printf("%4d %3s %5d %6.3f %8d %7.2f +- %5.2f %7.2f +- %5.2f %10.4f %12.5f %12.5f\n", r.l,
                  fa ? "on" : "off", r.md_steps, r.acceptance, r.trajectories, r.abs_m.tau_int,
                  r.abs_m.tau_int_error, r.m2.tau_int, r.m2.tau_int_error, ms,
                  2 * r.abs_m.tau_int * r.seconds_per_trajectory,
                  2 * r.m2.tau_int * r.seconds_per_trajectory);
      std::fflush(stdout);
    }
  }
  MPI_Finalize();
  return 0;
}
