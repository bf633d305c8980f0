"""sampler.type = diffusion end to end: the exact chain of diffusion proposals reproduces the
free field (chi' = 1/m^2, <phi^2> exact) from a deck, gives bitwise the same output on 1, 2 and
4 ranks, resumes bitwise after kill -9, and bad [diffusion] keys are refused with one line."""

import numpy as np
import pytest

from conftest import (EXIT_BAD_INPUT, Latdiff, assert_same_file, describe, kill_job,
                      read_everything, wait_for, write_deck)

M2 = 0.5
DIMS = (6, 6)


def deck(updates=3000, **diffusion):
    return {
        "lattice": {"dims": " ".join(map(str, DIMS))},
        "action": {"form": "mass", "m2": M2, "g": 0},
        "sampler": {"type": "diffusion"},
        "diffusion": {"process": "vp", "levels": 64, "beta_max": 12, **diffusion},
        "run": {"seed": 21, "thermalize": 50, "updates": updates, "start": "hot"},
        "output": {"file": "diff.h5", "checkpoint_every": 500},
    }


def exact_phi2():
    p = [2 * np.pi * np.arange(L) / L for L in DIMS]
    phat2 = sum(4 * np.sin(np.meshgrid(*p, indexing="ij")[mu] / 2) ** 2 for mu in range(2))
    return float(np.mean(1 / (phat2 + M2)))


def mean_and_error(x, bins=30):
    """Mean and its error from `bins` equal blocks: blocks of ~100 updates are far longer than
    the autocorrelation of these chains (tau_int of a few updates)."""
    blocks = np.array_split(np.asarray(x), bins)
    means = np.array([b.mean() for b in blocks])
    return float(np.mean(x)), float(means.std(ddof=1) / np.sqrt(bins))


@pytest.mark.parametrize("variant,updates", [
    ({}, 3000), ({"depth": 16}, 3000), ({"prior": "free_field", "beta_max": 4}, 3000),
    ({"process": "ve", "sigma_max": 4, "levels": 40, "depth": 24, "reverse_kernel": "ancestral"},
     8000)])
def test_diffusion_chain_reproduces_the_free_field(tmp_path, variant, updates):
    write_deck(tmp_path / "run.ini", deck(updates, **variant))
    r = Latdiff(tmp_path).ok(["run.ini"])
    data = read_everything(tmp_path / "diff.h5")
    accept = data["sampler/accept"][50:]
    assert 0.05 < accept.mean() < 1, accept.mean()
    assert np.isfinite(data["sampler/delta_h"]).all()
    volume = DIMS[0] * DIMS[1]
    chi, chi_err = mean_and_error(volume * data["observables/mag"] ** 2)
    phi2, phi2_err = mean_and_error(data["observables/phi2"])
    print(f"{variant}: acceptance {accept.mean():.3f}, chi' {chi:.4f} +- {chi_err:.4f} (exact "
          f"{1 / M2}), <phi^2> {phi2:.5f} +- {phi2_err:.5f} (exact {exact_phi2():.5f})")
    assert abs(chi - 1 / M2) < 4 * chi_err and chi_err < 0.1 / M2, r.stdout
    assert abs(phi2 - exact_phi2()) < 4 * phi2_err and phi2_err < 0.03 * exact_phi2()


def test_diffusion_chain_is_bitwise_the_same_on_1_2_4_ranks(tmp_path):
    outputs = []
    for ranks in (1, 2, 4):
        d = tmp_path / f"np{ranks}"
        d.mkdir()
        write_deck(d / "run.ini", deck(updates=200, depth=8))
        Latdiff(d).ok(["run.ini"], np=ranks)
        outputs.append(read_everything(d / "diff.h5"))
    assert 0 < outputs[0]["sampler/accept"].mean() < 1
    for other in outputs[1:]:
        assert_same_file(other, outputs[0], "diffusion chain")


