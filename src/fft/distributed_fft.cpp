#include "fft/distributed_fft.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

namespace latdiff {

namespace {

using Complex = std::complex<double>;

// Lines moved through scratch together: whole cache lines of strided data per access.
constexpr std::size_t kBatch = 8;

// The pipelined exchange of a split axis: at most kChunks chunks, and a test for progress
// after every kSliceLines transformed lines.
constexpr std::size_t kChunks = 4, kSliceLines = 8;

int to_int(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX))
    throw std::overflow_error("DistributedFft: local block too large for MPI counts");
  return static_cast<int>(n);
}

// dst[b * pitch + k] = src[b + k * stride] for b < lines, k < n: `lines` lines that are adjacent
// in memory into rows `pitch` apart, and back. Each number moves as one 16-byte unit, and a full
// batch has a fixed count, so that the inner loop unrolls.
template <class Count>
void gather_n(const Complex* src, std::size_t stride, Count lines, int n, Complex* dst,
              std::size_t pitch) {
  for (int k = 0; k < n; ++k)
    for (std::size_t b = 0; b < lines; ++b)
      std::memcpy(dst + b * pitch + k, src + b + k * stride, sizeof(Complex));
}

template <class Count>
void scatter_n(const Complex* src, std::size_t pitch, Count lines, int n, Complex* dst,
               std::size_t stride) {
  for (int k = 0; k < n; ++k)
    for (std::size_t b = 0; b < lines; ++b)
      std::memcpy(dst + b + k * stride, src + b * pitch + k, sizeof(Complex));
}

using FullBatch = std::integral_constant<std::size_t, kBatch>;

void gather(const Complex* src, std::size_t stride, std::size_t lines, int n, Complex* dst,
            std::size_t pitch) {
  if (lines == kBatch)
    gather_n(src, stride, FullBatch(), n, dst, pitch);
  else
    gather_n(src, stride, lines, n, dst, pitch);
}

void scatter(const Complex* src, std::size_t pitch, std::size_t lines, int n, Complex* dst,
             std::size_t stride) {
  if (lines == kBatch)
    scatter_n(src, pitch, FullBatch(), n, dst, stride);
  else
    scatter_n(src, pitch, lines, n, dst, stride);
}

// Calls f(start, lines) for the selected segments of axis a (the first `keep` of every group),
// in order, in runs of at most kBatch segments that start at local index `start`.
template <class A, class F>
void for_each_run(const A& a, std::size_t keep, F&& f) {
  for (std::size_t u = 0; u < a.segments; u += a.group)
    for (std::size_t b = 0; b < keep; b += kBatch)
      f(a.segment_start(u) + b, std::min(kBatch, keep - b));
}

// Whole line t from the segments of every sub-rank in the assembled-line buffer, and back.
template <class T, class S>
void assemble(const S& s, int procs, int l, const T* lines, std::size_t t, T* line) {
  for (int j = 0; j < procs; ++j) std::copy_n(lines + s.line_displs[j] + t * l, l, line + j * l);
}

template <class T, class S>
void disperse(const S& s, int procs, int l, const T* line, std::size_t t, T* lines) {
  for (int j = 0; j < procs; ++j) std::copy_n(line + j * l, l, lines + s.line_displs[j] + t * l);
}

// Whether the two-line plan gives a test line the same bits in both of its slots.
bool slots_agree(fftw_plan plan, Complex* first, Complex* second, int n) {
  for (int k = 0; k < n; ++k) {
    const auto h = static_cast<std::uint32_t>(k) * 2654435761u;
    first[k] = second[k] = Complex(h % 1000003 / 1000003.0 - 0.5, h % 999983 / 999983.0 - 0.5);
  }
  fftw_execute_dft(plan, reinterpret_cast<fftw_complex*>(first),
                   reinterpret_cast<fftw_complex*>(first));
  return std::memcmp(first, second, n * sizeof(Complex)) == 0;
}

