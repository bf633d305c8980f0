// Distributed discrete Fourier transform of lattice fields whose result is bitwise independent
// of the number of ranks and of the process grid (DESIGN.md §5: same deck and seed => same
// chain on any number of ranks, also for Fourier-accelerated samplers).
//
// Conventions (DESIGN.md §1): x~(p) = sum_x e^{-ip.x} x(x), p_mu = 2 pi n_mu / L_mu, and the
// inverse carries the 1/V. The d-dimensional transform is done as 1-D transforms along one axis
// at a time, in a fixed order. Every line of an axis is transformed by the same serial FFTW plan,
// made on a scratch buffer of fixed alignment, so a line gets the same arithmetic whichever rank
// holds it: strided lines are copied into scratch (complex ones two at a time, into the two
// slots of a two-line plan that construction checks to treat both slots alike), contiguous ones
// are transformed where they lie when their alignment meets FFTW's condition for reusing the
// plan. Lines along a split axis are gathered on one rank of the sub-communicator of that axis,
// transformed whole and sent back (nonblocking MPI_Ialltoallv), optionally in a pipeline of up
// to four chunks of lines, each of at least min_chunk_numbers numbers per rank (constructor):
// the next chunk arrives and the finished ones return while a chunk is transformed. Only data
// movement differs with the chunks, so the result does not depend on them. The nonblocking
// collectives run on the object's own sub-communicators and all complete before a call returns.
//
// Complex transforms: axes mu = d-1, ..., 0, every line. Real transforms use the Hermitian
// symmetry x~(-p) = conj x~(p) of a real field's spectrum and compute only the half
// H = {n_{d-1} <= L_{d-1}/2} (FFTW's r2c layout), with about half the arithmetic:
//   forward: r2c lines along d-1, then complex lines along d-2, ..., 0 within H; the other
//            momenta are then copied exactly as conj x~(-p) (an all-to-all when the grid is
//            split), so the spectrum is Hermitian bit for bit outside the planes n_{d-1} = 0
//            and L_{d-1}/2 and up to rounding on them;
//   inverse: complex lines along 0, ..., d-2 within H, then c2r lines along d-1.
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
#include <limits>
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
  // The smallest chunk of the pipelined exchange, in numbers per rank; below twice it a pass
  // is one exchange. The default never pipelines: on one node Open MPI moves shared-memory
  // messages only inside MPI calls, so chunks add messages without overlap (bench_scaling's
  // FFT pair on 2 ranks of the 2-core VM: 4 chunks of 2^16 or more 3-9 % slower than one, one
  // as fast as the blocking MPI_Alltoallv or 1-3 % faster). 2^16 (1 MiB) is where to start
  // on an interconnect that progresses on its own.
  static constexpr std::size_t kUnpipelined = std::numeric_limits<std::size_t>::max();

  // Collective over g.comm(), with the same min_chunk_numbers on every rank (tests pass small
  // values to pipeline small lattices). `g` must outlive the object. Creates the FFTW plans (not
  // thread-safe: construct from one thread) and all communication buffers. Discards FFTW's
  // accumulated wisdom before planning, so that the plans depend on the line length only.
  explicit DistributedFft(const Geometry& g, std::size_t min_chunk_numbers = kUnpipelined);
  // Collective over g.comm(): frees the per-axis sub-communicators.
  ~DistributedFft();
  DistributedFft(const DistributedFft&) = delete;
  DistributedFft& operator=(const DistributedFft&) = delete;

  // Collective. out = x~(p) = sum_x e^{-ip.x} x(x) of the interior of the real field x (its
  // halo is ignored); out is resized to local_size(). Hermitian as described above.
  void forward(const Field& x, ComplexField& out);
  // Collective. Interior of out (halo untouched) = (1/V) sum_p e^{+ip.x} in(p) for Hermitian
  // input, in(-p) = conj in(p) up to rounding: a real field's spectrum times a real kernel even
  // in p, as every caller passes (FourierKernel::apply, FreeFieldScore::score and ::sample,
  // LinearScore::score). Only the momenta in H are read: the result is the real inverse of
  // the Hermitian spectrum that equals `in` on H (on the planes n_{d-1} = 0 and L_{d-1}/2, its
  // Hermitian part (in(p) + conj in(-p)) / 2), which for other input is not the real part of
  // the complex inverse. forward followed by inverse is the identity up to rounding.
  // in.size() must be local_size().
  void inverse(const ComplexField& in, Field& out);
  // Collective, in place, complex to complex: sign -1 forward, sign +1 with 1/V inverse.
  // data.size() must be local_size().
  void forward(ComplexField& data);
  void inverse(ComplexField& data);

  std::size_t local_size() const { return local_size_; }

 private:
  using Complex = std::complex<double>;

  // One stage of a split axis's pipelined exchange: this rank's lines [begin, end) of the
  // selection, and the messages that bring them (and every other sub-rank's share of the
  // stage) in and send them back, in elements of the two buffers.
  struct Chunk {
    std::size_t begin = 0, end = 0;
    std::vector<int> seg_counts, seg_displs;    // per sub-rank, in the segment-major buffer
    std::vector<int> line_counts, line_displs;  // per sub-rank, in the assembled-line buffer
  };
  // Which segments of an axis a pass transforms, and how they travel when the axis is split.
  struct Selection {
    std::size_t keep = 0;          // the first `keep` segments of every group (Axis::group)
    std::size_t my_lines = 0;      // whole lines this rank transforms for the sub-communicator
    std::vector<int> line_displs;  // per sub-rank, its segments in the assembled-line buffer
    std::vector<Chunk> chunks;     // the same number on every sub-rank
  };
  // Everything one axis pass needs; comm is MPI_COMM_NULL when the axis is not split.
  struct Axis {
    int length = 1;            // global extent L_mu (the length of a whole line)
    int local = 1;             // local extent l_mu (the length of a local segment)
    std::size_t stride = 1;    // distance of neighbouring line elements in the local array
    std::size_t segments = 0;  // number of local segments, V_local / l_mu
    // Segments t come in groups of `group` consecutive t, adjacent in memory (one per local
    // n_{d-1}, for mu < d-1; single segments for mu = d-1), so H selects a prefix of a group.
    std::size_t group = 1;
    MPI_Comm comm = MPI_COMM_NULL;
    int procs = 1;
    Selection all;   // every segment (complex transforms)
    Selection half;  // the segments in H (real transforms; mu < d-1)

    // Local index of element 0 of segment t (t in local row-major order of the other
    // coordinates); the segment's elements are `stride` apart.
    std::size_t segment_start(std::size_t t) const {
      return (t / stride) * local * stride + t % stride;
    }
  };
  // n consecutive values of the Hermitian fill, from src on (stepping down, or up in a receive
  // buffer) to dst on (stepping up); see plan_mirror.
  struct Run {
    std::size_t dst, src, n;
  };
  // A complex plan of length `length` on `lines` scratch lines at once (see the constructor).
  struct LinePlan {
    fftw_plan plan = nullptr;
    int length = 1;
    std::size_t lines = 1;
  };

  // The exchange of s.keep segments per group on the rank at coordinate `me` of a's axis.
  void plan_selection(const Axis& a, std::size_t me, Selection& s);
  void plan_mirror();
  // In-place d-dimensional transform with FFTW sign `sign`; forward and inverse share it.
  void transform(ComplexField& data, int sign);
  // One complex pass over the selected lines of axis a, from src to dst (which may be equal).
  void pass(const Axis& a, const Selection& s, const Complex* src, Complex* dst,
            const LinePlan& plan);
  void local_pass(const Axis& a, std::size_t keep, const Complex* src, Complex* dst,
                  const LinePlan& plan);
  void distributed_pass(const Axis& a, const Selection& s, const Complex* src, Complex* dst,
                        const LinePlan& plan);
  // The exchange of a split axis, chunk by chunk: MPI_Ialltoallv of each chunk's segments from
  // `segments` into the line buffer `lines`, f(begin, end) on this rank's lines of it (from
  // `lines` into `out_lines`), and MPI_Ialltoallv back from `out_lines` into `out_segments`.
  // Chunk c+1 arrives, and chunks up to c-1 return, while chunk c is transformed.
  template <class F>
  void pipeline(const Axis& a, const Selection& s, const void* segments, void* lines,
                MPI_Datatype type, const void* out_lines, void* out_segments, MPI_Datatype out_type,
                F&& f);
  // Runs `plan` on scratch lines [0, lines), padding them with zero lines to its batch.
  void run_lines(const LinePlan& plan, std::size_t lines);
  // The real passes along axis d-1: r2c into H of `out`, and c2r of H of `in` with the 1/V.
  void r2c_pass(const Field& x, Complex* out);
  void c2r_pass(const Complex* in, Field& out);
  // Sets the momenta outside H (n_{d-1} > L_{d-1}/2) of a real field's spectrum to conj x~(-p).
  void mirror_fill(Complex* data);
  // FFTW's condition for running a plan made on scratch_ on another array (new-array execute):
  // the same SIMD alignment. The plan, hence every operation, is the same either way, so this
  // only decides whether a contiguous line needs a copy into scratch_.
  bool runs_on(const Complex* p) const {
    return fftw_alignment_of(reinterpret_cast<double*>(const_cast<Complex*>(p))) ==
           fftw_alignment_of(reinterpret_cast<double*>(scratch_));
  }
  Complex* scratch_line(std::size_t b) const {
    return reinterpret_cast<Complex*>(scratch_) + b * pitch_;
  }

  const Geometry& g_;
  std::size_t local_size_ = 0;
  std::size_t min_chunk_ = kUnpipelined;
  std::vector<Axis> axes_;
  std::map<std::pair<int, int>, LinePlan> plans_;  // (length, sign) -> plan on scratch_
  fftw_plan r2c_ = nullptr, c2r_ = nullptr;        // length L_{d-1}, rscratch_ <-> scratch_
  // fftw_malloc'ed, so of fixed SIMD alignment: kBatch lines pitch_ apart (a multiple of 64
  // bytes, so every line has the alignment of the first), and one real line.
  fftw_complex* scratch_ = nullptr;
  double* rscratch_ = nullptr;
  std::size_t pitch_ = 0;
  ComplexField segments_;                           // local segments, line by line
  ComplexField lines_;                              // received segments of whole lines
  ComplexField work_;                               // for the real-field inverse
  std::vector<double> real_segments_, real_lines_;  // the same for a split last axis, real
  std::vector<MPI_Request> requests_;               // of pipeline: in, then back, per chunk
  // The Hermitian fill: runs within this rank, and of the all-to-all over g.comm().
  std::vector<Run> mirror_local_, mirror_send_, mirror_recv_;
  std::vector<int> mirror_send_counts_, mirror_send_displs_;
  std::vector<int> mirror_recv_counts_, mirror_recv_displs_;
  ComplexField mirror_send_buffer_, mirror_recv_buffer_;
};

// Lattice momentum squared p^2 = sum_mu 4 sin^2(p_mu / 2) of every local momentum, in the
// momentum-space layout above. Local, not collective.
std::vector<double> lattice_momentum_squared(const Geometry& g);
// The largest phat^2 on the lattice: per axis n_mu = floor(L_mu / 2) (p_mu = pi for even L_mu),
// with the arithmetic of lattice_momentum_squared. From the global extents: no communication.
double max_lattice_momentum_squared(const Geometry& g);

}  // namespace latdiff
