// GoogleTest main for tests that may run under mpirun: initialises MPI (with reliable
// MPI-IO), lets only rank 0 print, and makes the exit code reflect a failure on any rank.
#include <gtest/gtest.h>
#include <mpi.h>

#include "io/mpi_io_setup.hpp"

int main(int argc, char** argv) {
  latdiff::select_reliable_mpi_io();
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int local_failed = RUN_ALL_TESTS();
  int any_failed = 0;
  MPI_Allreduce(&local_failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any_failed;
}