// H along axis d-1: local n_{d-1} < kept_rows(g) (a prefix, as H is n_{d-1} <= L/2).
std::size_t kept_rows(const Geometry& g) {
  const int last = g.dim() - 1;
  const int upto = g.global_dims()[last] / 2 - g.offset()[last] + 1;
  return static_cast<std::size_t>(std::clamp(upto, 0, g.local_dims()[last]));
}

}  // namespace

DistributedFft::DistributedFft(const Geometry& g, std::size_t min_chunk_numbers)
    : g_(g),
      local_size_(static_cast<std::size_t>(g.local_volume())),
      min_chunk_(std::max<std::size_t>(1, min_chunk_numbers)) {
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
    a.group = mu == d - 1 ? 1 : static_cast<std::size_t>(g.local_dims()[d - 1]);
    a.procs = g.procs()[mu];
    a.all.keep = a.group;
    if (mu < d - 1) a.half.keep = kept_rows(g);
    stride *= a.local;
    max_length = std::max(max_length, a.length);
    if (a.procs == 1) continue;

    std::vector<int> remain(d, 0);
    remain[mu] = 1;
    MPI_Cart_sub(g.comm(), remain.data(), &a.comm);
    plan_selection(a, g.coords()[mu], a.all);
    if (mu < d - 1) plan_selection(a, g.coords()[mu], a.half);
    lines_size = std::max(lines_size, a.all.my_lines * a.length);
  }

  pitch_ = (static_cast<std::size_t>(max_length) + 3) / 4 * 4;
  scratch_ = fftw_alloc_complex(kBatch * pitch_);
  const int last = g.global_dims()[d - 1];
  rscratch_ = fftw_alloc_real(static_cast<std::size_t>(last));
  // Wisdom (e.g. from FFTW_MEASURE planning elsewhere in the process) would override the
  // estimate and could make a plan differ between processes; plan every one from nothing.
  auto checked = [](fftw_plan plan, int length) {
    if (!plan)
      throw std::runtime_error("DistributedFft: FFTW could not plan length " +
                               std::to_string(length));
    return plan;
  };
  // Complex lines go through FFTW two at a time: its SIMD codelets then hold one line per
  // vector lane (or it loops over the lines), about twice as fast for short lines. A line must
  // get the same arithmetic in either slot; that is checked here on a test line, and a plan
  // that fails it is replaced by one for single lines.
  for (const Axis& a : axes_) {
    for (int sign : {FFTW_FORWARD, FFTW_BACKWARD}) {
      if (plans_.count({a.length, sign})) continue;
      const int n = a.length;
      fftw_forget_wisdom();
      LinePlan p{
          checked(fftw_plan_many_dft(1, &n, 2, scratch_, nullptr, 1, to_int(pitch_), scratch_,
                                     nullptr, 1, to_int(pitch_), sign, FFTW_ESTIMATE),
                  n),
          n, 2};
      if (!slots_agree(p.plan, scratch_line(0), scratch_line(1), n)) {
        fftw_destroy_plan(p.plan);
        fftw_forget_wisdom();
        p = {checked(fftw_plan_dft_1d(n, scratch_, scratch_, sign, FFTW_ESTIMATE), n), n, 1};
      }
      plans_[{n, sign}] = p;
    }
  }
  fftw_forget_wisdom();
  r2c_ = checked(fftw_plan_dft_r2c_1d(last, rscratch_, scratch_, FFTW_ESTIMATE), last);
  fftw_forget_wisdom();
  c2r_ = checked(fftw_plan_dft_c2r_1d(last, scratch_, rscratch_, FFTW_ESTIMATE), last);

  segments_.resize(local_size_);
  lines_.resize(lines_size);
  work_.resize(local_size_);
  if (axes_.back().comm != MPI_COMM_NULL) {
    real_segments_.resize(local_size_);
    real_lines_.resize(axes_.back().all.my_lines * static_cast<std::size_t>(last));
  }
  plan_mirror();
}

