#include <gtest/gtest.h>
#include <mpi.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/deck.hpp"
#include "io/deck_file.hpp"

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
  // The model file of a trained score is derived like the checkpoint, and only for it.
  EXPECT_EQ(parse(kMinimal, {"--diffusion.score=trained"}).diffusion.model_file,
            "latdiff.model.h5");
  EXPECT_EQ(parse(kMinimal).diffusion.model_file, "");
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
      {kMinimal, {"--sampler.hits=4096"}, "sampler.hits", "<= 4095"},
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
      // update counts beyond 2^62, alone or summed (INT64_MAX used to wrap to "0 updates")
      {kMinimal, {"--run.updates=9223372036854775807"}, "run.updates", "<= 2^62"},
      {kMinimal, {"--run.updates=9223372036854775808"}, "run.updates", "out of range"},
      {kMinimal, {"--run.thermalize=4611686018427387905"}, "run.thermalize", "<= 2^62"},
      {kMinimal,
       {"--run.thermalize=4611686018427387904", "--run.updates=1"},
       "run.updates",
       "run.thermalize + run.updates must be <= 2^62 = 4611686018427387904"},
      {kMinimal,
       {"--run.thermalize=3000000000000000000", "--run.updates=3000000000000000000"},
       "run.updates",
       "(got 3000000000000000000 + 3000000000000000000)"},
      {kMinimal, {"--run.measure_every=4611686018427387905"}, "run.measure_every", "2^62"},
      {kMinimal, {"--output.save_every=9223372036854775807"}, "output.save_every", "2^62"},
      {kMinimal,
       {"--output.checkpoint_every=4611686018427387905"},
       "output.checkpoint_every",
       "2^62"},
      {kMinimal,
       {"--output.block_measurements=4611686018427387905"},
       "output.block_measurements",
       "2^62"},
      // text that is not UTF-8 deck lines; echoed bytes appear as escapes
      {"[lattice]\rdims = 8 8\r", {}, "deck.ini", "lines end in CR only"},
      {std::string("[lattice]\ndims = 8\0 8\n", 22),
       {},
       "deck.ini",
       "line 2 has a NUL byte at byte 9 ('dims = 8\\x00 8')"},
      {std::string("\xff\xfe[\0l\0", 6), {}, "deck.ini", "line 1 has a NUL byte"},  // UTF-16
      {kMinimal + "# caf\xe9\n", {}, "deck.ini", "line 3 is not valid UTF-8 at byte 6"},
      {kMinimal + "# \xc0\xaf overlong\n", {}, "deck.ini", "'# \\xc0\\xaf overlong'"},
      {kMinimal + std::string(5000, '#') + "\x80\n", {}, "deck.ini", "('...###"},
      {kMinimal + "[run]\nbo\x1bgus = 1\n", {}, "run.bo\\x1bgus", "unknown key"},
      {kMinimal, {"--run.start=a\x01z"}, "run.start", "'a\\x01z'"},
      {kMinimal, {"--output.file=caf\xe9.h5"}, "output.file", "UTF-8 text (got 'caf\\xe9.h5')"},
      {kMinimal, {"--run.updates=1\t0"}, "run.updates", "'1\\x090'"},
      // the trained score and its training
      {kMinimal, {"--diffusion.score=learned"}, "diffusion.score", "free_field, trained"},
      {kMinimal, {"--training.holdout=1"}, "training.holdout", "< 1"},
      {kMinimal, {"--training.configurations=1"}, "training.configurations", ">= 2"},
      {kMinimal, {"--training.knots=1"}, "training.knots", ">= 2"},
      {kMinimal, {"--training.knots=1001"}, "training.knots", "<= 1000"},
      {kMinimal,
       {"--training.block_sizes=2 1"},
       "training.block_sizes",
       "0 (the zero mode) or >= 2"},
      {kMinimal, {"--training.block_sizes=4 0 4"}, "training.block_sizes", "4 is listed twice"},
      {kMinimal, {"--training.block_sizes=-2"}, "training.block_sizes", ">= 0"},
      {kMinimal,
       {"--training.configurations=4611686018427387904", "--training.save_every=2"},
       "training.configurations",
       "<= 2^62"},
      {kMinimal,
       {"--diffusion.score=trained", "--diffusion.model_file=latdiff.h5"},
       "diffusion.model_file",
       "must differ from output.file"},
      {kMinimal,
       {"--diffusion.score=trained", "--diffusion.model_file=m.h5", "--output.file=m.warmup.h5"},
       "diffusion.model_file",
       ".warmup.h5"},
      {kMinimal, {"--diffusion.model_file=m.tmp"}, "diffusion.model_file", "must not end in .tmp"},
      {kMinimal, {"--sampler.interleave=hmc"}, "sampler.interleave", "must differ"},
      {kMinimal,
       {"--sampler.type=generate", "--sampler.interleave=hmc"},
       "sampler.interleave",
       "generate"},
      {kMinimal,
       {"--sampler.type=diffusion", "--sampler.interleave=metropolis",
        "--sampler.fourier_acceleration=true"},
       "sampler.fourier_acceleration",
       "sampler.interleave"},
      {kMinimal, {"--diffusion.ess_block=10000001"}, "diffusion.ess_block", "<= 10000000"},
  };
  for (const auto& bad : cases) {
    std::string label = bad.deck;
    for (const auto& o : bad.overrides) label += " '" + o + "'";
    SCOPED_TRACE(label);
    const std::string message = error_of(bad.deck, bad.overrides);
    ASSERT_FALSE(message.empty()) << "no DeckError";
    EXPECT_EQ(message.rfind(bad.key + ":", 0), 0u) << message;
    EXPECT_NE(message.find(bad.also), std::string::npos) << message;
    EXPECT_EQ(printable(message), message) << "unprintable bytes in " << message;
    EXPECT_LT(message.size(), 300u) << message;
  }
}

