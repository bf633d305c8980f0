// Distributed discrete Fourier transform of lattice fields whose result is bitwise independent
// of the number of ranks and of the process grid (DESIGN.md §5: same deck and seed => same
// chain on any number of ranks, also for Fourier-accelerated samplers).
//
// Conventions (DESIGN.md §1): x~(p) = sum_x e^{-ip.x} x(x), p_mu = 2 pi n_mu / L_mu, and the
// inverse carries the 1/V. The d-dimensional transform is done as 1-D transforms along the
// axes mu = d-1, ..., 0 (always this order). Every line is copied into one scratch buffer and
// transformed there by the same serial FFTW plan, so a line gets the same arithmetic whichever
// rank holds it. Lines along a split axis are gathered on one rank of the sub-communicator of
// that axis (MPI_Alltoallv), transformed whole and sent back.
//
// Momentum-space layout: the same block decomposition as the field (rank holds the momenta
// n_mu in [offset_mu, offset_mu + local_dims_mu)), unpadded, in local row-major order with the
// last dimension fastest, i.e. the interior order of for_each_site. Kernels that are diagonal
// in momentum space are therefore purely local. The real-input transform keeps the full
// complex spectrum (no half-spectrum r2c storage) so that this layout and its locality hold.
//
// Bitwise independence assumes every rank runs the same FFTW library on CPUs with the same
// SIMD features (FFTW picks its SIMD codelets at run time).
#pragma once

#include <fftw3.h>
#include <mpi.h>

#include <complex>
#include <cstddef>
#include <map>
#include <utility>
#include <vector>

#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

// Local block of momenta, local row-major, unpadded (layout above).
using ComplexField = std::vector<std::complex<double>>;

class DistributedFft {
 public:
  // Collective over g.comm(). `g` must outlive the object. Creates the FFTW plans (not
  // thread-safe: construct from one thread) and all communication buffers. Discards FFTW's
  // accumulated wisdom before planning, so that the plans depend on the line length only.
  explicit DistributedFft(const Geometry& g);
  // Collective over g.comm(): frees the per-axis sub-communicators.
  ~DistributedFft();
  DistributedFft(const DistributedFft&) = delete;
  DistributedFft& operator=(const DistributedFft&) = delete;

  // Collective. out = x~(p) = sum_x e^{-ip.x} x(x) of the interior of the real field x (its
  // halo is ignored); out is resized to local_size().
  void forward(const Field& x, ComplexField& out);
  // Collective. x(x) = (1/V) sum_p e^{+ip.x} in(p); its real part is written into the interior
  // of `out` (halo untouched). forward followed by inverse is the identity up to rounding.
  void inverse(const ComplexField& in, Field& out);
  // Collective, in place, complex to complex: sign -1 forward, sign +1 with 1/V inverse.
  // data.size() must be local_size().
  void forward(ComplexField& data);
  void inverse(ComplexField& data);

  std::size_t local_size() const { return local_size_; }

 private:
  // Everything one axis pass needs; comm is MPI_COMM_NULL when the axis is not split.
  struct Axis {
    int length = 1;            // global extent L_mu (the length of a whole line)
    int local = 1;             // local extent l_mu (the length of a local segment)
    std::size_t stride = 1;    // distance of neighbouring line elements in the local array
    std::size_t segments = 0;  // number of local segments, V_local / l_mu
    MPI_Comm comm = MPI_COMM_NULL;
    int procs = 1;
    std::size_t my_lines = 0;  // whole lines this rank transforms for the sub-communicator
    std::vector<int> seg_counts, seg_displs;    // per sub-rank, in the segment-major buffer
    std::vector<int> line_counts, line_displs;  // per sub-rank, in the assembled-line buffer

    // Local index of element 0 of segment t (t in local row-major order of the other
    // coordinates); the segment's elements are `stride` apart.
    std::size_t segment_start(std::size_t t) const {
      return (t / stride) * local * stride + t % stride;
    }
  };

  // In-place d-dimensional transform with FFTW sign `sign`; forward and inverse share it.
  void transform(ComplexField& data, int sign);
  void local_pass(const Axis& a, std::complex<double>* data, fftw_plan plan);
  void distributed_pass(const Axis& a, std::complex<double>* data, fftw_plan plan);
  // Transforms the line in scratch_[0, length) in place.
  void transform_scratch(fftw_plan plan);

  const Geometry& g_;
  std::size_t local_size_ = 0;
  std::vector<Axis> axes_;
  std::map<std::pair<int, int>, fftw_plan> plans_;  // (length, sign) -> plan on scratch_
  fftw_complex* scratch_ = nullptr;                 // fftw_malloc'ed: fixed SIMD alignment
  ComplexField segments_;                           // local segments, line by line
  ComplexField lines_;                              // received segments of whole lines
  ComplexField work_;                               // for the real-field inverse
};

// Lattice momentum squared p^2 = sum_mu 4 sin^2(p_mu / 2) of every local momentum, in the
// momentum-space layout above. Local, not collective.
std::vector<double> lattice_momentum_squared(const Geometry& g);
// The largest phat^2 on the lattice: per axis n_mu = floor(L_mu / 2) (p_mu = pi for even L_mu),
// with the arithmetic of lattice_momentum_squared. From the global extents: no communication.
double max_lattice_momentum_squared(const Geometry& g);

}  // namespace latdiff