DistributedFft::~DistributedFft() {
  for (auto& [key, p] : plans_) fftw_destroy_plan(p.plan);
  fftw_destroy_plan(r2c_);
  fftw_destroy_plan(c2r_);
  fftw_free(scratch_);
  fftw_free(rscratch_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  for (Axis& a : axes_)
    if (a.comm != MPI_COMM_NULL) MPI_Comm_free(&a.comm);
}

// Sub-rank j (= coordinate mu, MPI_Cart_sub keeps the Cartesian order) holds the part
// [j*l, (j+1)*l) of every line; of the n selected segments, sub-rank k transforms the lines
// [k n/P, (k+1) n/P). Every sub-rank has the same n, since all share the coordinate d-1, hence
// the same number of chunks, as the collectives require. Chunk c holds the part
// [c m_k / C, (c+1) m_k / C) of the m_k lines of every sub-rank k.
void DistributedFft::plan_selection(const Axis& a, std::size_t me, Selection& s) {
  const std::size_t l = a.local, n = a.segments / a.group * s.keep, P = a.procs;
  const std::size_t chunks = std::clamp<std::size_t>(n * l / min_chunk_, 1, kChunks);
  auto first = [&](std::size_t k) { return k * n / P; };
  auto part = [&](std::size_t k, std::size_t c) { return c * (first(k + 1) - first(k)) / chunks; };
  s.my_lines = first(me + 1) - first(me);
  s.line_displs.resize(P);
  for (std::size_t k = 0; k < P; ++k) s.line_displs[k] = to_int(k * s.my_lines * l);
  s.chunks.resize(chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    Chunk& ch = s.chunks[c];
    ch.begin = part(me, c);
    ch.end = part(me, c + 1);
    ch.seg_counts.resize(P);
    ch.seg_displs.resize(P);
    ch.line_counts.resize(P);
    ch.line_displs.resize(P);
    for (std::size_t k = 0; k < P; ++k) {
      ch.seg_counts[k] = to_int((part(k, c + 1) - part(k, c)) * l);
      ch.seg_displs[k] = to_int((first(k) + part(k, c)) * l);
      ch.line_counts[k] = to_int((ch.end - ch.begin) * l);
      ch.line_displs[k] = to_int((k * s.my_lines + ch.begin) * l);
    }
  }
}

// The buffers' chunks are disjoint, so each exchange may be in flight while other chunks are
// read and written (also when segments and out_segments are one array).
template <class F>
void DistributedFft::pipeline(const Axis& a, const Selection& s, const void* segments, void* lines,
                              MPI_Datatype type, const void* out_lines, void* out_segments,
                              MPI_Datatype out_type, F&& f) {
  const std::size_t n = s.chunks.size();
  auto bring = [&](const Chunk& c, MPI_Request* r) {
    MPI_Ialltoallv(segments, c.seg_counts.data(), c.seg_displs.data(), type, lines,
                   c.line_counts.data(), c.line_displs.data(), type, a.comm, r);
  };
  auto send_back = [&](const Chunk& c, MPI_Request* r) {
    MPI_Ialltoallv(out_lines, c.line_counts.data(), c.line_displs.data(), out_type, out_segments,
                   c.seg_counts.data(), c.seg_displs.data(), out_type, a.comm, r);
  };
  requests_.assign(2 * n, MPI_REQUEST_NULL);
  bring(s.chunks[0], &requests_[0]);
  for (std::size_t k = 0; k < n; ++k) {
    if (k + 1 < n) bring(s.chunks[k + 1], &requests_[k + 1]);
    MPI_Wait(&requests_[k], MPI_STATUS_IGNORE);
    const Chunk& c = s.chunks[k];
    // Open MPI moves the data of nonblocking collectives only inside MPI calls; with one
    // chunk nothing is in flight.
    const std::size_t slice = n > 1 ? kSliceLines : std::max<std::size_t>(1, c.end - c.begin);
    for (std::size_t t = c.begin; t < c.end; t += slice) {
      f(t, std::min(t + slice, c.end));
      int done = 0;
      MPI_Testall(to_int(2 * n), requests_.data(), &done, MPI_STATUSES_IGNORE);
    }
    send_back(c, &requests_[n + k]);
  }
  MPI_Waitall(to_int(n), requests_.data() + n, MPI_STATUSES_IGNORE);
}

// Every momentum p outside H gets conj x~(-p), and -p lies in H. Runs (data, buffers as below):
//   mirror_local_: data[dst + k] = conj data[src - k]        (-p on this rank)
//   mirror_send_:  send[dst + k] = conj data[src - k]        (p on another rank)
//   mirror_recv_:  data[dst + k] = recv[src + k]
// A message holds its values in the receiver's local order of p.
void DistributedFft::plan_mirror() {
  // Appends the single-element run {dst, src, 1}, or extends the last run when it continues
  // it: dst up by one, src down (or up) by one.
  auto append = [](std::vector<Run>& runs, std::size_t dst, std::size_t src, bool src_down) {
    if (!runs.empty()) {
      Run& r = runs.back();
      if (r.dst + r.n == dst && (src_down ? r.src - r.n : r.src + r.n) == src) {
        ++r.n;
        return;
      }
    }
    runs.push_back({dst, src, 1});
  };
  const int d = g_.dim();
  const std::vector<int>& dims = g_.global_dims();
  const std::vector<int>& local = g_.local_dims();
  const int last = dims[d - 1], me = g_.rank(), ranks = g_.size();
  // (rank of the other end, receiver's local index of p, local index here)
  std::vector<std::tuple<int, std::size_t, std::size_t>> send, recv;
  std::vector<int> n(d), owner(d);
  std::size_t here = 0;
  for_each_site(g_, [&](std::size_t, std::int64_t gi) {
    n = g_.global_coords(gi);
    const int m = n[d - 1];
    const bool outside = 2 * m > last, source = m > 0 && 2 * m < last;
    if (outside || source) {
      std::size_t there = 0;
      for (int mu = 0; mu < d; ++mu) {
        const int q = (dims[mu] - n[mu]) % dims[mu];
        owner[mu] = q / local[mu];
        there = there * local[mu] + (q - owner[mu] * local[mu]);
      }
      int rank = 0;
      MPI_Cart_rank(g_.comm(), owner.data(), &rank);
      if (outside && rank == me)
        append(mirror_local_, here, there, true);
      else if (outside)
        recv.emplace_back(rank, here, here);
      else if (rank != me)
        send.emplace_back(rank, there, here);
    }
    ++here;
  });
  if (ranks == 1) return;

  std::sort(send.begin(), send.end());
  std::sort(recv.begin(), recv.end());
  mirror_send_counts_.assign(ranks, 0);
  mirror_recv_counts_.assign(ranks, 0);
  for (std::size_t i = 0; i < send.size(); ++i) {
    ++mirror_send_counts_[std::get<0>(send[i])];
    append(mirror_send_, i, std::get<2>(send[i]), true);
  }
  for (std::size_t i = 0; i < recv.size(); ++i) {
    ++mirror_recv_counts_[std::get<0>(recv[i])];
    append(mirror_recv_, std::get<2>(recv[i]), i, false);
  }
  mirror_send_displs_.assign(ranks, 0);
  mirror_recv_displs_.assign(ranks, 0);
  for (int r = 1; r < ranks; ++r) {
    mirror_send_displs_[r] = mirror_send_displs_[r - 1] + mirror_send_counts_[r - 1];
    mirror_recv_displs_[r] = mirror_recv_displs_[r - 1] + mirror_recv_counts_[r - 1];
  }
  mirror_send_buffer_.resize(send.size());
  mirror_recv_buffer_.resize(recv.size());
}

void DistributedFft::forward(const Field& x, ComplexField& out) {
  if (x.size() != g_.storage_size())
    throw std::invalid_argument("DistributedFft::forward: field size does not match geometry");
  out.resize(local_size_);
  r2c_pass(x, out.data());
  for (int mu = g_.dim() - 2; mu >= 0; --mu) {
    const Axis& a = axes_[mu];
    pass(a, a.half, out.data(), out.data(), plans_.at({a.length, FFTW_FORWARD}));
  }
  mirror_fill(out.data());
}

void DistributedFft::inverse(const ComplexField& in, Field& out) {
  if (out.size() != g_.storage_size())
    throw std::invalid_argument("DistributedFft::inverse: field size does not match geometry");
  if (in.size() != local_size_)
    throw std::invalid_argument("DistributedFft::inverse: spectrum has " +
                                std::to_string(in.size()) + " momenta, the local block " +
                                std::to_string(local_size_));
  const Complex* src = in.data();
  for (int mu = 0; mu < g_.dim() - 1; ++mu) {
    const Axis& a = axes_[mu];
    pass(a, a.half, src, work_.data(), plans_.at({a.length, FFTW_BACKWARD}));
    src = work_.data();
  }
  c2r_pass(src, out);
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
    pass(a, a.all, data.data(), data.data(), plans_.at({a.length, sign}));
  }
  if (sign == FFTW_BACKWARD) {
    const double volume = static_cast<double>(g_.global_volume());
    for (Complex& z : data) z /= volume;
  }
}

