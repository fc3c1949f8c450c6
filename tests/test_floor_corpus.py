"""The floor corpus generator: format, exact labels, held-out splits, determinism."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError

pytestmark = pytest.mark.skipif(
    not all(shutil.which(p) for p in ("espeak-ng", "flite", "text2wave", "sox")),
    reason="needs espeak-ng, flite, festival and sox",
)

from cadence.floor.corpus import generate, plan, render_file, write_file  # noqa: E402
from cadence.floor.corpus import augment, text  # noqa: E402
from cadence.floor.corpus.compose import MIN_HOLD_S, _Timeline  # noqa: E402
from cadence.floor.corpus.voices import (  # noqa: E402
    FESTIVAL_UNSEEN, FRESH_DOC, HELD_OUT_DOC, MBROLA_VOICES, TEST_ONLY_SETS, UNSEEN_DOC, VOICE_SETS, Style, Synth, Voice,
    catalogue, cut_to_speech, draw_style, frame_db, pick_voice, speech_frames, speech_runs, trim)

RATES = {8000, 16000, 22050, 24000, 44100, 48000}
SEED = 11


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[dict]]]:
    out = tmp_path_factory.mktemp("floor")
    generate(str(out), n=6, seed=SEED, jobs=2, duplex_fraction=0.5)
    rows = {}
    for split in ("train", "dev", "test"):
        with open(out / split / "manifest.jsonl", encoding="utf-8") as f:
            rows[split] = [json.loads(line) for line in f]
    return out, rows


def _all(corpus):
    out, rows = corpus
    for split, rs in rows.items():
        for r in rs:
            yield out / split, r


def test_manifest_and_audio(corpus) -> None:
    out, rows = corpus
    assert [len(rows[s]) for s in ("train", "dev", "test")] == [4, 1, 1]
    readme = (out / "README.txt").read_text()
    assert "Held out" in readme
    # the engine versions it was rendered with (a render differs under others)
    line = next(ln for ln in readme.splitlines() if ln.startswith("rendered with: "))
    import shutil

    if shutil.which("dpkg-query"):  # scripts/setup.sh installs espeak-ng from Debian
        assert "espeak-ng " in line and "sox " in line
    import importlib.metadata

    assert f"numpy {importlib.metadata.version('numpy')}" in line
    for folder, r in _all(corpus):
        assert set(r) == {"audio", "events", "meta"}
        info = sf.info(str(folder / r["audio"]))
        assert info.subtype == "PCM_16" and info.samplerate in RATES
        assert info.channels == r["meta"]["channels"]
        assert abs(info.frames / info.samplerate - r["meta"]["duration"]) < 1e-3
        a, _ = sf.read(str(folder / r["audio"]), dtype="float32")
        assert np.all(np.isfinite(a)) and np.max(np.abs(a)) < 1.0
        assert abs(float(np.mean(a))) < 1e-3  # no DC offset
        if r["meta"]["duplex"]:
            assert (folder / r["meta"]["persona_audio"]).exists() and r["meta"]["persona"]
        kinds = {e["type"] for e in r["events"]}
        assert {"shift", "hold"} <= kinds
        for seg in r["meta"]["segments"]:
            assert seg[3] in {"final", "continuation", "filler", "backchannel", "bargein"}


def test_events_inside_file_and_holds_off_speech(corpus) -> None:
    for _, r in _all(corpus):
        dur = r["meta"]["duration"]
        segs = r["meta"]["segments"]
        for e in r["events"]:
            if "t" in e:
                assert 0 < e["t"] < dur
            else:
                assert 0 < e["start"] < e["end"] < dur
            if e["type"] == "hold":
                assert e["end"] - e["start"] >= MIN_HOLD_S - 1e-3
                for s, t, *_ in segs:
                    assert min(t, e["end"]) - max(s, e["start"]) <= 1e-3, (e, s, t)


def test_shift_is_the_end_of_a_turn(corpus) -> None:
    for _, r in _all(corpus):
        segs = r["meta"]["segments"]
        shifts = [e["t"] for e in r["events"] if e["type"] == "shift"]
        assert shifts == [t for _, t in r["meta"]["turns"]]
        for t in shifts:
            last = [s for s in segs if abs(s[1] - t) < 1e-3]
            assert last and last[0][3] in ("final", "bargein")
            # no user speech (other than backchannels) right after a shift
            assert not [s for s in segs if t < s[0] < t + 0.2 and s[3] != "backchannel"]
        # every turn's speech lies inside the turn; holds lie inside turns
        for e in r["events"]:
            if e["type"] == "hold":
                assert any(a <= e["start"] and e["end"] <= b for a, b in r["meta"]["turns"])


def test_labels_match_the_audio_energy(corpus) -> None:
    """Holds are quieter than speech in the rendered audio (noise, echo and all)."""
    for folder, r in _all(corpus):
        a, sr = sf.read(str(folder / r["audio"]), dtype="float64", always_2d=True)
        a = a[:, 0]

        def power(s: float, e: float) -> float:
            return float(np.mean(a[int(s * sr) : int(e * sr)] ** 2) + 1e-20)

        speech = np.mean([power(s, e) for s, e, _, k in r["meta"]["segments"] if k != "backchannel"])
        holds = [power(e["start"] + 0.05, e["end"]) for e in r["events"]
                 if e["type"] == "hold" and e["end"] - e["start"] > 0.3]
        if holds:
            assert 10 * np.log10(speech / np.mean(holds)) > 3.0, r["meta"]["snr"]


def test_test_split_is_held_out(corpus) -> None:
    _, rows = corpus
    held = {v.id for v in catalogue() if v.held_out}
    for split in ("train", "dev"):
        for r in rows[split]:
            assert r["meta"]["voice"] not in held
            assert r["meta"].get("persona_voice") not in held
    for r in rows["test"]:
        assert r["meta"]["voice"] in held

    def sentences(rs):
        return {s[2] for r in rs for s in r["meta"]["segments"] if s[3] in ("final", "continuation", "bargein")}

    assert not sentences(rows["test"]) & sentences(rows["train"] + rows["dev"])


def test_sentence_pools_are_disjoint_and_varied() -> None:
    rng = np.random.default_rng(0)
    pools = {}
    for pool in text.POOLS:
        s = set()
        for _ in range(400):
            s.add(text.final_phrase(rng, pool)[0])
            s.add(text.continuation_phrase(rng, pool)[0])
            s.add(text.completion_phrase(rng, pool))
            s.add(text.short_answer(rng, pool))
            s.add(text.bargein_phrase(rng, pool))
        pools[pool] = s
    assert len(pools["train"]) > 500 and len(pools["test"]) > 300
    assert not pools["train"] & pools["test"]
    assert not pools["grammar"] & pools["test"]
    # the selection pool shares no sentence with any other (short answers: the train share)
    answers = {a[:1].upper() + a[1:] + p for a in text._SHORT_ANSWERS for p in ".!"}
    assert len(pools["select"]) > 300
    for other in ("train", "test", "grammar"):
        assert not (pools["select"] & pools[other]) - answers, other
    assert not pools["select"] & pools["test"]
    assert len(pools["grammar"]) > 1.5 * len(pools["train"])  # the grammar rarely repeats itself
    with pytest.raises(InvalidArgumentError):
        text.final_phrase(rng, "dev")


def test_deterministic(corpus, tmp_path: Path) -> None:
    out, rows = corpus
    spec = plan(6, SEED, 0.5)[5]  # the test file, rendered again in this process
    row = write_file(spec, str(tmp_path))
    assert row == rows["test"][0]
    a = (tmp_path / "test" / row["audio"]).read_bytes()
    b = (out / "test" / row["audio"]).read_bytes()
    assert a == b


def test_splits_render_the_same_files(corpus, tmp_path: Path) -> None:
    out, rows = corpus
    only = generate(str(tmp_path), n=6, seed=SEED, jobs=1, duplex_fraction=0.5, splits=("test",))
    assert list(only) == ["test"] and only["test"] == rows["test"]
    assert sorted(os.listdir(tmp_path)) == ["README.txt", "test"]
    row = rows["test"][0]
    assert (tmp_path / "test" / row["audio"]).read_bytes() == (out / "test" / row["audio"]).read_bytes()
    assert "--splits test" in (tmp_path / "README.txt").read_text()
    with pytest.raises(InvalidArgumentError, match="--splits"):
        generate(str(tmp_path), n=6, seed=SEED, jobs=1, duplex_fraction=0.5, splits=("tset",))
    # rendered again with another seed: the README says so (it kept the first render's command)
    readme = (tmp_path / "README.txt").read_text()
    generate(str(tmp_path), n=6, seed=SEED + 1, jobs=1, duplex_fraction=0.5, splits=("test",))
    again = (tmp_path / "README.txt").read_text()
    assert again.startswith(readme) and f"rendered again by: cadence corpus floor --out {tmp_path} --n 6 --seed {SEED + 1}" in again
    assert not list((tmp_path / "test").glob("*.partial"))


def test_trim_and_runs_are_exact() -> None:
    sr = 16000
    t = np.arange(sr) / sr
    tone = (0.5 * np.sin(2 * np.pi * 200 * t[: sr // 2])).astype(np.float32)
    gap = np.zeros(int(0.3 * sr), np.float32)
    x = np.concatenate([np.zeros(sr // 4, np.float32), tone, gap, tone, np.zeros(sr // 5, np.float32)])
    x += 1e-5 * np.random.default_rng(0).standard_normal(len(x)).astype(np.float32)
    y = trim(x, sr)
    assert abs(len(y) - (2 * len(tone) + len(gap))) <= sr // 100
    runs = speech_runs(y, sr, 0.15)
    assert len(runs) == 2
    assert abs((runs[1][0] - runs[0][1]) / sr - 0.3) <= 0.011


def _at_db(x: np.ndarray, db: float) -> np.ndarray:
    """``x`` scaled to a mean-square level of ``db`` dBFS."""
    return (x * 10 ** (db / 20) / np.sqrt(np.mean(x.astype(np.float64) ** 2))).astype(np.float32)


def _hum(n: int, db: float, seed: int) -> np.ndarray:
    """``n`` samples of a steady low hum (110 and 230 Hz, random phases) at ``db`` dBFS, at
    16 kHz: an engine's noise floor (rab's crosses zero at 80-900 Hz)."""
    t = np.arange(n) / 16000
    ph = np.random.default_rng(seed).uniform(0, 2 * np.pi, 2)
    return _at_db(np.sin(2 * np.pi * 110 * t + ph[0]) + 0.5 * np.sin(2 * np.pi * 230 * t + ph[1]), db)


def _phrase_with_edge_noise(sr: int, tail: np.ndarray) -> tuple[np.ndarray, int]:
    """100 ms of steady hum 33 dB under a 0.5 s tone, the tone, then ``tail``; and the tone's start."""
    tone = _at_db(np.sin(2 * np.pi * 200 * np.arange(sr // 2) / sr), -3.0)
    noise = _hum(sr // 10, -36.0, 3)
    return np.concatenate([noise, tone, tail]), len(noise)


def test_steady_noise_at_a_phrase_edge_is_not_speech() -> None:
    """festival's rab ends phrases on flat, low-pitched noise 33-35 dB under its words and don
    starts them on it (benches/results/floor.md, "Are the labels exact?"): the turn end is the
    words' end. A final fricative as low and as steady (high-pitched: /f/, /θ/), a louder one,
    and a tail that changes level are speech."""
    sr, tone_s = 16000, 0.5
    rng = np.random.default_rng(4)
    x, lead = _phrase_with_edge_noise(sr, np.concatenate([_hum(sr // 5, -36.0, 5), np.zeros(sr // 10, np.float32)]))
    y = trim(x, sr)
    assert abs(len(y) - tone_s * sr) <= sr // 100, len(y) / sr  # both noises cut
    runs = speech_runs(x, sr, 0.15)
    assert len(runs) == 1 and abs(runs[0][0] - lead) <= sr // 100 and abs(runs[0][1] - lead - tone_s * sr) <= sr // 100
    # a steady fricative just as low (white noise: its zero crossings near 4 kHz) is kept
    fric = _at_db(rng.standard_normal(sr // 10), -36.0)
    x1, _ = _phrase_with_edge_noise(sr, fric)
    assert abs(len(trim(x1, sr)) - (tone_s + 0.1) * sr) <= sr // 100
    # so is a steady hum 26 dB under the words: over the 30 dB bar
    x2, _ = _phrase_with_edge_noise(sr, _hum(sr // 10, -29.0, 6))
    assert abs(len(trim(x2, sr)) - (tone_s + 0.1) * sr) <= sr // 100
    # and a hum as low that changes level (8 frames, 4 dB apart in pairs) is kept
    wobble = np.concatenate([_hum(sr // 100, -37.5 if k % 4 < 2 else -33.5, 10 + k) for k in range(8)])
    x3, _ = _phrase_with_edge_noise(sr, wobble)
    assert abs(len(trim(x3, sr)) - (tone_s + 0.08) * sr) <= sr // 100
    # with an explicit threshold (the recorded corpora's rules) nothing is cut but by level
    db = frame_db(x, sr)
    assert speech_frames(x, sr, db, -60.0).sum() == int(np.sum(db > -60.0))


def test_cut_to_speech_places_a_phrase_on_its_words() -> None:
    sr = 16000
    x, lead = _phrase_with_edge_noise(sr, np.zeros(0, np.float32))
    y, _ = cut_to_speech(x, sr, 0.15)
    assert abs(len(y) - (len(x) - lead)) <= sr // 100
    assert np.max(np.abs(y[: sr // 100])) > 0.1  # it starts on the tone
    tight = trim(y, sr)
    assert cut_to_speech(tight, sr, 0.15)[0] is tight  # a phrase already on its words is left alone


def test_holds_end_where_the_next_words_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine whose phrases start and end on noise (don, rab): each hold still ends where the
    next phrase's words start and each turn where its words end, not where the noise does."""
    tail = _hum(3200, -36.0, 5)

    def phrase(self: Synth, text: str, slow_last: float = 1.0) -> np.ndarray:
        x, _ = _phrase_with_edge_noise(self.rate, augment.resample(tail, 16000, self.rate))
        return x / np.max(np.abs(x))

    monkeypatch.setattr(Synth, "phrase", phrase)
    holds = shifts = 0
    for spec in plan(20, SEED, 0.0)[:6]:
        r = render_file(spec)
        clean = r.meta["segments"]
        for e in r.events:
            if e["type"] == "hold":
                holds += 1
                assert any(abs(s - e["end"]) < 2e-4 for s, *_ in clean), e  # events are rounded to 0.1 ms
            elif e["type"] == "shift":
                shifts += 1
                assert any(abs(t - e["t"]) < 2e-4 and t - s == pytest.approx(0.5, abs=0.011)
                           for s, t, *_ in clean), e
        # every placed phrase is the tone alone: no noise before or after its words
        for s, t, *_ in clean:
            assert t - s == pytest.approx(0.5, abs=0.011)
    assert holds and shifts
    # and the audio placed is the words alone: the hum before and after them was cut away
    tl = _Timeline(Synth(catalogue()[1], Style(), 0), np.random.default_rng(0))
    tl.say("yes.", "final", tl.hold_gap(1.0, 0.5))
    s0, placed = tl.pieces[-1]
    assert s0 == round(1.5 * tl.rate) and len(placed) == pytest.approx(0.5 * tl.rate, abs=tl.rate // 100)
    edge_db = frame_db(placed[: tl.rate // 50], tl.rate).min(), frame_db(placed[-tl.rate // 50 :], tl.rate).min()
    assert min(edge_db) > frame_db(placed, tl.rate).max() - 10  # the tone's level, not the hum's


def test_extended_voice_set_only_adds_train_voices() -> None:
    base, ext = catalogue("base"), catalogue("extended")
    added = [v for v in ext if v not in base]
    assert {v.id for v in added} == {"festival:ked_diphone", "festival:cmu_us_slt_arctic_hts"}
    assert not any(v.held_out for v in added)
    assert [v for v in ext if v.held_out] == [v for v in base if v.held_out]
    # the test split draws the same voices the same way whatever the set
    for i in range(30):
        a = pick_voice(np.random.default_rng([9, i]), True, voices="base")
        b = pick_voice(np.random.default_rng([9, i]), True, voices="extended")
        assert a == b and a.held_out
    assert {s.knobs.voices for s in plan(6, 0, 0.0, voices="extended")} == {"extended"}


def test_select_voice_set_is_unseen_by_training_and_test(tmp_path: Path) -> None:
    sel = catalogue("select")
    trained = {v.id for s in ("base", "extended") for v in catalogue(s) if not v.held_out}
    pool = [v for v in sel if not v.held_out]
    assert len(pool) >= 40 and not {v.id for v in pool} & trained
    assert [v for v in sel if v.held_out] == [v for v in catalogue("base") if v.held_out]
    # every selection voice really sounds different from its accent's plain voice (espeak-ng
    # silently ignores unknown variants, and en-gb ignores all of them)
    plain: dict[str, bytes] = {}
    checked = [v for v in pool if v.name == "en-us"] + [v for v in pool if v.variant == "klatt5"]
    assert len({v.variant for v in checked}) == len({v.variant for v in pool})
    for v in checked:
        if v.name not in plain:
            base = next(b for b in catalogue("base") if b.name == v.name and not b.variant)
            plain[v.name] = Synth(base, Style(), seed=0).phrase("we could take the early train").tobytes()
        assert Synth(v, Style(), seed=0).phrase("we could take the early train").tobytes() != plain[v.name], v.id
    # a model must never train on them
    with pytest.raises(InvalidArgumentError, match="--splits dev"):
        generate(str(tmp_path), n=6, seed=SEED, jobs=1, duplex_fraction=0.0, voices="select")
    rows = generate(str(tmp_path), n=20, seed=SEED, jobs=1, duplex_fraction=0.5, voices="select",
                    splits=("dev",))
    assert {r["meta"]["voice"] for r in rows["dev"]} <= {v.id for v in pool}


def test_shifted_voice_set_sox_settings_lie_past_training_and_test_styles(tmp_path: Path) -> None:
    sh = catalogue("shifted")
    pool = [v for v in sh if not v.held_out]
    trained = {v.id for s in ("base", "extended") for v in catalogue(s) if not v.held_out}
    assert {v.backend for v in pool} == {"piper", "flite", "festival"} and not {v.id for v in pool} & trained
    assert {v.id.removesuffix("-far") for v in pool} <= trained  # the training voices, moved
    assert [v for v in sh if v.held_out] == [v for v in catalogue("base") if v.held_out]

    def shifts(voices: list[Voice], n: int) -> tuple[np.ndarray, np.ndarray]:
        st = [draw_style(np.random.default_rng([3, i]), v) for i in range(n) for v in voices]
        return np.array([s.sox_cents for s in st]), np.array([s.sox_tempo for s in st])

    cents, tempo = shifts(pool, 200)
    assert np.all((np.abs(cents) >= 220) & (np.abs(cents) <= 320)) and (cents > 0).any() and (cents < 0).any()
    # past the styles' sox tempo, and not so far that the split stops being a near stand-in
    assert np.all(((tempo >= 0.84) & (tempo < 0.9)) | ((tempo > 1.1) & (tempo <= 1.16)))
    assert (tempo < 1).any() and (tempo > 1).any()
    # every other voice's style (its sox settings; engine speed and flite's f0 are drawn alike for
    # all, the far voices too) stays inside what the far variant leaves
    cents, tempo = shifts([v for s in ("base", "extended") for v in catalogue(s)], 40)
    assert np.abs(cents).max() <= 200 and tempo.min() >= 0.9 and tempo.max() <= 1.1
    with pytest.raises(InvalidArgumentError, match="--voices shifted.*--splits dev"):
        generate(str(tmp_path), n=6, seed=SEED, jobs=1, duplex_fraction=0.0, voices="shifted")
    rows = generate(str(tmp_path), n=14, seed=SEED, jobs=1, duplex_fraction=0.0, voices="shifted",
                    splits=("dev",))
    assert rows["dev"] and {r["meta"]["voice"] for r in rows["dev"]} <= {v.id for v in pool}
    assert all(abs(r["meta"]["voice_style"]["sox_cents"]) >= 220 for r in rows["dev"])
    assert all(not 0.9 <= r["meta"]["voice_style"]["sox_tempo"] <= 1.1 for r in rows["dev"])


def _test_only_voices_installed(voices: str) -> bool:
    """unseen: Debian's mbrola, its four English voices, and festival's voices for them and rab and don;
    fresh: the hibari-tts package, RHVoice and SVOX Pico."""
    if voices == "fresh":
        import importlib.util

        return bool(shutil.which("RHVoice-test")) and bool(shutil.which("pico2wave")) \
            and importlib.util.find_spec("hibari") is not None
    festival = Path("/usr/share/festival/voices/english")
    return bool(shutil.which("mbrola")) and all(Path(f"/usr/share/mbrola/{v}").is_dir() for v in MBROLA_VOICES) \
        and all((festival / name).is_dir() for name in FESTIVAL_UNSEEN)


# each test-only set: its held-out voices, their engines, and the corpus README's line for them
TEST_ONLY = {"unseen": (10, {"espeak", "festival"}, UNSEEN_DOC), "fresh": (8, {"hibari", "rhvoice", "pico"}, FRESH_DOC)}


@pytest.mark.parametrize("voices", TEST_ONLY_SETS)
def test_test_only_voice_sets_are_engines_no_other_set_uses(voices: str, tmp_path: Path) -> None:
    if not _test_only_voices_installed(voices):
        pytest.skip("needs the voices scripts/setup.sh installs (Debian contrib and non-free, and hibari-tts)")
    n_held, backends, doc = TEST_ONLY[voices]
    un = catalogue(voices)
    held = [v for v in un if v.held_out]
    others = [v for s in VOICE_SETS if s != voices for v in catalogue(s)]
    assert [v for v in un if not v.held_out] == [v for v in catalogue("base") if not v.held_out]
    assert len(held) == n_held and not {v.name for v in held} & {v.name for v in others}
    assert {v.backend for v in held} == backends
    # each speaks at its listed rate (MBROLA writes 16 kHz, don 10 kHz), each sounds its own, and a
    # lengthened last word is longer
    sounds = []
    for v in held:
        syn = Synth(v, Style(), seed=0)
        a = syn.phrase("we could take the early train")
        assert np.isfinite(a).all() and 0.8 < len(a) / syn.rate < 3.0, v.id  # the words' length at the listed rate
        assert syn.rate in RATES, v.id
        # (the head and the last word are made apart, 30 ms between them, which alone lengthens the
        # phrase by up to 1.10x: the engine's stretch must add more)
        assert len(syn.phrase("we could take the early train", slow_last=1.6)) > len(a) * 1.12, v.id
        # its silences are silent: the labels come from a trim at p95 - 35 dB, which a noise floor
        # above that (RHVoice's alan: about -30 dB) would take for speech
        db = frame_db(syn._raw("we could take the early train, but it was late.", 1.0), syn.rate)
        assert np.percentile(db - db.max(), 5) < -40.0, v.id
        sounds.append(a.tobytes())
    assert len(set(sounds)) == len(held)
    # the test split draws from them alone, and no other split may be made with them
    with pytest.raises(InvalidArgumentError, match="--splits test"):
        generate(str(tmp_path), n=6, seed=SEED, jobs=1, duplex_fraction=0.0, voices=voices, splits=("dev",))
    assert {pick_voice(np.random.default_rng([5, i]), True, voices=voices) for i in range(200)} == set(held)
    rows = generate(str(tmp_path), n=14, seed=SEED, jobs=1, duplex_fraction=0.0, voices=voices,
                    splits=("test",))
    assert rows["test"] and {r["meta"]["voice"] for r in rows["test"]} <= {v.id for v in held}
    readme = (tmp_path / "README.txt").read_text()
    assert doc in readme and HELD_OUT_DOC not in readme


@pytest.mark.parametrize("name", ["ked_diphone", "cmu_us_slt_arctic_hts"])
def test_extra_festival_voices_speak_and_stretch(name: str) -> None:
    voice = next(v for v in catalogue("extended") if v.name == name)
    syn = Synth(voice, Style(), seed=0)
    a = syn.phrase("we could take the early train")
    slow = syn.phrase("we could take the early train", slow_last=1.6)
    assert a.dtype == np.float32 and np.isfinite(a).all() and np.abs(a).max() == pytest.approx(1.0)
    assert 0.8 < len(a) / syn.rate < 3.0
    assert len(slow) > len(a) * 1.05  # the last word is lengthened (sox tempo for HTS)
    assert syn.rate in RATES  # a rate the Framer accepts (the HTS engine writes 32 kHz)
    spectrum = np.abs(np.fft.rfft(a))
    assert spectrum[: len(spectrum) // 2].sum() > 5 * spectrum[len(spectrum) // 2 :].sum()  # speech, not aliasing


def test_diagnostic_sets_cross_voices_and_sentences(tmp_path: Path) -> None:
    held = {v.id for v in catalogue() if v.held_out}
    voices = plan(4, 3, 0.0, diagnostic="unseen-voices")
    assert {(s.split, s.held_out, s.pool) for s in voices} == {("unseen-voices", True, "train")}
    sents = plan(4, 3, 0.0, text="grammar", diagnostic="unseen-sentences")
    assert {(s.split, s.held_out, s.pool) for s in sents} == {("unseen-sentences", False, "test")}
    row = write_file(sents[0], str(tmp_path))
    assert row["meta"]["voice"] not in held and row["meta"]["split"] == "unseen-sentences"
    assert (tmp_path / "unseen-sentences" / row["audio"]).exists()


def test_bad_input_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError):
        plan(2, 0, 0.1)
    with pytest.raises(InvalidArgumentError):
        plan(10, 0, 1.5)
    with pytest.raises(InvalidArgumentError):
        plan(10, 0, 0.1, voices="all")
    with pytest.raises(InvalidArgumentError):
        catalogue("all")
    with pytest.raises(InvalidArgumentError):
        plan(10, 0, 0.1, diagnostic="unseen-everything")
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidArgumentError):
        augment.noise("purple", 100, 16000, rng)
    with pytest.raises(InvalidArgumentError):
        augment.noise("babble", 100, 16000, rng)
    for kind in ("white", "pink", "brown", "hum"):
        nz = augment.noise(kind, 16000, 16000, rng)
        assert abs(float(np.sqrt(np.mean(nz**2))) - 1) < 1e-3 and abs(float(np.mean(nz))) < 1e-3


def test_cli_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cadence.cli import main

    assert main(["corpus", "floor", "--out", str(tmp_path), "--n", "3", "--seed", "2", "--jobs", "1",
                 "--duplex-fraction", "0"]) == 0
    assert "shift" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["README.txt", "dev", "test", "train"]


def test_cut_ins_start_in_a_pause_and_stop_after_the_user_goes_on(corpus, tmp_path: Path) -> None:
    out, rows = corpus
    specs = [s for s in plan(6, SEED, 1.0, cut_in_share=1.0) if s.split == "train"][:2]
    cut_ins = 0
    for spec in specs:
        assert spec.duplex
        row = write_file(spec, str(tmp_path))
        holds = [(e["start"], e["end"]) for e in row["events"] if e["type"] == "hold"]
        persona = row["meta"]["persona"]
        for e in row["events"]:
            if e["type"] != "bargein" or not any(abs(e["t"] - he) < 1e-3 for _, he in holds):
                continue
            hs, he = next(h for h in holds if abs(e["t"] - h[1]) < 1e-3)
            # the reply began 150-600 ms into the pause, at least 200 ms before its end, and stops
            # 100-300 ms after the user goes on
            (p0, p1), = [p for p in persona if hs < p[0] < he]
            assert hs + 0.15 - 1e-3 <= p0 <= min(hs + 0.6, he - 0.2) + 1e-3 and he - hs >= 0.5 - 1e-3
            assert 0.1 - 0.02 <= p1 - he <= 0.3 + 0.02
            # it sounds where the user goes on (the persona track, written as PCM at the file's rate)
            track, rate = sf.read(tmp_path / "train" / row["meta"]["persona_audio"])
            near = track[int((he - 0.03) * rate) : int((he + 0.05) * rate)]
            assert np.sqrt(np.mean(near**2)) > 1e-3
            cut_ins += 1
    assert cut_ins >= 2
    with pytest.raises(InvalidArgumentError, match="--cut-in-share"):
        plan(10, 0, 0.1, cut_in_share=1.5)
    # at 0 nothing is drawn for the knob (a corpus made before it is made again alike; checked
    # byte for byte against the code before the knob when it was added): any share above 0 draws,
    # which moves everything after it, even when no turn is cut into
    assert "--cut-in-share" not in plan(6, SEED, 0.5)[0].knobs.flags()
    spec = plan(6, SEED, 1.0)[5]
    same = write_file(spec, str(tmp_path / "zero"))
    assert write_file(plan(6, SEED, 1.0, cut_in_share=0.0)[5], str(tmp_path / "zero2")) == same
    assert write_file(plan(6, SEED, 1.0, cut_in_share=1e-12)[5], str(tmp_path / "tiny")) != same
