// Timing of collective benchmark iterations over MPI ranks (bench_rbm, bench_scaling): every
// iteration starts at a barrier and counts as the slowest rank's time, reported to Google
// Benchmark as manual time (register the benchmark with UseManualTime()). Collective: every
// rank must run the same number of iterations.
#pragma once

#include <benchmark/benchmark.h>
#include <mpi.h>

namespace latdiff {

template <class F>
void time_slowest_rank(benchmark::State& state, F&& body) {
  for (auto _ : state) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    body();
    double t = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    state.SetIterationTime(t);
  }
}

}  // namespace latdiff