void DistributedFft::pass(const Axis& a, const Selection& s, const Complex* src, Complex* dst,
                          const LinePlan& plan) {
  if (a.comm == MPI_COMM_NULL)
    local_pass(a, s.keep, src, dst, plan);
  else
    distributed_pass(a, s, src, dst, plan);
}

void DistributedFft::local_pass(const Axis& a, std::size_t keep, const Complex* src, Complex* dst,
                                const LinePlan& plan) {
  for_each_run(a, keep, [&](std::size_t start, std::size_t lines) {
    gather(src + start, a.stride, lines, a.local, scratch_line(0), pitch_);
    run_lines(plan, lines);
    scatter(scratch_line(0), pitch_, lines, a.local, dst + start, a.stride);
  });
}

void DistributedFft::run_lines(const LinePlan& plan, std::size_t lines) {
  for (std::size_t b = lines; b % plan.lines != 0; ++b)
    std::fill_n(scratch_line(b), plan.length, Complex(0, 0));
  for (std::size_t b = 0; b < lines; b += plan.lines) {
    fftw_complex* line = reinterpret_cast<fftw_complex*>(scratch_line(b));
    fftw_execute_dft(plan.plan, line, line);
  }
}

void DistributedFft::distributed_pass(const Axis& a, const Selection& s, const Complex* src,
                                      Complex* dst, const LinePlan& plan) {
  const int l = a.local;
  // With unit stride (axis d-1, or every later local extent 1: then the selection is all or
  // nothing) the local array is already segment-major: send and receive it directly.
  const bool contiguous = a.stride == 1;
  std::size_t packed = 0;
  if (!contiguous)
    for_each_run(a, s.keep, [&](std::size_t start, std::size_t lines) {
      gather(src + start, a.stride, lines, l, segments_.data() + packed * l, l);
      packed += lines;
    });
  // From sub-rank j come my_lines segments of length l, each the part at j*l of a line.
  auto transform = [&](std::size_t begin, std::size_t end) {
    for (std::size_t t = begin; t < end; t += plan.lines) {
      const std::size_t lines = std::min(plan.lines, end - t);
      for (std::size_t b = 0; b < lines; ++b)
        assemble(s, a.procs, l, lines_.data(), t + b, scratch_line(b));
      run_lines(plan, lines);
      for (std::size_t b = 0; b < lines; ++b)
        disperse(s, a.procs, l, scratch_line(b), t + b, lines_.data());
    }
  };
  pipeline(a, s, contiguous ? src : segments_.data(), lines_.data(), MPI_C_DOUBLE_COMPLEX,
           lines_.data(), contiguous ? dst : segments_.data(), MPI_C_DOUBLE_COMPLEX, transform);
  if (contiguous) return;
  packed = 0;
  for_each_run(a, s.keep, [&](std::size_t start, std::size_t lines) {
    scatter(segments_.data() + packed * l, l, lines, l, dst + start, a.stride);
    packed += lines;
  });
}

