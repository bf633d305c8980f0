// Performance baseline on one MPI rank: the phi^4 force kernel, a checkerboard Metropolis
// sweep, a full HMC trajectory, the molecular dynamics alone, the per-level work of the
// diffusion sampler (real-field FFTs, score evaluations, the reverse step with its log
// densities), and STREAM-like copy/triad loops over the same working sets, so the fraction of
// achievable memory bandwidth can be read off row by row and every kernel can be quoted in
// units of BM_Force.
//
// Every benchmark takes the arguments (d, L): a periodic L^d lattice, or for copy/triad
// arrays of (L+2)^d doubles, the padded storage of one field of that lattice.
//
// Traffic model (minimal bytes per interior site; halos, row ends and write-allocate reads
// are not counted, as in STREAM):
//   force  f = F(phi):          read phi, write f             16 B
//   kick   pi += dt f:          read pi, f, write pi          24 B
//   drift  phi += dt pi:        read phi, pi, write phi       24 B
// One Omelyan trajectory of n steps has 2n+1 force+kick pairs and 2n drifts:
// (2n+1) * 40 + 2n * 24 B = 1320 B/site for n = 10. The momentum refresh, the copy of phi and
// the two Hamiltonians of Hmc::update (about 56 B/site more) are deliberately left out, so
// BM_HmcTrajectory's B/s against BM_HmcIntegrate's shows what that per-trajectory work costs.
// Phi4Model adds the force to pi in one pass (Phi4Model::add_force: read phi and pi, write pi,
// 24 B instead of force + kick's 40), so its MD moves 21 * 24 + 20 * 24 = 984 B/site; the
// model's 1320 B/site is kept so that B/s compares across versions and with other models.
// The diffusion kernels have no traffic model; they report sites/s (items_per_second).
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "diffusion/free_field_score.hpp"
#include "diffusion/linear_score.hpp"
#include "diffusion/noise_process.hpp"
#include "fft/distributed_fft.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "samplers/hmc.hpp"
#include "samplers/metropolis.hpp"

namespace latdiff {
namespace {

using benchmark::Counter;

// 2D up to 4096^2 and 3D up to 256^3: the largest fields are 128-137 MiB each, at least four
// times the 32 MiB L3 of the reference machine (the STREAM rule for arrays).
constexpr int kSizes[][2] = {{2, 16}, {2, 64}, {2, 256}, {2, 1024}, {2, 2048}, {2, 4096},
                             {3, 8},  {3, 16}, {3, 32},  {3, 64},   {3, 128},  {3, 256}};

constexpr int kMdSteps = 10;
constexpr double kForceBytes = 16, kKickBytes = 24, kDriftBytes = 24;
constexpr int kForcesPerTrajectory = 2 * kMdSteps + 1;  // Omelyan 2MN, adjacent kicks merged
constexpr double kTrajectoryBytes =
    kForcesPerTrajectory * (kForceBytes + kKickBytes) + 2 * kMdSteps * kDriftBytes;

// Symmetric-phase couplings in 2D and 3D; the values do not affect the timings.
const ActionConfig kAction{ActionForm::hopping, 0.12, 0.5, 0, 0};

// The diffusion benchmarks: a VP process of 64 levels, timed at the middle one.
constexpr int kLevels = 64, kLevel = kLevels / 2;
constexpr int kKnots = 9;

void lattice_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"d", "L"});
  for (const auto& s : kSizes) b->Args({s[0], s[1]});
  b->UseRealTime();
  b->Unit(benchmark::kMicrosecond);
}

std::vector<int> lattice_dims(const benchmark::State& state) {
  return std::vector<int>(static_cast<std::size_t>(state.range(0)),
                          static_cast<int>(state.range(1)));
}

std::size_t padded_size(const benchmark::State& state) {
  std::size_t n = 1;
  for (int mu = 0; mu < state.range(0); ++mu) n *= static_cast<std::size_t>(state.range(1) + 2);
  return n;
}

// A cheap hot start (the counter RNG would dominate setup time on the largest lattices).
Field hot_field(const Geometry& g) {
  Field phi = make_field(g);
  std::mt19937_64 gen(12345);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for_each_site(g, [&](std::size_t p, std::int64_t) { phi[p] = u(gen); });
  HaloExchange(g).exchange(phi);
  return phi;
}

void set_working_set(benchmark::State& state, std::size_t arrays, std::size_t doubles) {
  state.counters["WS"] = Counter(static_cast<double>(arrays * doubles * sizeof(double)),
                                 Counter::kDefaults, Counter::OneK::kIs1024);
}

// Sites per second, as items (items_per_second) for the kernels without a traffic model.
void set_sites(benchmark::State& state, const Geometry& g) {
  state.SetItemsProcessed(g.local_volume() * state.iterations());
}

NoiseProcess vp_process() {
  NoiseSchedule s;
  s.kind = NoiseKind::vp;
  s.levels = kLevels;
  return NoiseProcess(s);
}

