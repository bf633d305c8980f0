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

// A run of consecutive sites of one interior row: the padded index of the first, and how many.
struct RowSegment {
  std::size_t start = 0;
  int length = 0;
};

// Every interior row, whole.
std::vector<RowSegment> interior_rows(const Geometry& g);

// The interior sites, split by whether a nearest neighbour is a halo site: `inner` ones can be
// updated from a field whose halo exchange is in flight, `boundary` ones only after finish().
// Together they cover every interior site once; empty segments are left out.
struct HaloSplit {
  std::vector<RowSegment> inner, boundary;
};
HaloSplit split_by_halo(const Geometry& g);

class HaloExchange {
 public:
  explicit HaloExchange(const Geometry& g);

  // Collective over g.comm(): start() copies the faces along split dimensions into send
  // buffers and posts all sends and receives, so that interior work can overlap; finish()
  // waits, fills those halos and wraps the unsplit dimensions from the field as it is then.
  // In between, sites may change except those on faces along split dimensions (the boundary
  // of samplers/site_colouring.hpp) and except the halo, which finish() overwrites.
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
