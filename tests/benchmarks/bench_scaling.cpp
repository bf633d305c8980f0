// Weak and strong scaling over MPI ranks (issue 10) of a checkerboard Metropolis sweep (mass
// form m2 = -0.7, g = 0.5, half-width 1.5, one hit), an Omelyan HMC trajectory (10 steps,
// length 1, the couplings of bench_kernels) and a real FFT pair (DistributedFft forward then
// inverse; BM_ScalingFftPipelined with the transposes pipelined in chunks), with a STREAM-like copy
// of one padded local field on every rank at once beside them.
//
//   weak:   the local lattice is fixed, L^d per rank; the global one grows along axis 0,
//           (P L) x L^(d-1) on P ranks;
//   strong: the global lattice is fixed, L^d, split along axis 0 (L / P x L^(d-1) per rank).
// Both use the process grid P x 1 (x 1), so the rows compare one axis of communication.
//
// Every rank runs the same fixed number of iterations (the updates are collective, and Google
// Benchmark would otherwise pick a different count on each rank); each iteration starts at a
// barrier and its time is the slowest rank's (MPI_Allreduce max), reported as manual time, so
// the time per iteration is the wall time of one update of the whole lattice. Rank 0 reports.
// Counters: `sites/s`, global site-updates per second (sites x sweeps, trajectories or FFT
// pairs); `ranks`; `cores`, the CPUs the node offers (std::thread::hardware_concurrency); and
// `oversub`, 1 when more ranks share the node than it has cores (the rows to read as
// contention, not scaling). BM_ScalingCopy's `B/s` is per rank, while every rank copies.
// Parallel efficiency needs the 1-rank time: tests/benchmarks/scaling_report.py runs this at
// 1, 2 and 4 ranks and prints the table.
//
//   mpirun -np P build/tests/benchmarks/bench_scaling --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fft/distributed_fft.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"
#include "lattice/halo_exchange.hpp"
#include "models/phi4.hpp"
#include "samplers/hmc.hpp"
#include "samplers/metropolis.hpp"
#include "slowest_rank_timer.hpp"

