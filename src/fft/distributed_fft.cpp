#include "fft/distributed_fft.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace latdiff {

namespace {

using Complex = std::complex<double>;

int to_int(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX))
    throw std::overflow_error("DistributedFft: local block too large for MPI counts");
  return static_cast<int>(n);
}

void copy_strided(const Complex* src, std::size_t src_stride, Complex* dst, std::size_t dst_stride,
                  int n) {
  for (int k = 0; k < n; ++k) dst[k * dst_stride] = src[k * src_stride];
}

}  // namespace

DistributedFft::DistributedFft(const Geometry& g)
    : g_(g), local_size_(static_cast<std::size_t>(g.local_volume())) {
  to_int(local_size_);  // MPI counts are int; fail before any communicator exists
  const int d = g.dim();
  axes_.resize(d);
  std::size_t stride = 1, lines_size = 0;
  int max_length = 1;
  for (int mu = d - 1; mu >= 0; --mu) {
    Axis& a = axes_[mu];
    a.length = g.global_dims()[mu];
    a.local = g.local_dims()[mu];
    a.stride = stride;
    a.segments = local_size_ / a.local;
    a.procs = g.procs()[mu];
    stride *= a.local;
    max_length = std::max(max_length, a.length);
    if (a.procs == 1) continue;

    // Sub-rank j (= coordinate mu, MPI_Cart_sub keeps the Cartesian order) holds the part
    // [j*l, (j+1)*l) of every line; sub-rank k transforms lines [k n/P, (k+1) n/P).
    std::vector<int> remain(d, 0);
    remain[mu] = 1;
    MPI_Cart_sub(g.comm(), remain.data(), &a.comm);
    const std::size_t l = a.local, n = a.segments, P = a.procs;
    auto first = [&](std::size_t k) { return k * n / P; };
    const std::size_t me = g.coords()[mu];
    a.my_lines = first(me + 1) - first(me);
    a.seg_counts.resize(P);
    a.seg_displs.resize(P);
    a.line_counts.resize(P);
    a.line_displs.resize(P);
    for (std::size_t k = 0; k < P; ++k) {
      a.seg_counts[k] = to_int((first(k + 1) - first(k)) * l);
      a.seg_displs[k] = to_int(first(k) * l);
      a.line_counts[k] = to_int(a.my_lines * l);
      a.line_displs[k] = to_int(k * a.my_lines * l);
    }
    lines_size = std::max(lines_size, a.my_lines * a.length);
  }

  scratch_ = fftw_alloc_complex(static_cast<std::size_t>(max_length));
  for (const Axis& a : axes_) {
    for (int sign : {FFTW_FORWARD, FFTW_BACKWARD}) {
      if (plans_.count({a.length, sign})) continue;
      // Wisdom (e.g. from FFTW_MEASURE planning elsewhere in the process) would override the
      // estimate and could make the plan differ between processes; plan from nothing.
      fftw_forget_wisdom();
      const fftw_plan plan = fftw_plan_dft_1d(a.length, scratch_, scratch_, sign, FFTW_ESTIMATE);
      if (!plan)
        throw std::runtime_error("DistributedFft: FFTW could not plan length " +
                                 std::to_string(a.length));
      plans_[{a.length, sign}] = plan;
    }
  }
  segments_.resize(local_size_);
  lines_.resize(lines_size);
  work_.reserve(local_size_);
}

