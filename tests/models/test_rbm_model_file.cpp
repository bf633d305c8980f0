// RBM model files (models/rbm_model_file.hpp): a bitwise round trip for every unit kind, and
// every bad file refused with one line naming it, alike on all ranks, with nothing left behind.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "io/hdf5_handle.hpp"
#include "models/rbm_model_file.hpp"
#include "support/mpi_test_helpers.hpp"
#include "support/random_rbm.hpp"

namespace latdiff {
namespace {

class RbmModelFileTest : public testing::TempDirTest {};

TEST_F(RbmModelFileTest, RoundTripIsBitwise) {
  for (RbmUnits visible : {RbmUnits::binary, RbmUnits::spin, RbmUnits::gaussian}) {
    RbmModelFile m{testing::random_rbm(visible, RbmUnits::spin, 7, 5, 3), "data.h5 (signs)", "v1",
                   "2026-12-01T00:00:00Z"};
    const std::string path = file("model_" + to_string(visible) + ".h5");
    write_rbm_model(path, m, MPI_COMM_WORLD);
    const RbmModelFile back = read_rbm_model(path, MPI_COMM_WORLD);
    EXPECT_EQ(back.parameters.visible_units, visible);
    EXPECT_EQ(back.parameters.hidden_units, RbmUnits::spin);
    EXPECT_EQ(back.parameters.weights, m.parameters.weights);
    EXPECT_EQ(back.parameters.visible_bias, m.parameters.visible_bias);
    EXPECT_EQ(back.parameters.hidden_bias, m.parameters.hidden_bias);
    EXPECT_EQ(back.parameters.visible_sigma, m.parameters.visible_sigma);
    EXPECT_EQ(back.trained_on, m.trained_on);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
}

TEST_F(RbmModelFileTest, BadFilesAreRefusedWithOneLine) {
  const std::string missing = file("missing.h5");
  testing::expect_error<IoError>([&] { read_rbm_model(missing, MPI_COMM_WORLD); }, {missing});
  const std::string text = file("text.h5");
  if (testing::world_rank() == 0) std::ofstream(text) << "not hdf5\n";
  MPI_Barrier(MPI_COMM_WORLD);
  testing::expect_error<IoError>([&] { read_rbm_model(text, MPI_COMM_WORLD); }, {text});
  const std::string foreign = file("foreign.h5");
  if (testing::world_rank() == 0)
    H5Fclose(H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  MPI_Barrier(MPI_COMM_WORLD);
  testing::expect_error<IoError>([&] { read_rbm_model(foreign, MPI_COMM_WORLD); },
                                 {foreign, "not a latdiff RBM model file"});
}

TEST_F(RbmModelFileTest, InconsistentModelsAreNotWritten) {
  RbmModelFile m{testing::random_rbm(RbmUnits::binary, RbmUnits::binary, 4, 3, 5), "", "", ""};
  m.parameters.weights[2] = std::numeric_limits<double>::quiet_NaN();
  const std::string path = file("nan.h5");
  testing::expect_error<IoError>([&] { write_rbm_model(path, m, MPI_COMM_WORLD); },
                                 {path, "finite"});
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const std::string nowhere = file("no/such/dir/model.h5");
  m.parameters.weights[2] = 0.5;
  testing::expect_error<IoError>([&] { write_rbm_model(nowhere, m, MPI_COMM_WORLD); }, {nowhere});
}

}  // namespace
}  // namespace latdiff