def test_diffusion_chain_resumes_bitwise_after_kill(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    # ESS blocks of 300 updates straddle the checkpoints (every 500): a resumed chain must
    # carry the partial block over.
    write_deck(ref / "run.ini", deck(updates=6000, ess_block=300))
    Latdiff(ref).ok(["run.ini"], np=2)
    write_deck(tmp_path / "run.ini", deck(updates=6000, ess_block=300))
    ld = Latdiff(tmp_path)
    proc = ld.start(["run.ini"], np=2)
    assert wait_for(lambda: (tmp_path / "diff.ckpt.h5").exists(), 60, proc), "no checkpoint"
    kill_job(proc)
    r = ld.ok(["run.ini"], np=2)
    assert "resumed" in r.stdout
    assert_same_file(read_everything(tmp_path / "diff.h5"), read_everything(ref / "diff.h5"),
                     "after kill -9")


@pytest.mark.parametrize("args,key", [
    (["--diffusion.beta_max=64"], "diffusion.beta_max"),
    (["--diffusion.depth=65"], "diffusion.depth"),
    (["--diffusion.process=ve", "--diffusion.sigma_max=0.001"], "diffusion.sigma_max"),
    (["--diffusion.levels=0"], "diffusion.levels"),
    (["--action.form=hopping", "--action.kappa=0.34", "--action.lambda=0.5"], "diffusion.score"),
])
def test_bad_diffusion_keys_are_refused(tmp_path, args, key):
    write_deck(tmp_path / "run.ini", deck())
    for ranks in (1, 2):
        r = Latdiff(tmp_path).run(["run.ini", *args], np=ranks)
        assert r.returncode == EXIT_BAD_INPUT, describe(r)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"latdiff: error: {key}"), r.stderr
    assert not (tmp_path / "diff.h5").exists()


def kish(log_weights):
    w = np.exp(log_weights - log_weights.max())
    return w.sum() ** 2 / (len(w) * (w ** 2).sum())


def test_path_log_weights_and_their_effective_sample_size(tmp_path):
    """/sampler/ess holds Kish's ESS of the block's stored log-weights, and with the exact score
    and prior it rises towards 1 as the paths get finer."""
    mean_ess = {}
    for levels in (16, 128):
        d = tmp_path / f"n{levels}"
        d.mkdir()
        write_deck(d / "run.ini", deck(1000, levels=levels, prior="free_field", beta_max=4,
                                       ess_block=50))
        Latdiff(d).ok(["run.ini"], np=2)
        data = read_everything(d / "diff.h5")
        lw, ess = data["sampler/log_weight"], data["sampler/ess"]
        assert len(lw) == len(ess) == 1050 and np.isfinite(lw).all()
        ends = np.arange(49, 1050, 50)
        assert np.isnan(np.delete(ess, ends)).all()
        for b, end in enumerate(ends):
            assert abs(ess[end] - kish(lw[end - 49:end + 1])) < 1e-12, b
        mean_ess[levels] = ess[ends].mean()
        print(f"levels {levels}: mean ESS/n {mean_ess[levels]:.3f}, acceptance "
              f"{data['sampler/accept'].mean():.3f}")
    assert mean_ess[128] > 0.6 and mean_ess[128] > mean_ess[16] + 0.3, mean_ess


def test_the_depth_kernel_records_log_weights_without_ess(tmp_path):
    write_deck(tmp_path / "run.ini", deck(200, depth=8))
    Latdiff(tmp_path).ok(["run.ini"])
    data = read_everything(tmp_path / "diff.h5")
    assert np.isfinite(data["sampler/log_weight"]).all()
    assert np.isnan(data["sampler/ess"]).all()


def generate_deck(updates, **diffusion):
    d = deck(updates, prior="free_field", beta_max=4, **diffusion)
    d["sampler"] = {"type": "generate"}
    d["run"]["thermalize"] = 0
    d["output"]["file"] = "gen.h5"
    return d


