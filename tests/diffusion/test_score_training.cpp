// Training the linear score from latdiff output files and its model file
// (diffusion/score_training.hpp, diffusion/score_model_file.hpp): training from files gives
// bitwise the parameters of the trainer fed directly with the same configurations and noise,
// held-out configurations are left out of the fit and scored with the training noise stream,
// the model file round-trips every value and its checksum, and corrupt, foreign or unsuitable
// files are refused with one line naming the file.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "diffusion/free_field_score.hpp"
#include "diffusion/linear_score.hpp"
#include "diffusion/score_model_file.hpp"
#include "diffusion/score_training.hpp"
#include "io/output_file.hpp"
#include "random/counter_rng.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/white_field.hpp"

namespace latdiff {
namespace {

using testing::expect_error;

constexpr int kConfigs = 40;
const std::vector<int> kDims{8, 8};

NoiseSchedule schedule() {
  NoiseSchedule s;
  s.kind = NoiseKind::vp;
  s.levels = 5;
  s.beta_min = 1;
  s.beta_max = 4;
  return s;
}

Phi4Couplings free_field() {
  ActionConfig hopping;
  hopping.form = ActionForm::hopping;
  hopping.kappa = 0.1;
  return Phi4Couplings::from(hopping, 2);
}

ScoreTrainingOptions opts(int knots, int draws, double holdout, std::uint64_t seed,
                          std::vector<int> block_sizes = {}) {
  ScoreTrainingOptions o;
  o.basis = {knots, std::move(block_sizes)};
  o.draws = draws;
  o.holdout = holdout;
  o.seed = seed;
  return o;
}

RunMetadata meta(const Geometry& g) {
  RunMetadata m;
  m.deck_text = "[lattice]\ndims = 8 8\n";
  m.version = "test";
  m.start_time = "2026-12-01T00:00:00Z";
  m.nranks = g.size();
  m.procs = g.procs();
  m.dims = g.global_dims();
  return m;
}

// Exact free-field configuration number c.
Field sample(const Geometry& g, FreeFieldScore& exact, int c) {
  const Field eta = testing::white_field(g, 99, static_cast<std::uint64_t>(c));
  Field x = make_field(g);
  exact.sample(eta, 0, x);
  return x;
}

// Rewrites dataset `name` of the file at `path` in place, behind the checksum's back (call on
// one rank, between barriers).
template <class T>
void overwrite(const std::string& path, const char* name, const std::vector<T>& data,
               hid_t mem_type) {
  H5Handle f = open_file(path, H5F_ACC_RDWR, MPI_COMM_SELF);
  H5Handle d = open_dataset(f.get(), path, name);
  check(H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), path, "write");
  d.close();
  close_file(f, path);
}

class ScoreTraining : public testing::TempDirTest {
 protected:
  // Two output files holding configurations 0 ... 24 and 25 ... kConfigs - 1.
  std::vector<std::string> write_training_files(const Geometry& g, const NoiseProcess& noise) {
    FreeFieldScore exact(g, free_field(), noise);
    const std::vector<std::string> files{file("a.h5"), file("b.h5")};
    for (const auto& f : files) create_output(f, meta(g), false);
    for (int c = 0; c < kConfigs; ++c)
      append_configuration(files[c < 25 ? 0 : 1], g, sample(g, exact, c), 10 * (c + 1));
    return files;
  }
};

TEST_F(ScoreTraining, FromFilesEqualsTheTrainerFedDirectly) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const NoiseProcess noise(schedule());
  const std::vector<std::string> files = write_training_files(g, noise);
  const ScoreTrainingOptions options = opts(5, 2, 0.2, 7);
  const ScoreModelFile m = train_linear_score(g, noise, files, options);

