#include "diffusion/score_training.hpp"

#include <cmath>
#include <limits>

#include "diffusion/linear_score.hpp"
#include "io/collective_verdict.hpp"
#include "io/output_file.hpp"
#include "random/counter_rng.hpp"

namespace latdiff {

ScoreModelFile train_linear_score(const Geometry& g, const NoiseProcess& noise,
                                  const std::vector<std::string>& files,
                                  const ScoreTrainingOptions& options) {
  ScoreModelFile m;
  m.dimension = g.dim();
  m.basis = options.basis;
  m.schedule = noise.schedule();
  m.files = files;
  m.lattice_dims = g.global_dims();
  m.seed = options.seed;
  m.draws = options.draws;
  std::vector<std::int64_t> index_in_file;
  for (std::size_t f = 0; f < files.size(); ++f) {
    const std::vector<double> steps = read_series(files[f], "/configurations/step");
    if (steps.empty())
      throw IoError(files[f] +
                    ": holds no saved configurations (/configurations/phi is empty; "
                    "write them with output.save_every > 0)");
    for (std::size_t i = 0; i < steps.size(); ++i) {
      m.file_index.push_back(static_cast<std::int64_t>(f));
      m.step.push_back(static_cast<std::int64_t>(steps[i]));
      index_in_file.push_back(static_cast<std::int64_t>(i));
    }
  }
  const auto total = static_cast<std::int64_t>(m.step.size());
  const auto held = static_cast<std::int64_t>(std::floor(options.holdout * total));
  if (total - held < 1)
    throw IoError(files.back() + ": " + std::to_string(total) +
                  " configurations leave none to fit after training.holdout");
  m.held_out.assign(m.step.size(), 0);
  for (std::int64_t c = total - held; c < total; ++c) m.held_out[c] = 1;

  const CounterRng rng(options.seed, Stream::diffusion_training);
  LinearScoreTrainer trainer(g, noise, options.basis, rng, options.draws);
  Field phi = make_field(g);
  std::vector<Field> holdout;
  for (std::int64_t c = 0; c < total; ++c) {
    const std::string& file = files[m.file_index[c]];
    read_configuration(file, index_in_file[c], g, phi);
    // A NaN or inf would drop every term from the fit (its sums are not finite).
    agree<IoError>(g.comm(), [&] {
      for_each_site(g, [&](std::size_t p, std::int64_t gi) {
        if (!std::isfinite(phi[p]))
          throw IoError(file + ": saved configuration " + std::to_string(index_in_file[c]) +
                        " (step " + std::to_string(m.step[c]) +
                        ") holds a non-finite value (NaN or inf) at site " + std::to_string(gi));
      });
    });
    if (options.stop_requested && options.stop_requested())
      throw TrainingStopped("training stopped by a signal at configuration " +
                            std::to_string(c + 1) + " of " + std::to_string(total));
    if (m.held_out[c])
      holdout.push_back(phi);
    else
      trainer.add(phi, static_cast<std::uint64_t>(c));
    if (options.progress) options.progress(c + 1, total);
  }
  m.theta = trainer.solve();
  m.train_loss = trainer.training_loss(m.theta);
  if (holdout.empty()) {
    m.holdout_loss.assign(m.theta.size(), std::numeric_limits<double>::quiet_NaN());
  } else {
    LinearScore score(g, options.basis, m.theta);
    m.holdout_loss = denoising_loss(score, g, noise, rng, holdout,
                                    static_cast<std::uint64_t>(total - held), options.draws);
  }
  return m;
}

}  // namespace latdiff