@pytest.mark.parametrize("generator", ["ancestral", "euler_maruyama", "probability_flow"])
def test_generators_with_the_exact_score_approach_the_free_field(tmp_path, generator):
    """Without Metropolis-Hastings the generated <phi^2> is biased at few levels and exact
    within errors at many (each generated configuration is independent)."""
    results = {}
    for levels in (8, 1024):
        d = tmp_path / f"n{levels}"
        d.mkdir()
        write_deck(d / "run.ini", generate_deck(2000, levels=levels, generator=generator))
        r = Latdiff(d).ok(["run.ini"], np=2)
        assert "without a Metropolis-Hastings test" in r.stdout, r.stdout
        data = read_everything(d / "gen.h5")
        assert "sampler/delta_h" not in data and (data["sampler/accept"] == 1).all()
        phi2 = data["observables/phi2"]
        results[levels] = (phi2.mean(), phi2.std(ddof=1) / np.sqrt(len(phi2)))
    exact = exact_phi2()
    print(generator, results, exact)
    (coarse, coarse_err), (fine, fine_err) = results[8], results[1024]
    assert abs(fine - exact) < 4 * fine_err, (fine, fine_err, exact)
    assert abs(coarse - exact) > 6 * coarse_err, (coarse, coarse_err, exact)


def test_generated_configurations_are_bitwise_the_same_on_1_and_4_ranks(tmp_path):
    outputs = []
    for ranks in (1, 4):
        d = tmp_path / f"np{ranks}"
        d.mkdir()
        write_deck(d / "run.ini", generate_deck(30, generator="predictor_corrector",
                                                corrector_steps=2))
        Latdiff(d).ok(["run.ini"], np=ranks)
        outputs.append(read_everything(d / "gen.h5"))
    assert_same_file(outputs[1], outputs[0], "generated chain")


def test_interleaved_metropolis_keeps_the_chain_exact(tmp_path):
    """sampler.interleave: a diffusion update then two Metropolis sweeps per cycle; the mixture
    reproduces the free field, each row of /sampler belongs to its sampler, and the ESS blocks
    see only the diffusion proposals."""
    d = deck(3000, prior="free_field", beta_max=4, ess_block=30)
    d["sampler"] = {"type": "diffusion", "interleave": "metropolis", "interleave_updates": 2,
                    "step": 1.5}
    write_deck(tmp_path / "run.ini", d)
    Latdiff(tmp_path).ok(["run.ini"], np=2)
    data = read_everything(tmp_path / "diff.h5")
    dh, lw, ess = data["sampler/delta_h"], data["sampler/log_weight"], data["sampler/ess"]
    diffusion_rows = np.arange(len(dh)) % 3 == 0
    assert np.isfinite(dh[diffusion_rows]).all() and np.isnan(dh[~diffusion_rows]).all()
    assert np.isfinite(lw[diffusion_rows]).all() and np.isnan(lw[~diffusion_rows]).all()
    for end in np.arange(29, len(ess), 30):
        block = lw[end - 29:end + 1]
        assert abs(ess[end] - kish(block[np.isfinite(block)])) < 1e-12
    volume = DIMS[0] * DIMS[1]
    chi, chi_err = mean_and_error(volume * data["observables/mag"] ** 2)
    phi2, phi2_err = mean_and_error(data["observables/phi2"])
    assert abs(chi - 1 / M2) < 4 * chi_err and chi_err < 0.1 / M2
    assert abs(phi2 - exact_phi2()) < 4 * phi2_err and phi2_err < 0.03 * exact_phi2()


def test_interleaved_chain_is_bitwise_the_same_on_1_and_4_ranks(tmp_path):
    outputs = []
    for ranks in (1, 4):
        d = tmp_path / f"np{ranks}"
        d.mkdir()
        sections = deck(120, depth=8)
        sections["sampler"] = {"type": "diffusion", "interleave": "hmc", "md_steps": 4}
        write_deck(d / "run.ini", sections)
        Latdiff(d).ok(["run.ini"], np=ranks)
        outputs.append(read_everything(d / "diff.h5"))
    assert_same_file(outputs[1], outputs[0], "interleaved chain")
