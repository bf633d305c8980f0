// Nearest-neighbour halo exchange of a padded Field (geometry.hpp). Only the 2d faces are
// exchanged (no edges or corners): the actions here couple nearest neighbours only.
// Dimensions that are not split are wrapped by a local copy without MPI.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <vector>

#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

class HaloExchange {
 public:
  explicit HaloExchange(const Geometry& g);

  // Collective over g.comm(): start() posts all sends and receives so that interior work can
  // overlap; finish() waits and fills the halo. The field must not change in between.
  void start(const Field& f);
  void finish(Field& f);
  // Collective: start() then finish().
  void exchange(Field& f) {
    start(f);
    finish(f);
  }

 private:
  struct Face {
    std::vector<std::size_t> send, recv;  // padded indices
    std::vector<double> send_buf, recv_buf;
    int dest = 0, source = 0;
  };
  const Geometry& g_;
  std::vector<Face> faces_;  // 2 per dimension: index 2*mu (send up), 2*mu+1 (send down)
  std::vector<MPI_Request> requests_;
};

}  // namespace latdiff
