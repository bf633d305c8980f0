#include "io/deck.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <type_traits>
#include <utility>

namespace latdiff {

namespace {

namespace po = boost::program_options;

// A value that fails a per-key check; the caller prefixes the key name.
struct BadValue : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One deck key: the single place that knows its name, default (the Config member's default),
// allowed values, meaning, and how to read and write it.
struct Key {
  std::string section, name;
  std::string allowed;  // e.g. "integer >= 1", shown in the help
  std::string meaning;
  bool required = false;  // no default: must be given in the deck or on the command line
  std::function<void(Config&, const std::string&)> read;  // parse + check; throws BadValue
  std::function<std::string(const Config&)> write;        // text that `read` maps back exactly
  std::string full_name() const { return section + "." + name; }
};

// The type of the Config member that accessor `Get` returns.
template <class Get>
using member_t = std::remove_cvref_t<std::invoke_result_t<Get, Config&>>;

std::string join(const std::vector<std::string>& words, const std::string& separator) {
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i) s += (i ? separator : "") + words[i];
  return s;
}

// Length of the well-formed UTF-8 sequence that starts at text[i] (1 for ASCII), 0 if none does
// (stray continuation byte, overlong form, surrogate, beyond U+10FFFF, cut short).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xbf;  // allowed second byte (RFC 3629, section 4)
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return n;
}

// Offset of the first byte that is not part of well-formed UTF-8, npos if there is none.
std::size_t invalid_utf8_at(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

template <class T>
std::string format_number(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[64];
    // Shortest text that parses back to the same double, so resolved decks round-trip exactly.
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    std::string s(buf, end);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";  // show reals as reals
    return s;
  } else {
    return std::to_string(v);
  }
}

template <class T>
std::string type_name() {
  if constexpr (std::is_floating_point_v<T>) return "real number";
  if constexpr (std::is_unsigned_v<T>) return "unsigned integer";
  return "integer";
}

// Whole-string parse: rejects trailing junk ("0.1x"), fractions for integers ("3.5"),
// and non-finite reals.
template <class T>
T parse_number(const std::string& text) {
  T v{};
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, v);
  if (ec == std::errc::result_out_of_range)
    throw BadValue(type_name<T>() + " out of range (got '" + text + "')");
  if (ec != std::errc{} || ptr != last) {
    const std::string article = std::is_integral_v<T> ? "an " : "a ";
    throw BadValue("expected " + article + type_name<T>() + ", got '" + text + "'");
  }
  if constexpr (std::is_floating_point_v<T>)
    if (!std::isfinite(v)) throw BadValue("must be finite (got '" + text + "')");
  return v;
}

// Lower bound of a numeric key: value > bound (strict) or value >= bound.
struct Bound {
  double value;
  bool strict = false;
};

template <class T>
std::string bound_text(const Bound& b) {
  return (b.strict ? "> " : ">= ") + format_number(static_cast<T>(b.value));
}

template <class T>
void check_bound(T v, const std::optional<Bound>& b, const std::string& subject = "must be") {
  if (!b) return;
  const T min = static_cast<T>(b->value);
  if (b->strict ? v > min : v >= min) return;
  throw BadValue(subject + " " + bound_text<T>(*b) + " (got " + format_number(v) + ")");
}

template <class Get>
Key number_key(std::string section, std::string name, Get get, std::optional<Bound> lower,
               std::string meaning) {
  using T = member_t<Get>;
  std::string allowed = type_name<T>();
  if (lower) allowed += " " + bound_text<T>(*lower);
  return {std::move(section),
          std::move(name),
          std::move(allowed),
          std::move(meaning),
          false,
          [get, lower](Config& c, const std::string& text) {
            const T v = parse_number<T>(text);
            check_bound(v, lower);
            get(c) = v;
          },
          [get](const Config& c) { return format_number(get(c)); }};
}

// An update count or interval: a number_key also bounded by kMaxUpdates.
template <class Get>
Key count_key(std::string section, std::string name, Get get, Bound lower, std::string meaning) {
  Key k = number_key(std::move(section), std::move(name), get, lower, std::move(meaning));
  k.allowed += " and <= 2^62";
  k.read = [read = k.read, get](Config& c, const std::string& text) {
    read(c, text);
    if (get(c) > kMaxUpdates)
      throw BadValue("must be <= 2^62 = " + format_number(kMaxUpdates) + " (got " + text + ")");
  };
  return k;
}

// Space-separated integers, `min_count` to `max_count` of them, each within `lower`.
template <class Get>
Key int_list_key(std::string section, std::string name, Get get, std::size_t min_count,
                 std::size_t max_count, Bound lower, bool required, std::string meaning) {
  std::string allowed = std::to_string(min_count) + " to " + std::to_string(max_count) +
                        " space-separated integers " + bound_text<int>(lower);
  return {std::move(section),
          std::move(name),
          std::move(allowed),
          std::move(meaning),
          required,
          [get, min_count, max_count, lower](Config& c, const std::string& text) {
            std::vector<int> values;
            std::istringstream words(text);
            for (std::string word; words >> word;) {
              values.push_back(parse_number<int>(word));
              check_bound(values.back(), lower, "each entry must be");
            }
            if (values.size() < min_count || values.size() > max_count)
              throw BadValue("needs " + std::to_string(min_count) + " to " +
                             std::to_string(max_count) + " entries (got " +
                             std::to_string(values.size()) + " in '" + text + "')");
            get(c) = std::move(values);
          },
          [get](const Config& c) {
            std::vector<std::string> words;
            for (int v : get(c)) words.push_back(std::to_string(v));
            return join(words, " ");
          }};
}

// Space-separated real numbers, any count (empty allowed).
template <class Get>
Key real_list_key(std::string section, std::string name, Get get, std::string meaning) {
  return {std::move(section),
          std::move(name),
          "space-separated real numbers, or empty",
          std::move(meaning),
          false,
          [get](Config& c, const std::string& text) {
            std::vector<double> values;
            std::istringstream words(text);
            for (std::string word; words >> word;) values.push_back(parse_number<double>(word));
            get(c) = std::move(values);
          },
          [get](const Config& c) {
            std::vector<std::string> words;
            for (double v : get(c)) words.push_back(format_number(v));
            return join(words, " ");
          }};
}

template <class E>
using Names = std::vector<std::pair<E, std::string>>;

template <class Get>
Key choice_key(std::string section, std::string name, Get get, Names<member_t<Get>> names,
               std::string meaning) {
  std::vector<std::string> words;
  for (const auto& n : names) words.push_back(n.second);
  const std::string list = join(words, ", ");
  return {std::move(section),
          std::move(name),
          "one of " + list,
          std::move(meaning),
          false,
          [get, names, list](Config& c, const std::string& text) {
            for (const auto& [value, word] : names)
              if (word == text) {
                get(c) = value;
                return;
              }
            throw BadValue("must be one of " + list + " (got '" + text + "')");
          },
          [get, names](const Config& c) {
            for (const auto& [value, word] : names)
              if (value == get(c)) return word;
            throw std::logic_error("deck: enum value without a name");
          }};
}

// Free text (paths). '#' and control characters cannot be written back into a deck, and the
// resolved deck is stored as a UTF-8 string.
template <class Get>
Key string_key(std::string section, std::string name, Get get, bool allow_empty,
               std::string meaning) {
  return {std::move(section),
          std::move(name),
          allow_empty ? "text" : "non-empty text",
          std::move(meaning),
          false,
          [get, allow_empty](Config& c, const std::string& text) {
            if (!allow_empty && text.empty()) throw BadValue("must not be empty");
            for (unsigned char ch : text)
              if (ch == '#' || ch < 0x20 || ch == 0x7f)
                throw BadValue("must not contain '#' or control characters (got '" + text + "')");
            if (invalid_utf8_at(text) != std::string_view::npos)
              throw BadValue("must be UTF-8 text (got '" + text + "')");
            get(c) = text;
          },
          [get](const Config& c) { return get(c); }};
}