void DistributedFft::r2c_pass(const Field& x, Complex* out) {
  const Axis& a = axes_.back();
  const int length = a.length, l = a.local, kept = length / 2 + 1;
  Complex* line = scratch_line(0);
  if (a.comm == MPI_COMM_NULL) {
    for (std::size_t r = 0; r < g_.row_count(); ++r) {
      std::copy_n(x.data() + g_.row_start(r), length, rscratch_);
      Complex* row = out + r * l;
      if (runs_on(row)) {
        fftw_execute_dft_r2c(r2c_, rscratch_, reinterpret_cast<fftw_complex*>(row));
      } else {
        fftw_execute_dft_r2c(r2c_, rscratch_, scratch_);
        std::copy_n(line, kept, row);
      }
    }
    return;
  }
  const Selection& s = a.all;
  for (std::size_t r = 0; r < g_.row_count(); ++r)
    std::copy_n(x.data() + g_.row_start(r), l, real_segments_.data() + r * l);
  auto transform = [&](std::size_t begin, std::size_t end) {
    for (std::size_t t = begin; t < end; ++t) {
      assemble(s, a.procs, l, real_lines_.data(), t, rscratch_);
      fftw_execute_dft_r2c(r2c_, rscratch_, scratch_);
      // Completes the line so that every value sent is defined; mirror_fill rewrites it.
      for (int k = kept; k < length; ++k) line[k] = std::conj(line[length - k]);
      disperse(s, a.procs, l, line, t, lines_.data());
    }
  };
  pipeline(a, s, real_segments_.data(), real_lines_.data(), MPI_DOUBLE, lines_.data(), out,
           MPI_C_DOUBLE_COMPLEX, transform);
}

