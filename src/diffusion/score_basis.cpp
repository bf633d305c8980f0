#include "diffusion/score_basis.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "fft/distributed_fft.hpp"

namespace latdiff {

HatBasis::HatBasis(int dim, int knots) : knots_(knots) {
  if (dim < 1) throw std::invalid_argument("HatBasis: dim must be >= 1");
  if (knots < 2)
    throw std::invalid_argument("linear score: knots must be >= 2 (got " + std::to_string(knots) +
                                ")");
  top_ = 4.0 * dim;
  spacing_ = top_ / (knots - 1);
}

void HatBasis::locate(double u, int& j, double& t) const {
  u = std::clamp(u, 0.0, top_);
  j = std::min(static_cast<int>(u / spacing_), knots_ - 2);
  t = std::clamp((u - knot(j)) / spacing_, 0.0, 1.0);
}

std::vector<LocalTerm> ScoreBasis::local_terms() const {
  std::vector<LocalTerm> terms;
  for (int s = 0; s < scales(); ++s) {
    if (s > 0 && block_sizes[s - 1] == 0) terms.push_back({s, 1});
    terms.push_back({s, 3});
    terms.push_back({s, 5});
  }
  return terms;
}

int ScoreBasis::index(int scale, int power) const {
  const std::vector<LocalTerm> terms = local_terms();
  for (std::size_t k = 0; k < terms.size(); ++k)
    if (terms[k].scale == scale && terms[k].power == power) return knots + static_cast<int>(k);
  return -1;
}

void ScoreBasis::check() const {
  if (knots < 2)
    throw std::invalid_argument("linear score: knots must be >= 2 (got " + std::to_string(knots) +
                                ")");
  for (std::size_t i = 0; i < block_sizes.size(); ++i) {
    const int b = block_sizes[i];
    if (b < 0 || b == 1)
      throw std::invalid_argument("linear score: block size " + std::to_string(b) +
                                  " is neither 0 (the zero mode) nor >= 2");
    if (std::find(block_sizes.begin(), block_sizes.begin() + i, b) != block_sizes.begin() + i)
      throw std::invalid_argument("linear score: block size " + std::to_string(b) +
                                  " is listed twice");
  }
}

std::vector<double> block_filter(const Geometry& g, int block_size) {
  std::vector<double> k = lattice_momentum_squared(g);
  const double width = (static_cast<double>(block_size) * block_size - 1) / 24;
  for (double& u : k) u = block_size == 0 ? (u == 0 ? 1.0 : 0.0) : std::exp(-width * u);
  return k;
}

}  // namespace latdiff
