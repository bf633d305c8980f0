#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "io/output_file.hpp"
#include "support/mpi_test_helpers.hpp"

namespace latdiff {
namespace {

using testing::expect_error;
using testing::world_rank;

// A fresh directory per test (TempDirTest), plus the run metadata the files are made with.
class OutputFile : public testing::TempDirTest {
 protected:
  static RunMetadata meta(const std::vector<int>& dims) {
    RunMetadata m;
    m.deck_text = "[lattice]\ndims = 4 6\n";
    m.version = "v0.1-test";
    m.start_time = "2024-01-02T03:04:05Z";
    m.seed = 0xfedcba9876543210ULL;
    m.nranks = testing::world_size();
    m.procs = {m.nranks, 1};
    m.dims = dims;
    return m;
  }
};

// Every explicit two-dimensional process grid of this rank count that fits dims, plus the
// automatic one (empty).
std::vector<std::vector<int>> grids(const std::vector<int>& dims) {
  auto out = testing::process_grids(dims, testing::world_size());
  out.insert(out.begin(), std::vector<int>{});
  return out;
}

// The whole dataset, read serially (independent of the code under test).
std::vector<double> raw_dataset(const std::string& path, const char* name,
                                std::vector<hsize_t>& dims) {
  H5Handle f = checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, path, "open");
  H5Handle d = open_dataset(f.get(), path, name);
  dims = extent(d.get(), path, name);
  std::size_t n = 1;
  for (hsize_t x : dims) n *= x;
  std::vector<double> v(n);
  check(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), path, "read");
  return v;
}

Records some_records(int first, int n, bool with_delta_h) {
  Records r;
  for (int i = first; i < first + n; ++i) {
    r.step.push_back(10 * i);
    r.mag.push_back(0.5 * i);
    r.phi2.push_back(1.0 + i);
    r.action_density.push_back(-0.25 * i);
    r.nn.push_back(0.125 * i);
  }
  for (int i = first; i < first + 2 * n; ++i) {
    r.accept.push_back(i % 2);
    if (with_delta_h) r.delta_h.push_back(0.01 * i);
  }
  return r;
}

void expect_series(const std::string& path, const Records& all) {
  const std::vector<double> step(all.step.begin(), all.step.end());
  EXPECT_EQ(read_series(path, "/observables/step"), step);
  EXPECT_EQ(read_series(path, "/observables/mag"), all.mag);
  EXPECT_EQ(read_series(path, "/observables/phi2"), all.phi2);
  EXPECT_EQ(read_series(path, "/observables/action_density"), all.action_density);
  EXPECT_EQ(read_series(path, "/observables/nn"), all.nn);
  EXPECT_EQ(read_series(path, "/sampler/accept"), all.accept);
}

void concat(Records& a, const Records& b) {
  auto add = [](auto& x, const auto& y) { x.insert(x.end(), y.begin(), y.end()); };
  add(a.step, b.step);
  add(a.mag, b.mag);
  add(a.phi2, b.phi2);
  add(a.action_density, b.action_density);
  add(a.nn, b.nn);
  add(a.accept, b.accept);
  add(a.delta_h, b.delta_h);
}

void fill_with_index(const Geometry& g, Field& phi, double shift) {
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { phi[p] = shift + gi; });
}

TEST_F(OutputFile, CreateAppendCountAndRead) {
  const std::string path = file("out.h5");
  create_output(path, meta({4, 6}), true);
  EXPECT_EQ(record_counts(path), (RecordCounts{0, 0, 0}));
  EXPECT_TRUE(read_series(path, "/sampler/delta_h").empty());

  const Records a = some_records(0, 3, true), b = some_records(3, 2, true);
  append_records(path, a);
  append_records(path, b);
  EXPECT_EQ(record_counts(path), (RecordCounts{5, 10, 0}));
  Records all = a;
  concat(all, b);
  expect_series(path, all);
  EXPECT_EQ(read_series(path, "/sampler/delta_h"), all.delta_h);

  H5Handle f = checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, path, "open");
  const RunMetadata m = meta({4, 6});
  EXPECT_EQ(read_string_attribute(f.get(), path, "deck"), m.deck_text);
  EXPECT_EQ(read_string_attribute(f.get(), path, "version"), m.version);
  EXPECT_EQ(read_string_attribute(f.get(), path, "start_time"), m.start_time);
  EXPECT_EQ(read_uint64_attribute(f.get(), path, "seed"), m.seed);
  EXPECT_EQ(read_int64_attribute(f.get(), path, "nranks"), m.nranks);
}