// The values of sampler.type.
Names<SamplerType> sampler_names() {
  return {{SamplerType::metropolis, "metropolis"}, {SamplerType::hmc, "hmc"},
          {SamplerType::langevin, "langevin"},     {SamplerType::mala, "mala"},
          {SamplerType::diffusion, "diffusion"},   {SamplerType::generate, "generate"},
          {SamplerType::gibbs, "gibbs"},           {SamplerType::flip, "flip"}};
}

// All keys in deck order. Defaults are those of the Config members (config.hpp).
std::vector<Key> deck_keys() {
  const Bound non_negative{0}, positive{0, true}, at_least_one{1};
  return {
      int_list_key(
          "lattice", "dims", [](auto& c) -> auto& { return c.lattice.dims; }, 1, 4, {2}, true,
          "Global lattice extents L_0 ... L_{d-1} (periodic), e.g. 32 32; the last "
          "dimension runs fastest in memory and in output files."),
      int_list_key(
          "lattice", "procs", [](auto& c) -> auto& { return c.lattice.procs; }, 0, 4, at_least_one,
          false,
          "MPI process grid, one entry per dimension, each dividing its extent; the "
          "product must equal the number of ranks. Empty: chosen automatically."),
      choice_key(
          "model", "type", [](auto& c) -> auto& { return c.model; },
          {{ModelType::phi4, "phi4"}, {ModelType::rbm, "rbm"}},
          "What is sampled. phi4: lattice phi^4 theory (keys of [action]); rbm: a restricted "
          "Boltzmann machine, p(v) ~ exp(-F(v)) over its visible units v (keys of [rbm]; "
          "trained first by [rbm_training] when rbm.model_file does not exist)."),
      choice_key(
          "action", "form", [](auto& c) -> auto& { return c.action.form; },
          {{ActionForm::hopping, "hopping"}, {ActionForm::mass, "mass"}},
          "Parametrisation of the phi^4 action:\n"
          "hopping: S = sum_x [-2 kappa sum_mu phi_x phi_{x+mu} + phi_x^2 "
          "+ lambda (phi_x^2 - 1)^2]\n"
          "mass: S = sum_x [1/2 sum_mu (phi_{x+mu} - phi_x)^2 + 1/2 m2 phi_x^2 "
          "+ (g/4) phi_x^4]"),
      number_key(
          "action", "kappa", [](auto& c) -> auto& { return c.action.kappa; }, {},
          "Hopping parameter (hopping form). With lambda = 0 (free field) it needs "
          "|kappa| < 1/(2d)."),
      number_key(
          "action", "lambda", [](auto& c) -> auto& { return c.action.lambda; }, non_negative,
          "Quartic coupling (hopping form)."),
      number_key(
          "action", "m2", [](auto& c) -> auto& { return c.action.m2; }, {},
          "Bare mass squared (mass form). May be negative only when g > 0."),
      number_key(
          "action", "g", [](auto& c) -> auto& { return c.action.g; }, non_negative,
          "Quartic coupling (mass form)."),
      choice_key(
          "rbm", "visible_units", [](auto& c) -> auto& { return c.rbm.visible_units; },
          {{RbmUnitsChoice::binary, "binary"},
           {RbmUnitsChoice::spin, "spin"},
           {RbmUnitsChoice::gaussian, "gaussian"}},
          "Visible units of the RBM: binary {0, 1} or spin {-1, +1}, E = -a.v - b.h - v.W h; "
          "gaussian (real, Cho-Ilin-Raiko), E = sum_i (v_i - a_i)^2 / (2 s_i^2) - sum_ij (v_i / "
          "s_i^2) W_ij h_j - b.h."),
      choice_key(
          "rbm", "hidden_units", [](auto& c) -> auto& { return c.rbm.hidden_units; },
          {{RbmUnitsChoice::binary, "binary"}, {RbmUnitsChoice::spin, "spin"}},
          "Hidden units of the RBM: binary {0, 1} or spin {-1, +1}."),
      choice_key(
          "rbm", "visible", [](auto& c) -> auto& { return c.rbm.visible; },
          {{RbmVisibleLayout::lattice, "lattice"}, {RbmVisibleLayout::vector, "vector"}},
          "Where the n_v = product of lattice.dims visible units live. lattice: on the sites of "
          "lattice.dims (row-major global order), decomposed by lattice.procs like a phi^4 "
          "field; chains measure the phi^4 observables on v. vector: a plain vector split into "
          "contiguous blocks over any number of ranks (e.g. lattice.dims = 784 for 28 x 28 "
          "images); training only (run.updates = 0)."),
      number_key(
          "rbm", "hidden", [](auto& c) -> auto& { return c.rbm.hidden; }, Bound{1},
          "Number of hidden units n_h."),
      string_key(
          "rbm", "model_file", [](auto& c) -> auto& { return c.rbm.model_file; }, true,
          "RBM model file (HDF5; README \"RBM model files\"): used as it is when it exists "
          "(frozen; delete it to retrain), else written after [rbm_training] (or from the "
          "initial parameters below when rbm_training.data is empty). Its sizes and unit kinds "
          "must be the deck's. Empty: output.file with its .h5 suffix replaced by .rbm.h5."),
      real_list_key(
          "rbm", "weights", [](auto& c) -> auto& { return c.rbm.weights; },
          "Initial W, n_v * n_h values in row-major order (W_11 ... W_1n_h W_21 ...). Empty: "
          "W_ij ~ N(0, rbm.init_scale^2), drawn from run.seed."),
      real_list_key(
          "rbm", "visible_bias", [](auto& c) -> auto& { return c.rbm.visible_bias; },
          "Initial visible biases a (gaussian units: the means), n_v values. Empty: 0."),
      real_list_key(
          "rbm", "hidden_bias", [](auto& c) -> auto& { return c.rbm.hidden_bias; },
          "Initial hidden biases b, n_h values. Empty: 0."),
      real_list_key(
          "rbm", "visible_sigma", [](auto& c) -> auto& { return c.rbm.visible_sigma; },
          "gaussian visible units: the widths s_i > 0, n_v values (kept fixed by training). "
          "Empty: 1."),
      number_key(
          "rbm", "init_scale", [](auto& c) -> auto& { return c.rbm.init_scale; }, non_negative,
          "Standard deviation of the random initial weights (empty rbm.weights)."),
      choice_key(
          "sampler", "type", [](auto& c) -> auto& { return c.sampler.type; }, sampler_names(),
          "metropolis: checkerboard local Metropolis sweeps; hmc: hybrid Monte Carlo "
          "trajectories; langevin: unadjusted Langevin steps (stochastic quantization, "
          "O(eps) or O(eps^2) step-size bias); mala: Metropolis-adjusted Langevin (exact); "
          "diffusion: diffusion-model proposals with an exact Metropolis-Hastings test on "
          "their generation paths (keys of [diffusion]); generate: every update a fresh "
          "configuration generated by the score model with diffusion.generator and no "
          "Metropolis-Hastings test, NOT a sampler of the target: it shows the raw model's bias. "
          "RBMs (model.type = rbm): gibbs, block Gibbs sweeps h ~ p(h | v), v ~ p(v | h) (any "
          "units); flip, single-flip Metropolis on p(v) over every visible unit in turn "
          "(binary or spin units); gaussian visible units also take hmc, langevin, mala, "
          "diffusion and generate (diffusion.score = trained) on the free energy F(v)."),
      number_key(
          "sampler", "step", [](auto& c) -> auto& { return c.sampler.step; }, positive,
          "Metropolis proposal half-width: phi' = phi + step * U(-1, 1)."),
      number_key(
          "sampler", "hits", [](auto& c) -> auto& { return c.sampler.hits; }, at_least_one,
          "Metropolis hits per site per sweep (at most 4095)."),
      choice_key(
          "sampler", "integrator", [](auto& c) -> auto& { return c.sampler.integrator; },
          {{Integrator::leapfrog, "leapfrog"}, {Integrator::omelyan, "omelyan"}},
          "HMC molecular-dynamics integrator; omelyan is the 2nd-order minimum-norm "
          "scheme (2MN, lambda = 0.1931833275037836)."),
      number_key(
          "sampler", "trajectory_length",
          [](auto& c) -> auto& { return c.sampler.trajectory_length; }, positive,
          "HMC trajectory length tau."),
      number_key(
          "sampler", "md_steps", [](auto& c) -> auto& { return c.sampler.md_steps; }, at_least_one,
          "HMC integration steps per trajectory (step size tau/md_steps)."),
      number_key(
          "sampler", "langevin_step", [](auto& c) -> auto& { return c.sampler.langevin_step; },
          positive,
          "Langevin time step eps of langevin and mala: phi' = phi - eps dS/dphi + "
          "sqrt(2 eps) eta. Stable only for eps (4d + m2) < 2 (mass form)."),
      choice_key(
          "sampler", "langevin_scheme", [](auto& c) -> auto& { return c.sampler.langevin_scheme; },
          {{LangevinScheme::euler, "euler"},
           {LangevinScheme::leimkuhler_matthews, "leimkuhler_matthews"}},
          "Unadjusted Langevin scheme: euler (Euler-Maruyama, bias O(eps)) or "
          "leimkuhler_matthews (noise (eta_n + eta_{n+1}) sqrt(eps/2), bias O(eps^2), exact "
          "variance for a free field)."),
      choice_key(
          "sampler", "fourier_acceleration",
          [](auto& c) -> auto& { return c.sampler.fourier_acceleration; },
          {{false, "false"}, {true, "true"}},
          "Fourier acceleration of hmc, langevin and mala (an error for metropolis), with "
          "M~(p) = phat^2 + fa_mass2, phat^2 = sum_mu 4 sin^2(p_mu/2), applied by FFTs. hmc: "
          "momenta pi ~ N(0, M~), H = pi^T M~^-1 pi / 2 + S, drift phi += dt M~^-1 pi. langevin, "
          "mala: kernel K(p) = M~_max / M~(p) (K = 1 at the highest momentum), phi' = phi - eps "
          "K dS/dphi + sqrt(2 eps) K^(1/2) eta. In a (near-)Gaussian field the long-wavelength "
          "modes then move as fast as the short ones; each update costs a few FFTs more."),
      number_key(
          "sampler", "fa_mass2", [](auto& c) -> auto& { return c.sampler.fa_mass2; }, positive,
          "Mass squared M^2 of the Fourier-acceleration kernel M~(p) = phat^2 + M^2; start from "
          "the physical (renormalised) mass squared in mass-form units. For a free field in mass "
          "form, M^2 = m2 gives every mode HMC frequency 1, and M^2 >= m2 keeps langevin_step's "
          "stability bound."),
      choice_key(
          "sampler", "interleave", [](auto& c) -> auto& { return c.sampler.interleave; },
          {{Interleave::none, "none"},
           {Interleave::metropolis, "metropolis"},
           {Interleave::hmc, "hmc"},
           {Interleave::langevin, "langevin"},
           {Interleave::mala, "mala"},
           {Interleave::diffusion, "diffusion"},
           {Interleave::gibbs, "gibbs"},
           {Interleave::flip, "flip"}},
          "A second sampler mixed into the chain: each cycle is one sampler.type update followed "
          "by sampler.interleave_updates updates of this one (same [sampler] and [diffusion] "
          "keys), every update a row of /sampler. Each is exact, so the mixture is. none: "
          "sampler.type alone."),
      number_key(
          "sampler", "interleave_updates",
          [](auto& c) -> auto& { return c.sampler.interleave_updates; }, at_least_one,
          "Updates of sampler.interleave per cycle."),
      choice_key(
          "diffusion", "process", [](auto& c) -> auto& { return c.diffusion.process; },
          {{NoiseKind::vp, "vp"}, {NoiseKind::ve, "ve"}, {NoiseKind::sub_vp, "sub_vp"}},
          "Noise process of sampler.type = diffusion, levels i = 1 ... N: vp (DDPM, "
          "q(x_i | x_{i-1}) = N(sqrt(1 - beta_i) x_{i-1}, beta_i)), ve (SMLD, x_i = x_{i-1} + "
          "N(0, sigma_i^2 - sigma_{i-1}^2), sigma_i geometric) or sub_vp (VP drift, marginal "
          "variance (1 - abar_i^2)^2)."),
      number_key(
          "diffusion", "levels", [](auto& c) -> auto& { return c.diffusion.levels; }, at_least_one,
          "Number of noise levels N. More levels: reverse kernels closer to the exact reverse "
          "process and higher acceptance, at N score evaluations per path."),
      number_key(
          "diffusion", "sigma_min", [](auto& c) -> auto& { return c.diffusion.sigma_min; },
          positive, "ve: noise sigma_1 of the lowest level."),
      number_key(
          "diffusion", "sigma_max", [](auto& c) -> auto& { return c.diffusion.sigma_max; },
          positive, "ve: noise sigma_N of the highest level (> sigma_min)."),
      number_key(
          "diffusion", "beta_min", [](auto& c) -> auto& { return c.diffusion.beta_min; }, positive,
          "vp, sub_vp: beta(t) at t = 0 of the linear schedule; beta_i = (beta_min + "
          "(beta_max - beta_min) (i - 1) / (N - 1)) / N."),
      number_key(
          "diffusion", "beta_max", [](auto& c) -> auto& { return c.diffusion.beta_max; }, positive,
          "vp, sub_vp: beta(t) at t = 1 (>= beta_min and < levels)."),
      choice_key(
          "diffusion", "reverse_kernel",
          [](auto& c) -> auto& { return c.diffusion.reverse_kernel; },
          {{ReverseKernelChoice::by_process, "by_process"},
           {ReverseKernelChoice::ancestral, "ancestral"},
           {ReverseKernelChoice::posterior, "posterior"}},
          "Variance r_i of the reverse kernels N((x_i + v_i s) / a_i, r_i): ancestral r_i = v_i, "
          "posterior r_i = v_i sbar_{i-1}^2 / sbar_i^2 (SMLD); by_process: posterior for ve, "
          "ancestral otherwise. Any choice is exact; it sets the acceptance."),
      number_key(
          "diffusion", "depth", [](auto& c) -> auto& { return c.diffusion.depth; }, Bound{0},
          "0: independence sampler, whole generation paths from the prior; k = 1 ... levels: "
          "renoise the current field to level k and denoise back (smaller k, more local moves "
          "and higher acceptance)."),
      choice_key(
          "diffusion", "score", [](auto& c) -> auto& { return c.diffusion.score; },
          {{ScoreKind::free_field, "free_field"}, {ScoreKind::trained, "trained"}},
          "Score model: free_field, the exact score of the Gaussian part of the action (exact "
          "for a free field; for an interacting theory that of its quadratic part, which must be "
          "positive definite); trained, the linear physics score of diffusion.model_file, "
          "trained first (keys of [training]) when that file does not exist. A model trained on "
          "one volume runs on every other of the same dimension."),
      string_key(
          "diffusion", "model_file", [](auto& c) -> auto& { return c.diffusion.model_file; }, true,
          "Score model file (HDF5) of diffusion.score = trained: used as it is when it exists "
          "(frozen; delete it to retrain), else written by training. Its noise process must be "
          "the deck's. Empty: output.file with its .h5 suffix replaced by .model.h5 (only when "
          "diffusion.score = trained)."),
      choice_key(
          "diffusion", "prior", [](auto& c) -> auto& { return c.diffusion.prior; },
          {{PriorKind::white, "white"}, {PriorKind::free_field, "free_field"}},
          "Prior p_N of independence proposals: white, N(0, sbar_N^2); free_field, the Gaussian "
          "part of the action noised to level N (its quadratic part must be positive definite)."),
      number_key(
          "diffusion", "ess_block", [](auto& c) -> auto& { return c.diffusion.ess_block; },
          at_least_one,
          "Updates per block of /sampler/ess (<= 10^7): at the last update of each block (update "
          "number a "
          "multiple of ess_block) the normalised effective sample size (sum w)^2 / (n sum w^2) "
          "of the block's proposal weights w = exp(/sampler/log_weight) of the independence "
          "sampler (depth 0); NaN in every other row."),
      choice_key(
          "diffusion", "generator", [](auto& c) -> auto& { return c.diffusion.generator; },
          {{GeneratorMethod::ancestral, "ancestral"},
           {GeneratorMethod::euler_maruyama, "euler_maruyama"},
           {GeneratorMethod::predictor_corrector, "predictor_corrector"},
           {GeneratorMethod::probability_flow, "probability_flow"}},
          "Generator of sampler.type = generate, from a prior draw x_N: ancestral (the reverse "
          "kernels, the diffusion proposal itself), euler_maruyama (reverse-time SDE), "
          "predictor_corrector (ancestral steps, each followed by diffusion.corrector_steps "
          "annealed Langevin steps; biased at every N) or probability_flow (the deterministic "
          "probability-flow ODE)."),
      number_key(
          "diffusion", "corrector_steps",
          [](auto& c) -> auto& { return c.diffusion.corrector_steps; }, Bound{0},
          "predictor_corrector: Langevin corrector steps after each predictor step."),
      number_key(
          "diffusion", "snr", [](auto& c) -> auto& { return c.diffusion.snr; }, positive,
          "predictor_corrector: signal-to-noise ratio r of the corrector step eps = 2 (r |z| / "
          "|s|)^2."),
      string_key(
          "training", "files", [](auto& c) -> auto& { return c.training.files; }, true,
          "Training data of diffusion.score = trained: space-separated latdiff output files "
          "whose saved configurations (/configurations/phi, lattice.dims as in the deck) are "
          "the samples. Empty: a warm-up HMC chain (the [sampler] HMC keys, seed "
          "splitmix64(run.seed), hot start) writes them to diffusion.model_file with .h5 replaced "
          "by "
          ".warmup.h5, resumable like every chain."),
      count_key(
          "training", "thermalize", [](auto& c) -> auto& { return c.training.thermalize; },
          non_negative, "Warm-up: HMC trajectories before the first saved configuration."),
      count_key(
          "training", "configurations", [](auto& c) -> auto& { return c.training.configurations; },
          Bound{2}, "Warm-up: configurations saved for training."),
      count_key(
          "training", "save_every", [](auto& c) -> auto& { return c.training.save_every; },
          at_least_one, "Warm-up: HMC trajectories between saved configurations."),
      number_key(
          "training", "holdout", [](auto& c) -> auto& { return c.training.holdout; }, non_negative,
          "Fraction (< 1) of the configurations, the last ones, kept out of the fit to report "
          "the denoising loss per level on unseen data."),
      number_key(
          "training", "draws", [](auto& c) -> auto& { return c.training.draws; }, at_least_one,
          "Noise draws per configuration and level in denoising score matching."),
      number_key(
          "training", "knots", [](auto& c) -> auto& { return c.training.knots; }, Bound{2},
          "Knots (<= 1000) of the trained momentum kernel h_i(phat^2), equally spaced on [0, "
          "4d]; training holds diffusion.levels * (knots + 2 + 2 * #block_sizes)^2 exact sums of "
          "about 850 bytes."),
      int_list_key(
          "training", "block_sizes", [](auto& c) -> auto& { return c.training.block_sizes; }, 0, 8,
          non_negative, false,
          "Block terms of the trained score: phi^4 and phi^6 couplings of the field averaged "
          "over blocks of b sites per axis (a translation-invariant smooth filter of the same "
          "width), each b >= 2 listed once; 0 is the zero mode, the magnetisation. They carry "
          "the long-wavelength effective potential (the double well of the broken phase) that "
          "site-local terms miss at high noise. Each b >= 2 costs two FFTs per score evaluation, "
          "the "
          "zero mode none."),
      string_key(
          "rbm_training", "data", [](auto& c) -> auto& { return c.rbm_training.data; }, true,
          "Training data of the RBM (HDF5 file): rbm_training.dataset holds one configuration "
          "per row. Empty: no training; the model file gets the initial parameters of [rbm]."),
      string_key(
          "rbm_training", "dataset", [](auto& c) -> auto& { return c.rbm_training.dataset; }, false,
          "Dataset of rbm_training.data: a latdiff output file's /configurations/phi [N, "
          "lattice.dims], or any real [N, n_v] array (row-major visible units)."),
      choice_key(
          "rbm_training", "transform", [](auto& c) -> auto& { return c.rbm_training.transform; },
          {{RbmDataTransform::automatic, "auto"},
           {RbmDataTransform::sign, "sign"},
           {RbmDataTransform::value, "value"}},
          "How data values x become visible values v. sign: v = on if x > 0, off if x < 0 (x = 0 "
          "is refused), for binary or spin units (Ising spins of a phi^4 field); value: v = x, "
          "which must be exactly 0 or 1 (binary), -1 or +1 (spin), or finite (gaussian). auto: "
          "value for gaussian units and for data already made of the units' two values, else "
          "sign."),
      count_key(
          "rbm_training", "epochs", [](auto& c) -> auto& { return c.rbm_training.epochs; },
          non_negative, "Passes over the training configurations."),
      count_key(
          "rbm_training", "batch_size", [](auto& c) -> auto& { return c.rbm_training.batch_size; },
          at_least_one,
          "Configurations per minibatch (the last of an epoch may be smaller); each epoch visits "
          "them in a new random order drawn from run.seed."),
      choice_key(
          "rbm_training", "method", [](auto& c) -> auto& { return c.rbm_training.method; },
          {{RbmTrainingMethod::cd, "cd"}, {RbmTrainingMethod::pcd, "pcd"}},
          "Negative phase: cd, CD-k chains started at the minibatch; pcd, persistent chains "
          "(rbm_training.chains of them) carried from step to step."),
      number_key(
          "rbm_training", "gibbs_steps",
          [](auto& c) -> auto& { return c.rbm_training.gibbs_steps; }, at_least_one,
          "k: block-Gibbs sweeps of the negative phase per step."),
      number_key(
          "rbm_training", "chains", [](auto& c) -> auto& { return c.rbm_training.chains; },
          at_least_one, "pcd: number of persistent chains."),
      number_key(
          "rbm_training", "learning_rate",
          [](auto& c) -> auto& { return c.rbm_training.learning_rate; }, positive,
          "Learning rate of the first step."),
      number_key(
          "rbm_training", "learning_rate_final",
          [](auto& c) -> auto& { return c.rbm_training.learning_rate_final; }, positive,
          "Learning rate of the last step (schedule linear or exponential)."),
      choice_key(
          "rbm_training", "schedule", [](auto& c) -> auto& { return c.rbm_training.schedule; },
          {{LearningRateSchedule::constant, "constant"},
           {LearningRateSchedule::linear, "linear"},
           {LearningRateSchedule::exponential, "exponential"}},
          "Learning rate over the steps s = 0 ... S-1: constant (learning_rate), linear or "
          "exponential (geometric) from learning_rate to learning_rate_final."),
      number_key(
          "rbm_training", "momentum", [](auto& c) -> auto& { return c.rbm_training.momentum; },
          non_negative,
          "Classical momentum mu (< 1): velocity = mu velocity + step, theta += velocity."),
      number_key(
          "rbm_training", "weight_decay",
          [](auto& c) -> auto& { return c.rbm_training.weight_decay; }, non_negative,
          "L2 weight decay of W: each step adds -learning_rate weight_decay W."),
      number_key(
          "rbm_training", "holdout", [](auto& c) -> auto& { return c.rbm_training.holdout; },
          non_negative,
          "Fraction (< 1) of the configurations, the last ones, kept out of training; their "
          "mean log-likelihood is reported per epoch."),
      count_key(
          "rbm_training", "record_every",
          [](auto& c) -> auto& { return c.rbm_training.record_every; }, non_negative,
          "Record the positive- and negative-phase states and energies of every n-th step "
          "under /rbm/positive and /rbm/negative of rbm_training.output (0 = none)."),
      choice_key(
          "rbm_training", "print_phases",
          [](auto& c) -> auto& { return c.rbm_training.print_phases; },
          {{false, "false"}, {true, "true"}},
          "Also print the recorded phases (states and energies) on standard output; for small "
          "models."),
      choice_key(
          "rbm_training", "log_likelihood",
          [](auto& c) -> auto& { return c.rbm_training.log_likelihood; },
          {{LogLikelihoodMethod::automatic, "auto"},
           {LogLikelihoodMethod::exact, "exact"},
           {LogLikelihoodMethod::ais, "ais"},
           {LogLikelihoodMethod::none, "none"}},
          "log Z for the per-epoch log-likelihood: exact (enumerating the smaller layer, at most "
          "30 units), ais (annealed importance sampling, with its error), auto (exact up to 20 "
          "enumerated units, else ais), none."),
      number_key(
          "rbm_training", "ais_runs", [](auto& c) -> auto& { return c.rbm_training.ais_runs; },
          Bound{2}, "AIS: independent annealing runs."),
      number_key(
          "rbm_training", "ais_temperatures",
          [](auto& c) -> auto& { return c.rbm_training.ais_temperatures; }, at_least_one,
          "AIS: intermediate temperatures per run."),
      string_key(
          "rbm_training", "output", [](auto& c) -> auto& { return c.rbm_training.output; }, true,
          "Training record (HDF5; README \"RBM training records\"): per-epoch log-likelihood and "
          "reconstruction error, and the recorded phases. Empty: rbm.model_file with .h5 "
          "replaced by .training.h5."),
      number_key(
          "run", "seed", [](auto& c) -> auto& { return c.run.seed; }, {},
          "64-bit seed of the counter-based RNG; the chain does not depend on the "
          "process grid."),
      count_key(
          "run", "thermalize", [](auto& c) -> auto& { return c.run.thermalize; }, non_negative,
          "Updates (sweeps or trajectories) before measuring; thermalize + updates must be "
          "<= 2^62."),
      count_key(
          "run", "updates", [](auto& c) -> auto& { return c.run.updates; }, non_negative,
          "Updates after thermalization; thermalize + updates must be <= 2^62. An RBM job "
          "(model.type = rbm) with no updates and no thermalization runs its model stage alone "
          "(training, or writing rbm.model_file) and no chain."),
      count_key(
          "run", "measure_every", [](auto& c) -> auto& { return c.run.measure_every; },
          at_least_one, "Measure observables every n-th update after thermalization."),
      string_key(
          "run", "start", [](auto& c) -> auto& { return c.run.start; }, false,
          "Initial field: cold (phi = 0), hot (uniform random in [-1, 1]), or the path "
          "of a latdiff HDF5 output file with saved configurations."),
      number_key(
          "run", "start_index", [](auto& c) -> auto& { return c.run.start_index; }, Bound{-1},
          "Which saved configuration of the start file (-1 = the last)."),
      choice_key(
          "run", "resume", [](auto& c) -> auto& { return c.run.resume; },
          {{ResumeMode::automatic, "auto"}, {ResumeMode::never, "never"}},
          "auto: continue from output.checkpoint if that file exists, otherwise start "
          "fresh; never: always start fresh (replacing another chain's files needs "
          "output.overwrite = true)."),
      string_key(
          "output", "file", [](auto& c) -> auto& { return c.output.file; }, false,
          "HDF5 output file: observables, saved configurations and this resolved deck."),
      count_key(
          "output", "save_every", [](auto& c) -> auto& { return c.output.save_every; },
          non_negative,
          "Save the configuration every n-th update after thermalization (0 = never)."),
      string_key(
          "output", "checkpoint", [](auto& c) -> auto& { return c.output.checkpoint; }, true,
          "Checkpoint file. Empty: output.file with its .h5 suffix replaced by .ckpt.h5."),
      count_key(
          "output", "checkpoint_every", [](auto& c) -> auto& { return c.output.checkpoint_every; },
          non_negative,
          "Write a checkpoint every n-th update (0 = only at the end and on SIGTERM or "
          "SIGUSR1)."),
      choice_key(
          "output", "correlators", [](auto& c) -> auto& { return c.output.correlators; },
          {{CorrelatorMode::none, "none"},
           {CorrelatorMode::measurement, "measurement"},
           {CorrelatorMode::block, "block"}},
          "Two-point functions under /correlators: G(p) (radially binned for d >= 3), C(t), "
          "G(0), G(p_min e_mu), xi_2. none: not recorded; measurement: one row per measurement; "
          "block: one row per output.block_measurements measurements, their mean."),
      count_key(
          "output", "block_measurements",
          [](auto& c) -> auto& { return c.output.block_measurements; }, at_least_one,
          "Measurements per block when output.correlators = block (a partial block at the end "
          "of the run is not written; it is carried over when the run is extended)."),
      choice_key(
          "output", "coarse", [](auto& c) -> auto& { return c.output.coarse; },
          {{false, "false"}, {true, "true"}},
          "Block-spin coarse-graining (b = 2, repeated): m, phi^2, the nearest-neighbour "
          "product and G at the lowest momenta of every level under /coarse/level_k, with the "
          "cadence of /correlators (per measurement when output.correlators = none)."),
      choice_key(
          "output", "overwrite", [](auto& c) -> auto& { return c.output.overwrite; },
          {{false, "false"}, {true, "true"}},
          "Whether a fresh chain may replace an existing output.file or output.checkpoint "
          "that holds other data. false: a fresh chain writes only to files that are missing, "
          "empty, or hold this same chain (same deck in every key that defines the chain, "
          "which it then regenerates bit for bit); any other file is refused. true: replace "
          "it."),
      number_key(
          "output", "progress_interval",
          [](auto& c) -> auto& { return c.output.progress_interval; }, non_negative,
          "Seconds between progress lines on rank 0 (0 = none): output file, phase "
          "(thermalization or measuring), update i of n, rate, elapsed time, ETA and the "
          "acceptance since the previous line; the training stage reports its configurations. On a "
          "terminal one line updates in place; in a "
          "batch log each is a plain line. Under mpirun or srun the ranks cannot tell a "
          "terminal from a file: LATDIFF_TTY=1 in the environment says it is one (jobs/run-local "
          "sets it when its output is a terminal)."),
  };
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

// "did you mean" candidate: the same key name in another section, else a near-miss spelling.
std::string suggestion(const std::vector<Key>& keys, const std::string& unknown) {
  const std::string leaf = unknown.substr(unknown.find('.') + 1);
  for (const auto& k : keys)
    if (k.name == leaf) return "; did you mean " + k.full_name() + "?";
  for (const auto& k : keys)
    if (edit_distance(k.full_name(), unknown) <= 2) return "; did you mean " + k.full_name() + "?";
  return "";
}

std::string unknown_key_message(const std::vector<Key>& keys, const std::string& key,
                                const std::string& where) {
  std::vector<std::string> sections;
  for (const auto& k : keys)
    if (std::find(sections.begin(), sections.end(), "[" + k.section + "]") == sections.end())
      sections.push_back("[" + k.section + "]");
  const std::string section_list = join(sections, " ");
  if (key.empty() || key.back() == '.') return key + ": empty key name " + where;
  const auto dot = key.find('.');
  const std::string section = "[" + key.substr(0, dot) + "]";
  if (dot == std::string::npos)
    return key + ": unknown key " + where + " (keys belong to a section: " + section_list + ")" +
           suggestion(keys, key);
  if (std::find(sections.begin(), sections.end(), section) == sections.end())
    return key + ": unknown section " + section + " " + where + " (sections: " + section_list + ")";
  return key + ": unknown key " + where + suggestion(keys, key);
}

// Key -> value text from one source (the deck or the overrides), rejecting unknown keys,
// stray tokens and repeated keys.
std::map<std::string, std::string> collect(const po::parsed_options& parsed,
                                           const std::vector<Key>& keys, bool command_line,
                                           const std::string& deck_name) {
  std::map<std::string, std::string> values;
  for (const auto& opt : parsed.options) {
    const std::string where =
        command_line ? "in command-line override '" + join(opt.original_tokens, " ") + "'"
                     : "in " + deck_name;
    if (opt.string_key.empty())
      throw DeckError("command line: unexpected argument '" + join(opt.original_tokens, " ") +
                      "' (overrides are --section.key=value or --section.key value; quote "
                      "values with spaces)");
    if (opt.unregistered) throw DeckError(unknown_key_message(keys, opt.string_key, where));
    if (opt.value.size() != 1)
      throw DeckError(opt.string_key + ": expected exactly one value " + where);
    // Boost takes the next token as the value even when it is another option.
    if (command_line && opt.original_tokens.size() == 2 && opt.value.front().starts_with("--"))
      throw DeckError(opt.string_key + ": missing value before '" + opt.value.front() +
                      "' on the command line");
    if (!values.emplace(opt.string_key, opt.value.front()).second)
      throw DeckError(opt.string_key + ": given more than once " +
                      (command_line ? "on the command line" : "in " + deck_name));
  }
  return values;
}

// Boost reports syntax errors (a line without '=', an override without its value) with its
// own wording; restate them in the one-line, key-first form.
[[noreturn]] void rethrow_syntax_error(const po::error& e, bool command_line,
                                       const std::string& deck_name) {
  const std::string where = command_line ? "on the command line" : "in " + deck_name;
  if (const auto* file_syntax = dynamic_cast<const po::invalid_config_file_syntax*>(&e))
    throw DeckError(deck_name + ": invalid line '" + file_syntax->tokens() +
                    "' (expected [section], key = value, or a # comment)");
  if (const auto* named = dynamic_cast<const po::error_with_option_name*>(&e)) {
    std::string key = named->get_option_name();
    key.erase(0, key.find_first_not_of('-'));
    const auto* syntax = dynamic_cast<const po::invalid_syntax*>(&e);
    if (syntax && syntax->kind() == po::invalid_syntax::missing_parameter)
      throw DeckError(key + ": missing value " + where);
    if (syntax && syntax->kind() == po::invalid_syntax::empty_adjacent_parameter)
      throw DeckError(key + ": empty value after '=' " + where + "; write --" + key +
                      " \"\" to set it empty");
    if (!key.empty()) throw DeckError(key + ": invalid " + where + " (" + e.what() + ")");
  }
  throw DeckError((command_line ? std::string("command line") : deck_name) + ": cannot parse (" +
                  e.what() + ")");
}

// Up to 60 bytes of `line` around offset `at`, with "..." where it is cut: one readable line.
std::string excerpt(std::string_view line, std::size_t at) {
  constexpr std::size_t width = 60;
  const std::size_t begin = at > width / 2 ? at - width / 2 : 0;
  std::string s = begin > 0 ? "..." : "";
  s += line.substr(begin, width);
  if (begin + width < line.size()) s += "...";
  return s;
}

// The deck text without a leading UTF-8 byte-order mark (some Windows editors write one).
// Boost would cut a line at a NUL byte and read a CR-only file as one line of junk, so those,
// and text that is not UTF-8 (the resolved deck is stored as UTF-8), are refused here, naming
// the line. CRLF needs nothing: Boost trims the CR with the other trailing white space.
std::string_view checked_deck_text(std::string_view text, const std::string& deck_name) {
  constexpr std::string_view bom = "\xef\xbb\xbf";
  if (text.starts_with(bom)) text.remove_prefix(bom.size());
  constexpr auto npos = std::string_view::npos;
  if (text.find('\r') != npos && text.find('\n') == npos)
    throw DeckError(deck_name +
                    ": lines end in CR only (old Mac line endings); convert them to LF or CRLF");
  std::size_t number = 1;
  for (std::size_t begin = 0; begin < text.size(); ++number) {
    const std::size_t end = std::min(text.find('\n', begin), text.size());
    const std::string_view line = text.substr(begin, end - begin);
    const std::string where = deck_name + ": line " + std::to_string(number);
    if (const auto at = line.find('\0'); at != npos)
      throw DeckError(where + " has a NUL byte at byte " + std::to_string(at + 1) + " ('" +
                      excerpt(line, at) + "'); a deck must be UTF-8 text, not binary or UTF-16");
    if (const auto at = invalid_utf8_at(line); at != npos)
      throw DeckError(where + " is not valid UTF-8 at byte " + std::to_string(at + 1) + " ('" +
                      excerpt(line, at) + "'); save the deck as UTF-8");
    begin = end + 1;
  }
  return text;
}

po::parsed_options parse_deck_text(const std::string& deck_text, const std::string& deck_name,
                                   const po::options_description& description) {
  try {
    std::istringstream in(std::string(checked_deck_text(deck_text, deck_name)));
    return po::parse_config_file(in, description, true);
  } catch (const po::error& e) {
    rethrow_syntax_error(e, false, deck_name);
  }
}

po::parsed_options parse_overrides(const std::vector<std::string>& overrides,
                                   const po::options_description& description) {
  namespace style = po::command_line_style;
  try {
    // Long options only and no prefix guessing: a misspelt key must be an error.
    return po::command_line_parser(overrides)
        .options(description)
        .style(style::allow_long | style::long_allow_adjacent | style::long_allow_next)
        .allow_unregistered()
        .run();
  } catch (const po::error& e) {
    rethrow_syntax_error(e, true, "");
  }
}

}  // namespace