  // The last floor(0.2 * 40) = 8 configurations are held out.
  const CounterRng rng(7, Stream::diffusion_training);
  LinearScoreTrainer direct(g, noise, ScoreBasis{5, {}}, rng, 2);
  FreeFieldScore exact(g, free_field(), noise);
  std::vector<Field> held;
  for (int c = 0; c < kConfigs; ++c) {
    if (c < 32)
      direct.add(sample(g, exact, c), static_cast<std::uint64_t>(c));
    else
      held.push_back(sample(g, exact, c));
  }
  const auto theta = direct.solve();
  ASSERT_EQ(m.theta.size(), theta.size());
  for (std::size_t i = 0; i < theta.size(); ++i)
    for (std::size_t k = 0; k < theta[i].size(); ++k)
      EXPECT_EQ(std::bit_cast<std::uint64_t>(m.theta[i][k]),
                std::bit_cast<std::uint64_t>(theta[i][k]))
          << "level " << i + 1 << " parameter " << k;
  EXPECT_EQ(m.train_loss, direct.training_loss(theta));
  LinearScore score(g, ScoreBasis{5, {}}, theta);
  EXPECT_EQ(m.holdout_loss, denoising_loss(score, g, noise, rng, held, 32, 2));

  ASSERT_EQ(m.step.size(), static_cast<std::size_t>(kConfigs));
  EXPECT_EQ(m.file_index[24], 0);
  EXPECT_EQ(m.file_index[25], 1);
  EXPECT_EQ(m.step[25], 260);
  EXPECT_EQ(m.held_out[31], 0);
  EXPECT_EQ(m.held_out[32], 1);
  // A good fit: the held-out loss is close to the training loss at every level.
  for (std::size_t i = 0; i < theta.size(); ++i)
    EXPECT_LT(std::abs(m.holdout_loss[i] - m.train_loss[i]), 0.2 * m.train_loss[i]);
}

TEST_F(ScoreTraining, ModelFileRoundTripsEveryValue) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const NoiseProcess noise(schedule());
  ScoreModelFile m =
      train_linear_score(g, noise, write_training_files(g, noise), opts(5, 1, 0.1, 3, {4, 0}));
  m.deck = "[run]\nseed = 3\n";
  m.version = "test";
  m.created = "2026-12-01T00:00:00Z";
  const std::string path = file("model.h5");
  write_score_model(path, m, MPI_COMM_WORLD);
  const ScoreModelFile r = read_score_model(path, MPI_COMM_WORLD);
  EXPECT_EQ(model_checksum(r), model_checksum(m));
  EXPECT_EQ(r.theta, m.theta);
  EXPECT_EQ(r.dimension, 2);
  EXPECT_EQ(r.basis.knots, 5);
  EXPECT_EQ(r.basis.block_sizes, (std::vector<int>{4, 0}));
  EXPECT_EQ(r.schedule.levels, 5);
  EXPECT_EQ(r.schedule.beta_max, 4);
  EXPECT_EQ(r.train_loss, m.train_loss);
  EXPECT_EQ(r.holdout_loss, m.holdout_loss);
  EXPECT_EQ(r.files, m.files);
  EXPECT_EQ(r.step, m.step);
  EXPECT_EQ(r.file_index, m.file_index);
  EXPECT_EQ(r.held_out, m.held_out);
  EXPECT_EQ(r.deck, m.deck);
  EXPECT_EQ(r.seed, 3u);
  EXPECT_EQ(r.lattice_dims, kDims);
  // Another parameter is another model.
  ScoreModelFile changed = m;
  changed.theta[2][5] = std::nextafter(changed.theta[2][5], 1e300);
  EXPECT_NE(model_checksum(changed), model_checksum(m));
  // So is one with another block size.
  changed = m;
  changed.basis.block_sizes = {8, 0};
  EXPECT_NE(model_checksum(changed), model_checksum(m));
}