DistributedFft::~DistributedFft() {
  for (auto& [key, plan] : plans_) fftw_destroy_plan(plan);
  fftw_free(scratch_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  for (Axis& a : axes_)
    if (a.comm != MPI_COMM_NULL) MPI_Comm_free(&a.comm);
}

void DistributedFft::forward(const Field& x, ComplexField& out) {
  if (x.size() != g_.storage_size())
    throw std::invalid_argument("DistributedFft::forward: field size does not match geometry");
  out.resize(local_size_);
  std::size_t c = 0;
  for_each_site(g_, [&](std::size_t p, std::int64_t) { out[c++] = Complex(x[p], 0.0); });
  transform(out, FFTW_FORWARD);
}

void DistributedFft::inverse(const ComplexField& in, Field& out) {
  if (out.size() != g_.storage_size())
    throw std::invalid_argument("DistributedFft::inverse: field size does not match geometry");
  work_.assign(in.begin(), in.end());
  transform(work_, FFTW_BACKWARD);
  std::size_t c = 0;
  for_each_site(g_, [&](std::size_t p, std::int64_t) { out[p] = work_[c++].real(); });
}

void DistributedFft::forward(ComplexField& data) {
  transform(data, FFTW_FORWARD);
}

void DistributedFft::inverse(ComplexField& data) {
  transform(data, FFTW_BACKWARD);
}

void DistributedFft::transform(ComplexField& data, int sign) {
  if (data.size() != local_size_)
    throw std::invalid_argument("DistributedFft: data has " + std::to_string(data.size()) +
                                " momenta, the local block " + std::to_string(local_size_));
  // Fixed axis order: the rounding of the result depends on it.
  for (int mu = g_.dim() - 1; mu >= 0; --mu) {
    const Axis& a = axes_[mu];
    const fftw_plan plan = plans_.at({a.length, sign});
    if (a.comm == MPI_COMM_NULL)
      local_pass(a, data.data(), plan);
    else
      distributed_pass(a, data.data(), plan);
  }
  if (sign == FFTW_BACKWARD) {
    const double volume = static_cast<double>(g_.global_volume());
    for (Complex& z : data) z /= volume;
  }
}

void DistributedFft::local_pass(const Axis& a, Complex* data, fftw_plan plan) {
  Complex* line = reinterpret_cast<Complex*>(scratch_);
  for (std::size_t t = 0; t < a.segments; ++t) {
    Complex* seg = data + a.segment_start(t);
    copy_strided(seg, a.stride, line, 1, a.local);
    transform_scratch(plan);
    copy_strided(line, 1, seg, a.stride, a.local);
  }
}

void DistributedFft::distributed_pass(const Axis& a, Complex* data, fftw_plan plan) {
  const int l = a.local;
  for (std::size_t t = 0; t < a.segments; ++t)
    copy_strided(data + a.segment_start(t), a.stride, segments_.data() + t * l, 1, l);
  MPI_Alltoallv(segments_.data(), a.seg_counts.data(), a.seg_displs.data(), MPI_C_DOUBLE_COMPLEX,
                lines_.data(), a.line_counts.data(), a.line_displs.data(), MPI_C_DOUBLE_COMPLEX,
                a.comm);
  // From sub-rank j come my_lines segments of length l, each the part at j*l of a line.
  Complex* line = reinterpret_cast<Complex*>(scratch_);
  for (std::size_t t = 0; t < a.my_lines; ++t) {
    for (int j = 0; j < a.procs; ++j)
      std::copy_n(lines_.data() + a.line_displs[j] + t * l, l, line + j * l);
    transform_scratch(plan);
    for (int j = 0; j < a.procs; ++j)
      std::copy_n(line + j * l, l, lines_.data() + a.line_displs[j] + t * l);
  }
  MPI_Alltoallv(lines_.data(), a.line_counts.data(), a.line_displs.data(), MPI_C_DOUBLE_COMPLEX,
                segments_.data(), a.seg_counts.data(), a.seg_displs.data(), MPI_C_DOUBLE_COMPLEX,
                a.comm);
  for (std::size_t t = 0; t < a.segments; ++t)
    copy_strided(segments_.data() + t * l, 1, data + a.segment_start(t), a.stride, l);
}

void DistributedFft::transform_scratch(fftw_plan plan) {
  fftw_execute_dft(plan, scratch_, scratch_);
}

std::vector<double> lattice_momentum_squared(const Geometry& g) {
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(g.local_volume()));
  for_each_site(g, [&](std::size_t, std::int64_t gi) {
    const std::vector<int> n = g.global_coords(gi);
    double p2 = 0;
    for (int mu = 0; mu < g.dim(); ++mu) {
      const double s = std::sin(std::numbers::pi * n[mu] / g.global_dims()[mu]);
      p2 += 4 * s * s;
    }
    out.push_back(p2);
  });
  return out;
}

double max_lattice_momentum_squared(const Geometry& g) {
  double p2 = 0;
  for (int l : g.global_dims()) {
    const double s = std::sin(std::numbers::pi * (l / 2) / l);
    p2 += 4 * s * s;
  }
  return p2;
}

}  // namespace latdiff
