// One step of generating x_0 from a prior draw x_N with a score model and no
// Metropolis-Hastings test (DESIGN.md §4), so the output shows the raw model's bias. With the
// coefficients a_i, v_i, abar_i of diffusion/noise_process.hpp and s = s(x_i, i), the step from
// level i to i - 1 of each method is
//   ancestral:            x_{i-1} = (x_i + v_i s) / a_i + sqrt(r_i) eta, the reverse kernel
//                         (NoiseProcess::reverse_step, the diffusion MH proposal);
//   euler_maruyama:       x_{i-1} = x_i + (beta_i / 2) x_i + v_i s + sqrt(v_i) eta;
//   probability_flow:     x_{i-1} = x_i + (beta_i / 2) x_i + (v_i / 2) s, no noise;
//   predictor_corrector:  the ancestral step, then at level i - 1 >= 1 corrector_steps annealed
//                         Langevin steps x <- x + eps s(x, i-1) + sqrt(2 eps) z with
//                         eps = 2 (snr |z| / |s(x, i-1)|)^2 (Song et al. 2021, algorithms 4, 5).
// euler_maruyama and probability_flow are Euler steps, backwards on the level grid, of the
// reverse-time SDE dx = [f - g^2 s] dt + g dw and of the probability-flow ODE
// dx = [f - g^2 s / 2] dt of the process's continuous limit dx = f dt + g dw, in which
//   f(x, t_i) dt = -beta_i x / 2 with beta_i = 1 - a_i^2: the per-level beta of the schedule
//                  for VP and sub-VP, 0 for VE;
//   g(t_i)^2 dt  = v_i: sigma_i^2 - sigma_{i-1}^2 for VE, beta_i for VP, and for sub-VP
//                  beta_i (1 - abar_{i-1}^2 abar_i^2), i.e. g^2 = beta (1 - e^{-2 int beta})
//                  with e^{-int beta} taken as abar^2 at the geometric mean of the step's ends.
// Each step errs at second order in its size (beta_i, or v_i / sigma_i^2 for VE), so with the
// exact score and prior the first three approach the target as N grows. predictor_corrector
// does not: its corrector is unadjusted Langevin with a step that follows the field's norm,
// whose Ito stationary density is ~ pi |s|^2 rather than pi, so it keeps a bias at every N
// (O(eps) from the discretisation, O(1/V) per mode from eps depending on x). For a Gaussian
// target and the exact score every step but the corrector is linear and diagonal in momentum
// space, so the generated covariance follows a recursion per momentum (which the tests check).
//
// Everything is local to the rank except corrector_step (two exact global sums), so results
// are bitwise the same on every decomposition.
#pragma once

#include "diffusion/noise_process.hpp"
#include "io/config.hpp"
#include "lattice/field.hpp"
#include "lattice/geometry.hpp"

namespace latdiff {

// beta_i = 1 - a_i^2 of level i: f(x, t_i) dt = -beta_i x / 2 (0 for VE).
double drift_rate(const NoiseProcess& noise, int i);

// Interior of out = x_i + (beta_i / 2) x_i + v_i score + sqrt(v_i) eta. out may be x_i.
void euler_maruyama_step(const Geometry& g, const NoiseProcess& noise, int i, const Field& x_i,
                         const Field& score, const Field& eta, Field& out);
// Interior of out = x_i + (beta_i / 2) x_i + (v_i / 2) score. out may be x_i.
void probability_flow_step(const Geometry& g, const NoiseProcess& noise, int i, const Field& x_i,
                           const Field& score, Field& out);

// Collective over g.comm(). One Langevin corrector step in place on the interior of x, with
// the score s(x, level) and white noise z: eps = 2 snr^2 sum z^2 / sum s^2 over the whole
// lattice (exact sums, one reduction), x += eps s + sqrt(2 eps) z. Returns eps, the same on
// every rank; a score that vanishes everywhere leaves x unchanged and returns 0.
double corrector_step(const Geometry& g, double snr, const Field& score, const Field& z, Field& x);

}  // namespace latdiff