TEST_F(OutputFile, RejectsInconsistentRecords) {
  const std::string path = file("out.h5");
  create_output(path, meta({4, 6}), false);
  Records r = some_records(0, 2, false);
  r.mag.pop_back();
  expect_error<IoError>([&] { append_records(path, r); }, {path, "unequal"});
  r = some_records(0, 2, false);
  r.nn.pop_back();
  expect_error<IoError>([&] { append_records(path, r); }, {path, "unequal"});
  expect_error<IoError>([&] { append_records(path, some_records(0, 2, true)); }, {path, "delta_h"});
  EXPECT_EQ(record_counts(path), (RecordCounts{0, 0, 0}));
  expect_error<IoError>([&] { read_series(path, "/sampler/delta_h"); }, {path, "delta_h"});
}

TEST_F(OutputFile, ConfigurationsInGlobalRowMajorOrderOnEveryGrid) {
  const std::vector<int> dims{4, 6};
  const std::string path = file("out.h5");
  create_output(path, meta(dims), false);
  const auto gs = grids(dims);
  for (std::size_t k = 0; k < gs.size(); ++k) {
    Geometry g(dims, gs[k], MPI_COMM_WORLD);
    Field phi = make_field(g, -1.0);
    fill_with_index(g, phi, 1000.0 * k);
    append_configuration(path, g, phi, static_cast<std::int64_t>(7 * k));
  }
  EXPECT_EQ(record_counts(path).configurations, static_cast<std::int64_t>(gs.size()));

  std::vector<hsize_t> shape;
  const std::vector<double> raw = raw_dataset(path, "/configurations/phi", shape);
  EXPECT_EQ(shape, (std::vector<hsize_t>{gs.size(), 4, 6}));
  for (std::size_t i = 0; i < raw.size(); ++i)
    EXPECT_EQ(raw[i], 1000.0 * (i / 24) + static_cast<double>(i % 24)) << "element " << i;
  const std::vector<double> steps = read_series(path, "/configurations/step");
  for (std::size_t k = 0; k < steps.size(); ++k) EXPECT_EQ(steps[k], 7.0 * k);

  for (const auto& procs : gs) {
    Geometry g(dims, procs, MPI_COMM_WORLD);
    for (std::size_t k = 0; k < gs.size(); ++k) {
      Field phi = make_field(g, -7.0);
      read_configuration(path, static_cast<std::int64_t>(k), g, phi);
      for_each_site(g, [&](std::size_t p, std::int64_t gi) {
        EXPECT_EQ(phi[p], 1000.0 * k + gi);
        phi[p] = -7.0;
      });
      EXPECT_EQ(std::count(phi.begin(), phi.end(), -7.0), static_cast<long>(phi.size()))
          << "halo changed";
    }
    Field last = make_field(g);
    read_configuration(path, -1, g, last);
    for_each_site(g, [&](std::size_t p, std::int64_t gi) {
      EXPECT_EQ(last[p], 1000.0 * (gs.size() - 1) + gi);
    });
  }
}

