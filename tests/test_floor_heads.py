"""The floor model's optional heads (voice, pause, onset, confirm): targets, run-time evaluation, fitting
(`cadence train heads`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.io import wavfile

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FEATURE_NAMES, FloorFeaturizer
from cadence.floor.heads import CONFIRM_WINDOW, fit_head, main as heads_main, onset_auc, onset_samples
from cadence.floor.labels import pause_samples, voice_target
from cadence.floor.model import (BARGEIN, CONFIRM, ONSET, OUTPUTS, PAUSE, VOICE, FloorModel, _sigmoid,
                                 default_weights_path, load_members)
from cadence.floor.separability import auc

from floor_frames import over_persona_features
from floor_speech import ESPEAK, RATE, frames_of, render, speak

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
needs_weights = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")


def test_voice_target_marks_frames_whose_centre_is_in_a_user_segment() -> None:
    entry = {"meta": {"segments": [[0.10, 0.30, "so", "continuation"], [0.50, 0.52, "mm", "backchannel"]]}}
    y = voice_target(entry, 60)
    assert np.flatnonzero(y).tolist() == list(range(10, 30)) + [50, 51]
    assert voice_target({"events": []}, 5).tolist() == [0.0] * 5


def test_pause_samples_read_holds_as_1_and_the_gap_after_a_shift_as_0() -> None:
    entry = {"events": [{"type": "hold", "start": 1.0, "end": 1.25}, {"type": "shift", "t": 2.0},
                        {"type": "hold", "start": 3.0, "end": 3.05}]}  # too short: no sample
    idx, y = pause_samples(entry, 400)
    # the hold: offsets that end 20 ms before it does (50-200 ms); the shift: all six (to 500 ms)
    assert idx.tolist() == [104, 109, 114, 119, 204, 209, 214, 219, 229, 249]
    assert y.tolist() == [1.0] * 4 + [0.0] * 6
    idx, _ = pause_samples(entry, 210)  # frames past the end of the file are dropped
    assert idx.max() < 210


def test_fit_head_separates_and_refuses_one_class() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4000, 6)).astype(np.float32)
    y = (z[:, 2] - 0.5 * z[:, 4] > 0).astype(np.float32)
    w, b = fit_head(z, y)
    assert (((z @ w + b) >= 0) == (y > 0)).mean() > 0.97
    with pytest.raises(InvalidArgumentError, match="both classes"):
        fit_head(z, np.ones(len(z), np.float32))


def _with_head(tmp_path, w_scale: float = 0.1, shape: tuple[int, ...] | None = None):
    members = load_members(default_weights_path())
    arrays = {}
    for k, p in enumerate(members):
        p = {n: v for n, v in p.items() if not n.startswith(("onset_", "confirm_"))}  # the voice head alone
        width = p["w_hh"].shape[1] + p["w_ih"].shape[1]
        w = np.random.default_rng(k).normal(size=shape or (width,)).astype(np.float32) * w_scale
        arrays.update({f"m{k}/{n}": v for n, v in {**p, "voice_w": w, "voice_b": np.array(0.3, np.float32)}.items()})
    np.savez(tmp_path / "head.npz", **arrays)
    return tmp_path / "head.npz"


@needs_weights
def test_head_column_is_the_averaged_logistic_of_state_and_conv_output(tmp_path) -> None:
    x = np.random.default_rng(1).normal(size=(120, load_members(default_weights_path())[0]["in_w"].shape[1]))
    x = x.astype(np.float32)
    path = _with_head(tmp_path)
    model, plain = FloorModel(path), FloorModel()
    assert model.heads == ("voice",)
    got = model.process(x)
    np.testing.assert_array_equal(got[:, :VOICE], plain.process(x)[:, :VOICE])  # other heads untouched
    np.testing.assert_array_equal(got[:, PAUSE], got[:, 0])  # no pause head: it reads keep
    want = np.zeros(len(x))
    for m in model.members:
        m.reset()
        w, b = m.heads["voice"]
        want += _sigmoid(m.head_inputs(x) @ w + b)
    np.testing.assert_allclose(got[:, VOICE], want / len(model.members), atol=1e-5)
    model.reset()
    chunks = np.concatenate([model.process(x[i : i + 7]) for i in range(0, len(x), 7)])
    np.testing.assert_allclose(chunks, got, atol=1e-5)


@needs_weights
def test_bad_or_partial_voice_heads_are_refused(tmp_path) -> None:
    with pytest.raises(InvalidArgumentError, match="voice head"):
        FloorModel(_with_head(tmp_path, shape=(7,)))
    members = load_members(default_weights_path())
    p0 = {**members[0], "voice_w": np.zeros(members[0]["w_hh"].shape[1] + members[0]["w_ih"].shape[1],
                                             np.float32), "voice_b": np.array(0.0, np.float32)}
    p1 = {k: v for k, v in members[1].items() if not k.startswith("voice_")}
    np.savez(tmp_path / "mixed.npz", **{f"m0/{k}": v for k, v in p0.items()},
             **{f"m1/{k}": v for k, v in p1.items()})
    with pytest.raises(InvalidArgumentError, match="not all have the same heads"):
        FloorModel(tmp_path / "mixed.npz")
    headless = {k: v for k, v in members[0].items() if not k.startswith(("voice_", "onset_", "confirm_"))}
    np.savez(tmp_path / "headless.npz", **headless)
    model = FloorModel(tmp_path / "headless.npz")
    assert model.heads == ()
    out = model.process(np.zeros((5, headless["in_w"].shape[1]), np.float32))
    assert out.shape == (5, len(OUTPUTS)) and (out[:, VOICE] == 1.0).all()
    np.testing.assert_array_equal(out[:, PAUSE], out[:, 0])
    np.testing.assert_array_equal(out[:, ONSET], out[:, BARGEIN])  # no onset head: the barge-in head's
    np.testing.assert_array_equal(out[:, CONFIRM], out[:, BARGEIN])  # nor confirm head


def test_onset_samples_take_the_first_250_ms_of_barge_ins_and_backchannels_and_other_talk() -> None:
    # a backchannel at 0.5 s, a barge-in at 1.5 s, talk that is neither at 4.5 s, over the persona
    x = over_persona_features(600, [(50, 80), (150, 200), (450, 480)])
    x[560:, FEATURE_NAMES.index("persona")] = -3.0  # the persona falls silent at 5.6 s
    entry = {"events": [{"type": "backchannel", "start": 0.5, "end": 0.8}, {"type": "bargein", "t": 1.5}]}
    idx, y = onset_samples(x, entry)
    assert idx.tolist() == list(range(50, 75)) + list(range(150, 175)) + list(range(450, 480, 3))
    assert y.tolist() == [0.0] * 25 + [1.0] * 25 + [0.0] * 10
    # the confirm head's window, 100-600 ms in: the backchannel's heard frames end at 80
    idx, y = onset_samples(x, entry, CONFIRM_WINDOW)
    assert idx.tolist() == list(range(60, 80)) + list(range(160, 200)) + list(range(450, 480, 3))
    assert y.tolist() == [0.0] * 20 + [1.0] * 40 + [0.0] * 10
    # frames not heard as speech are not samples, however close to an event
    x[150:160, FEATURE_NAMES.index("vad")] = 0.1
    idx, y = onset_samples(x, entry)
    assert 150 not in idx and int(y.sum()) == 15
    # without the persona nothing is "other talk"; without events only that is left
    x[:, FEATURE_NAMES.index("persona")] = -3.0
    assert onset_samples(x, {"events": []})[0].size == 0


def test_onset_auc_ranks_barge_ins_over_backchannels_on_the_heard_frames() -> None:
    x = over_persona_features(400, [(50, 80), (150, 200)])
    probs = np.zeros((400, len(OUTPUTS)), np.float32)
    probs[150:200, ONSET] = 0.8
    probs[50:80, ONSET] = 0.3
    probs[40:50, ONSET] = 0.99  # before the backchannel starts: not read
    entry = {"events": [{"type": "backchannel", "start": 0.5, "end": 0.8}, {"type": "bargein", "t": 1.5}]}
    assert onset_auc([(x, probs, entry)], ONSET) == 1.0
    probs[50:80, ONSET] = 0.9  # now the backchannel reads higher
    assert onset_auc([(x, probs, entry)], ONSET) == 0.0
    assert onset_auc([(x, probs, {"events": entry["events"][:1]})], ONSET) is None  # one class only


def _babble_split(root, n_files: int = 2) -> list[tuple[float, float]]:
    """A tiny split: the user's phrases over quieter background talk (another voice)."""
    (root / "audio").mkdir(parents=True)
    lines = []
    for i in range(n_files):
        audio, spans = render([("I think we should go now", 1.5), ("and take the early train.", 2.0)],
                              voice="en-us", seed=i)
        talk, _ = render([("the weather in the north will be cold and wet all week long", 0.1)] * 3,
                         voice="en-gb", lead=0.0, seed=i + 10)
        talk = np.resize(talk, len(audio)) * 0.1
        wavfile.write(root / "audio" / f"f{i}.wav", RATE, ((audio + talk) * 20000).astype(np.int16))
        segs = [[s, e, "phrase", "continuation"] for s, e in spans]
        events = [{"type": "hold", "start": spans[0][1], "end": spans[1][0]}, {"type": "shift", "t": spans[-1][1]}]
        lines.append({"audio": f"audio/f{i}.wav", "events": events,
                      "meta": {"segments": segs, "noise": "babble", "snr_db": 20.0}})
    (root / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    return [(s, e) for s, e in spans]


@needs_espeak
@needs_weights
def test_train_heads_fits_a_voice_head_that_tells_the_user_from_background_talk(tmp_path, capsys) -> None:
    split = tmp_path / "c" / "train"
    spans = _babble_split(split)
    out = tmp_path / "v.npz"
    assert heads_main(["--weights", str(default_weights_path()), "--corpus", str(split), "--out", str(out),
                       "--jobs", "1", "--check", str(split)]) == 0
    report = capsys.readouterr().out
    assert "voice babble vad+head" in report and "pause head" in report and "pause auc" in report
    assert FloorModel(out).heads == ("voice", "pause", "onset", "confirm")  # the packaged ones are kept
    rate, pcm = wavfile.read(split / "audio" / "f0.wav")
    x = FloorFeaturizer().process(frames_of(pcm.astype(np.float32) / 20000))
    fitted, packaged = FloorModel(out).process(x), FloorModel().process(x)
    np.testing.assert_array_equal(fitted[:, :VOICE], packaged[:, :VOICE])  # networks frozen
    t = (np.arange(len(x)) + 0.5) * 0.01
    user = np.zeros(len(x), bool)
    for s, e in spans:
        user |= (t >= s) & (t < e)
    # frames with background talk only vs the user's speech: the head separates them
    assert auc(list(fitted[user, VOICE]), list(fitted[~user, VOICE])) > 0.9
    with pytest.raises(InvalidArgumentError, match="no meta.segments"):
        (tmp_path / "c" / "bare").mkdir()
        (tmp_path / "c" / "bare" / "manifest.jsonl").write_text(
            json.dumps({"audio": "../train/audio/f0.wav", "events": []}) + "\n")
        heads_main(["--weights", str(default_weights_path()), "--corpus", str(tmp_path / "c" / "bare"),
                    "--out", str(tmp_path / "w.npz")])
    with pytest.raises(InvalidArgumentError, match="--heads"):
        heads_main(["--weights", str(default_weights_path()), "--corpus", str(split), "--out",
                    str(tmp_path / "w.npz"), "--heads", "voice,mood"])


@needs_espeak
@needs_weights
def test_packaged_model_has_a_voice_head_that_follows_the_user() -> None:
    model = FloorModel()
    assert model.heads == ("voice", "onset", "confirm")  # v17; the pause head was measured, not shipped
    audio, spans = render([("Could you tell me where the station is?", 1.5)], noise_db=-50.0)
    p = model.process(FloorFeaturizer().process(frames_of(audio)))[:, VOICE]
    s, e = spans[0]
    assert np.median(p[int(s / 0.01) + 20 : int(e / 0.01) - 20]) > 0.8  # inside the phrase
    assert np.median(p[int(e / 0.01) + 30 :]) < 0.2  # the silence after it


def _duplex_split(root, n_files: int = 2) -> None:
    """A tiny duplex split: the persona talks (its echo 20 dB down in the mic, its track in
    ``x.persona.wav``); the user says "mm hm" over it, then barges in."""
    (root / "audio").mkdir(parents=True)
    lines = []
    for i in range(n_files):
        persona, _ = render([("so the plan is that we meet on Tuesday afternoon at the library near the "
                              "station and then we walk over to the museum together", 0.5)], voice="en-gb", seed=i)
        user = np.zeros_like(persona)
        bc, barge = speak("mm hm", "en-us"), speak("wait wait, hold on, I have a question", "en-us")
        b0, g0 = int((1.5 + 0.3 * i) * RATE), int(4.0 * RATE)
        user[b0 : b0 + len(bc)] += bc
        user[g0 : g0 + len(barge)] += barge
        echo = np.concatenate([np.zeros(640, np.float32), persona[:-640]]) * 0.1
        wavfile.write(root / "audio" / f"d{i}.wav", RATE, ((user + echo) * 20000).astype(np.int16))
        wavfile.write(root / "audio" / f"d{i}.persona.wav", RATE, (persona * 20000).astype(np.int16))
        segs = [[b0 / RATE, (b0 + len(bc)) / RATE, "mm hm", "backchannel"],
                [g0 / RATE, (g0 + len(barge)) / RATE, "wait", "bargein"]]
        events = [{"type": "backchannel", "start": segs[0][0], "end": segs[0][1]}, {"type": "bargein", "t": segs[1][0]}]
        lines.append({"audio": f"audio/d{i}.wav", "events": events,
                      "meta": {"segments": segs, "duplex": True, "persona_audio": f"audio/d{i}.persona.wav"}})
    (root / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))