std::string replace_h5_suffix(const std::string& path, const std::string& suffix) {
  const std::string h5 = ".h5";
  const bool has_h5 = path.size() > h5.size() && path.ends_with(h5);
  return (has_h5 ? path.substr(0, path.size() - h5.size()) : path) + suffix;
}

namespace {

// Largest training.knots: far beyond any useful resolution of a smooth kernel.
constexpr int kMaxKnots = 1000;

// Largest diffusion.ess_block: a block's log-weights are held in memory (80 MB).
constexpr std::int64_t kMaxEssBlock = 10'000'000;

// The sampler names of the deck, for messages.
std::string sampler_name(SamplerType t) {
  for (const auto& [type, name] : sampler_names())
    if (type == t) return name;
  throw std::logic_error("sampler_name: unhandled sampler type");
}

// Whether sampler type t applies to the deck's model (and, for an RBM, its visible units).
// The check names the key (sampler.type or sampler.interleave) that selected t.
void check_sampler_applies(const Config& c, SamplerType t, const std::string& key) {
  const bool rbm = c.model == ModelType::rbm;
  const bool rbm_sampler = t == SamplerType::gibbs || t == SamplerType::flip;
  if (!rbm && rbm_sampler)
    throw DeckError(key + ": " + sampler_name(t) +
                    " samples restricted Boltzmann machines (model.type = rbm), not phi^4");
  if (!rbm) return;
  const bool gaussian = c.rbm.visible_units == RbmUnitsChoice::gaussian;
  if (!gaussian && !rbm_sampler)
    throw DeckError(key + ": " + sampler_name(t) +
                    " needs continuous visible units (rbm.visible_units = gaussian); binary and "
                    "spin RBMs take gibbs or flip");
  if (gaussian && t == SamplerType::flip)
    throw DeckError(key +
                    ": flip needs binary or spin visible units; gaussian RBMs take gibbs, "
                    "hmc, langevin, mala, diffusion or generate");
  if ((t == SamplerType::diffusion || t == SamplerType::generate) &&
      c.diffusion.score != ScoreKind::trained)
    throw DeckError(
        "diffusion.score: free_field is the score of a phi^4 action's Gaussian part; "
        "diffusion proposals for an RBM need diffusion.score = trained");
  if ((t == SamplerType::diffusion || t == SamplerType::generate) &&
      c.diffusion.prior != PriorKind::white)
    throw DeckError(
        "diffusion.prior: free_field is the Gaussian part of a phi^4 action; an RBM "
        "takes diffusion.prior = white");
  if (gaussian && t == SamplerType::metropolis)
    throw DeckError(key +
                    ": metropolis needs an action local in the sites, which an RBM's free "
                    "energy is not; gaussian RBMs take gibbs, hmc, langevin, mala, diffusion or "
                    "generate");
}

// The entries an explicit [rbm] parameter list must have.
void check_rbm_list(const std::vector<double>& values, std::int64_t count, const std::string& key,
                    const std::string& shape) {
  if (!values.empty() && static_cast<std::int64_t>(values.size()) != count)
    throw DeckError(key + ": needs " + shape + " = " + format_number(count) + " values (got " +
                    std::to_string(values.size()) + ")");
}

void check_rbm(Config& c) {
  if (c.model != ModelType::rbm) return;
  RbmConfig& r = c.rbm;
  if (r.hidden_units == RbmUnitsChoice::gaussian)
    throw DeckError("rbm.hidden_units: must be binary or spin (got gaussian)");
  std::int64_t n_v = 1;
  for (int L : c.lattice.dims) n_v *= L;  // each < 2^31, at most 4: fits when n_v * n_h does
  if (r.hidden > (std::int64_t{1} << 40) / n_v)
    throw DeckError("rbm.hidden: n_v * n_h must be <= 2^40 (got " + format_number(n_v) + " * " +
                    format_number(r.hidden) + ")");
  check_rbm_list(r.weights, n_v * r.hidden, "rbm.weights", "n_v * n_h");
  check_rbm_list(r.visible_bias, n_v, "rbm.visible_bias", "n_v");
  check_rbm_list(r.hidden_bias, r.hidden, "rbm.hidden_bias", "n_h");
  const bool gaussian = r.visible_units == RbmUnitsChoice::gaussian;
  if (!gaussian && !r.visible_sigma.empty())
    throw DeckError("rbm.visible_sigma: applies to gaussian visible units only (leave it empty)");
  check_rbm_list(r.visible_sigma, n_v, "rbm.visible_sigma", "n_v");
  for (double s : r.visible_sigma)
    if (!(s > 0))
      throw DeckError("rbm.visible_sigma: each entry must be > 0 (got " + format_number(s) + ")");
  if (r.visible == RbmVisibleLayout::vector && c.run.thermalize + c.run.updates > 0)
    throw DeckError(
        "run.updates: rbm.visible = vector trains only, so run.thermalize and run.updates must "
        "be 0; set rbm.visible = lattice to sample the model");
  const RbmTrainingConfig& t = c.rbm_training;
  if (!(t.momentum < 1))
    throw DeckError("rbm_training.momentum: must be < 1 (got " + format_number(t.momentum) + ")");
  if (!(t.holdout < 1))
    throw DeckError("rbm_training.holdout: must be < 1 (got " + format_number(t.holdout) + ")");
  if (gaussian && t.transform == RbmDataTransform::sign)
    throw DeckError(
        "rbm_training.transform: sign makes binary data; gaussian visible units take "
        "value or auto");
  if (r.model_file.empty()) r.model_file = replace_h5_suffix(c.output.file, ".rbm.h5");
  if (c.rbm_training.output.empty())
    c.rbm_training.output = replace_h5_suffix(r.model_file, ".training.h5");
}

// Checks between keys, after every key has passed its own check; fills derived defaults.
void check_consistency(Config& c) {
  // Each is <= kMaxUpdates, so the subtraction cannot overflow.
  if (c.run.updates > kMaxUpdates - c.run.thermalize)
    throw DeckError("run.updates: run.thermalize + run.updates must be <= 2^62 = " +
                    format_number(kMaxUpdates) + " (got " + format_number(c.run.thermalize) +
                    " + " + format_number(c.run.updates) + ")");
  if (c.sampler.hits > kMaxMetropolisHits)
    throw DeckError("sampler.hits: must be <= " + std::to_string(kMaxMetropolisHits) + " (got " +
                    std::to_string(c.sampler.hits) + ")");
  const auto& dims = c.lattice.dims;
  const auto& procs = c.lattice.procs;
  const int d = static_cast<int>(dims.size());
  if (!procs.empty()) {
    if (procs.size() != dims.size())
      throw DeckError("lattice.procs: needs one entry per dimension of lattice.dims (" +
                      std::to_string(d) + "), got " + std::to_string(procs.size()));
    for (int mu = 0; mu < d; ++mu)
      if (dims[mu] % procs[mu] != 0)
        throw DeckError("lattice.procs: entry " + std::to_string(mu) + " (" +
                        std::to_string(procs[mu]) + ") must divide the extent " +
                        std::to_string(dims[mu]));
  }
  const auto& a = c.action;
  // Free fields are normalisable only when the quadratic form is positive definite.
  if (a.form == ActionForm::hopping && a.lambda == 0 && !(std::abs(a.kappa) < 0.5 / d))
    throw DeckError("action.kappa: |kappa| must be < 1/(2d) = " + format_number(0.5 / d) +
                    " in d = " + std::to_string(d) +
                    " when action.lambda = 0, else the action is unbounded (got " +
                    format_number(a.kappa) + ")");
  if (a.form == ActionForm::mass && a.g == 0 && !(a.m2 > 0))
    throw DeckError("action.m2: must be > 0 when action.g = 0, else the action is unbounded (got " +
                    format_number(a.m2) + ")");

  const DiffusionConfig& dif = c.diffusion;
  if (dif.process == NoiseKind::ve && !(dif.sigma_max > dif.sigma_min))
    throw DeckError("diffusion.sigma_max: must be > diffusion.sigma_min = " +
                    format_number(dif.sigma_min) + " (got " + format_number(dif.sigma_max) + ")");
  if (dif.process != NoiseKind::ve && !(dif.beta_max >= dif.beta_min && dif.beta_max < dif.levels))
    throw DeckError(
        "diffusion.beta_max: must be >= diffusion.beta_min = " + format_number(dif.beta_min) +
        " and < diffusion.levels = " + std::to_string(dif.levels) + " (got " +
        format_number(dif.beta_max) + ")");
  if (dif.ess_block > kMaxEssBlock)
    throw DeckError("diffusion.ess_block: must be <= " + format_number(kMaxEssBlock) +
                    " (its log-weights are kept in memory; got " + format_number(dif.ess_block) +
                    ")");
  if (dif.depth > dif.levels)
    throw DeckError("diffusion.depth: must be <= diffusion.levels = " + std::to_string(dif.levels) +
                    " (got " + std::to_string(dif.depth) + ")");

  if (!(c.training.holdout < 1))
    throw DeckError("training.holdout: must be < 1 (got " + format_number(c.training.holdout) +
                    ")");
  const TrainingConfig& t = c.training;
  if (t.knots > kMaxKnots)
    throw DeckError("training.knots: must be <= " + std::to_string(kMaxKnots) + " (got " +
                    std::to_string(t.knots) + ")");
  for (std::size_t i = 0; i < t.block_sizes.size(); ++i) {
    const int b = t.block_sizes[i];
    if (b == 1)
      throw DeckError(
          "training.block_sizes: each entry must be 0 (the zero mode) or >= 2; the site field "
          "(b = 1) is always in the score (got 1)");
    if (std::count(t.block_sizes.begin(), t.block_sizes.begin() + i, b) > 0)
      throw DeckError("training.block_sizes: " + std::to_string(b) + " is listed twice");
  }
  if (t.configurations > (kMaxUpdates - t.thermalize) / t.save_every)
    throw DeckError(
        "training.configurations: training.thermalize + training.configurations * "
        "training.save_every must be <= 2^62 (got " +
        format_number(t.thermalize) + " + " + format_number(t.configurations) + " * " +
        format_number(t.save_every) + ")");

  const SamplerConfig& smp = c.sampler;
  if (smp.interleave != Interleave::none && smp.interleaved_type() == smp.type)
    throw DeckError("sampler.interleave: must differ from sampler.type (set it to none)");
  if (smp.interleave != Interleave::none && smp.type == SamplerType::generate)
    throw DeckError(
        "sampler.interleave: sampler.type = generate replaces the field every update, so "
        "nothing can be interleaved (set sampler.interleave = none)");
  if (!smp.runs(SamplerType::hmc) && !smp.runs(SamplerType::langevin) &&
      !smp.runs(SamplerType::mala) && c.sampler.fourier_acceleration)
    throw DeckError(
        "sampler.fourier_acceleration: applies to hmc, langevin and mala, not to metropolis, "
        "diffusion or generate, the samplers of sampler.type and sampler.interleave here (set "
        "it to false)");

  // An RBM job without updates runs no chain, so its [sampler] keys do not matter.
  if (c.model != ModelType::rbm || c.run.thermalize + c.run.updates > 0) {
    check_sampler_applies(c, smp.type, "sampler.type");
    if (smp.interleave != Interleave::none)
      check_sampler_applies(c, smp.interleaved_type(), "sampler.interleave");
  }

  auto& out = c.output;
  if (out.checkpoint.empty()) out.checkpoint = replace_h5_suffix(out.file, ".ckpt.h5");
  if (dif.score == ScoreKind::trained && dif.model_file.empty())
    c.diffusion.model_file = replace_h5_suffix(out.file, ".model.h5");
  if (out.checkpoint == out.file)
    throw DeckError("output.checkpoint: must differ from output.file (both '" + out.file + "')");
  const std::string& model = c.diffusion.model_file;
  if (!model.empty())
    for (const auto& [key, path] :
         {std::pair{"output.file", out.file}, std::pair{"output.checkpoint", out.checkpoint}})
      if (path == model || path == replace_h5_suffix(model, ".warmup.h5"))
        throw DeckError("diffusion.model_file: must differ from " + std::string(key) +
                        ", also with .h5 replaced by .warmup.h5 (got '" + model + "')");
  check_rbm(c);
  std::vector<std::pair<std::string, std::string>> written{{"output.file", out.file},
                                                           {"output.checkpoint", out.checkpoint},
                                                           {"diffusion.model_file", model}};
  const std::size_t checked_above = written.size();  // distinct by the checks above
  if (c.model == ModelType::rbm) {
    written.emplace_back("rbm.model_file", c.rbm.model_file);
    written.emplace_back("rbm_training.output", c.rbm_training.output);
    for (std::size_t i = checked_above; i < written.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (written[i].second == written[j].second)
          throw DeckError(written[i].first + ": must differ from " + written[j].first + " (both '" +
                          written[i].second + "')");
  }
  for (const auto& [key, path] : written)
    for (const std::string suffix : {".lock", ".tmp"})
      if (path.ends_with(suffix))
        throw DeckError(key + ": must not end in " + suffix +
                        " (the names of latdiff's lock and temporary files; got '" + path + "')");
}

// Deck layout shared by the resolved deck and the help: each section's keys under a header.
template <class Entry>
std::string by_section(const std::vector<Key>& keys, Entry entry) {
  std::string text, section;
  for (const auto& k : keys) {
    if (k.section != section) {
      section = k.section;
      text += "\n[" + section + "]\n";
    }
    text += entry(k);
  }
  return text;
}

std::string assignment(const Key& k, const std::string& value) {
  return k.name + (value.empty() ? " =" : " = " + value);
}

// `paragraph` indented and broken at spaces so that lines stay within `width` columns.
std::string wrap(const std::string& paragraph, std::size_t indent, std::size_t width) {
  const std::string margin(indent, ' ');
  std::string text, line;
  std::istringstream words(paragraph);
  for (std::string word; words >> word;) {
    if (!line.empty() && margin.size() + line.size() + 1 + word.size() > width) {
      text += margin + line + "\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  return text + margin + line + "\n";
}

}  // namespace

std::string printable(std::string_view text) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  std::string s;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    // C0 controls, DEL, and the C1 controls U+0080..U+009F (0xc2 0x80..0xc2 0x9f).
    const bool control =
        byte(i) < 0x20 || byte(i) == 0x7f || (n == 2 && byte(i) == 0xc2 && byte(i + 1) < 0xa0);
    const std::size_t end = i + std::max<std::size_t>(n, 1);  // an invalid byte on its own
    if (n > 0 && !control) {
      s += text.substr(i, n);
    } else {
      for (; i < end; ++i) {
        char escape[5];
        std::snprintf(escape, sizeof escape, "\\x%02x", byte(i));
        s += escape;
      }
    }
    i = end;
  }
  return s;
}

Config parse_deck(const std::string& deck_text, const std::string& deck_name,
                  const std::vector<std::string>& overrides) {
  const std::vector<Key> keys = deck_keys();
  po::options_description description;
  for (const auto& k : keys)
    description.add_options()(k.full_name().c_str(), po::value<std::string>());

  const auto from_deck =
      collect(parse_deck_text(deck_text, deck_name, description), keys, false, deck_name);
  const auto from_command_line =
      collect(parse_overrides(overrides, description), keys, true, deck_name);

  Config c;
  for (const auto& k : keys) {
    const std::string name = k.full_name();
    const auto* source = from_command_line.count(name) ? &from_command_line
                         : from_deck.count(name)       ? &from_deck
                                                       : nullptr;
    if (!source) {
      if (k.required)
        throw DeckError(name + ": required, set it in " + deck_name + " or as --" + name +
                        "=... (" + k.allowed + ")");
      continue;
    }
    try {
      k.read(c, source->at(name));
    } catch (const BadValue& e) {
      throw DeckError(name + ": " + e.what());
    }
  }
  check_consistency(c);
  c.resolved_text = resolved_deck(c);
  return c;
}

std::string resolved_deck(const Config& c) {
  return "# latdiff resolved deck: every key with its final value\n" +
         by_section(deck_keys(), [&c](const Key& k) { return assignment(k, k.write(c)) + "\n"; });
}

std::optional<std::string> default_value(const std::string& key) {
  const Config defaults;
  for (const Key& k : deck_keys())
    if (k.full_name() == key && !k.required) return k.write(defaults);
  return std::nullopt;
}

std::string deck_help() {
  std::string text =
      "usage: latdiff DECK [--section.key=value | --section.key value]...\n"
      "       latdiff --check DECK [overrides]...\n"
      "       latdiff --help | --version\n"
      "\n"
      "Runs the Monte Carlo described by the input deck DECK (lattice phi^4, or a restricted\n"
      "Boltzmann machine trained and sampled: model.type), an INI file with the [sections]\n"
      "and keys below ('#' starts a comment). Run in parallel with\n"
      "  mpirun -np N latdiff DECK\n"
      "Every key can be overridden on the command line, e.g. --action.kappa=0.12; command\n"
      "line beats deck beats default. The fully resolved deck is stored in the output file and\n"
      "is itself a runnable deck. --check validates the deck and overrides without running\n"
      "anything and prints the resolved deck (exit 0), or one line naming the bad key (exit 2).\n"
      "\n"
      "Keys, shown as `key = default` with the allowed values:\n";
  const Config defaults;
  text += by_section(deck_keys(), [&defaults](const Key& k) {
    std::string entry = "  " + assignment(k, k.required ? "(required)" : k.write(defaults)) +
                        "    [" + k.allowed + "]\n";
    std::istringstream lines(k.meaning);
    for (std::string line; std::getline(lines, line);) entry += wrap(line, 6, 100);
    return entry;
  });
  return text;
}

}  // namespace latdiff
