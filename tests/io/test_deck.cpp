#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "io/deck.hpp"

namespace latdiff {
namespace {

const std::string kMinimal = "[lattice]\ndims = 8 8\n";

Config parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_deck(text, "deck.ini", overrides);
}

// The DeckError message for a deck that must be rejected ("" if none was thrown).
std::string error_of(const std::string& text, const std::vector<std::string>& overrides) {
  try {
    parse(text, overrides);
  } catch (const DeckError& e) {
    return e.what();
  }
  return "";
}

TEST(Deck, DefaultsMatchTheDocumentedValues) {
  const Config c = parse(kMinimal);
  EXPECT_EQ(c.lattice.dims, (std::vector<int>{8, 8}));
  EXPECT_TRUE(c.lattice.procs.empty());
  EXPECT_EQ(c.action.form, ActionForm::hopping);
  EXPECT_EQ(c.action.kappa, 0.0);
  EXPECT_EQ(c.action.lambda, 0.0);
  EXPECT_EQ(c.action.m2, 1.0);
  EXPECT_EQ(c.action.g, 0.0);
  EXPECT_EQ(c.sampler.type, SamplerType::hmc);
  EXPECT_EQ(c.sampler.step, 1.0);
  EXPECT_EQ(c.sampler.hits, 1);
  EXPECT_EQ(c.sampler.integrator, Integrator::omelyan);
  EXPECT_EQ(c.sampler.trajectory_length, 1.0);
  EXPECT_EQ(c.sampler.md_steps, 10);
  EXPECT_EQ(c.sampler.langevin_step, 0.01);
  EXPECT_EQ(c.sampler.langevin_scheme, LangevinScheme::euler);
  EXPECT_FALSE(c.sampler.fourier_acceleration);
  EXPECT_EQ(c.sampler.fa_mass2, 1.0);
  EXPECT_EQ(c.run.seed, 1u);
  EXPECT_EQ(c.run.thermalize, 0);
  EXPECT_EQ(c.run.updates, 1000);
  EXPECT_EQ(c.run.measure_every, 1);
  EXPECT_EQ(c.run.start, "cold");
  EXPECT_EQ(c.run.start_index, -1);
  EXPECT_EQ(c.run.resume, ResumeMode::automatic);
  EXPECT_EQ(c.output.file, "latdiff.h5");
  EXPECT_EQ(c.output.save_every, 0);
  EXPECT_EQ(c.output.checkpoint, "latdiff.ckpt.h5");
  EXPECT_EQ(c.output.checkpoint_every, 0);
}

TEST(Deck, CommandLineBeatsDeckBeatsDefault) {
  const std::string deck =
      "# scan point\n"
      "[lattice]\n"
      "dims = 16 8 4   # inline comment\n"
      "procs = 2 1 1\n"
      "[action]\n"
      "kappa = 0.1\n"
      "lambda = 0.5\n"
      "[run]\n"
      "seed = 3\n"
      "updates = 50\n";
  const Config c = parse(deck, {"--action.kappa=0.12", "--run.updates", "70", "--lattice.procs",
                                "1 2 4", "--action.lambda", "0.75"});
  EXPECT_EQ(c.lattice.dims, (std::vector<int>{16, 8, 4}));
  EXPECT_EQ(c.lattice.procs, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(c.action.kappa, 0.12);
  EXPECT_EQ(c.action.lambda, 0.75);
  EXPECT_EQ(c.run.seed, 3u);
  EXPECT_EQ(c.run.updates, 70);
  EXPECT_EQ(c.run.thermalize, 0);
}

TEST(Deck, OverridesAloneCanSupplyEverything) {
  const Config c = parse("", {"--lattice.dims=4 4 4 4", "--lattice.procs", ""});
  EXPECT_EQ(c.lattice.dims.size(), 4u);
  EXPECT_TRUE(c.lattice.procs.empty());
}

TEST(Deck, HoppingForm) {
  const Config c = parse(kMinimal +
                         "[action]\nform = hopping\nkappa = 0.3\nlambda = 0.02\n"
                         "[sampler]\ntype = metropolis\nstep = 1.5\nhits = 4\n");
  EXPECT_EQ(c.action.form, ActionForm::hopping);
  EXPECT_EQ(c.action.kappa, 0.3);  // above 1/(2d) is fine when lambda > 0
  EXPECT_EQ(c.action.lambda, 0.02);
  EXPECT_EQ(c.sampler.type, SamplerType::metropolis);
  EXPECT_EQ(c.sampler.step, 1.5);
  EXPECT_EQ(c.sampler.hits, 4);
  EXPECT_EQ(parse(kMinimal, {"--action.kappa=-0.2"}).action.kappa, -0.2);
}

TEST(Deck, MassForm) {
  const Config c = parse(kMinimal +
                         "[action]\nform = mass\nm2 = -4\ng = 8\n"
                         "[sampler]\nintegrator = leapfrog\ntrajectory_length = 0.5\n"
                         "md_steps = 20\n");
  EXPECT_EQ(c.action.form, ActionForm::mass);
  EXPECT_EQ(c.action.m2, -4.0);
  EXPECT_EQ(c.action.g, 8.0);
  EXPECT_EQ(c.sampler.integrator, Integrator::leapfrog);
  EXPECT_EQ(c.sampler.trajectory_length, 0.5);
  EXPECT_EQ(c.sampler.md_steps, 20);
  EXPECT_EQ(
      parse(kMinimal, {"--action.form=mass", "--action.m2", "-0.5", "--action.g=1"}).action.m2,
      -0.5);
}

TEST(Deck, RunAndOutputKeys) {
  const Config c = parse(kMinimal +
                         "[run]\nseed = 18446744073709551615\nthermalize = 100\nmeasure_every = 5\n"
                         "start = old/run.h5\nstart_index = 3\nresume = never\n"
                         "[output]\nfile = scan/k0.1.h5\nsave_every = 10\ncheckpoint_every = 50\n");
  EXPECT_EQ(c.run.seed, 18446744073709551615u);
  EXPECT_EQ(c.run.thermalize, 100);
  EXPECT_EQ(c.run.measure_every, 5);
  EXPECT_EQ(c.run.start, "old/run.h5");
  EXPECT_EQ(c.run.start_index, 3);
  EXPECT_EQ(c.run.resume, ResumeMode::never);
  EXPECT_EQ(c.output.file, "scan/k0.1.h5");
  EXPECT_EQ(c.output.save_every, 10);
  EXPECT_EQ(c.output.checkpoint, "scan/k0.1.ckpt.h5");
  EXPECT_EQ(c.output.checkpoint_every, 50);
  EXPECT_EQ(parse(kMinimal, {"--output.file=out"}).output.checkpoint, "out.ckpt.h5");
  EXPECT_EQ(parse(kMinimal, {"--output.checkpoint=/scratch/c.h5"}).output.checkpoint,
            "/scratch/c.h5");
}

struct BadDeck {
  std::string deck;
  std::vector<std::string> overrides;
  std::string key;        // the message must start with this
  std::string also = "";  // and contain this
};

TEST(Deck, EveryErrorIsOneLineStartingWithTheKey) {
  const std::vector<BadDeck> cases = {
      // unknown keys and sections, with where they came from
      {kMinimal + "[action]\nkapa = 0.1\n", {}, "action.kapa", "deck.ini"},
      {kMinimal, {"--action.kapa=0.1"}, "action.kapa", "--action.kapa=0.1"},
      {kMinimal, {"--action.kap", "0.1"}, "action.kap"},
      {kMinimal + "[actoin]\nkappa = 0.1\n", {}, "actoin.kappa", "[actoin]"},
      {kMinimal, {"--foo.bar=1"}, "foo.bar", "[foo]"},
      {"dims = 8 8\n", {}, "dims", "lattice.dims"},
      // wrong types
      {kMinimal, {"--run.updates=ten"}, "run.updates", "'ten'"},
      {kMinimal, {"--sampler.hits=3.5"}, "sampler.hits", "'3.5'"},
      {kMinimal, {"--action.kappa=0.1x"}, "action.kappa", "'0.1x'"},
      {kMinimal, {"--action.kappa="}, "action.kappa"},
      {kMinimal + "[action]\nkappa =\n", {}, "action.kappa"},
      {kMinimal, {"--action.lambda=nan"}, "action.lambda"},
      {kMinimal, {"--sampler.step=inf"}, "sampler.step"},
      {kMinimal, {"--action.m2=1e400"}, "action.m2"},
      {kMinimal, {"--run.seed=-1"}, "run.seed"},
      {kMinimal, {"--run.seed=18446744073709551616"}, "run.seed"},
      {kMinimal, {"--sampler.md_steps=99999999999"}, "sampler.md_steps"},
      {"[lattice]\ndims = 8,8\n", {}, "lattice.dims"},
      // out of range
      {kMinimal, {"--action.lambda=-0.1"}, "action.lambda", ">= 0"},
      {kMinimal, {"--action.g=-1"}, "action.g"},
      {kMinimal, {"--sampler.step=0"}, "sampler.step", "> 0"},
      {kMinimal, {"--sampler.trajectory_length=-1"}, "sampler.trajectory_length"},
      {kMinimal, {"--sampler.hits=0"}, "sampler.hits", ">= 1"},
      {kMinimal, {"--sampler.md_steps=0"}, "sampler.md_steps"},
      {kMinimal, {"--sampler.langevin_step=0"}, "sampler.langevin_step", "> 0"},
      {kMinimal, {"--sampler.langevin_scheme=heun"}, "sampler.langevin_scheme", "euler"},
      {kMinimal,
       {"--sampler.fourier_acceleration=yes"},
       "sampler.fourier_acceleration",
       "false, true"},
      {kMinimal, {"--sampler.fa_mass2=0"}, "sampler.fa_mass2", "> 0"},
      {kMinimal, {"--sampler.fa_mass2=-0.5"}, "sampler.fa_mass2", "> 0"},
      {kMinimal, {"--run.thermalize=-1"}, "run.thermalize"},
      {kMinimal, {"--run.updates=-5"}, "run.updates"},
      {kMinimal, {"--run.measure_every=0"}, "run.measure_every"},
      {kMinimal, {"--run.start_index=-2"}, "run.start_index", ">= -1"},
      {kMinimal, {"--output.save_every=-1"}, "output.save_every"},
      {kMinimal, {"--output.checkpoint_every=-1"}, "output.checkpoint_every"},
      {"[lattice]\ndims = 8 1\n", {}, "lattice.dims", ">= 2"},
      {"[lattice]\ndims = 2 2 2 2 2\n", {}, "lattice.dims"},
      {"[lattice]\ndims =\n", {}, "lattice.dims"},
      {kMinimal, {"--lattice.procs=0 1"}, "lattice.procs"},
      // choices
      {kMinimal, {"--sampler.type=foo"}, "sampler.type", "metropolis, hmc"},
      {kMinimal, {"--sampler.integrator=rk4"}, "sampler.integrator", "leapfrog, omelyan"},
      {kMinimal, {"--action.form=Hopping"}, "action.form"},
      {kMinimal, {"--run.resume=always"}, "run.resume"},
      // text
      {kMinimal, {"--run.start", ""}, "run.start"},
      {kMinimal, {"--run.start=a#b"}, "run.start"},
      {kMinimal, {"--output.file", ""}, "output.file"},
      // checks between keys
      {"", {}, "lattice.dims", "required"},
      {kMinimal, {"--lattice.procs=3 1"}, "lattice.procs", "divide"},
      {kMinimal, {"--lattice.procs=2"}, "lattice.procs"},
      {kMinimal, {"--action.kappa=0.25"}, "action.kappa", "1/(2d)"},
      {kMinimal, {"--action.kappa=-0.3"}, "action.kappa"},
      {"[lattice]\ndims = 8\n", {"--action.kappa=0.5"}, "action.kappa"},
      {kMinimal, {"--action.form=mass", "--action.m2=0"}, "action.m2", "> 0"},
      {kMinimal, {"--action.form=mass", "--action.m2=-1"}, "action.m2"},
      {kMinimal, {"--output.file=a.h5", "--output.checkpoint=a.h5"}, "output.checkpoint"},
      {kMinimal,
       {"--sampler.type=metropolis", "--sampler.fourier_acceleration=true"},
       "sampler.fourier_acceleration",
       "metropolis"},
      // duplicates
      {kMinimal + "dims = 4 4\n", {}, "lattice.dims", "more than once"},
      {kMinimal + "[run]\nseed = 1\n[run]\nseed = 2\n", {}, "run.seed"},
      {kMinimal, {"--run.seed=1", "--run.seed", "2"}, "run.seed"},
      // malformed override tokens
      {kMinimal, {"--run.seed"}, "run.seed", "missing value"},
      {kMinimal, {"--run.start", "--run.seed=3"}, "run.start", "missing value"},
      {kMinimal, {"run.seed=3"}, "command line", "run.seed=3"},
      {kMinimal, {"-s", "3"}, "command line", "-s"},
      {kMinimal, {"--lattice.dims", "4", "4"}, "command line", "'4'"},
      // deck syntax
      {kMinimal + "seed 3\n", {}, "deck.ini", "seed 3"},
      {kMinimal + "[run\n", {}, "deck.ini", "[run"},
      {kMinimal + " = 3\n", {}, "lattice.", "empty key"},
  };
  for (const auto& bad : cases) {
    std::string label = bad.deck;
    for (const auto& o : bad.overrides) label += " '" + o + "'";
    SCOPED_TRACE(label);
    const std::string message = error_of(bad.deck, bad.overrides);
    ASSERT_FALSE(message.empty()) << "no DeckError";
    EXPECT_EQ(message.rfind(bad.key + ":", 0), 0u) << message;
    EXPECT_NE(message.find(bad.also), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(Deck, ResolvedTextRoundTrips) {
  const std::vector<std::vector<std::string>> scans = {
      {},
      {"--action.form=mass", "--action.m2=-0.30000000000000004", "--action.g=1e-7",
       "--lattice.procs=2 4", "--run.seed=18446744073709551615", "--run.start=in dir/start.h5",
       "--output.checkpoint=/scratch/x.ckpt.h5", "--sampler.type=metropolis", "--sampler.step=0.1",
       "--run.resume=never", "--sampler.integrator=leapfrog"},
      {"--sampler.type=mala", "--sampler.fourier_acceleration=true", "--sampler.fa_mass2=0.1"},
      {"--action.kappa=0.18", "--lattice.dims=6 5 4", "--action.lambda=1.5e+300"},
  };
  for (const auto& overrides : scans) {
    const Config first = parse(kMinimal, overrides);
    const Config second = parse_deck(first.resolved_text, "resolved", {});
    EXPECT_EQ(first, second) << first.resolved_text;
    EXPECT_EQ(first.resolved_text, second.resolved_text);
  }
}

TEST(Deck, ResolvedTextListsEverySectionAndKey) {
  const std::string text = parse(kMinimal, {"--action.kappa=0.1"}).resolved_text;
  for (const char* line :
       {"[lattice]", "dims = 8 8", "procs =", "[action]", "kappa = 0.1", "[sampler]", "[run]",
        "updates = 1000", "[output]", "checkpoint = latdiff.ckpt.h5", "checkpoint_every = 0"})
    EXPECT_NE(text.find(std::string("\n") + line + "\n"), std::string::npos) << line;
}

TEST(Deck, HelpShowsEveryKeyWithItsDefault) {
  const std::string help = deck_help();
  EXPECT_EQ(help.rfind("usage: latdiff", 0), 0u);
  // Every `key = value` line of a resolved default deck appears in the help with that default.
  std::istringstream lines(parse(kMinimal).resolved_text);
  int keys = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      EXPECT_NE(help.find("\n" + line + "\n"), std::string::npos) << line;
      continue;
    }
    ++keys;
    std::string expected = "  " + line + " ";
    if (line.starts_with("dims =")) expected = "  dims = (required) ";
    if (line.starts_with("checkpoint =")) expected = "  checkpoint = ";  // empty by default
    EXPECT_NE(help.find(expected), std::string::npos) << expected;
  }
  EXPECT_EQ(keys, 31);
}

}  // namespace
}  // namespace latdiff
