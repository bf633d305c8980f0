// Rows of an HDF5 dataset [N, d_1, ...] read as N vectors of its n = d_1 * ... entries in
// row-major order (a latdiff file's /configurations/phi [N, lattice.dims], or a plain [N, n]
// array), of which each rank keeps the entries it asks for: the columns of its visible units,
// say. Any numeric type is converted to double. Collective over comm: every rank opens the
// file read-only by itself and reads the rows in blocks; errors are IoError naming the file
// and dataset, alike on every rank.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace latdiff {

struct DatasetRows {
  std::vector<std::int64_t> shape;        // the dataset's extents, N first
  std::vector<std::vector<double>> rows;  // N rows of this rank's columns, in `columns` order
};

// `dims`: the extents a row must have, either as the trailing extents (d_1 ... = dims) or as
// one flat extent (n = product of dims); anything else is refused with both shapes.
DatasetRows read_dataset_rows(const std::string& path, const std::string& dataset,
                              const std::vector<int>& dims,
                              const std::vector<std::int64_t>& columns, MPI_Comm comm);

}  // namespace latdiff
