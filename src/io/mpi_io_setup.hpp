// Must run before MPI_Init in every program that writes HDF5 files in parallel.
#pragma once

#include <cstdlib>

namespace latdiff {

// Open MPI 4.1's default MPI-IO component (OMPIO, "vulcan" collective writes) intermittently
// drops part of a collective write at 4 ranks (open-mpi/ompi#12718, fixed upstream in 2024);
// ROMIO is correct. A user's explicit OMPI_MCA_io choice is kept. Other MPIs ignore it.
inline void select_reliable_mpi_io() {
  setenv("OMPI_MCA_io", "romio321", /*overwrite=*/0);
}

}  // namespace latdiff
