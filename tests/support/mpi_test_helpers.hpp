// Small helpers shared by the MPI tests.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lattice/field.hpp"

namespace latdiff::testing {

inline int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

inline int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// Coordinates of row-major index i on extents dims (last dimension fastest), and the inverse
// (coordinates wrapped periodically): for reference computations on gathered fields.
inline std::vector<int> row_major_coords(std::int64_t i, const std::vector<int>& dims) {
  std::vector<int> x(dims.size());
  for (int mu = static_cast<int>(dims.size()) - 1; mu >= 0; --mu) {
    x[mu] = static_cast<int>(i % dims[mu]);
    i /= dims[mu];
  }
  return x;
}

inline std::int64_t row_major_index(const std::vector<int>& x, const std::vector<int>& dims) {
  std::int64_t i = 0;
  for (std::size_t mu = 0; mu < dims.size(); ++mu)
    i = i * dims[mu] + (x[mu] % dims[mu] + dims[mu]) % dims[mu];
  return i;
}

// Collective: the interior of phi as one global row-major array on every rank.
inline std::vector<double> gather_global(const Geometry& g, const Field& phi) {
  std::vector<double> all(static_cast<std::size_t>(g.global_volume()), 0.0);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { all[gi] = phi[p]; });
  MPI_Allreduce(MPI_IN_PLACE, all.data(), static_cast<int>(all.size()), MPI_DOUBLE, MPI_SUM,
                g.comm());
  return all;
}

// Every process grid of `nranks` processes whose extents divide `dims`, the first dimension
// varying slowest (each extent in ascending order).
inline std::vector<std::vector<int>> process_grids(const std::vector<int>& dims, int nranks) {
  std::vector<std::vector<int>> out;
  std::vector<int> grid(dims.size(), 1);
  auto enumerate = [&](auto& self, std::size_t mu, int remaining) -> void {
    if (mu == dims.size()) {
      if (remaining == 1) out.push_back(grid);
      return;
    }
    for (int p = 1; p <= remaining; ++p) {
      if (remaining % p != 0 || dims[mu] % p != 0) continue;
      grid[mu] = p;
      self(self, mu + 1, remaining / p);
    }
  };
  enumerate(enumerate, 0, nranks);
  return out;
}

// Expects f() to throw E with a one-line message that contains every one of `parts`.
template <class E, class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
  }
}

// Fixture with a fresh directory per test, created by rank 0 and named alike on every rank.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name;
    if (world_rank() == 0) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "latdiff_test_XXXXXX").string();
      if (mkdtemp(tmpl.data())) name = tmpl;
    }
    int size = static_cast<int>(name.size());
    MPI_Bcast(&size, 1, MPI_INT, 0, MPI_COMM_WORLD);
    name.resize(static_cast<std::size_t>(size));
    MPI_Bcast(name.data(), size, MPI_CHAR, 0, MPI_COMM_WORLD);
    dir_ = name;
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) std::filesystem::remove_all(dir_);
  }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

}  // namespace latdiff::testing