// A free field at 80% of the critical hopping parameter 1/(2d): K(p) > 0 in every dimension.
Phi4Couplings free_couplings(int dim) {
  return Phi4Couplings::from({ActionForm::hopping, 0.4 / dim, 0, 0, 0}, dim);
}

void BM_Force(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kAction);
  const Field phi = hot_field(g);
  Field force = make_field(g);
  for (auto _ : state) {
    model.force(phi, force);
    benchmark::DoNotOptimize(force.data());
    benchmark::ClobberMemory();
  }
  const double sites = static_cast<double>(g.local_volume()) * state.iterations();
  state.counters["sites/s"] = Counter(sites, Counter::kIsRate);
  state.counters["B/s"] = Counter(sites * kForceBytes, Counter::kIsRate);
  set_working_set(state, 2, g.storage_size());
}
BENCHMARK(BM_Force)->Apply(lattice_args);

// Metropolis::update, checkerboard sweeps with `hits` hits per site, at the point of issue 10's
// serial baseline (mass form m2 = -0.7, g = 0.5, proposal half-width 1.5: acceptance ~0.48 in
// 2D). Counters: ns per site-update (one hit at one site) and the acceptance.
void run_metropolis(benchmark::State& state, int hits) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  const Phi4Model model(g, ActionConfig{ActionForm::mass, 0, 0, -0.7, 0.5});
  Metropolis<Phi4Model> metropolis(model, g, {1.5, hits}, 7);
  Field phi = hot_field(g);
  std::uint64_t sweep = 0;
  double accepted = 0;
  for (auto _ : state) {
    accepted += metropolis.update(phi, sweep++).acceptance;
    benchmark::ClobberMemory();
  }
  const double site_updates = static_cast<double>(g.local_volume()) * hits * state.iterations();
  state.counters["ns/site"] = Counter(site_updates * 1e-9, Counter::kIsRate | Counter::kInvert);
  state.counters["acceptance"] = accepted / static_cast<double>(state.iterations());
  set_working_set(state, 1, g.storage_size());
}

void BM_MetropolisSweep(benchmark::State& state) {
  run_metropolis(state, 1);
}
BENCHMARK(BM_MetropolisSweep)->Apply(lattice_args);

