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
      f->send_buf.resize(f->send.size());
      f->recv_buf.resize(f->recv.size());
      faces_.push_back(std::move(*f));
    }
  }
}

void HaloExchange::start(const Field& f) {
  requests_.clear();
  for (std::size_t k = 0; k < faces_.size(); ++k) {
    Face& face = faces_[k];
    const int mu = static_cast<int>(k / 2);
    for (std::size_t i = 0; i < face.send.size(); ++i) face.send_buf[i] = f[face.send[i]];
    if (g_.procs()[mu] == 1) continue;
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
    Face& face = faces_[k];
    const int mu = static_cast<int>(k / 2);
    const std::vector<double>& src = g_.procs()[mu] == 1 ? face.send_buf : face.recv_buf;
    for (std::size_t i = 0; i < face.recv.size(); ++i) f[face.recv[i]] = src[i];
  }
}

}  // namespace latdiff
