// The training stage of diffusion.score = trained (README "Diffusion workflow"): when
// diffusion.model_file does not exist, its training data are produced by a warm-up HMC chain
// (unless training.files names them), the linear score is fitted, and the model file is
// written; the measured chain then runs with the frozen model. Every step is a file, so a
// killed or signalled job resumes where it stopped: the warm-up is an ordinary chain with its
// own output file and checkpoint (resumed bitwise), and the model file appears atomically.
#pragma once

#include <mpi.h>

#include "io/config.hpp"

namespace latdiff {

// The deck of the warm-up chain of cfg: HMC with cfg's lattice, model ([action], or [rbm] with
// its frozen model file) and [sampler] HMC keys,
// seed splitmix64(run.seed), a hot start, training.thermalize + training.configurations *
// training.save_every trajectories saving every training.save_every-th, written to
// diffusion.model_file with .h5 replaced by .warmup.h5. Every other key has its default, so
// the warm-up depends on nothing else (pure HMC: no interleaved sampler). Local.
Config warmup_config(const Config& cfg);

// Collective over comm. Nothing unless cfg uses a trained score whose model file is missing;
// then trains it as above. Returns kExitOk, or kExitInterrupted when a stop signal ended the
// warm-up chain (its checkpoint written; the same deck continues) or the training (it
// restarts). An existing model file is used as it is (one line says so). Throws InputError
// (bad training data, normal equations too large for memory, named by deck key) or BusyError
// (the model file is being written by another run), alike on every rank.
int prepare_score_model(const Config& cfg, MPI_Comm comm);

}  // namespace latdiff