// Multi-hit: the neighbour sums and the halo exchange are paid once per sweep, so ns per
// site-update should fall below BM_MetropolisSweep's as hits grow.
void BM_MetropolisHits(benchmark::State& state) {
  run_metropolis(state, static_cast<int>(state.range(2)));
}
BENCHMARK(BM_MetropolisHits)
    ->ArgNames({"d", "L", "hits"})
    ->ArgsProduct({{2}, {256}, {2, 4, 8}})
    ->ArgsProduct({{3}, {32}, {2, 4, 8}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Hmc::update: momentum refresh, Hamiltonian before and after, MD, accept/reject.
void BM_HmcTrajectory(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kAction);
  Hmc hmc(model, g, {Integrator::omelyan, 1.0, kMdSteps}, 7);
  Field phi = hot_field(g);
  std::uint64_t trajectory = 0;
  double accepted = 0;
  for (auto _ : state) {
    accepted += hmc.update(phi, trajectory++).acceptance;
    benchmark::ClobberMemory();
  }
  const double trajectories = static_cast<double>(state.iterations());
  const double sites = static_cast<double>(g.local_volume()) * trajectories;
  state.counters["sites/s"] = Counter(sites, Counter::kIsRate);
  state.counters["forces/s"] = Counter(trajectories * kForcesPerTrajectory, Counter::kIsRate);
  state.counters["B/s"] = Counter(sites * kTrajectoryBytes, Counter::kIsRate);
  // A sanity check only: from a hot start at fixed eps the acceptance falls with the volume.
  state.counters["acc"] = Counter(accepted / trajectories);
  set_working_set(state, 3, g.storage_size());  // phi, momentum, saved phi (no force field)
}
BENCHMARK(BM_HmcTrajectory)->Apply(lattice_args);

// Hmc::integrate alone: the molecular dynamics that the traffic model counts.
void BM_HmcIntegrate(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  const Phi4Model model(g, kAction);
  Hmc hmc(model, g, {Integrator::omelyan, 1.0, kMdSteps}, 7);
  Field phi = hot_field(g);
  Field pi = make_field(g);
  // Symplectic MD conserves H up to O(eps^2) without drift, so the field stays bounded over
  // any number of iterations without refreshing the momentum.
  for (auto _ : state) {
    hmc.integrate(phi, pi);
    benchmark::ClobberMemory();
  }
  const double trajectories = static_cast<double>(state.iterations());
  const double sites = static_cast<double>(g.local_volume()) * trajectories;
  state.counters["sites/s"] = Counter(sites, Counter::kIsRate);
  state.counters["forces/s"] = Counter(trajectories * kForcesPerTrajectory, Counter::kIsRate);
  state.counters["B/s"] = Counter(sites * kTrajectoryBytes, Counter::kIsRate);
  set_working_set(state, 2, g.storage_size());  // phi, momentum (no force field)
}
BENCHMARK(BM_HmcIntegrate)->Apply(lattice_args);

void BM_FftForwardReal(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  DistributedFft fft(g);
  const Field x = hot_field(g);
  ComplexField spectrum;
  for (auto _ : state) {
    fft.forward(x, spectrum);
    benchmark::DoNotOptimize(spectrum.data());
    benchmark::ClobberMemory();
  }
  set_sites(state, g);
  set_working_set(state, 3, g.local_volume());  // x, and the complex spectrum
}
BENCHMARK(BM_FftForwardReal)->Apply(lattice_args);

void BM_FftInverseReal(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  DistributedFft fft(g);
  ComplexField spectrum;
  fft.forward(hot_field(g), spectrum);  // the spectrum of a real field, as every caller's
  Field out = make_field(g);
  for (auto _ : state) {
    fft.inverse(spectrum, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_sites(state, g);
  set_working_set(state, 3, g.local_volume());
}
BENCHMARK(BM_FftInverseReal)->Apply(lattice_args);

// Times model.score at level kLevel of a hot field.
void time_score(benchmark::State& state, const Geometry& g, ScoreModel& model) {
  const Field x = hot_field(g);
  Field s = make_field(g);
  for (auto _ : state) {
    model.score(x, kLevel, s);
    benchmark::DoNotOptimize(s.data());
    benchmark::ClobberMemory();
  }
  set_sites(state, g);
}

// The exact free-field score: one forward and one inverse FFT and a kernel product.
void BM_FreeFieldScore(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  const NoiseProcess noise = vp_process();
  FreeFieldScore model(g, free_couplings(g.dim()), noise);
  time_score(state, g, model);
}
BENCHMARK(BM_FreeFieldScore)->Apply(lattice_args);

// The trainable score: the FFT pair, the hat-kernel product and the local odd terms.
void BM_LinearScore(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  std::vector<double> theta(ScoreBasis{kKnots, {}}.parameters());
  for (std::size_t k = 0; k < theta.size(); ++k) theta[k] = 0.1 * static_cast<double>(k + 1);
  LinearScore model(g, ScoreBasis{kKnots, {}}, std::vector<std::vector<double>>(kLevels, theta));
  time_score(state, g, model);
}
BENCHMARK(BM_LinearScore)->Apply(lattice_args);

// The per-level work of the diffusion sampler besides the score: the reverse draw and the two
// log densities of its Metropolis-Hastings ratio (the noise draw is not included).
void BM_ReverseStep(benchmark::State& state) {
  Geometry g(lattice_dims(state), {}, MPI_COMM_WORLD);
  const NoiseProcess noise = vp_process();
  const Field x = hot_field(g), s = hot_field(g), eta = hot_field(g);
  Field prev = make_field(g);
  for (auto _ : state) {
    noise.reverse_step(g, kLevel, x, s, eta, prev);
    ExactSum log_ratio = noise.log_reverse(g, kLevel, prev, x, s);
    log_ratio -= noise.log_forward(g, kLevel, x, prev);
    benchmark::DoNotOptimize(log_ratio);
    benchmark::ClobberMemory();
  }
  set_sites(state, g);
  set_working_set(state, 4, g.storage_size());  // x, score, noise, x_{i-1}
}
BENCHMARK(BM_ReverseStep)->Apply(lattice_args);

void copy(double* __restrict a, const double* __restrict b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i];
}

void triad(double* __restrict a, const double* __restrict b, const double* __restrict c, double s,
           std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

// a[i] = b[i] over one padded field of the (d, L) lattice: the force kernel's working set.
void BM_StreamCopy(benchmark::State& state) {
  const std::size_t n = padded_size(state);
  std::vector<double> a(n, 0.0), b(n, 1.0);
  for (auto _ : state) {
    copy(a.data(), b.data(), n);
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  state.counters["B/s"] = Counter(16.0 * n * state.iterations(), Counter::kIsRate);
  set_working_set(state, 2, n);
}
BENCHMARK(BM_StreamCopy)->Apply(lattice_args);

void BM_StreamTriad(benchmark::State& state) {
  const std::size_t n = padded_size(state);
  std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
  for (auto _ : state) {
    triad(a.data(), b.data(), c.data(), 0.5, n);
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  state.counters["B/s"] = Counter(24.0 * n * state.iterations(), Counter::kIsRate);
  set_working_set(state, 3, n);
}
BENCHMARK(BM_StreamTriad)->Apply(lattice_args);

}  // namespace
}  // namespace latdiff

// MPI must be up for Geometry; the benchmarks use MPI_COMM_WORLD and expect one rank.
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 1) {
    std::fprintf(stderr, "bench_kernels: run on a single MPI rank (got %d)\n", size);
    MPI_Finalize();
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    MPI_Finalize();
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  MPI_Finalize();
  return 0;
}
