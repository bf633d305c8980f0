#include "diffusion/diffusion_model.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

#include "diffusion/score_model_file.hpp"
#include "io/hdf5_handle.hpp"

namespace latdiff {

namespace {

NoiseSchedule schedule(const DiffusionConfig& c) {
  NoiseSchedule s;
  s.kind = c.process;
  s.levels = c.levels;
  s.sigma_min = c.sigma_min;
  s.sigma_max = c.sigma_max;
  s.beta_min = c.beta_min;
  s.beta_max = c.beta_max;
  return s;
}

// Shortest text that reads back as v.
std::string real(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// The schedule parameters that matter for the process, as the deck names them.
std::string schedule_text(const NoiseSchedule& s) {
  const std::string levels = ", levels " + std::to_string(s.levels);
  if (s.kind == NoiseKind::ve)
    return "process ve" + levels + ", sigma_min " + real(s.sigma_min) + ", sigma_max " +
           real(s.sigma_max);
  return std::string("process ") + (s.kind == NoiseKind::vp ? "vp" : "sub_vp") + levels +
         ", beta_min " + real(s.beta_min) + ", beta_max " + real(s.beta_max);
}

// Collective. The trained score of cfg.model_file, checked against the deck.
ScoreModelFile load_model(const DiffusionConfig& cfg, const Geometry& g) {
  const std::string key = "diffusion.model_file: ";
  ScoreModelFile m;
  try {
    m = read_score_model(cfg.model_file, g.comm());
  } catch (const IoError& e) {
    throw std::invalid_argument(key + e.what());
  }
  if (m.dimension != g.dim())
    throw std::invalid_argument(key + "'" + cfg.model_file +
                                "' was trained in d = " + std::to_string(m.dimension) +
                                ", the deck's lattice.dims has d = " + std::to_string(g.dim()));
  const std::string trained = schedule_text(m.schedule), deck = schedule_text(schedule(cfg));
  if (trained != deck)
    throw std::invalid_argument(key + "'" + cfg.model_file + "' was trained for " + trained +
                                "; the deck's [diffusion] keys say " + deck);
  return m;
}

}  // namespace

NoiseProcess noise_process(const DiffusionConfig& c) {
  const NoiseSchedule s = schedule(c);
  switch (c.reverse_kernel) {
    case ReverseKernelChoice::by_process:
      return NoiseProcess(s);
    case ReverseKernelChoice::ancestral:
      return NoiseProcess(s, ReverseKernel::ancestral);
    case ReverseKernelChoice::posterior:
      return NoiseProcess(s, ReverseKernel::posterior);
  }
  throw std::logic_error("noise_process: unhandled reverse kernel");
}

DiffusionModel::DiffusionModel(const DiffusionConfig& cfg, const Geometry& g,
                               const std::optional<Phi4Couplings>& gaussian_part)
    : noise_(noise_process(cfg)), depth_(cfg.depth) {
  if (cfg.score == ScoreKind::free_field || cfg.prior == PriorKind::free_field) {
    if (!gaussian_part)
      throw std::invalid_argument(
          std::string(cfg.score == ScoreKind::free_field ? "diffusion.score" : "diffusion.prior") +
          ": free_field needs the Gaussian part of a phi^4 action; this model has none");
    try {
      gaussian_ = std::make_unique<FreeFieldScore>(g, *gaussian_part, noise_);
    } catch (const std::invalid_argument& e) {
      const std::string key =
          cfg.score == ScoreKind::free_field ? "diffusion.score" : "diffusion.prior";
      throw std::invalid_argument(key +
                                  ": free_field needs a positive definite quadratic part of "
                                  "the action, here not the case (" +
                                  e.what() + ")");
    }
  }
  if (cfg.score == ScoreKind::trained) {
    ScoreModelFile m = load_model(cfg, g);
    checksum_ = latdiff::model_checksum(m);
    trained_ = std::make_unique<LinearScore>(g, m.basis, std::move(m.theta));
    score_ = trained_.get();
  } else {
    score_ = gaussian_.get();
  }
  if (cfg.prior == PriorKind::free_field) prior_ = gaussian_.get();
}

}  // namespace latdiff
