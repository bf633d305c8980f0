// Domain decomposition of a periodic d-dimensional lattice over a Cartesian MPI process grid.
//
// Each rank stores its local block padded by one halo site on each side of every dimension,
// in row-major order with the last dimension fastest (DESIGN.md §1). Interior sites form
// "rows" along the last dimension that are contiguous in memory and in global index, so hot
// loops run over rows with unit stride and neighbours at fixed offsets +-stride(mu).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace latdiff {

struct GeometryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The process grid with the smallest halo surface among those that divide every extent.
// Throws GeometryError when no grid of `nranks` processes fits the lattice.
std::vector<int> choose_process_grid(const std::vector<int>& dims, int nranks);

class Geometry {
 public:
  // Collective: all ranks of `comm` must call. `procs` empty chooses the grid automatically.
  // Throws GeometryError (on every rank alike) when the grid does not fit.
  Geometry(const std::vector<int>& global_dims, const std::vector<int>& procs, MPI_Comm comm);
  ~Geometry();  // collective: frees the Cartesian communicator
  Geometry(const Geometry&) = delete;
  Geometry& operator=(const Geometry&) = delete;

  int dim() const { return static_cast<int>(global_dims_.size()); }
  const std::vector<int>& global_dims() const { return global_dims_; }
  const std::vector<int>& local_dims() const { return local_dims_; }
  const std::vector<int>& procs() const { return procs_; }
  const std::vector<int>& coords() const { return coords_; }
  const std::vector<int>& offset() const { return offset_; }  // global coordinate of local (0,..)
  std::int64_t global_volume() const { return global_volume_; }
  std::int64_t local_volume() const { return local_volume_; }

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int neighbor_up(int mu) const { return up_[mu]; }
  int neighbor_down(int mu) const { return down_[mu]; }

  // Padded storage: number of doubles a field needs, and the index step for dimension mu.
  std::size_t storage_size() const { return storage_size_; }
  std::ptrdiff_t stride(int mu) const { return stride_[mu]; }
  // Padded index of local coordinates x (each in -1..local_dims[mu]).
  std::size_t padded_index(const std::vector<int>& x) const;

  // Interior rows: padded index and global site index of the first site; row_length() sites.
  std::size_t row_count() const { return row_start_.size(); }
  std::size_t row_start(std::size_t r) const { return row_start_[r]; }
  std::int64_t row_global_start(std::size_t r) const { return row_global_start_[r]; }
  int row_length() const { return local_dims_.back(); }
  // Distance in a row between sites of one checkerboard colour (samplers/site_colouring.hpp).
  static constexpr int kColourRunStride = 2;

  // Global row-major index of global coordinates (wrapped periodically), and the inverse.
  std::int64_t global_index(const std::vector<int>& global_x) const;
  std::vector<int> global_coords(std::int64_t index) const;

 private:
  std::vector<int> global_dims_, local_dims_, procs_, coords_, offset_;
  std::int64_t global_volume_ = 0, local_volume_ = 0;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<int> up_, down_;
  std::size_t storage_size_ = 0;
  std::vector<std::ptrdiff_t> stride_;
  std::vector<std::size_t> row_start_;
  std::vector<std::int64_t> row_global_start_;
};

// Calls f(padded_index, global_index) for every interior site, rows in order.
template <class F>
void for_each_site(const Geometry& g, F&& f) {
  const int n = g.row_length();
  for (std::size_t r = 0; r < g.row_count(); ++r) {
    const std::size_t p = g.row_start(r);
    const std::int64_t gi = g.row_global_start(r);
    for (int j = 0; j < n; ++j) f(p + j, gi + j);
  }
}

}  // namespace latdiff
