#include "observables/block_spin.hpp"

#include <mpi.h>

#include <climits>
#include <cmath>
#include <stdexcept>

#include "lattice/exact_sum.hpp"

namespace latdiff {

namespace {

bool all_even(const std::vector<int>& dims) {
  for (int l : dims)
    if (l % 2 != 0) return false;
  return true;
}

std::vector<int> halved(const std::vector<int>& dims) {
  std::vector<int> out;
  for (int l : dims) out.push_back(l / 2);
  return out;
}

// Collective over g.comm(): the interior of phi copied into `replica`, a Geometry of the same
// extents over MPI_COMM_SELF (its local row-major order is the global one).
void replicate(const Geometry& g, const Field& phi, const Geometry& replica, Field& out) {
  if (g.global_volume() > INT_MAX)
    throw std::overflow_error("BlockSpin: level too large to replicate on every rank");
  std::vector<double> all(static_cast<std::size_t>(g.global_volume()), 0.0);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { all[gi] = phi[p]; });
  // One non-zero term per element: the sum is an exact gather.
  MPI_Allreduce(MPI_IN_PLACE, all.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM,
                g.comm());
  unpack_interior(replica, all, out);
}

}  // namespace

LevelMeasurement measure_level(const Geometry& g, const Field& phi) {
  std::vector<ExactSum> sums(3);  // sum phi, sum phi^2, sum_{x, mu} phi_x phi_{x + mu}
  const int d = g.dim();
  for_each_site(g, [&](std::size_t p, std::int64_t) {
    const double x = phi[p];
    double forward = 0;
    for (int mu = 0; mu < d; ++mu) forward += phi[p + g.stride(mu)];
    sums[0].add(x);
    sums[1].add(x * x);
    sums[2].add(x * forward);
  });
  allreduce_each(sums, g.comm());
  const double v = static_cast<double>(g.global_volume());
  return {sums[0].value() / v, sums[1].value() / v, sums[2].value() / (d * v),
          lowest_momenta(g, phi)};
}

void block_average(const Geometry& fine, const Field& phi, const Geometry& coarse, Field& out) {
  const int d = fine.dim();
  if (coarse.global_dims() != halved(fine.global_dims()) || !all_even(fine.global_dims()) ||
      coarse.procs() != fine.procs() || !all_even(fine.local_dims()))
    throw std::invalid_argument(
        "block_average: the coarse lattice must halve every extent on the same process grid, "
        "with even local extents");
  // Padded offsets of the 2^d sites of a block from its first site; corner c has offset
  // (c >> mu) & 1 along mu. Always summed in this order.
  std::vector<std::ptrdiff_t> corner(std::size_t{1} << d, 0);
  for (std::size_t c = 0; c < corner.size(); ++c)
    for (int mu = 0; mu < d; ++mu)
      if ((c >> mu) & 1) corner[c] += fine.stride(mu);
  const double weight = std::ldexp(1.0, -d);
  const int n = coarse.row_length();
  for (std::size_t r = 0; r < coarse.row_count(); ++r) {
    std::vector<int> x = coarse.global_coords(coarse.row_global_start(r));
    for (int mu = 0; mu < d; ++mu) x[mu] = 2 * (x[mu] - coarse.offset()[mu]);
    const std::size_t fine_start = fine.padded_index(x);
    const std::size_t coarse_start = coarse.row_start(r);
    for (int j = 0; j < n; ++j) {
      const std::size_t base = fine_start + 2 * static_cast<std::size_t>(j);
      double sum = 0;
      for (std::ptrdiff_t off : corner) sum += phi[base + off];
      out[coarse_start + j] = sum * weight;
    }
  }
}

BlockSpin::BlockSpin(const Geometry& g, int max_level) : g_(g) {
  const Geometry* current = &g;
  for (int k = 1; k <= max_level; ++k) {
    const std::vector<int>& dims = current->global_dims();
    bool blockable = all_even(dims);
    for (int l : dims) blockable = blockable && l >= 4;
    if (!blockable) break;
    Level level;
    if (!all_even(current->local_dims())) {
      level.replica_g =
          std::make_unique<Geometry>(dims, std::vector<int>(dims.size(), 1), MPI_COMM_SELF);
      level.replica_phi = make_field(*level.replica_g);
    }
    const Geometry& source = level.replica_g ? *level.replica_g : *current;
    level.g = std::make_unique<Geometry>(halved(dims), source.procs(), source.comm());
    level.halo = std::make_unique<HaloExchange>(*level.g);
    level.phi = make_field(*level.g);
    levels_.push_back(std::move(level));
    current = levels_.back().g.get();
  }
}

void BlockSpin::block(const Field& phi) {
  const Geometry* source_g = &g_;
  const Field* source = &phi;
  for (Level& level : levels_) {
    if (level.replica_g) {
      replicate(*source_g, *source, *level.replica_g, level.replica_phi);
      source_g = level.replica_g.get();
      source = &level.replica_phi;
    }
    block_average(*source_g, *source, *level.g, level.phi);
    level.halo->exchange(level.phi);
    source_g = level.g.get();
    source = &level.phi;
  }
}

std::vector<LevelMeasurement> BlockSpin::measure(const Field& phi) {
  block(phi);
  std::vector<LevelMeasurement> out;
  out.push_back(measure_level(g_, phi));
  for (const Level& level : levels_) out.push_back(measure_level(*level.g, level.phi));
  return out;
}

}  // namespace latdiff