@needs_espeak
@needs_weights
def test_train_heads_fits_onset_and_confirm_heads_on_duplex_files_and_keeps_the_others(tmp_path, capsys) -> None:
    split = tmp_path / "d" / "train"
    _duplex_split(split)
    out = tmp_path / "o.npz"
    assert heads_main(["--weights", str(default_weights_path()), "--corpus", str(split), "--out", str(out),
                       "--heads", "onset,confirm", "--jobs", "1", "--check", str(split)]) == 0
    report = capsys.readouterr().out
    assert "onset head" in report and "onset auc" in report and "confirm auc" in report
    fitted, packaged = FloorModel(out), FloorModel()
    assert fitted.heads == ("voice", "onset", "confirm")  # the packaged voice head is kept
    for a, b in zip(load_members(out), load_members(default_weights_path())):
        np.testing.assert_array_equal(a["voice_w"], b["voice_w"])
        assert a["onset_w"].shape == b["voice_w"].shape
        assert not np.array_equal(a["onset_w"], b["onset_w"])  # refitted on this split
        assert not np.array_equal(a["confirm_w"], b["confirm_w"])
    x = over_persona_features(300, [(100, 200)])
    got, ref = fitted.process(x), packaged.process(x)
    np.testing.assert_array_equal(got[:, :ONSET], ref[:, :ONSET])  # networks and other heads untouched
    assert not np.array_equal(got[:, ONSET], ref[:, ONSET])
    assert not np.array_equal(got[:, CONFIRM], ref[:, CONFIRM])
    # a split without duplex files has nothing to fit it on: a clear error, nothing written
    babble = tmp_path / "b" / "train"
    _babble_split(babble, n_files=1)
    with pytest.raises(InvalidArgumentError, match="confirm head needs .* duplex files"):
        heads_main(["--weights", str(default_weights_path()), "--corpus", str(babble),
                    "--out", str(tmp_path / "none.npz"), "--heads", "confirm", "--jobs", "1"])
    assert not (tmp_path / "none.npz").exists()


