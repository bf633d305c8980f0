#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "io/checkpoint.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

using testing::expect_error;
using testing::world_rank;

// A fresh directory per test (TempDirTest).
class Checkpoint : public testing::TempDirTest {};

const std::vector<int> kDims{4, 6};

// Every explicit two-dimensional process grid of this rank count that fits kDims, plus the
// automatic one (empty).
std::vector<std::vector<int>> grids() {
  auto out = testing::process_grids(kDims, testing::world_size());
  out.insert(out.begin(), std::vector<int>{});
  return out;
}

double value_at(std::int64_t gi) {
  return std::sin(0.7 * gi) + 1e-3 * gi;
}

Field test_field(const Geometry& g) {
  Field phi = make_field(g, -9.0);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { phi[p] = value_at(gi); });
  return phi;
}

ChainState test_state() {
  ChainState s;
  s.updates_done = 1234;
  s.counts = {100, 1234, 12};
  s.deck_text = "[lattice]\ndims = 4 6\n[run]\nseed = 7\n";
  return s;
}

// Serial HDF5 access by rank 0 to tamper with a closed file; the others wait.
template <class F>
void on_root_file(const std::string& path, F&& f) {
  if (world_rank() == 0) {
    H5Handle h = checked(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, path, "open");
    f(h.get());
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(Checkpoint, RoundTripOnEveryPairOfGrids) {
  const std::string path = file("chain.ckpt");
  for (const auto& wp : grids()) {
    Geometry gw(kDims, wp, MPI_COMM_WORLD);
    write_checkpoint(path, gw, test_field(gw), test_state());
    for (const auto& rp : grids()) {
      Geometry gr(kDims, rp, MPI_COMM_WORLD);
      Field phi = make_field(gr, -9.0);
      EXPECT_EQ(read_checkpoint(path, gr, phi), test_state());
      EXPECT_EQ(phi, test_field(gr)) << "field or halo differs";
    }
  }
}

TEST_F(Checkpoint, ChecksumIsTheSameForEveryDecomposition) {
  std::vector<std::uint64_t> computed, stored;
  const auto gs = grids();
  for (std::size_t k = 0; k < gs.size(); ++k) {
    Geometry g(kDims, gs[k], MPI_COMM_WORLD);
    computed.push_back(checkpoint_checksum(g, test_field(g), test_state()));
    const std::string path = file(std::to_string(k) + ".ckpt");
    write_checkpoint(path, g, test_field(g), test_state());
    H5Handle f =
        checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, path, "open");
    stored.push_back(read_uint64_attribute(f.get(), path, "checksum"));
  }
  for (std::size_t k = 0; k < gs.size(); ++k) {
    EXPECT_EQ(computed[k], computed[0]);
    EXPECT_EQ(stored[k], computed[0]);
  }

  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Field phi = test_field(g);
  if (g.rank() == 0) phi[g.row_start(0)] += 1e-12;
  EXPECT_NE(checkpoint_checksum(g, phi, test_state()), computed[0]);
  ChainState s = test_state();
  s.counts.configurations += 1;
  EXPECT_NE(checkpoint_checksum(g, test_field(g), s), computed[0]);
}

TEST_F(Checkpoint, ReplacesAtomicallyWithoutLeavingTheTemporaryFile) {
  const std::string path = file("chain.ckpt");
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  write_checkpoint(path, g, test_field(g), test_state());
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  ChainState later = test_state();
  later.updates_done += 10;
  Field zero = make_field(g, 0.0);
  write_checkpoint(path, g, zero, later);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  Field phi = test_field(g);
  EXPECT_EQ(read_checkpoint(path, g, phi), later);
  EXPECT_EQ(pack_interior(g, phi), pack_interior(g, zero));
}

TEST_F(Checkpoint, FlippedDataByteIsReportedAsChecksumMismatch) {
  const std::string path = file("chain.ckpt");
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  write_checkpoint(path, g, test_field(g), test_state());
  haddr_t offset = HADDR_UNDEF;
  on_root_file(path, [&](hid_t f) {
    H5Handle d = open_dataset(f, path, "/phi");
    offset = H5Dget_offset(d.get());
  });
  if (world_rank() == 0) {
    ASSERT_NE(offset, HADDR_UNDEF);
    std::fstream s(path, std::ios::in | std::ios::out | std::ios::binary);
    const auto pos = static_cast<std::streamoff>(offset + 8 * 5 + 3);
    char c = 0;
    s.seekg(pos);
    s.get(c);
    s.seekp(pos);
    s.put(static_cast<char>(c ^ 0x10));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  Field phi = make_field(g, -9.0);
  expect_error<CheckpointError>([&] { read_checkpoint(path, g, phi); },
                                {path, "checksum", "corrupt"});
  EXPECT_EQ(phi, make_field(g, -9.0)) << "field changed by a failed read";
}

TEST_F(Checkpoint, ChangedStateIsReportedAsChecksumMismatch) {
  const std::string path = file("chain.ckpt");
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  write_checkpoint(path, g, test_field(g), test_state());
  on_root_file(path, [&](hid_t f) {
    H5Handle a = checked(H5Aopen(f, "updates_done", H5P_DEFAULT), H5Aclose, path, "attr");
    const std::int64_t v = 999;
    check(H5Awrite(a.get(), H5T_NATIVE_INT64, &v), path, "write");
  });
  Field phi = make_field(g);
  expect_error<CheckpointError>([&] { read_checkpoint(path, g, phi); }, {path, "checksum"});
}

TEST_F(Checkpoint, UnusableFilesGiveOneLineErrors) {
  Geometry g(kDims, {}, MPI_COMM_WORLD);
  Field phi = make_field(g);

  const std::string missing = file("missing.ckpt");
  expect_error<CheckpointError>([&] { read_checkpoint(missing, g, phi); },
                                {missing, "no such file"});

  const std::string text = file("text.ckpt");
  if (world_rank() == 0) std::ofstream(text) << "garbage\n";
  MPI_Barrier(MPI_COMM_WORLD);
  expect_error<CheckpointError>([&] { read_checkpoint(text, g, phi); }, {text, "not HDF5"});

  const std::string output = file("output.h5");
  RunMetadata meta;
  meta.dims = kDims;
  create_output(output, meta, false);
  expect_error<CheckpointError>([&] { read_checkpoint(output, g, phi); }, {output, "/phi"});

  const std::string path = file("chain.ckpt");
  write_checkpoint(path, g, test_field(g), test_state());
  Geometry other({4, 8}, {}, MPI_COMM_WORLD);
  Field wrong = make_field(other);
  expect_error<CheckpointError>([&] { read_checkpoint(path, other, wrong); },
                                {path, "[4, 6]", "[4, 8]"});

  on_root_file(path, [&](hid_t f) { check(H5Adelete(f, "deck"), path, "delete"); });
  expect_error<CheckpointError>([&] { read_checkpoint(path, g, phi); }, {path, "deck"});
}

}  // namespace
}  // namespace latdiff
