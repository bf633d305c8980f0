#include "lattice/halo_exchange.hpp"

namespace latdiff {

namespace {

// Padded indices of the interior face where coordinate mu equals `at` (-1..l_mu).
std::vector<std::size_t> face_indices(const Geometry& g, int mu, int at) {
  std::vector<std::size_t> out;
  const auto& l = g.local_dims();
  std::vector<int> x(g.dim(), 0);
  x[mu] = at;
  while (true) {
    out.push_back(g.padded_index(x));
    int nu = g.dim() - 1;
    for (; nu >= 0; --nu) {
      if (nu == mu) continue;
      if (++x[nu] < l[nu]) break;
      x[nu] = 0;
    }
    if (nu < 0) break;
  }
  return out;
}

}  // namespace

std::vector<RowSegment> interior_rows(const Geometry& g) {
  std::vector<RowSegment> rows(g.row_count());
  for (std::size_t r = 0; r < g.row_count(); ++r) rows[r] = {g.row_start(r), g.row_length()};
  return rows;
}

HaloSplit split_by_halo(const Geometry& g) {
  HaloSplit split;
  const int n = g.row_length();
  const auto& l = g.local_dims();
  // Local coordinates of the current row in the dimensions before the last, in row order.
  std::vector<int> x(static_cast<std::size_t>(g.dim() - 1), 0);
  for (std::size_t r = 0; r < g.row_count(); ++r) {
    bool inner_row = true;
    for (std::size_t mu = 0; mu < x.size(); ++mu) inner_row &= x[mu] > 0 && x[mu] + 1 < l[mu];
    const std::size_t p = g.row_start(r);
    if (!inner_row || n <= 2) {
      split.boundary.push_back({p, n});
    } else {
      split.boundary.push_back({p, 1});
      split.inner.push_back({p + 1, n - 2});
      split.boundary.push_back({p + static_cast<std::size_t>(n) - 1, 1});
    }
    for (int mu = static_cast<int>(x.size()) - 1; mu >= 0 && ++x[mu] == l[mu]; --mu) x[mu] = 0;
  }
  return split;
}

HaloExchange::HaloExchange(const Geometry& g) : g_(g) {
  requests_.reserve(4 * static_cast<std::size_t>(g.dim()));
  for (int mu = 0; mu < g.dim(); ++mu) {
    const int l = g.local_dims()[mu];
    // Sending the top layer up fills the neighbour's lower halo, and vice versa.
    Face up{face_indices(g, mu, l - 1), face_indices(g, mu, -1), {}, {},
            g.neighbor_up(mu),          g.neighbor_down(mu)};
    Face down{face_indices(g, mu, 0), face_indices(g, mu, l), {}, {},
              g.neighbor_down(mu),    g.neighbor_up(mu)};
    for (Face* f : {&up, &down}) {
      if (g.procs()[mu] > 1) {
        f->send_buf.resize(f->send.size());
        f->recv_buf.resize(f->recv.size());
      }
      faces_.push_back(std::move(*f));
    }
  }
}

void HaloExchange::start(const Field& f) {
  requests_.clear();
  for (std::size_t k = 0; k < faces_.size(); ++k) {
    const int mu = static_cast<int>(k / 2);
    if (g_.procs()[mu] == 1) continue;  // wrapped in finish()
    Face& face = faces_[k];
    for (std::size_t i = 0; i < face.send.size(); ++i) face.send_buf[i] = f[face.send[i]];
    const int n = static_cast<int>(face.send.size());
    const int tag = static_cast<int>(k);
    requests_.emplace_back();
    MPI_Irecv(face.recv_buf.data(), n, MPI_DOUBLE, face.source, tag, g_.comm(), &requests_.back());
    requests_.emplace_back();
    MPI_Isend(face.send_buf.data(), n, MPI_DOUBLE, face.dest, tag, g_.comm(), &requests_.back());
  }
}

void HaloExchange::finish(Field& f) {
  MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
  for (std::size_t k = 0; k < faces_.size(); ++k) {
    const Face& face = faces_[k];
    const int mu = static_cast<int>(k / 2);
    if (g_.procs()[mu] == 1)
      for (std::size_t i = 0; i < face.recv.size(); ++i) f[face.recv[i]] = f[face.send[i]];
    else
      for (std::size_t i = 0; i < face.recv.size(); ++i) f[face.recv[i]] = face.recv_buf[i];
  }
}

}  // namespace latdiff