@needs_espeak
@needs_weights
def test_train_heads_echo_cancel_fits_on_the_features_the_canceller_leaves(tmp_path) -> None:
    from cadence.floor.bench import load_frames, reference_frames
    from cadence.floor.heads import _split_data

    split = tmp_path / "d" / "train"
    _duplex_split(split, n_files=1)
    raw, clean = _split_data(split, 10, 1), _split_data(split, 10, 1, echo_cancel=True)
    frames = load_frames(str(split / "audio" / "d0.wav"))
    reference = reference_frames(str(split / "audio" / "d0.persona.wav"), len(frames))
    np.testing.assert_array_equal(clean[0][0], FloorFeaturizer(echo_cancel=True).process(frames, reference))
    assert not np.allclose(raw[0][0], clean[0][0])  # the echo (20 dB down) is gone from the mic
    outs = {}
    for flag in ((), ("--echo-cancel",)):
        outs[flag] = tmp_path / f"o{len(flag)}.npz"
        assert heads_main(["--weights", str(default_weights_path()), "--corpus", str(split), "--out",
                           str(outs[flag]), "--heads", "onset", "--jobs", "1", *flag]) == 0
    for a, b in zip(load_members(outs[()]), load_members(outs[("--echo-cancel",)])):
        assert not np.array_equal(a["onset_w"], b["onset_w"])  # fitted on different features
