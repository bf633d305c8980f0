#include "lattice/geometry.hpp"

#include <limits>
#include <numeric>
#include <string>

namespace latdiff {

namespace {

std::string join(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + std::to_string(v[i]);
  return s;
}

// Enumerates all grids with prod(grid) == nranks and grid[mu] | dims[mu].
void search_grids(const std::vector<int>& dims, int remaining, std::size_t mu,
                  std::vector<int>& grid, double& best_surface, std::vector<int>& best) {
  if (mu == dims.size()) {
    if (remaining != 1) return;
    // Halo surface per rank: sum over split dimensions of the local face size.
    double surface = 0;
    double local_volume = 1;
    for (std::size_t nu = 0; nu < dims.size(); ++nu) local_volume *= double(dims[nu]) / grid[nu];
    for (std::size_t nu = 0; nu < dims.size(); ++nu)
      if (grid[nu] > 1) surface += 2 * local_volume / (double(dims[nu]) / grid[nu]);
    // Ties go to the grid that keeps the contiguous last dimension longest (and, for the
    // same, splits earlier dimensions: slabs along dimension 0 suit FFTW-MPI).
    const bool longer_rows = !best.empty() && grid.back() < best.back();
    if (surface < best_surface || (surface == best_surface && longer_rows)) {
      best_surface = surface;
      best = grid;
    }
    return;
  }
  for (int p = 1; p <= remaining; ++p) {
    if (remaining % p != 0 || dims[mu] % p != 0) continue;
    grid[mu] = p;
    search_grids(dims, remaining / p, mu + 1, grid, best_surface, best);
  }
}

}  // namespace

std::vector<int> choose_process_grid(const std::vector<int>& dims, int nranks) {
  std::vector<int> grid(dims.size(), 1), best;
  double best_surface = std::numeric_limits<double>::infinity();
  search_grids(dims, nranks, 0, grid, best_surface, best);
  if (best.empty())
    throw GeometryError("lattice.procs: no process grid of " + std::to_string(nranks) +
                        " ranks divides the lattice extents " + join(dims) +
                        "; choose another number of ranks");
  return best;
}

Geometry::Geometry(const std::vector<int>& global_dims, const std::vector<int>& procs,
                   MPI_Comm comm)
    : global_dims_(global_dims) {
  const int d = dim();
  int nranks = 1;
  MPI_Comm_size(comm, &nranks);
  procs_ = procs.empty() ? choose_process_grid(global_dims, nranks) : procs;
  if (static_cast<int>(procs_.size()) != d)
    throw GeometryError("lattice.procs: needs " + std::to_string(d) + " entries, got '" +
                        join(procs_) + "'");
  if (std::accumulate(procs_.begin(), procs_.end(), 1, std::multiplies<>()) != nranks)
    throw GeometryError(
        "lattice.procs: process grid '" + join(procs_) + "' needs " +
        std::to_string(std::accumulate(procs_.begin(), procs_.end(), 1, std::multiplies<>())) +
        " ranks but the job has " + std::to_string(nranks));
  for (int mu = 0; mu < d; ++mu)
    if (procs_[mu] < 1 || global_dims_[mu] % procs_[mu] != 0)
      throw GeometryError("lattice.procs: " + std::to_string(procs_[mu]) +
                          " processes do not divide extent " + std::to_string(global_dims_[mu]) +
                          " of dimension " + std::to_string(mu));

  std::vector<int> periods(d, 1);
  MPI_Cart_create(comm, d, procs_.data(), periods.data(), /*reorder=*/0, &comm_);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  coords_.assign(d, 0);
  MPI_Cart_coords(comm_, rank_, d, coords_.data());
  up_.assign(d, 0);
  down_.assign(d, 0);
  for (int mu = 0; mu < d; ++mu) MPI_Cart_shift(comm_, mu, 1, &down_[mu], &up_[mu]);

  local_dims_.resize(d);
  offset_.resize(d);
  global_volume_ = local_volume_ = 1;
  for (int mu = 0; mu < d; ++mu) {
    local_dims_[mu] = global_dims_[mu] / procs_[mu];
    offset_[mu] = coords_[mu] * local_dims_[mu];
    global_volume_ *= global_dims_[mu];
    local_volume_ *= local_dims_[mu];
  }

  stride_.assign(d, 1);
  for (int mu = d - 2; mu >= 0; --mu) stride_[mu] = stride_[mu + 1] * (local_dims_[mu + 1] + 2);
  storage_size_ = static_cast<std::size_t>(stride_[0] * (local_dims_[0] + 2));

  // Rows: every interior combination of the first d-1 coordinates, in row-major order.
  std::vector<int> x(d, 0);
  const std::int64_t rows = local_volume_ / local_dims_.back();
  row_start_.reserve(rows);
  row_global_start_.reserve(rows);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::vector<int> gx(d);
    for (int mu = 0; mu < d; ++mu) gx[mu] = x[mu] + offset_[mu];
    row_start_.push_back(padded_index(x));
    row_global_start_.push_back(global_index(gx));
    for (int mu = d - 2; mu >= 0; --mu) {
      if (++x[mu] < local_dims_[mu]) break;
      x[mu] = 0;
    }
  }
}

Geometry::~Geometry() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

std::size_t Geometry::padded_index(const std::vector<int>& x) const {
  std::ptrdiff_t i = 0;
  for (int mu = 0; mu < dim(); ++mu) i += (x[mu] + 1) * stride_[mu];
  return static_cast<std::size_t>(i);
}

std::int64_t Geometry::global_index(const std::vector<int>& global_x) const {
  std::int64_t i = 0;
  for (int mu = 0; mu < dim(); ++mu) {
    const int L = global_dims_[mu];
    i = i * L + ((global_x[mu] % L) + L) % L;
  }
  return i;
}

std::vector<int> Geometry::global_coords(std::int64_t index) const {
  std::vector<int> x(dim());
  for (int mu = dim() - 1; mu >= 0; --mu) {
    x[mu] = static_cast<int>(index % global_dims_[mu]);
    index /= global_dims_[mu];
  }
  return x;
}

}  // namespace latdiff
