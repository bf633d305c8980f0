// RBM throughput on one or more MPI ranks: block-Gibbs sweeps (samplers/rbm_samplers.hpp) and
// CD-1 training steps (training/rbm_training.hpp) of an RBM the size of an L x L lattice,
// n_v = L^2 visible units decomposed like a field, n_h = n_v / 4 hidden units, and a
// STREAM-like copy over this rank's rows of W, the working set both stream through.
//
// Every rank runs the same fixed number of iterations (the updates are collective, and Google
// Benchmark would otherwise pick a different count on each rank); rank 0 reports, with the
// time of the slowest rank. Traffic model: a Gibbs sweep reads this rank's rows of W twice
// (hidden inputs W^T v, visible inputs W h), 16 n_v n_h / P bytes; a CD-1 step of B
// configurations reads them about 6 B times (positive hidden inputs, the reconstruction's
// visible inputs, the sweep's two passes, the negative hidden inputs, the gradient) and writes
// the gradient once.
//
//   mpirun -np P build/tests/benchmarks/bench_rbm --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lattice/geometry.hpp"
#include "models/rbm.hpp"
#include "random/counter_rng.hpp"
#include "samplers/rbm_samplers.hpp"
#include "slowest_rank_timer.hpp"
#include "training/rbm_training.hpp"

namespace latdiff {
namespace {

using benchmark::Counter;

constexpr int kBatch = 10;

int ranks() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// A random RBM of an L x L lattice with n_h = L^2 / 4 (W ~ N(0, 0.01^2), biases 0).
RbmParameters lattice_rbm(int L) {
  RbmParameters p;
  p.n_visible = static_cast<std::int64_t>(L) * L;
  p.n_hidden = p.n_visible / 4;
  const CounterRng rng(1, Stream::rbm_init);
  p.weights.resize(static_cast<std::size_t>(p.n_visible * p.n_hidden));
  for (std::size_t k = 0; k < p.weights.size(); ++k) p.weights[k] = 0.01 * rng.normal4(k, 0)[0];
  p.visible_bias.assign(static_cast<std::size_t>(p.n_visible), 0.0);
  p.hidden_bias.assign(static_cast<std::size_t>(p.n_hidden), 0.0);
  return p;
}

// Random binary visible values of this rank's units.
std::vector<double> random_visible(const Rbm& rbm, std::uint64_t which) {
  const CounterRng rng(which, Stream::hot_start);
  std::vector<double> v(rbm.local_visible());
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = rng.uniform(static_cast<std::uint64_t>(rbm.layout().global_index[i]), 0) < 0.5;
  return v;
}

double local_weight_bytes(const Rbm& rbm) {
  return 8.0 * static_cast<double>(rbm.local_visible()) *
         static_cast<double>(rbm.parameters().n_hidden);
}

void BM_RbmGibbsSweep(benchmark::State& state) {
  const int L = static_cast<int>(state.range(0));
  const Geometry g({L, L}, {}, MPI_COMM_WORLD);
  const Rbm rbm(lattice_rbm(L), VisibleLayout::lattice(g));
  const RbmGibbs gibbs(rbm, 1);
  RbmState s{random_visible(rbm, 0), {}};
  std::uint64_t k = 0;
  time_slowest_rank(state, [&] { benchmark::DoNotOptimize(gibbs.update(s, k++)); });
  state.counters["sweeps/s"] = Counter(static_cast<double>(state.iterations()), Counter::kIsRate);
  state.counters["B/s"] =
      Counter(2 * local_weight_bytes(rbm) * state.iterations(), Counter::kIsRate);
  state.counters["ranks"] = ranks();
}
BENCHMARK(BM_RbmGibbsSweep)->Arg(32)->Iterations(400)->UseManualTime();
BENCHMARK(BM_RbmGibbsSweep)->Arg(64)->Iterations(30)->UseManualTime();

void BM_RbmTrainingStep(benchmark::State& state) {
  const int L = static_cast<int>(state.range(0));
  const Geometry g({L, L}, {}, MPI_COMM_WORLD);
  const RbmParameters p = lattice_rbm(L);
  const Rbm rbm(p, VisibleLayout::lattice(g));
  std::vector<std::vector<double>> batch;
  for (int b = 0; b < kBatch; ++b) batch.push_back(random_visible(rbm, b + 1));
  RbmTrainer trainer(p, VisibleLayout::lattice(g), {}, 1);
  std::uint64_t step = 0;
  time_slowest_rank(state, [&] { benchmark::DoNotOptimize(trainer.step(batch, step++)); });
  state.counters["steps/s"] = Counter(static_cast<double>(state.iterations()), Counter::kIsRate);
  state.counters["B/s"] =
      Counter(7.0 * kBatch * local_weight_bytes(rbm) * state.iterations(), Counter::kIsRate);
  state.counters["ranks"] = ranks();
}
BENCHMARK(BM_RbmTrainingStep)->Arg(32)->Iterations(40)->UseManualTime();
BENCHMARK(BM_RbmTrainingStep)->Arg(64)->Iterations(4)->UseManualTime();

// Copy of an array the size of this rank's rows of W.
void BM_StreamCopyWeights(benchmark::State& state) {
  const int L = static_cast<int>(state.range(0));
  const std::size_t n = static_cast<std::size_t>(L) * L * (L * L / 4) / ranks();
  std::vector<double> a(n, 0.0), b(n, 1.0);
  time_slowest_rank(state, [&] {
    double* __restrict dst = a.data();
    const double* __restrict src = b.data();
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  });
  state.counters["B/s"] = Counter(16.0 * n * state.iterations(), Counter::kIsRate);
}
BENCHMARK(BM_StreamCopyWeights)->Arg(32)->Iterations(400)->UseManualTime();
BENCHMARK(BM_StreamCopyWeights)->Arg(64)->Iterations(30)->UseManualTime();

// Reports nothing: the ranks other than 0.
class QuietReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace
}  // namespace latdiff

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    MPI_Finalize();
    return 1;
  }
  latdiff::QuietReporter quiet;
  if (rank == 0)
    benchmark::RunSpecifiedBenchmarks();
  else
    benchmark::RunSpecifiedBenchmarks(&quiet);
  benchmark::Shutdown();
  MPI_Finalize();
  return 0;
}