// A file of schema version 1 (no block terms, no /score/block_* datasets) reads as the same
// model with the same checksum; a version 2 file with an impossible block size is corrupt.
TEST_F(ScoreTraining, VersionOneFilesAreStillRead) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const NoiseProcess noise(schedule());
  const std::vector<std::string> files = write_training_files(g, noise);
  const ScoreModelFile m = train_linear_score(g, noise, files, opts(5, 1, 0.1, 3));
  const std::string v1 = file("v1.h5"), bad = file("bad.h5");
  write_score_model(v1, m, MPI_COMM_WORLD);
  ScoreModelFile blocked = train_linear_score(g, noise, files, opts(5, 1, 0.1, 3, {2}));
  write_score_model(bad, blocked, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  if (testing::world_rank() == 0) {
    H5Handle f = open_file(v1, H5F_ACC_RDWR, MPI_COMM_SELF);
    for (const char* name : {"/score/block_sizes", "/score/block_quadratic", "/score/block_cubic",
                             "/score/block_quintic"})
      check(H5Ldelete(f.get(), name, H5P_DEFAULT), v1, "delete");
    check(H5Adelete(f.get(), "schema_version"), v1, "delete");
    write_attribute(f.get(), v1, "schema_version", 1);
    close_file(f, v1);
    overwrite(bad, "/score/block_sizes", std::vector<std::int64_t>{1}, H5T_NATIVE_INT64);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const ScoreModelFile r = read_score_model(v1, MPI_COMM_WORLD);
  EXPECT_EQ(r.theta, m.theta);
  EXPECT_TRUE(r.basis.block_sizes.empty());
  EXPECT_EQ(model_checksum(r), model_checksum(m));
  expect_error<IoError>([&] { read_score_model(bad, MPI_COMM_WORLD); },
                        {bad, "corrupt", "block size 1"});
}

TEST_F(ScoreTraining, CorruptAndForeignModelFilesAreRefused) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const NoiseProcess noise(schedule());
  const std::vector<std::string> files = write_training_files(g, noise);
  ScoreModelFile m = train_linear_score(g, noise, files, opts(5, 1, 0.1, 3));
  const std::string path = file("model.h5");
  write_score_model(path, m, MPI_COMM_WORLD);
  // One coupling changed behind the checksum's back.
  MPI_Barrier(MPI_COMM_WORLD);
  if (testing::world_rank() == 0) {
    std::vector<double> cubic;
    {
      H5Handle f = open_file(path, H5F_ACC_RDONLY, MPI_COMM_SELF);
      cubic = read_dataset(f.get(), path, "/score/cubic", {5});
    }
    cubic[1] += 1e-9;
    overwrite(path, "/score/cubic", cubic, H5T_NATIVE_DOUBLE);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_error<IoError>([&] { read_score_model(path, MPI_COMM_WORLD); }, {path, "corrupt"});
  expect_error<IoError>([&] { read_score_model(files[0], MPI_COMM_WORLD); },
                        {files[0], "not a latdiff score model"});
  expect_error<IoError>([&] { read_score_model(file("none.h5"), MPI_COMM_WORLD); },
                        {"none.h5", "no such file"});
}

TEST_F(ScoreTraining, UnsuitableTrainingFilesAreRefused) {
  const Geometry g(kDims, {}, MPI_COMM_WORLD);
  const NoiseProcess noise(schedule());
  const std::string empty = file("empty.h5");
  create_output(empty, meta(g), false);
  expect_error<IoError>([&] { train_linear_score(g, noise, {empty}, {}); },
                        {empty, "no saved configurations"});
  const Geometry other({4, 4}, {}, MPI_COMM_WORLD);
  const std::vector<std::string> files = write_training_files(g, noise);
  expect_error<IoError>([&] { train_linear_score(other, noise, files, {}); },
                        {files[0], "shape [8, 8]", "expected [4, 4]"});
  expect_error<IoError>([&] { train_linear_score(g, noise, {files[0]}, opts(5, 1, 1.0, 1)); },
                        {"none to fit"});
}

}  // namespace
}  // namespace latdiff