namespace latdiff {
namespace {

using benchmark::Counter;

enum class Scaling { weak, strong };

struct Case {
  Scaling scaling;
  int d, L;  // L^d per rank (weak) or in all (strong)
};

constexpr Case kCases[] = {{Scaling::weak, 2, 256},   {Scaling::weak, 2, 1024},
                           {Scaling::weak, 3, 32},    {Scaling::weak, 3, 64},
                           {Scaling::strong, 2, 512}, {Scaling::strong, 2, 1024},
                           {Scaling::strong, 3, 64}};

// Site-updates per rank and repetition: about 0.2-0.4 s of each kernel at its present speed
// on one core, and at least kMinIterations.
constexpr double kMetropolisBudget = 8e6, kHmcBudget = 2e6, kFftBudget = 3e7;
constexpr std::int64_t kMinIterations = 3, kMaxIterations = 2000;
// Bytes each rank copies per timed copy iteration (repeating the copy of small fields), so that
// the barrier is negligible beside it, and the number of such iterations.
constexpr double kCopyBytes = 32.0 * (1 << 20);
constexpr std::int64_t kCopyIterations = 20;

constexpr std::size_t kPipelineChunk = std::size_t{1} << 16;
constexpr int kMdSteps = 10;
const ActionConfig kHmcAction{ActionForm::hopping, 0.12, 0.5, 0, 0};
const ActionConfig kMetropolisAction{ActionForm::mass, 0, 0, -0.7, 0.5};

int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// The most ranks that share one node (hence its cores), the same on every rank.
int node_ranks() {
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int size = 1;
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  MPI_Allreduce(MPI_IN_PLACE, &size, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return size;
}

std::vector<int> global_dims(const Case& c, int P) {
  std::vector<int> dims(static_cast<std::size_t>(c.d), c.L);
  if (c.scaling == Scaling::weak) dims[0] *= P;
  return dims;
}

std::vector<int> process_grid(const Case& c, int P) {
  std::vector<int> procs(static_cast<std::size_t>(c.d), 1);
  procs[0] = P;
  return procs;
}

std::int64_t local_volume(const Case& c, int P) {
  std::int64_t v = 1;
  for (int l : global_dims(c, P)) v *= l;
  return v / P;
}

std::int64_t iterations(double budget, std::int64_t sites) {
  return std::clamp(static_cast<std::int64_t>(budget / static_cast<double>(sites) + 0.5),
                    kMinIterations, kMaxIterations);
}

// A cheap hot start (the counter RNG would dominate the setup of the large lattices), a
// different stream per rank.
Field hot_field(const Geometry& g) {
  Field phi = make_field(g);
  std::mt19937_64 gen(12345 + static_cast<std::uint64_t>(g.rank()));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for_each_site(g, [&](std::size_t p, std::int64_t) { phi[p] = u(gen); });
  HaloExchange(g).exchange(phi);
  return phi;
}

void set_counters(benchmark::State& state, const Geometry& g, int cores, bool oversubscribed) {
  const double updates = static_cast<double>(g.global_volume()) * state.iterations();
  state.counters["sites/s"] = Counter(updates, Counter::kIsRate);
  state.counters["ranks"] = g.size();
  state.counters["cores"] = cores;
  state.counters["oversub"] = oversubscribed ? 1 : 0;
}

void copy(double* __restrict a, const double* __restrict b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i];
}

struct Setup {
  Case c;
  int P, cores;
  bool oversubscribed;
};

void metropolis_sweep(benchmark::State& state, const Setup& s) {
  const Geometry g(global_dims(s.c, s.P), process_grid(s.c, s.P), MPI_COMM_WORLD);
  const Phi4Model model(g, kMetropolisAction);
  Metropolis<Phi4Model> metropolis(model, g, {1.5, 1}, 7);
  Field phi = hot_field(g);
  std::uint64_t sweep = 0;
  time_slowest_rank(state, [&] { benchmark::DoNotOptimize(metropolis.update(phi, sweep++)); });
  set_counters(state, g, s.cores, s.oversubscribed);
}

void hmc_trajectory(benchmark::State& state, const Setup& s) {
  const Geometry g(global_dims(s.c, s.P), process_grid(s.c, s.P), MPI_COMM_WORLD);
  const Phi4Model model(g, kHmcAction);
  Hmc hmc(model, g, {Integrator::omelyan, 1.0, kMdSteps}, 7);
  Field phi = hot_field(g);
  std::uint64_t trajectory = 0;
  time_slowest_rank(state, [&] { benchmark::DoNotOptimize(hmc.update(phi, trajectory++)); });
  set_counters(state, g, s.cores, s.oversubscribed);
}

void time_fft_pair(benchmark::State& state, const Setup& s, std::size_t min_chunk) {
  const Geometry g(global_dims(s.c, s.P), process_grid(s.c, s.P), MPI_COMM_WORLD);
  DistributedFft fft(g, min_chunk);
  const Field x = hot_field(g);
  Field out = make_field(g);
  ComplexField spectrum;
  time_slowest_rank(state, [&] {
    fft.forward(x, spectrum);
    fft.inverse(spectrum, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  });
  set_counters(state, g, s.cores, s.oversubscribed);
}

void fft_pair(benchmark::State& state, const Setup& s) {
  time_fft_pair(state, s, DistributedFft::kUnpipelined);
}

// The same with the exchange of the split axis pipelined in chunks of at least 2^16 numbers
// per rank (distributed_fft.hpp), to see whether the overlap pays on this machine.
void fft_pair_pipelined(benchmark::State& state, const Setup& s) {
  time_fft_pair(state, s, kPipelineChunk);
}

// a[i] = b[i] over one padded field of the local lattice, on every rank at once.
void stream_copy(benchmark::State& state, const Setup& s) {
  std::size_t n = 1;
  const std::int64_t sites = local_volume(s.c, s.P);
  const std::vector<int> dims = global_dims(s.c, s.P);
  for (std::size_t mu = 0; mu < dims.size(); ++mu)
    n *= static_cast<std::size_t>((mu == 0 ? dims[0] / s.P : dims[mu]) + 2);
  const std::size_t reps =
      std::max<std::size_t>(1, static_cast<std::size_t>(kCopyBytes / (16.0 * n)));
  std::vector<double> a(n, 0.0), b(n, 1.0);
  time_slowest_rank(state, [&] {
    for (std::size_t r = 0; r < reps; ++r) {
      copy(a.data(), b.data(), n);
      benchmark::DoNotOptimize(a.data());
      benchmark::ClobberMemory();
    }
  });
  state.counters["B/s"] = Counter(16.0 * n * reps * state.iterations(), Counter::kIsRate);
  state.counters["sites"] = static_cast<double>(sites);
  state.counters["ranks"] = s.P;
  state.counters["cores"] = s.cores;
  state.counters["oversub"] = s.oversubscribed ? 1 : 0;
}

std::string case_name(const char* kernel, const Case& c) {
  return std::string("BM_Scaling") + kernel + (c.scaling == Scaling::weak ? "/weak" : "/strong") +
         "/d:" + std::to_string(c.d) + "/L:" + std::to_string(c.L);
}

// Registers every case that P ranks can split along axis 0.
void register_benchmarks(int P, int cores, bool oversubscribed) {
  for (const Case& c : kCases) {
    if (c.L % P != 0 && c.scaling == Scaling::strong) continue;
    const Setup s{c, P, cores, oversubscribed};
    const std::int64_t sites = local_volume(c, P);
    auto add = [&](const char* kernel, void (*fn)(benchmark::State&, const Setup&),
                   std::int64_t n) {
      benchmark::RegisterBenchmark(case_name(kernel, c).c_str(), fn, s)
          ->Iterations(n)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    };
    add("Metropolis", metropolis_sweep, iterations(kMetropolisBudget, sites));
    add("Hmc", hmc_trajectory, iterations(kHmcBudget, sites));
    add("Fft", fft_pair, iterations(kFftBudget, sites));
    add("FftPipelined", fft_pair_pipelined, iterations(kFftBudget, sites));
    add("Copy", stream_copy, kCopyIterations);
  }
}

// Reports nothing: the ranks other than 0.
class QuietReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

// Whether argument a is a --benchmark_out flag, which only rank 0 may act on: every rank would
// otherwise open (and truncate) the same file.
bool output_flag(const char* a) {
  return std::strncmp(a, "--benchmark_out", 15) == 0;
}

}  // namespace
}  // namespace latdiff

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    argc = static_cast<int>(std::remove_if(argv + 1, argv + argc, latdiff::output_flag) - argv);
    argv[argc] = nullptr;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    MPI_Finalize();
    return 1;
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  latdiff::register_benchmarks(latdiff::world_size(), cores, latdiff::node_ranks() > cores);
  latdiff::QuietReporter quiet;
  if (rank == 0)
    benchmark::RunSpecifiedBenchmarks();
  else
    benchmark::RunSpecifiedBenchmarks(&quiet);
  benchmark::Shutdown();
  MPI_Finalize();
  return 0;
}
