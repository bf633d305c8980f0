// The model stage of model.type = rbm (README "RBM workflow"). When rbm.model_file exists it
// is used as it is, once its unit kinds and sizes are found to be the deck's. Otherwise the
// initial parameters of [rbm] are trained on rbm_training.data (when set) by CD-k or PCD
// (training/rbm_training.hpp), epoch by epoch with the log-likelihood of the training and
// held-out configurations (exact log Z or AIS) and the reconstruction error; the training
// record goes to rbm_training.output (README "RBM training records") and then the model to
// rbm.model_file, both atomically, so an existing model file means a finished stage. Training
// is not resumable: a stop signal ends it with nothing written, and the same deck starts it
// again.
#pragma once

#include <mpi.h>

#include "io/config.hpp"

namespace latdiff {

// Collective over comm. Nothing unless cfg.model is rbm. Returns kExitOk, or kExitInterrupted
// when a stop signal ended the training. Throws InputError (bad data, a model file of another
// model, a training record of another deck, named by deck key), BusyError (the files are
// another run's) or IoError (a failed write: a full disk), alike on every rank.
int prepare_rbm_model(const Config& cfg, MPI_Comm comm);

}  // namespace latdiff
