// Counter-based random numbers (Random123 Philox4x64-10), keyed by the run seed and a stream
// purpose; the counter is (site or slot, update number, draw index). There is no generator
// state: the same (seed, purpose, counter) always gives the same numbers, on any rank and
// after any restart, which makes chains independent of the domain decomposition.
#pragma once

#include <Random123/philox.h>

#include <Random123/boxmuller.hpp>
#include <Random123/uniform.hpp>
#include <array>
#include <cstdint>

namespace latdiff {

// Purposes of independent streams. Values are part of the chain's definition: never reuse
// or renumber them, only append.
enum class Stream : std::uint64_t {
  hot_start = 1,
  // 2 was the Philox4x64 Metropolis stream before the lane generator (metropolis_sweep).
  hmc_momentum = 3,
  hmc_accept = 4,
  langevin_noise = 5,
  mala_noise = 6,
  mala_accept = 7,
  diffusion_forward = 8,  // noising of the current state, counter (update, level)
  diffusion_reverse = 9,  // reverse-kernel draws of a proposal, counter (update, level)
  diffusion_prior = 10,   // the prior draw x_N of an independence proposal
  diffusion_accept = 11,
  diffusion_training = 12,  // noise of denoising score matching, counter (site, sample, level)
  generator_noise = 13,     // noise of generation without MH, counter (sample, level, step)
  generator_prior = 14,     // the prior draw x_N of a generated sample, counter (sample)
  rbm_gibbs_hidden = 15,    // h | v of block Gibbs, counter (hidden unit, update)
  rbm_gibbs_visible = 16,   // v | h of block Gibbs, counter (visible unit, update)
  rbm_flip = 17,            // single-flip Metropolis of RBM visible units, (unit, update)
  rbm_ais_visible = 18,     // annealed importance sampling, counter (unit, run, temperature)
  rbm_ais_hidden = 19,
  rbm_init = 20,          // random initial RBM weights, counter (weight index)
  rbm_shuffle = 21,       // minibatch order of RBM training, counter (epoch, position)
  metropolis_sweep = 22,  // Philox4x32 lanes of the Metropolis sweep (samplers/metropolis.hpp)
};

class CounterRng {
 public:
  CounterRng(std::uint64_t seed, Stream purpose)
      : key_{{seed, static_cast<std::uint64_t>(purpose)}} {}

  // Four independent uniforms in (0, 1].
  std::array<double, 4> uniform4(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0) const {
    const auto r = bits(a, b, c);
    return {r123::u01<double>(r[0]), r123::u01<double>(r[1]), r123::u01<double>(r[2]),
            r123::u01<double>(r[3])};
  }

  // Four independent standard normal deviates.
  std::array<double, 4> normal4(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0) const {
    const auto r = bits(a, b, c);
    const auto p = r123::boxmuller(r[0], r[1]);
    const auto q = r123::boxmuller(r[2], r[3]);
    return {p.x, p.y, q.x, q.y};
  }

  double uniform(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0) const {
    return uniform4(a, b, c)[0];
  }

 private:
  using Philox = r123::Philox4x64;
  Philox::ctr_type bits(std::uint64_t a, std::uint64_t b, std::uint64_t c) const {
    return Philox()(Philox::ctr_type{{a, b, c, 0}}, key_);
  }
  Philox::key_type key_;
};

}  // namespace latdiff