TEST_F(OutputFile, TruncateThenAppendContinues) {
  const std::vector<int> dims{4, 6};
  const std::string path = file("out.h5");
  create_output(path, meta(dims), true);
  Geometry g(dims, {}, MPI_COMM_WORLD);
  Field phi = make_field(g);
  append_records(path, some_records(0, 5, true));
  for (int k = 0; k < 3; ++k) {
    fill_with_index(g, phi, 100.0 * k);
    append_configuration(path, g, phi, k);
  }
  EXPECT_EQ(record_counts(path), (RecordCounts{5, 10, 3}));

  expect_error<IoError>([&] { truncate_output(path, {6, 3, 1}); }, {path, "truncate"});
  EXPECT_EQ(record_counts(path), (RecordCounts{5, 10, 3})) << "refused truncation changed rows";

  truncate_output(path, {2, 3, 1});
  EXPECT_EQ(record_counts(path), (RecordCounts{2, 3, 1}));
  EXPECT_EQ(read_series(path, "/sampler/delta_h").size(), 3u);
  std::vector<hsize_t> shape;
  raw_dataset(path, "/configurations/phi", shape);
  EXPECT_EQ(shape, (std::vector<hsize_t>{1, 4, 6}));

  const Records kept = some_records(0, 5, true);
  Records all;
  all.step.assign(kept.step.begin(), kept.step.begin() + 2);
  all.mag.assign(kept.mag.begin(), kept.mag.begin() + 2);
  all.phi2.assign(kept.phi2.begin(), kept.phi2.begin() + 2);
  all.action_density.assign(kept.action_density.begin(), kept.action_density.begin() + 2);
  all.nn.assign(kept.nn.begin(), kept.nn.begin() + 2);
  all.accept.assign(kept.accept.begin(), kept.accept.begin() + 3);
  all.delta_h.assign(kept.delta_h.begin(), kept.delta_h.begin() + 3);
  const Records more = some_records(20, 2, true);
  append_records(path, more);
  concat(all, more);
  expect_series(path, all);
  EXPECT_EQ(read_series(path, "/sampler/delta_h"), all.delta_h);

  fill_with_index(g, phi, 500.0);
  append_configuration(path, g, phi, 42);
  EXPECT_EQ(read_series(path, "/configurations/step"), (std::vector<double>{0.0, 42.0}));
  Field back = make_field(g);
  read_configuration(path, 1, g, back);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { EXPECT_EQ(back[p], 500.0 + gi); });
  read_configuration(path, 0, g, back);
  for_each_site(g, [&](std::size_t p, std::int64_t gi) { EXPECT_EQ(back[p], 0.0 + gi); });
}

TEST_F(OutputFile, ReadConfigurationErrors) {
  const std::vector<int> dims{4, 6};
  Geometry g(dims, {}, MPI_COMM_WORLD);
  Field phi = make_field(g);

  const std::string missing = file("missing.h5");
  expect_error<IoError>([&] { read_configuration(missing, -1, g, phi); },
                        {missing, "no such file"});

  const std::string text = file("text.h5");
  if (world_rank() == 0) std::ofstream(text) << "not an HDF5 file\n";
  MPI_Barrier(MPI_COMM_WORLD);
  expect_error<IoError>([&] { read_configuration(text, -1, g, phi); }, {text, "not HDF5"});

  const std::string path = file("out.h5");
  create_output(path, meta(dims), false);
  expect_error<IoError>([&] { read_configuration(path, -1, g, phi); }, {path, "no configurations"});

  fill_with_index(g, phi, 0.0);
  append_configuration(path, g, phi, 0);
  append_configuration(path, g, phi, 1);
  for (std::int64_t bad : {2, 5, -2})
    expect_error<IoError>([&] { read_configuration(path, bad, g, phi); },
                          {path, "index " + std::to_string(bad), "out of range", "2 stored"});

  Geometry other({4, 8}, {}, MPI_COMM_WORLD);
  Field wrong = make_field(other);
  expect_error<IoError>([&] { read_configuration(path, -1, other, wrong); },
                        {path, "[4, 6]", "[4, 8]"});
  expect_error<IoError>([&] { append_configuration(path, other, wrong, 2); },
                        {path, "[4, 6]", "[4, 8]"});
}

}  // namespace
}  // namespace latdiff
