#include "diffusion/diffusion_model.hpp"

#include <stdexcept>
#include <string>

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

}  // namespace

DiffusionModel::DiffusionModel(const DiffusionConfig& cfg, const Geometry& g,
                               const Phi4Couplings& couplings)
    : noise_(noise_process(cfg)), depth_(cfg.depth) {
  try {
    gaussian_ = std::make_unique<FreeFieldScore>(g, couplings, noise_);
  } catch (const std::invalid_argument& e) {
    const std::string key =
        cfg.score == ScoreKind::free_field ? "diffusion.score" : "diffusion.prior";
    throw std::invalid_argument(key +
                                ": free_field needs a positive definite quadratic part of "
                                "the action, here not the case (" +
                                e.what() + ")");
  }
  score_ = gaussian_.get();
  if (cfg.prior == PriorKind::free_field) prior_ = gaussian_.get();
}

}  // namespace latdiff
