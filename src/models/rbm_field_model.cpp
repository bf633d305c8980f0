#include "models/rbm_field_model.hpp"

#include <cmath>

namespace latdiff {

ExactSum RbmFieldModel::action(const Field& phi) const {
  gather(phi, v_);
  const double f = rbm_.free_energy(v_);
  ExactSum s;
  if (g_.rank() == 0) s.add(f);
  return s;
}

void RbmFieldModel::force(const Field& phi, Field& out) const {
  gather(phi, v_);
  rbm_.force(v_, f_);
  scatter(f_, out);
}

void RbmFieldModel::gather(const Field& phi, std::vector<double>& v) const {
  v.resize(rbm_.local_visible());
  std::size_t i = 0;
  for_each_site(g_, [&](std::size_t p, std::int64_t) { v[i++] = phi[p]; });
}

void RbmFieldModel::scatter(const std::vector<double>& v, Field& phi) const {
  std::size_t i = 0;
  for_each_site(g_, [&](std::size_t p, std::int64_t) { phi[p] = v[i++]; });
}

double RbmFieldModel::cold_value() const {
  const RbmUnits units = rbm_.parameters().visible_units;
  return units == RbmUnits::gaussian ? 0.0 : Rbm::off_value(units);
}

double RbmFieldModel::hot_value(double u) const {
  const RbmUnits units = rbm_.parameters().visible_units;
  if (units == RbmUnits::gaussian) return 2 * u - 1;
  return u < 0.5 ? Rbm::off_value(units) : Rbm::on_value(units);
}

bool RbmFieldModel::admissible(double x) const {
  const RbmUnits units = rbm_.parameters().visible_units;
  if (units == RbmUnits::gaussian) return std::isfinite(x);
  return x == Rbm::on_value(units) || x == Rbm::off_value(units);
}

std::string RbmFieldModel::admissible_text() const {
  const RbmUnits units = rbm_.parameters().visible_units;
  if (units == RbmUnits::gaussian) return "gaussian (finite)";
  return to_string(units) + " (" + std::to_string(static_cast<int>(Rbm::off_value(units))) +
         " or 1)";
}

}  // namespace latdiff