void DistributedFft::c2r_pass(const Complex* in, Field& out) {
  const Axis& a = axes_.back();
  const int length = a.length, l = a.local, kept = length / 2 + 1;
  // A multiplication, much cheaper than a division (the same bits when V is a power of two).
  const double inv_volume = 1 / static_cast<double>(g_.global_volume());
  Complex* line = scratch_line(0);
  if (a.comm == MPI_COMM_NULL) {
    for (std::size_t r = 0; r < g_.row_count(); ++r) {
      // c2r overwrites its input: `in` only when it is work_.
      Complex* row = const_cast<Complex*>(in + r * l);
      if (in == work_.data() && runs_on(row)) {
        fftw_execute_dft_c2r(c2r_, reinterpret_cast<fftw_complex*>(row), rscratch_);
      } else {
        std::copy_n(row, kept, line);
        fftw_execute_dft_c2r(c2r_, scratch_, rscratch_);
      }
      double* out_row = out.data() + g_.row_start(r);
      for (int k = 0; k < length; ++k) out_row[k] = rscratch_[k] * inv_volume;
    }
    return;
  }
  const Selection& s = a.all;
  auto transform = [&](std::size_t begin, std::size_t end) {
    for (std::size_t t = begin; t < end; ++t) {
      assemble(s, a.procs, l, lines_.data(), t, line);
      fftw_execute_dft_c2r(c2r_, scratch_, rscratch_);
      disperse(s, a.procs, l, rscratch_, t, real_lines_.data());
    }
  };
  pipeline(a, s, in, lines_.data(), MPI_C_DOUBLE_COMPLEX, real_lines_.data(), real_segments_.data(),
           MPI_DOUBLE, transform);
  for (std::size_t r = 0; r < g_.row_count(); ++r) {
    double* row = out.data() + g_.row_start(r);
    for (int k = 0; k < l; ++k) row[k] = real_segments_[r * l + k] * inv_volume;
  }
}

void DistributedFft::mirror_fill(Complex* data) {
  for (const Run& r : mirror_local_)
    for (std::size_t k = 0; k < r.n; ++k) data[r.dst + k] = std::conj(data[r.src - k]);
  if (g_.size() == 1) return;
  for (const Run& r : mirror_send_)
    for (std::size_t k = 0; k < r.n; ++k)
      mirror_send_buffer_[r.dst + k] = std::conj(data[r.src - k]);
  MPI_Alltoallv(mirror_send_buffer_.data(), mirror_send_counts_.data(), mirror_send_displs_.data(),
                MPI_C_DOUBLE_COMPLEX, mirror_recv_buffer_.data(), mirror_recv_counts_.data(),
                mirror_recv_displs_.data(), MPI_C_DOUBLE_COMPLEX, g_.comm());
  for (const Run& r : mirror_recv_)
    std::copy_n(mirror_recv_buffer_.data() + r.src, r.n, data + r.dst);
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