TEST(Deck, ByteOrderMarkAndCrlfLineEndingsAreAccepted) {
  const std::string lf = "# comment\n[lattice]\ndims = 8 4\n[run]\nupdates = 5  # five\n";
  std::string crlf;
  for (char ch : lf) crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  const Config expected = parse(lf);
  EXPECT_EQ(expected.run.updates, 5);
  EXPECT_EQ(parse("\xef\xbb\xbf" + lf), expected);
  EXPECT_EQ(parse(crlf), expected);
  EXPECT_EQ(parse("\xef\xbb\xbf" + crlf), expected);
  // UTF-8 beyond ASCII is fine in comments and paths.
  EXPECT_EQ(parse(kMinimal + "# \xcf\x86^4\n", {"--output.file=\xcf\x86.h5"}).output.file,
            "\xcf\x86.h5");
}

TEST(Deck, UpdateCountsUpTo2To62AreAccepted) {
  EXPECT_EQ(kMaxUpdates, 4611686018427387904);
  const Config c = parse(kMinimal, {"--run.thermalize=4611686018427386904", "--run.updates=1000",
                                    "--run.measure_every=4611686018427387904",
                                    "--output.save_every=4611686018427387904",
                                    "--output.checkpoint_every=4611686018427387904",
                                    "--output.block_measurements=4611686018427387904"});
  EXPECT_EQ(c.run.thermalize + c.run.updates, kMaxUpdates);
  EXPECT_EQ(parse(kMinimal, {"--run.updates=4611686018427387904"}).run.updates, kMaxUpdates);
}

TEST(Deck, PrintableEscapesWhatWouldNotShow) {
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("tab\tnew\nline\r\x7f"), "tab\\x09new\\x0aline\\x0d\\x7f");
  EXPECT_EQ(printable("\xcf\x86 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\xcf\x86 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(printable("caf\xe9"), "caf\\xe9");                       // Latin-1
  EXPECT_EQ(printable("\xcf"), "\\xcf");                             // cut short
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // UTF-16 surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // beyond U+10FFFF
  EXPECT_EQ(printable("\xc2\x9b"), "\\xc2\\x9b");                    // C1 control (CSI)
  EXPECT_EQ(printable("\xc2\xa0"), "\xc2\xa0");                      // no-break space shows
  const std::string once = printable(std::string("x\0\xff\x1b", 4));
  EXPECT_EQ(printable(once), once);
  EXPECT_EQ(DeckError(std::string("k: '\0'", 6)).what(), std::string("k: '\\x00'"));
}

// Deck files are read by rank 0 only; these tests run at 1 and 2 ranks and check that every
// rank gets the same text or the same message. A FIFO that blocked would hit ctest's timeout.
class DeckFile : public ::testing::Test {
 protected:
  void SetUp() override {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    if (rank_ == 0) {
      std::string pattern = (std::filesystem::temp_directory_path() / "latdiff_deck_XXXXXX");
      EXPECT_NE(mkdtemp(pattern.data()), nullptr);  // not ASSERT: rank 1 would wait
      dir_ = pattern;
    }
    dir_ = from_rank0(dir_);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank_ == 0) std::filesystem::remove_all(dir_);
  }

  // Rank 0's `text`, on every rank.
  static std::string from_rank0(std::string text) {
    long long size = static_cast<long long>(text.size());
    MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    text.resize(static_cast<std::size_t>(size));
    MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, MPI_COMM_WORLD);
    return text;
  }

  static bool same_on_every_rank(const std::string& text) {
    int same = from_rank0(text) == text, all = 0;
    MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all == 1;
  }

  // Path of `name` in the scratch directory, written by rank 0 with `bytes`.
  std::string file(const std::string& name, const std::string& bytes) const {
    const std::string path = dir_ + "/" + name;
    if (rank_ == 0) std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // The DeckError message of read_deck_file (the same on every rank), "" if it returned.
  static std::string error_of(const std::string& path) {
    std::string message;
    try {
      read_deck_file(path, MPI_COMM_WORLD);
    } catch (const DeckError& e) {
      message = e.what();
    }
    EXPECT_TRUE(same_on_every_rank(message)) << message;
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    return message;
  }

  int rank_ = 0;
  std::string dir_;
};

TEST_F(DeckFile, ReturnsTheBytesAsTheyAreOnEveryRank) {
  const std::string bytes = "\xef\xbb\xbf[lattice]\r\ndims = 8 8\r\n" + std::string(3, '\0');
  const std::string text = read_deck_file(file("deck.ini", bytes), MPI_COMM_WORLD);
  EXPECT_EQ(text, bytes);
  EXPECT_EQ(read_deck_file(file("empty.ini", ""), MPI_COMM_WORLD), "");
}

TEST_F(DeckFile, RefusesWhatIsNotARegularFile) {
  EXPECT_NE(error_of(dir_ + "/missing.ini").find("No such file"), std::string::npos);
  EXPECT_NE(error_of(dir_ + "/missing/deck.ini").find("No such file"), std::string::npos);
  EXPECT_NE(error_of(dir_).find("is a directory"), std::string::npos);
  EXPECT_NE(error_of("/dev/zero").find("is a character device"), std::string::npos);
  const std::string fifo = dir_ + "/fifo.ini";
  if (rank_ == 0) {
    EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  }
  EXPECT_NE(error_of(fifo).find("is a FIFO"), std::string::npos);
}

TEST_F(DeckFile, RefusesMoreThanOneMebibyte) {
  EXPECT_EQ(kMaxDeckBytes, 1048576u);
  const std::string largest(kMaxDeckBytes, '#');
  EXPECT_EQ(read_deck_file(file("largest.ini", largest), MPI_COMM_WORLD), largest);
  EXPECT_NE(error_of(file("large.ini", largest + "\n")).find("larger than 1 MiB (1048576 bytes)"),
            std::string::npos);
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

TEST(Deck, DefaultValuesAsInTheResolvedDeck) {
  EXPECT_EQ(default_value("diffusion.levels"), "64");
  EXPECT_EQ(default_value("diffusion.process"), "vp");
  EXPECT_EQ(default_value("output.overwrite"), "false");
  EXPECT_EQ(default_value("action.kappa"), "0.0");
  EXPECT_EQ(default_value("lattice.dims"), std::nullopt);  // required: no default
  EXPECT_EQ(default_value("diffusion.nonsense"), std::nullopt);
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
  EXPECT_EQ(keys, 89);
}

}  // namespace
}  // namespace latdiff
