"""Silero VAD wrapper, silence / vad-classify baselines, and `cadence bench floor` end to end.

A tiny two-file corpus is synthesised with espeak-ng into a temp folder: each
phrase is rendered alone, trimmed by energy, and placed on the timeline, so the
labels are exact.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.protocol import RATE, Decision, frame_end_time
from cadence.floor.scoring import labels_from_manifest, manifest_entries

pytest.importorskip("onnxruntime")
pytest.importorskip("soundfile")
import soundfile as sf  # noqa: E402
from scipy.signal import resample_poly  # noqa: E402

from cadence.floor import baselines, bench  # noqa: E402
from cadence.floor.baselines import (  # noqa: E402
    FEATURE_NAMES,
    SilenceBaseline,
    StopClassifier,
    VadStopClassifyBaseline,
    prosodic_features,
)
from cadence.floor.vad import SileroVad  # noqa: E402
from cadence.floor.model import default_weights_path  # noqa: E402

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")

HOLD_S = 0.6
# (text, pause after, kind of pause) per file
SCRIPTS = [
    [
        ("I went to the market this morning", HOLD_S, "hold"),
        ("and bought some apples.", 3.0, "shift"),
        ("Do you like apples?", 2.5, "shift"),
    ],
    [
        ("Well, I think that", HOLD_S, "hold"),
        ("we should leave early tomorrow.", 3.2, "shift"),
        ("Is that all right with you?", 2.6, "shift"),
    ],
]


def _speak(text: str, tmp: Path, voice: str) -> np.ndarray:
    out = tmp / "p.wav"
    subprocess.run([ESPEAK, "-v", voice, "-w", str(out), text], check=True, capture_output=True)
    x, sr = sf.read(out, dtype="float32")
    x = resample_poly(x, 160, sr // 100).astype(np.float32) if sr != RATE else x
    # trim leading/trailing silence: 10 ms frames within 40 dB of the loudest
    n = x.size // 160
    db = 10 * np.log10(np.mean(x[: n * 160].reshape(n, 160) ** 2, axis=1) + 1e-12)
    on = np.nonzero(db > db.max() - 40)[0]
    return x[on[0] * 160 : (on[-1] + 1) * 160]


def _compose(script: list, tmp: Path, voice: str) -> tuple[np.ndarray, list[dict], list]:
    parts = [np.zeros(int(0.7 * RATE), np.float32)]
    t = 0.7
    events: list[dict] = []
    segments: list = []
    for text, pause, kind in script:
        x = _speak(text, tmp, voice)
        segments.append([round(t, 4), round(t + x.size / RATE, 4), text, "final" if kind == "shift" else "continuation"])
        t += x.size / RATE
        parts += [x, np.zeros(int(pause * RATE), np.float32)]
        if kind == "shift":
            events.append({"type": "shift", "t": round(t, 4)})
        else:
            events.append({"type": "hold", "start": round(t, 4), "end": round(t + pause, 4)})
        t += pause
    return np.concatenate(parts), events, segments


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if ESPEAK is None:
        pytest.skip("espeak-ng not installed")
    d = tmp_path_factory.mktemp("floor_tiny")
    rng = np.random.default_rng(7)
    lines = []
    for i, (script, voice) in enumerate(zip(SCRIPTS, ["en-us", "en-gb+f3"])):
        x, events, segments = _compose(script, d, voice)
        x = x + rng.normal(0, 1e-3, x.size).astype(np.float32)  # a little room noise
        name = f"f{i}.wav"
        if i == 0:  # 16 kHz mono int16
            sf.write(d / name, x, RATE, subtype="PCM_16")
        else:  # 48 kHz stereo int16
            y = resample_poly(x, 3, 1).astype(np.float32)
            sf.write(d / name, np.stack([y, 0.9 * y], axis=1), 48000, subtype="PCM_16")
        lines.append(json.dumps({"audio": name, "events": events, "meta": {"voice": voice, "segments": segments}}))
    (d / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return d


@pytest.fixture(scope="module")
def frames0(corpus: Path) -> np.ndarray:
    return bench.load_frames(str(corpus / "f0.wav"))


def _chunked(policy, frames: np.ndarray, seed: int) -> list[Decision]:
    return bench.stream(policy, frames, np.random.default_rng(seed))


# --------------------------------------------------------------------------- VAD
@needs_espeak
def test_vad_separates_speech_from_silence(corpus: Path, frames0: np.ndarray) -> None:
    vad = SileroVad()
    probs = vad.push(frames0)
    assert len(probs) == frames0.size // 512
    ends = np.array([e for e, _ in probs]) / RATE
    p = np.array([q for _, q in probs])
    seg = json.loads((corpus / "manifest.jsonl").read_text().splitlines()[0])["meta"]["segments"]
    inside = np.zeros(p.size, bool)
    outside = np.ones(p.size, bool)
    for s, e, *_ in seg:
        inside |= (ends - 0.032 >= s + 0.1) & (ends <= e - 0.1)
        outside &= (ends < s - 0.2) | (ends - 0.032 > e + 0.3)
    assert np.mean(p[inside] >= 0.5) > 0.8
    assert np.mean(p[outside] < 0.35) > 0.95


@needs_espeak
def test_vad_is_chunk_invariant(frames0: np.ndarray) -> None:
    whole = SileroVad().push(frames0[:400])
    vad = SileroVad()
    parts: list = []
    i = 0
    for k in [1, 3, 7, 2, 10, 5] * 100:
        if i >= 400:
            break
        parts += vad.push(frames0[i : min(400, i + k)])
        i += k
    assert parts == whole
    vad.reset()
    assert vad.push(frames0[:400]) == whole


def test_vad_rejects_bad_frames() -> None:
    vad = SileroVad()
    with pytest.raises(InvalidAudioError):
        vad.push(np.zeros((2, 160), np.float64))
    with pytest.raises(InvalidAudioError):
        vad.push(np.zeros(160, np.float32))
    bad = np.zeros((1, 160), np.float32)
    bad[0, 5] = np.nan
    with pytest.raises(InvalidAudioError):
        vad.push(bad)


# --------------------------------------------------------------------------- baselines
@needs_espeak
@pytest.mark.parametrize("make", [lambda: SilenceBaseline(200), lambda: SilenceBaseline(800)])
def test_silence_baseline_chunk_invariant(frames0: np.ndarray, make) -> None:
    pol = make()
    ref = pol.process(frames0)
    assert ref and all(d.kind == "commit" for d in ref)
    for seed in (1, 2):
        assert _chunked(pol, frames0, seed) == ref


@needs_espeak
def test_silence_timeouts_are_exact_at_frame_granularity(corpus: Path, frames0: np.ndarray) -> None:
    shifts = [e["t"] for e in json.loads((corpus / "manifest.jsonl").read_text().splitlines()[0])["events"]
              if e["type"] == "shift"]
    times = {ms: [d.t for d in SilenceBaseline(ms).process(frames0)] for ms in (200, 500, 1200)}
    for t in shifts:  # after a long silence every timeout fires once, ms apart
        c = {ms: next(x for x in ts if x > t - 0.1) for ms, ts in times.items()}
        assert c[500] - c[200] == pytest.approx(0.3, abs=0.0101)
        assert c[1200] - c[200] == pytest.approx(1.0, abs=0.0101)
        assert 0.2 <= c[200] - t < 0.2 + 0.2  # VAD end lags the true end by under 200 ms
    for ts in times.values():  # decisions fall on frame ends
        assert np.allclose(np.round(np.array(ts) * 100), np.array(ts) * 100)


def test_silence_baseline_on_synthetic_burst() -> None:
    # noise is not speech for Silero: no commit at all
    rng = np.random.default_rng(0)
    frames = (rng.normal(0, 0.01, (300, 160))).astype(np.float32)
    assert SilenceBaseline(200).process(frames) == []
    with pytest.raises(InvalidArgumentError):
        SilenceBaseline(0)
    with pytest.raises(InvalidAudioError):
        SilenceBaseline(200).process(np.zeros((3, 100), np.float32))


def _glide(f_start: float, f_end: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    f = np.linspace(f_start, f_end, t.size)
    phase = 2 * np.pi * np.cumsum(f) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (0.2 * x * np.hanning(t.size) ** 0.1).astype(np.float32)


def test_prosodic_features_follow_f0_direction() -> None:
    i_slope = FEATURE_NAMES.index("f0_slope_st_s")
    i_final = FEATURE_NAMES.index("f0_final_rel_st")
    fall = prosodic_features(_glide(220, 160))
    rise = prosodic_features(_glide(160, 220))
    # 220 -> 160 Hz over 1 s is -5.5 semitones/s
    assert fall[i_slope] == pytest.approx(-5.5, abs=1.5)
    assert rise[i_slope] == pytest.approx(5.5, abs=1.5)
    assert fall[i_final] < -1.5 < 1.5 < rise[i_final]
    assert fall[FEATURE_NAMES.index("has_f0")] == 1.0
    assert fall[FEATURE_NAMES.index("voiced_fraction")] > 0.8
    silent = prosodic_features(np.zeros(RATE, np.float32))
    assert silent[FEATURE_NAMES.index("has_f0")] == 0.0


def _toy_classifier() -> StopClassifier:
    # end of turn when f0 falls at the end (a legible rule, for invariance tests)
    w = np.zeros(len(FEATURE_NAMES))
    w[FEATURE_NAMES.index("f0_slope_st_s")] = -1.0
    return StopClassifier(np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES)), w, 0.0)


@needs_espeak
def test_vad_classify_chunk_invariant_and_bounded(frames0: np.ndarray) -> None:
    pol = VadStopClassifyBaseline(_toy_classifier())
    ref = pol.process(frames0)
    assert ref
    assert _chunked(pol, frames0, 3) == ref
    # every commit is either at the 100 ms stop or at the 1.5 s fallback, never later
    fallback = [d.t for d in SilenceBaseline(1500).process(frames0)]
    early = [d.t for d in SilenceBaseline(100).process(frames0)]
    for d in ref:
        assert any(abs(d.t - x) < 1e-9 for x in fallback + early)


def test_stop_classifier_roundtrip_and_fit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, len(FEATURE_NAMES)))
    y = (X[:, 3] + 0.3 * rng.normal(size=400) < 0).astype(float)  # falling f0 → end of turn
    clf = baselines.fit_classifier(X, y)
    acc = np.mean([(clf.prob_end(x) >= 0.5) == bool(t) for x, t in zip(X, y)])
    assert acc > 0.9
    path = tmp_path / "w.json"
    clf.save(str(path))
    back = StopClassifier.load(str(path))
    assert back.prob_end(X[0]) == pytest.approx(clf.prob_end(X[0]))
    with pytest.raises(InvalidArgumentError):
        baselines.fit_classifier(X, np.zeros(400))
    d = json.loads(path.read_text())
    d["features"] = d["features"][:-1]
    path.write_text(json.dumps(d))
    with pytest.raises(InvalidArgumentError):
        StopClassifier.load(str(path))


# --------------------------------------------------------------------------- bench
SILENCES = ["silence-200", "silence-500", "silence-800", "silence-1200"]


@needs_espeak
def test_bench_orders_silence_baselines(corpus: Path) -> None:
    specs = bench.parse_policies(",".join(SILENCES), None)
    report = bench.run_bench(str(corpus), specs, jobs=1, seed=1)
    s = report["summary"]
    med = [s[p]["latency_median_ms"] for p in SILENCES]
    assert med == sorted(med) and med[0] < med[-1]
    assert all(s[p]["recall"] == 1.0 for p in SILENCES)
    assert all(s[p]["turns"] == 4 for p in SILENCES)
    # the 600 ms holds catch the short timeouts, not the long ones
    assert s["silence-200"]["interruptions"] >= 2
    assert s["silence-1200"]["interruptions"] == 0
    assert s["silence-1200"]["precision"] == 1.0
    # the breakdown puts silence-200's interruptions in the 0.5-1 s holds, ~200 ms in
    s200 = s["silence-200"]
    assert s200["interruptions_in_speech"] == 0 and s200["holds_interrupted"] >= 2
    by_len = {b["min_s"]: b for b in s200["holds_by_length"]}
    assert by_len[0.5]["interrupted"] == s200["holds_interrupted"] == by_len[0.5]["holds"]
    assert 150 <= s200["interruption_delay_median_ms"] <= 300
    assert s["silence-1200"]["holds_interrupted"] == 0
    assert all(0 < s[p]["rtf"] < 0.5 for p in SILENCES)


@needs_espeak
def test_bench_gain_reaches_every_policy(corpus: Path) -> None:
    specs = bench.parse_policies("silence-800", None)
    loud = bench.run_bench(str(corpus), specs, jobs=1, gain_db=6.0)
    assert loud["summary"]["silence-800"]["recall"] == 1.0 and loud["config"]["gain_db"] == 6.0
    assert "Mic gain +6 dB" in bench.render_markdown(loud)
    # 60 dB down (speech near -80 dBFS) Silero hears one turn of four (measured: 1)
    mute = bench.run_bench(str(corpus), specs, jobs=1, gain_db=-60.0)
    assert mute["summary"]["silence-800"]["recall"] < 0.5
    for bad in (float("nan"), 61.0):
        with pytest.raises(InvalidArgumentError, match="gain_db"):
            bench.run_bench(str(corpus), specs, gain_db=bad)
    x = np.full((2, 160), 0.5, np.float32)
    assert bench.with_gain(x, 0.0) is x and bench.with_gain(x, 12.0).max() == 1.0
    np.testing.assert_allclose(bench.with_gain(x, -20.0), 0.05, rtol=1e-6)


@needs_espeak
def test_bench_cli_json_shape(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    rc = bench.main(["--corpus", str(corpus), "--policies", "silence-200,silence-800", "--jobs", "2",
                     "--json", str(out), "--markdown", str(md)])
    assert rc == 0
    report = json.loads(out.read_text())
    assert set(report) >= {"files", "summary"}
    assert len(report["files"]) == 2 * 2  # one entry per file per policy
    for row in report["files"]:
        assert set(row) >= {"audio", "policy", "commits", "speculates", "retracts", "backchannels"}
        assert row["audio"] in ("f0.wav", "f1.wav") and row["policy"] in ("silence-200", "silence-800")
        assert all(isinstance(t, float) for t in row["commits"]) and row["commits"] == sorted(row["commits"])
    for pol in ("silence-200", "silence-800"):
        keys = report["summary"][pol]
        for k in ("latency_median_ms", "latency_p90_ms", "precision", "recall", "interruptions",
                  "interruptions_per_100_turns", "spurious", "speculate_per_turn", "retract_share", "rtf"):
            assert k in keys
    text = md.read_text()
    assert "| silence-200 |" in text and "| silence-800 |" in text
    where = text.split("## Where interruptions happen")[1]
    assert where.count("| silence-200 |") == 1 and "0.5–1 s" in where
    assert "## Against each baseline" not in text  # no cadence row to compare
    # no barge-in events and no bargein decisions: no duplex table, but the keys are there
    assert "Duplex" not in text
    assert "(nods)" not in text and report["summary"]["silence-200"]["nods"] == 0  # baselines never nod
    assert report["summary"]["silence-200"]["answer_draft_share"] == 0.0  # ... nor draft
    assert report["summary"]["silence-200"]["bargeins"] == 0
    assert report["summary"]["silence-200"]["bargein_recall"] is None
    # the pool gives the same decisions as a single process
    single = bench.run_bench(str(corpus), bench.parse_policies("silence-200,silence-800", None), jobs=1)
    assert single["files"] == report["files"]


@needs_espeak
def test_bench_weights_choose_the_cadence_model(corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import torch

    from cadence.floor.features import N_FEATURES
    from cadence.floor.train import build, export

    specs = bench.parse_policies("cadence,silence-200", [0.5, 1.0], weights="/x.npz")
    assert [dict(s.kwargs).get("weights") for s in specs] == ["/x.npz", "/x.npz", None]
    assert dict(bench.parse_policies("cadence", None, "/x.npz")[0].kwargs) == {"weights": "/x.npz"}
    assert dict(bench.parse_policies("cadence", None, persona_weights="/p.npz")[0].kwargs) == {
        "persona_weights": "/p.npz"}
    # a network that always says "the user keeps the floor" never commits: the run used it
    torch.manual_seed(0)
    net = build(hidden=4, proj=4).eval()
    with torch.no_grad():
        for prm in net.parameters():
            prm.zero_()
        net.out.bias[0] = 20.0  # P(keep) = 1
        net.out.bias[1:] = -20.0
    w = tmp_path / "keep.npz"
    export(net, np.zeros(N_FEATURES, np.float32), np.ones(N_FEATURES, np.float32), w)
    md = tmp_path / "r.md"
    assert bench.main(["--corpus", str(corpus), "--policies", "cadence", "--patience", "1", "--jobs", "1",
                       "--weights", str(w), "--markdown", str(md)]) == 0
    text = md.read_text()
    assert f"Cadence model: `{w} (sha1 " in text
    row = next(ln for ln in text.splitlines() if ln.startswith("| cadence@1 |"))
    assert row.split("|")[6].strip() == "0.000"  # recall: it never took the floor before the fallback
    with pytest.raises(SystemExit):
        bench.main(["--corpus", str(corpus), "--weights", str(tmp_path / "none.npz")])
    # the persona's networks: named in the report, and a file that is no floor model is refused
    assert bench.main(["--corpus", str(corpus), "--policies", "cadence", "--patience", "1", "--jobs", "1",
                       "--persona-weights", str(w), "--markdown", str(md)]) == 0
    assert f"(`persona_networks=1`): `{w} (sha1 " in md.read_text()
    junk = tmp_path / "junk.npz"
    np.savez(junk, a=np.zeros(3))
    with pytest.raises(SystemExit):
        bench.main(["--corpus", str(corpus), "--persona-weights", str(junk)])


@needs_espeak
def test_fit_baselines_then_run_vad_classify(corpus: Path, tmp_path: Path) -> None:
    w = tmp_path / "w.json"
    info = bench.fit_baselines(str(corpus), out=str(w))
    assert info["stops"] >= 4 and 0 < info["end_of_turn"] < info["stops"]
    pol = VadStopClassifyBaseline(StopClassifier.load(str(w)))
    decs = pol.process(bench.load_frames(str(corpus / "f1.wav")))
    assert decs and all(d.kind == "commit" for d in decs)


def test_bench_errors(tmp_path: Path) -> None:
    assert bench.main(["--corpus", str(tmp_path), "--policies", "silence-200"]) == 2
    with pytest.raises(InvalidArgumentError):
        bench.make_policy(bench.PolicySpec("x", "nope"))
    (tmp_path / "manifest.jsonl").write_text('{"audio": "missing.wav", "events": []}\n')
    with pytest.raises(InvalidArgumentError, match="not found"):
        bench.load_manifest(str(tmp_path))
    (tmp_path / "manifest.jsonl").write_text("{not json\n")
    with pytest.raises(InvalidArgumentError, match=":1:"):
        bench.load_manifest(str(tmp_path))
    specs = bench.parse_policies("cadence,silence-300", [0.3, 0.7])
    assert [s.label for s in specs] == ["cadence@0.3", "cadence@0.7", "silence-300"]
    assert bench.make_policy(specs[-1]).name == "silence-300"


def test_manifest_events_are_checked_and_unknown_types_reported(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(3 * RATE, np.float32), RATE, subtype="PCM_16")
    bad = [({"type": "hold", "start": 2.0, "end": 1.5}, "hold ends before it starts"),
           ({"type": "backchannel", "start": 1.0, "end": 0.5}, "backchannel ends before it starts"),
           ({"type": "shift", "t": -0.5}, "shift t must be seconds"),
           ({"type": "hold", "start": -1.0, "end": 0.5}, "hold start must be seconds"),
           ({"type": "bargein", "t": float("nan")}, "bargein t must be a finite number")]
    for ev, match in bad:
        (tmp_path / "manifest.jsonl").write_text(
            '{"audio": "a.wav", "events": []}\n' + json.dumps({"audio": "a.wav", "events": [ev]}) + "\n")
        with pytest.raises(InvalidArgumentError, match=f":2: .*{match}"):
            bench.load_manifest(str(tmp_path))
    events = [{"type": "shift", "t": 1.0}, {"type": "Shift", "t": 2.0}, {"type": "overlap", "start": 0, "end": 1},
              {"type": "overlap"}, {"type": "hold", "start": 0.5, "end": 0.5}]
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"audio": "a.wav", "events": events}) + "\n")
    files = bench.load_manifest(str(tmp_path))
    assert files[0].labels.shifts == (1.0,) and files[0].labels.holds == ((0.5, 0.5),)
    assert bench.ignored_counts(files) == {"Shift": 1, "overlap": 2}
    report = bench.run_bench(str(tmp_path), bench.parse_policies("silence-500", []))
    assert report["config"]["ignored_events"] == {"Shift": 1, "overlap": 2}
    assert "Events of types no metric reads (ignored): 'Shift' × 1, 'overlap' × 2." in bench.render_markdown(report)
    assert report["config"]["coarse_audio"] == [] and "8-bit" not in bench.render_markdown(report)
    # a file stored as 8-bit PCM is named in the report's header
    sf.write(tmp_path / "b.wav", 0.1 * np.sin(np.arange(3 * RATE) / 10.0).astype(np.float32), RATE, subtype="PCM_U8")
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"audio": "a.wav", "events": events}) + "\n"
                                             + json.dumps({"audio": "b.wav", "events": []}) + "\n")
    report = bench.run_bench(str(tmp_path), bench.parse_policies("silence-500", []))
    assert report["config"]["coarse_audio"] == ["b.wav"]
    assert "**1 file(s) stored as 8-bit PCM** (e.g. `b.wav`)" in bench.render_markdown(report)


def test_a_manifest_is_utf8_whatever_the_editor_or_locale(tmp_path: Path) -> None:
    """A manifest written elsewhere: a byte-order mark, CRLF endings, a non-ASCII file name and a
    blank line load as UTF-8 under any locale; a manifest that is not UTF-8 is named."""
    name = "réponse ü.wav"
    sf.write(tmp_path / name, np.zeros(3 * RATE, np.float32), RATE, subtype="PCM_16")
    sf.write(tmp_path / ("2 " + name), np.zeros(3 * RATE, np.float32), RATE, subtype="PCM_16")
    lines = [json.dumps({"audio": n, "events": [{"type": "shift", "t": 1.0}]}, ensure_ascii=False)
             for n in (name, "2 " + name)]
    (tmp_path / "manifest.jsonl").write_bytes(b"\xef\xbb\xbf" + "\r\n\r\n".join(lines).encode() + b"\r\n")
    files = bench.load_manifest(str(tmp_path))
    assert [f.audio for f in files] == [name, "2 " + name] and files[1].labels.shifts == (1.0,)
    (tmp_path / "manifest.jsonl").write_bytes(lines[0].encode("latin-1") + b"\n")
    with pytest.raises(InvalidArgumentError, match="manifest.jsonl: not UTF-8"):
        bench.load_manifest(str(tmp_path))
    # the readers that take every entry at once (training, the corpus copies) name a line that is not JSON
    (tmp_path / "manifest.jsonl").write_text(lines[0] + "\n{oops\n", encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="manifest.jsonl:2: not JSON"):
        manifest_entries(tmp_path / "manifest.jsonl")


def test_bench_cadence_variants_set_policy_config() -> None:
    specs = bench.parse_policies("cadence,cadence/fallback_s=3/ramp=0/min_run_frames=4", [0.2])
    assert [s.label for s in specs] == ["cadence@0.2", "cadence/fallback_s=3/ramp=0/min_run_frames=4@0.2"]
    cfg = bench.make_policy(specs[1]).config
    assert (cfg.patience, cfg.fallback_s, cfg.ramp, cfg.min_run_frames) == (0.2, 3.0, 0.0, 4)
    assert bench.make_policy(specs[0]).config.fallback_s != 3.0
    assert [s.label for s in bench.parse_policies("cadence/ramp=0", None)] == ["cadence/ramp=0"]
    assert all(bench.is_cadence(s.label) for s in specs) and not bench.is_cadence("silence-200")
    # the documented preset, spelled as a bench variant, gives the same config
    from cadence.floor.policy import WAIT_WHEN_UNSURE, PolicyConfig

    name = "cadence/" + "/".join(f"{k}={v:g}" for k, v in WAIT_WHEN_UNSURE.items())
    assert bench.make_policy(bench.parse_policies(name, [0.1])[0]).config == PolicyConfig(0.1, **WAIT_WHEN_UNSURE)
    for bad in ("cadence/foo=1", "cadence/ramp=x", "cadence/patience=1", "cadence/", "cadence/ramp=nan",
                "cadence/max_silence_short_s=3.5", "cadence/long_pause_s=0"):  # out of range: an error, not a lost row
        with pytest.raises(InvalidArgumentError, match="policy 'cadence/"):
            bench.parse_policies(bad, [0.5])


class _EchoProbe:
    """A policy that commits on frames where the reference is louder than the mic."""

    name = "probe"

    def reset(self) -> None:
        self.frame = 0

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        assert reference is not None and reference.shape == frames.shape
        out = []
        for i in range(frames.shape[0]):
            self.frame += 1
            if np.abs(reference[i]).max() > np.abs(frames[i]).max():
                out.append(Decision("commit", self.frame / 100))
        return out


def test_bench_passes_persona_reference_aligned(tmp_path: Path) -> None:
    mic = np.zeros(RATE, np.float32)
    persona = np.zeros(RATE // 2, np.float32)  # shorter: zero-padded to the mic's length
    persona[3200:3360] = 0.5  # frame 20
    sf.write(tmp_path / "a.wav", mic, RATE, subtype="PCM_16")
    sf.write(tmp_path / "a.persona.wav", persona, RATE, subtype="PCM_16")
    frames = bench.load_frames(str(tmp_path / "a.wav"))
    ref = bench.reference_frames(bench.persona_path(str(tmp_path / "a.wav")), frames.shape[0])
    assert ref is not None and ref.shape == frames.shape
    decs = bench.stream(_EchoProbe(), frames, np.random.default_rng(0), ref)
    assert [d.t for d in decs] == [pytest.approx(0.21)]
    assert bench.persona_path(str(tmp_path / "b.wav")) is None


@needs_espeak
def test_score_cli_reproduces_the_bench_from_its_json(corpus: Path, tmp_path: Path) -> None:
    from cadence.floor import score

    out = tmp_path / "r.json"
    assert bench.main(["--corpus", str(corpus), "--policies", "silence-200,silence-800", "--jobs", "1",
                       "--json", str(out)]) == 0
    ran = json.loads(out.read_text())
    scored_md, scored_json = tmp_path / "s.md", tmp_path / "s.json"
    assert score.main(["--corpus", str(corpus), "--decisions", str(out), "--json", str(scored_json),
                       "--markdown", str(scored_md)]) == 0
    scored = json.loads(scored_json.read_text())
    for pol in ("silence-200", "silence-800"):
        skip = ("rtf", "compute_s", "files_audio_s")  # audio_s: exact duration vs whole frames
        want = {k: v for k, v in ran["summary"][pol].items() if k not in skip}
        got = {k: v for k, v in scored["summary"][pol].items() if k not in skip}
        assert got == want and scored["summary"][pol]["rtf"] is None
        assert scored["summary"][pol]["files_audio_s"] == pytest.approx(ran["summary"][pol]["files_audio_s"], abs=0.05)
    assert "| silence-800 |" in scored_md.read_text()
    # another system's decisions: only audio and commits, policy defaults to "external"
    doc = {"files": [{"audio": "f0.wav", "commits": []}, {"audio": "f1.wav", "commits": [0.5]}]}
    rep = score.score_decisions(str(corpus), doc)
    assert rep["summary"]["external"]["recall"] == 0.0 and rep["summary"]["external"]["commits"] == 1


@needs_espeak
def test_bench_and_score_count_cadence_commits_by_rule(corpus: Path, tmp_path: Path) -> None:
    from cadence.floor import score
    from cadence.floor.protocol import COMMIT_RULES

    out = tmp_path / "r.json"
    assert bench.main(["--corpus", str(corpus), "--policies", "cadence,silence-200", "--patience", "0,1",
                       "--jobs", "1", "--json", str(out), "--markdown", str(tmp_path / "r.md")]) == 0
    report = json.loads(out.read_text())
    for row in report["files"]:
        if row["policy"].startswith("cadence"):
            assert len(row["commit_rules"]) == len(row["commits"]) and set(row["commit_rules"]) <= set(COMMIT_RULES)
        else:
            assert "commit_rules" not in row
    for label in ("cadence@0", "cadence@1"):
        s = report["summary"][label]
        by_rule = s["commits_by_rule"]
        assert sum(c["commits"] for c in by_rule.values()) == s["commits"] > 0
        assert sum(c["correct"] for c in by_rule.values()) == s["correct"]
        assert sum(c["in a hold"] + c["in speech"] for c in by_rule.values()) == s["interruptions"]
        assert sum(c["spurious"] for c in by_rule.values()) == s["spurious"]
        assert s["commit_rules_unmatched_files"] == 0
    assert "commits_by_rule" not in report["summary"]["silence-200"]
    assert "## Which rule took the floor" in (tmp_path / "r.md").read_text()
    # the scorer reads the rules back from the JSON and counts them the same way
    scored = score.score_decisions(str(corpus), report)
    for label in ("cadence@0", "cadence@1"):
        assert scored["summary"][label]["commits_by_rule"] == report["summary"][label]["commits_by_rule"]
    # ... and finds the same intervals (the same files, resamples and seed) and the same sure wins
    assert scored["intervals"] == report["intervals"] and set(report["intervals"]["against"]) == {"silence-200"}
    against = report["intervals"]["against"]["silence-200"]
    assert set(against) == {"cadence@0", "cadence@1"}
    for label, unsure in against.items():  # a metric the point figures do not favour is never sure
        assert set(bench.dominance(report["summary"], label, "silence-200")) <= set(unsure)


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ([], "files"),
        ({"files": []}, "empty"),
        ({"files": [{"commits": []}]}, "audio"),
        ({"files": [{"audio": "f0.wav"}]}, "commits"),
        ({"files": [{"audio": "f0.wav", "commits": "3.0"}]}, "list"),
        ({"files": [{"audio": "f0.wav", "commits": [float("nan")]}]}, "finite"),
        ({"files": [{"audio": "f0.wav", "commits": [-1.0]}]}, "finite"),
        ({"files": [{"audio": "f0.wav", "commits": [True]}]}, "finite"),
        ({"files": [{"audio": "f0.wav", "commits": []}, {"audio": "f0.wav", "commits": []}]}, "second"),
        ({"files": [{"audio": "f0.wav", "commits": [], "policy": ""}]}, "policy"),
        ({"files": [{"audio": "f0.wav", "commits": [10**400]}]}, "finite"),
        # a policy names a row of the tables: a '|' or a line break shifts their columns, and a
        # lone surrogate cannot be printed at all
        ({"files": [{"audio": "f0.wav", "commits": [], "policy": "a|b"}]}, "printable"),
        ({"files": [{"audio": "f0.wav", "commits": [], "policy": "a\nb"}]}, "printable"),
        ({"files": [{"audio": "f0.wav", "commits": [], "policy": "sil\ud800"}]}, "printable"),
    ],
)
def test_score_refuses_malformed_decisions(doc: object, match: str) -> None:
    from cadence.floor.score import parse_decisions

    with pytest.raises(InvalidArgumentError, match=match):
        parse_decisions(doc)


def test_score_names_nesting_past_the_parsers_depth_as_not_json(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from cadence.floor.score import main

    deep = tmp_path / "deep.json"
    deep.write_text('{"files": ' + "[" * 200_000 + "]" * 200_000 + "}")
    assert main(["--corpus", str(tmp_path), "--decisions", str(deep)]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_a_foreign_corpus_and_decisions_file_are_read_as_the_spec_reads_them(tmp_path: Path) -> None:
    """Labels in ms, a file listed twice or truncated are refused at load; a meta Cadence cannot
    read and keys of the decisions no metric reads are ignored and named; a decisions row may name
    a file by another path to it."""
    from cadence.floor import score

    sf.write(tmp_path / "a.wav", np.zeros(3 * RATE, np.float32), RATE, subtype="PCM_16")
    manifest = tmp_path / "manifest.jsonl"

    def write(*entries: dict) -> None:
        manifest.write_text("".join(json.dumps(e) + "\n" for e in entries))

    write({"audio": "a.wav", "events": [{"type": "shift", "t": 1000.0}]})  # ms, not s
    with pytest.raises(InvalidArgumentError, match=r":1: a label at 1000 s lies past the end of its audio \(3.00 s"):
        bench.load_manifest(str(tmp_path))
    write({"audio": "a.wav", "events": [{"type": "shift", "t": 3.4}]})  # within the slack: loads
    assert bench.load_manifest(str(tmp_path))[0].labels.shifts == (3.4,)
    write({"audio": "a.wav", "events": []}, {"audio": "./a.wav", "events": []})
    with pytest.raises(InvalidArgumentError, match=r":2: './a.wav' is listed a second time \(first on line 1\)"):
        bench.load_manifest(str(tmp_path))
    (tmp_path / "empty.wav").write_bytes(b"")
    sf.write(tmp_path / "none.wav", np.zeros(0, np.float32), RATE, subtype="PCM_16")
    for name, match in (("empty.wav", "empty.wav"), ("none.wav", "none.wav: no audio")):
        write({"audio": name, "events": []})
        with pytest.raises(InvalidAudioError, match=match):
            bench.load_manifest(str(tmp_path))
    # shift at 1.0, hold 1.5–2.0; the meta is someone else's (its persona would pre-empt the shift)
    write({"audio": "a.wav", "events": [{"type": "shift", "t": 1.0}, {"type": "hold", "start": 1.5, "end": 2.0}],
           "meta": {"persona": [[1.05, 2.5]], "turns": [["user", 0.0, 1.0]]}})
    report = score.score_decisions(str(tmp_path), {"files": [
        {"audio": str(tmp_path / "a.wav"), "commits": [1.2, 1.7], "duration": 3.0, "speculate": [0.9]}]},
        resamples=0)
    s = report["summary"]["external"]
    assert (s["correct"], s["interruptions"], s["recall"], s["preempted_shifts"]) == (1, 1, 1.0, 0)
    assert report["config"]["ignored_decision_keys"] == {"duration": 1, "speculate": 1}
    assert report["config"]["meta_ignored"] == [
        {"audio": "a.wav", "why": "turn start must be a finite number, got 'user'"}]
    md = bench.render_markdown(report)
    assert "Keys of the decisions no metric reads (ignored): 'duration' × 1, 'speculate' × 1." in md
    assert "**`meta` not read in 1 file(s)**" in md
    assert report["files"][0]["audio"] == "a.wav"  # the manifest's name
    # a well-formed "persona" with no persona playback: not a duplex file, so it pre-empts nothing
    write({"audio": "a.wav", "events": [{"type": "shift", "t": 1.0}], "meta": {"persona": [[1.05, 2.5]]}})
    report = score.score_decisions(str(tmp_path), {"files": [{"audio": "a.wav", "commits": [1.2]}]}, resamples=0)
    s = report["summary"]["external"]
    assert (s["correct"], s["recall"], s["preempted_shifts"]) == (1, 1.0, 0)
    assert "read only with the persona's playback" in report["config"]["meta_ignored"][0]["why"]
    # Cadence's own meta naming a playback file that is not there: a broken corpus, refused
    write({"audio": "a.wav", "events": [], "meta": {"persona_audio": "gone.wav"}})
    with pytest.raises(InvalidArgumentError, match=":1: persona track not found"):
        bench.load_manifest(str(tmp_path))
    write({"audio": "a.wav", "events": []})
    with pytest.raises(InvalidArgumentError, match="which has an entry already"):
        score.score_decisions(str(tmp_path), {"files": [{"audio": "a.wav", "commits": []},
                                                        {"audio": "./a.wav", "commits": []}]}, resamples=0)


def test_score_needs_every_manifest_file_and_only_those(tmp_path: Path) -> None:
    from cadence.floor import score

    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, np.zeros(RATE, np.float32), RATE, subtype="PCM_16")
    (tmp_path / "manifest.jsonl").write_text(
        "\n".join(json.dumps({"audio": n, "events": [{"type": "shift", "t": 0.5}]}) for n in ("a.wav", "b.wav")))
    with pytest.raises(InvalidArgumentError, match="no entry for 1 files"):
        score.score_decisions(str(tmp_path), {"files": [{"audio": "a.wav", "commits": [0.6]}]})
    with pytest.raises(InvalidArgumentError, match="not in the manifest"):
        score.score_decisions(str(tmp_path), {"files": [{"audio": n, "commits": []} for n in ("a.wav", "b.wav", "c.wav")]})
    rep = score.score_decisions(str(tmp_path), {"files": [{"audio": n, "commits": [0.6]} for n in ("a.wav", "b.wav")]})
    # 1 s files with a turn end at 0.5 s: the bench would append 1.5 s of silence to each, and it counts
    assert rep["summary"]["external"]["precision"] == 1.0 and rep["config"]["audio_s"] == pytest.approx(5.0)
    with pytest.raises(InvalidArgumentError, match="not milliseconds"):  # a 1 s file, a commit at 600
        score.score_decisions(str(tmp_path), {"files": [{"audio": n, "commits": [600.0]} for n in ("a.wav", "b.wav")]})
    (tmp_path / "d.json").write_text("{not json")
    assert score.main(["--corpus", str(tmp_path), "--decisions", str(tmp_path / "d.json")]) == 2
    (tmp_path / "d.json").write_bytes(b"\xff\xfe{")
    assert score.main(["--corpus", str(tmp_path), "--decisions", str(tmp_path / "d.json")]) == 2
    (tmp_path / "b.wav").write_bytes(b"RIFF, but not audio")
    (tmp_path / "d.json").write_text(json.dumps({"files": [{"audio": n, "commits": []} for n in ("a.wav", "b.wav")]}))
    with pytest.raises(InvalidAudioError, match=r"b\.wav"):
        score.score_decisions(str(tmp_path), json.loads((tmp_path / "d.json").read_text()))
    assert score.main(["--corpus", str(tmp_path), "--decisions", str(tmp_path / "d.json")]) == 2


def test_score_breaks_down_by_a_meta_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cadence.floor import score

    entries = [("a.wav", {"noise": "pink", "snr": "10"}), ("b.wav", {"noise": "pink"}), ("c.wav", None)]
    for name, _ in entries:
        sf.write(tmp_path / name, np.zeros(RATE, np.float32), RATE, subtype="PCM_16")
    (tmp_path / "manifest.jsonl").write_text("\n".join(
        json.dumps({"audio": n, "events": [{"type": "shift", "t": 0.5}], **({"meta": m} if m else {})})
        for n, m in entries))
    doc = {"files": [{"audio": "a.wav", "commits": [0.6]}, {"audio": "b.wav", "commits": []},
                     {"audio": "c.wav", "commits": [0.2]}]}
    rep = score.score_decisions(str(tmp_path), doc, by="noise")
    groups = rep["by"]["groups"]
    assert set(groups) == {"pink", "(none)"}
    assert groups["pink"]["external"]["turns"] == 2 and groups["pink"]["external"]["recall"] == 0.5
    assert groups["(none)"]["external"]["interruptions"] == 1  # 0.2: before t - 0.1, in the turn
    assert rep["summary"]["external"]["turns"] == 3  # the totals are unchanged
    (tmp_path / "d.json").write_text(json.dumps(doc))
    assert score.main(["--corpus", str(tmp_path), "--decisions", str(tmp_path / "d.json"), "--by", "noise"]) == 0
    out = capsys.readouterr().out
    assert "## By meta.noise" in out and "| pink | external | 2 |" in out
    two = score.score_decisions(str(tmp_path), doc, by="noise,snr")["by"]["groups"]
    assert set(two) == {"pink/10", "pink/(none)", "(none)/(none)"}
    assert two["pink/10"]["external"]["recall"] == 1.0 and two["pink/(none)"]["external"]["recall"] == 0.0
    # "engine" is derived from meta.voice when the corpus does not record it
    assert score.meta_group({"voice": "flite:rms"}, "engine") == "flite"
    assert score.meta_group({"voice": "flite:rms", "engine": "other"}, "engine") == "other"
    assert score.meta_group({"noise": "pink"}, "engine") == "(none)"
    assert score.meta_group({"voice": "piper:joe-hi", "snr": "10"}, "engine,snr") == "piper/10"


def test_score_by_a_meta_key_gives_the_barge_in_stops_where_there_are_barge_ins(tmp_path: Path) -> None:
    from cadence.floor import score

    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, np.zeros(2 * RATE, np.float32), RATE, subtype="PCM_16")
    (tmp_path / "manifest.jsonl").write_text("\n".join(
        json.dumps({"audio": n, "events": [{"type": "shift", "t": 0.5}, {"type": "bargein", "t": 1.0}],
                    "meta": {"snr": snr}}) for n, snr in (("a.wav", "10"), ("b.wav", "30"))))
    # a: the persona pauses 50 ms into the barge-in; b: 300 ms in
    doc = {"files": [{"audio": "a.wav", "commits": [0.6], "pauses": [1.05], "bargeins": [1.3]},
                     {"audio": "b.wav", "commits": [0.6], "pauses": [1.3], "bargeins": [1.5]}]}
    rep = score.score_decisions(str(tmp_path), doc, by="snr")
    groups = rep["by"]["groups"]
    assert groups["10"]["external"]["stop_within_150ms_share"] == 1.0
    assert groups["30"]["external"]["stop_within_150ms_share"] == 0.0
    table = "\n".join(score.by_section(rep))
    assert "| barge-ins | stop ≤150 ms |" in table
    assert "| 10 | external | 1 |" in table and table.count("| 1 | 1.000 |") == 1 and table.count("| 1 | 0.000 |") == 1
    # a split without barge-ins keeps the turn-taking columns alone
    (tmp_path / "manifest.jsonl").write_text("\n".join(
        json.dumps({"audio": n, "events": [{"type": "shift", "t": 0.5}], "meta": {"snr": "10"}}) for n in ("a.wav", "b.wav")))
    plain = "\n".join(score.by_section(score.score_decisions(str(tmp_path), doc, by="snr")))
    assert "barge-ins" not in plain and "| 10 | external | 2 |" in plain


def test_score_orders_same_time_decisions_like_the_policy(tmp_path: Path) -> None:
    from cadence.floor import score

    sf.write(tmp_path / "a.wav", np.zeros(3 * RATE, np.float32), RATE, subtype="PCM_16")
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"audio": "a.wav", "events": [{"type": "shift", "t": 2.4}]}))
    # in one frame the policy retracts the old draft, then speculates anew: the new one is live
    doc = {"files": [{"audio": "a.wav", "commits": [2.5], "speculates": [1.0, 2.0], "retracts": [2.0]}]}
    s = score.score_decisions(str(tmp_path), doc)["summary"]["external"]
    assert s["retract_share"] == 0.5 and s["draft_ready_share"] == 1.0
    assert s["draft_lead_median_ms"] == pytest.approx(500.0)


def test_answers_drafted_counts_only_the_commits_that_answer(tmp_path: Path) -> None:
    from cadence.floor import score

    sf.write(tmp_path / "a.wav", np.zeros(6 * RATE, np.float32), RATE, subtype="PCM_16")
    events = [{"type": "hold", "start": 0.5, "end": 1.0}, {"type": "shift", "t": 2.0}, {"type": "shift", "t": 4.0}]
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"audio": "a.wav", "events": events}))
    # a drafted interruption in the hold, a drafted answer (lead 0.4 s), an answer without a draft
    doc = {"files": [{"audio": "a.wav", "commits": [0.8, 2.2, 4.3], "speculates": [0.6, 1.8], "retracts": []}]}
    s = score.score_decisions(str(tmp_path), doc)["summary"]["external"]
    assert s["draft_ready_share"] == pytest.approx(2 / 3) and s["draft_lead_median_ms"] == pytest.approx(300.0)
    assert s["answer_draft_share"] == 0.5 and s["answer_draft_lead_median_ms"] == pytest.approx(400.0)
    # a draft begun in the answering commit's own frame is ready but gives no head start
    doc = {"files": [{"audio": "a.wav", "commits": [2.2], "speculates": [2.2], "retracts": []}]}
    s = score.score_decisions(str(tmp_path), doc)["summary"]["external"]
    assert s["draft_ready_share"] == 1.0 and s["answer_draft_share"] == 0.0


def test_nods_are_placed_in_holds_after_turn_ends_or_in_speech(tmp_path: Path) -> None:
    from cadence.floor import score

    sf.write(tmp_path / "a.wav", np.zeros(8 * RATE, np.float32), RATE, subtype="PCM_16")
    events = [{"type": "hold", "start": 0.5, "end": 1.2}, {"type": "hold", "start": 1.6, "end": 1.9},
              {"type": "shift", "t": 3.0}, {"type": "hold", "start": 4.0, "end": 4.8}, {"type": "shift", "t": 6.0}]
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"audio": "a.wav", "events": events}))
    # in the first hold (twice), in speech (1.4 s), after the first turn end, in the third hold
    doc = {"files": [{"audio": "a.wav", "commits": [3.2, 6.1], "backchannels": [0.8, 1.0, 1.4, 3.1, 4.5]}]}
    s = score.score_decisions(str(tmp_path), doc)["summary"]["external"]
    assert s["nods"] == 5 and s["nods_per_100_turns"] == 250.0
    assert s["nod_hold_share"] == pytest.approx(3 / 5) and s["nod_after_end_share"] == pytest.approx(1 / 5)
    assert s["holds_nodded_share"] == 1.0  # both holds of 0.5 s or more; the 0.3 s one is not counted
    doc["files"][0]["backchannels"] = []
    s = score.score_decisions(str(tmp_path), doc)["summary"]["external"]
    assert s["nods"] == 0 and s["nod_hold_share"] is None and s["holds_nodded_share"] == 0.0


def test_load_frames_names_the_file_it_refuses(tmp_path: Path) -> None:
    from cadence import _core
    from cadence.errors import UnsupportedRateError

    if not hasattr(_core, "Framer"):
        pytest.skip("the Rust Framer is not built (the scipy fallback takes any rate)")

    sf.write(tmp_path / "odd.wav", np.zeros(5000, np.float32), 11000, subtype="PCM_16")
    with pytest.raises(UnsupportedRateError, match=r"odd\.wav: .*11000"):
        bench.load_frames(str(tmp_path / "odd.wav"))
    nan = np.zeros(3200, np.float32)
    nan[100] = np.nan
    sf.write(tmp_path / "nan.wav", nan, RATE, subtype="FLOAT")
    with pytest.raises(InvalidAudioError, match=r"nan\.wav"):
        bench.load_frames(str(tmp_path / "nan.wav"))
    # a rate a recording made elsewhere may have, resampled like the others
    sf.write(tmp_path / "r32.wav", np.zeros(32000, np.float32), 32000, subtype="PCM_16")
    got = bench.load_frames(str(tmp_path / "r32.wav"))
    assert got.shape[1] == 160 and got.shape[0] in (100, 101)  # 1 s, plus the resampler's flushed tail


@needs_espeak
def test_vad_frame_probs_chunk_invariant(frames0: np.ndarray) -> None:
    from cadence.floor.vad import SileroVad

    whole = SileroVad().frame_probs(frames0[:300])
    assert whole.shape == (300,) and whole.dtype == np.float32
    assert np.all(whole[:3] == 0.0)  # the first window ends in frame 3 (sample 512)
    vad = SileroVad()
    parts = [vad.frame_probs(frames0[i : i + 7]) for i in range(0, 300, 7)]
    assert np.array_equal(np.concatenate(parts)[:300], whole)
    wins = SileroVad().push(frames0[:300])
    # frame i carries the window that ended last by the end of frame i
    assert whole[3] == np.float32(wins[0][1]) and whole[6] == np.float32(wins[1][1])


# --------------------------------------------------------------------------- duplex metrics end to end
class _OnsetBargein:
    """Emits ``bargein`` on the first loud mic frame after >= 0.3 s of quiet (an echo-blind barge-in detector)."""

    name = "onset"

    def reset(self) -> None:
        self.frame = 0
        self.quiet = 0

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        assert reference is not None and reference.shape == frames.shape  # duplex file: persona track passed
        out = []
        for x in frames:
            loud = float(np.sqrt(np.mean(x**2))) > 0.05
            if loud and self.quiet >= 30:
                out.append(Decision("bargein", frame_end_time(self.frame)))
            self.quiet = 0 if loud else self.quiet + 1
            self.frame += 1
        return out


def test_bench_duplex_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    mic = rng.normal(0, 1e-3, 9 * RATE).astype(np.float32)
    # a barge-in at 2.0 s, a backchannel at 5.0-5.3 s, and a cough at 7.0 s that is neither
    for start, dur in ((2.0, 0.8), (5.0, 0.3), (7.0, 0.5)):
        i = int(start * RATE)
        mic[i : i + int(dur * RATE)] += rng.normal(0, 0.3, int(dur * RATE)).astype(np.float32)
    sf.write(tmp_path / "d.wav", np.clip(mic, -1, 1), RATE, subtype="PCM_16")
    sf.write(tmp_path / "d.persona.wav", rng.normal(0, 0.05, 9 * RATE).astype(np.float32), RATE, subtype="PCM_16")
    entry = {
        "audio": "d.wav",
        "events": [
            {"type": "bargein", "t": 2.0},
            {"type": "backchannel", "start": 5.0, "end": 5.3},
        ],
        "meta": {"duplex": True, "persona": [[1.0, 2.2], [4.5, 8.0]], "persona_audio": "d.persona.wav"},
    }
    (tmp_path / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    monkeypatch.setitem(bench.REGISTRY, "onset", lambda **kw: _OnsetBargein())
    monkeypatch.setattr(bench, "_POLICY_CACHE", {})
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    rc = bench.main(["--corpus", str(tmp_path), "--policies", "onset,silence-500", "--jobs", "1",
                     "--json", str(out), "--markdown", str(md)])
    assert rc == 0
    report = json.loads(out.read_text())
    onset = report["summary"]["onset"]
    assert [r["bargeins"] for r in report["files"] if r["policy"] == "onset"] == [
        [pytest.approx(2.01), pytest.approx(5.01), pytest.approx(7.01)]
    ]
    assert (onset["bargeins"], onset["bargein_detected"], onset["bargein_recall"]) == (1, 1, 1.0)
    assert onset["bargein_latency_median_ms"] == pytest.approx(10.0)
    assert onset["bargein_within_150ms_share"] == 1.0
    assert (onset["false_bargeins_backchannel"], onset["false_bargeins_other"]) == (1, 1)
    assert (onset["backchannels_triggered"], onset["backchannel_trigger_share"]) == (1, 1.0)
    assert onset["persona_speaking_min"] == pytest.approx(4.7 / 60)
    assert onset["false_bargeins_per_persona_min"] == pytest.approx(2 / (4.7 / 60))
    silence = report["summary"]["silence-500"]
    assert silence["bargein_decisions"] == 0 and silence["bargein_recall"] == 0.0
    text = md.read_text()
    assert "## Duplex: barge-in vs backchannel" in text
    duplex = text.split("## Duplex")[1]
    row = next(ln for ln in duplex.splitlines() if ln.startswith("| onset |"))
    assert row.split("|")[2:5] == [" 1.000 ", " 10 ", " 10 "]
    assert "| silence-500 | 0.000 | – | – | 0.000 | 0 | 0 |" in duplex  # shown, with recall 0


def test_duplex_table_only_for_emitting_policies_without_events() -> None:
    base = {"bargeins": 0, "backchannels": 0, "persona_speaking_min": 0.0}
    summary = {
        "a": {**base, "bargein_decisions": 0},
        "b": {**base, "bargein_decisions": 3},
    }
    assert bench.duplex_labels(summary, ["a", "b"]) == ["b"]
    summary["b"]["bargein_decisions"] = 0
    assert bench.duplex_labels(summary, ["a", "b"]) == []
    assert bench.duplex_section(summary, ["a", "b"]) == []
    summary = {k: {**v, "bargeins": 2} for k, v in summary.items()}
    assert bench.duplex_labels(summary, ["a", "b"]) == ["a", "b"]


def test_against_each_baseline_names_the_settings_that_beat_it_on_every_metric() -> None:
    def s(med, p90, prec, rec, ropen, inter):
        return dict(zip([k for k, _ in bench.DOMINANCE_KEYS], (med, p90, prec, rec, ropen, inter)))

    summary = {"silence-500": s(590, 640, 0.56, 0.91, 0.97, 60.0),
               "cadence@0.4": s(160, 330, 0.63, 0.95, 0.98, 48.0),  # better on all six
               "cadence@1": s(400, 1300, 0.78, 0.93, 0.97, 20.0),   # p90 worse, open recall tied
               "cadence@0": s(None, None, None, 0.0, 0.0, 0.0)}     # never commits
    assert bench.dominance(summary, "cadence@0.4", "silence-500") == []
    assert bench.dominance(summary, "cadence@1", "silence-500") == ["latency_p90_ms", "recall_open"]
    assert "latency_median_ms" in bench.dominance(summary, "cadence@0", "silence-500")
    lines = bench.dominance_section(summary, list(summary))
    assert "| silence-500 | cadence@0.4 |  |" in lines
    summary["cadence@0.4"]["precision"] = 0.5
    row = [ln for ln in bench.dominance_section(summary, list(summary)) if ln.startswith("| silence-500")][0]
    assert row == "| silence-500 | – | cadence@0.4: precision |"
    assert bench.dominance_section({"silence-500": summary["silence-500"]}, ["silence-500"]) == []


@needs_espeak
def test_cadence_decisions_do_not_depend_on_the_wav_format(corpus: Path, frames0: np.ndarray, tmp_path: Path) -> None:
    """A corpus recorded elsewhere comes at 44.1 / 48 kHz, stereo, 24-bit or float: the same
    audio must give the same frames (to the resampler's tail), the same model outputs (up to
    resampling noise), the same commits and the same interruptions as the 16 kHz original.
    A commit the fallback takes on a slowly falling P(keep) may move: the last one here
    (P(keep) ≈ 0.9 for 2 s after the turn end) moved by 0.24 s at 44.1 kHz."""
    from cadence.floor.policy import CadencePolicy
    from cadence.floor.scoring import labels_from_manifest, score_file

    x, _ = sf.read(corpus / "f0.wav", dtype="float32")
    pol = CadencePolicy(0.5)
    ref_p = pol.model.process(pol.featurizer.process(frames0))
    labels = labels_from_manifest(json.loads((corpus / "manifest.jsonl").read_text().splitlines()[0]))
    pol.reset()
    decs = pol.process(frames0)
    ref = score_file(decs, labels)
    ref_times = [d.t for d in decs if d.kind == "commit"]
    assert ref.commits >= 3 and ref.correct >= 1
    for name, rate, sub, stereo in (("a.wav", 44100, "PCM_24", True), ("b.wav", 48000, "FLOAT", False)):
        y = resample_poly(x, rate // 100, RATE // 100).astype(np.float32)
        # stereo: both channels alike, so the downmix keeps the level (this is about the format)
        sf.write(tmp_path / name, np.stack([y, y], axis=1) if stereo else y, rate, subtype=sub)
        frames = bench.load_frames(str(tmp_path / name))
        assert abs(len(frames) - len(frames0)) <= 1, name
        pol.reset()
        probs = pol.model.process(pol.featurizer.process(frames))
        n = min(len(probs), len(ref_p))
        assert np.median(np.abs(probs[:n] - ref_p[:n])) <= 0.05, name
        pol.reset()
        decs = pol.process(frames)
        got = score_file(decs, labels)
        assert (got.commits, got.interruptions) == (ref.commits, ref.interruptions), name
        times = [d.t for d in decs if d.kind == "commit"]
        assert max(abs(a - b) for a, b in zip(times, ref_times)) <= 0.4, (name, times, ref_times)


def test_tail_frames_cover_every_answer_window() -> None:
    lab = labels_from_manifest({"audio": "a.wav", "events": [{"type": "shift", "t": 1.0}, {"type": "shift", "t": 3.0},
                                                             {"type": "bargein", "t": 4.5}]})
    assert bench.tail_frames(lab, 400) == 550 - 400  # the barge-in's window ends last, at 5.5 s
    assert bench.tail_frames(lab, 600) == 0
    assert bench.tail_frames(labels_from_manifest({"audio": "a.wav", "events": []}), 10) == 0
    # a label far past the audio (milliseconds written as seconds) appends at most the 2 s window
    assert bench.tail_frames(labels_from_manifest({"audio": "a.wav", "events": [{"type": "shift", "t": 5230.0}]}), 500) == 200


def _cut_at_last_turn(corpus: Path, dest: Path) -> list[str]:
    """The corpus with each clip cut 100 ms after its last turn end, written to ``dest``; its
    manifest lines."""
    lines = []
    for line in (corpus / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        x, rate = sf.read(corpus / entry["audio"], dtype="float32")
        last = max(e["t"] for e in entry["events"] if e["type"] == "shift")
        sf.write(dest / entry["audio"], x[: int((last + 0.1) * rate)], rate, subtype="PCM_16")
        lines.append(line)
    (dest / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return lines


@needs_espeak
def test_a_clip_cut_at_its_turn_end_is_still_answered(corpus: Path, tmp_path: Path) -> None:
    # an outside corpus may cut each clip 100 ms after its last word: a live mic would go on,
    # so the bench appends silence until the answer window is over
    _cut_at_last_turn(corpus, tmp_path)
    report = bench.run_bench(str(tmp_path), bench.parse_policies("silence-800", None), jobs=1)
    assert report["summary"]["silence-800"]["recall"] == 1.0
    assert report["config"]["padded_files"] == 2 and report["config"]["padded_s"] == pytest.approx(2 * 1.9, abs=0.05)
    assert "2 file(s) end inside an answer window" in bench.render_markdown(report)
    # the bench's JSON scores the same with `cadence score floor`: decisions in the silence count
    from cadence.floor import score

    again = score.score_decisions(str(tmp_path), {"files": report["files"]})["summary"]["silence-800"]
    assert again["recall"] == 1.0 and again["latency_median_ms"] == report["summary"]["silence-800"]["latency_median_ms"]
    # the fixture's own files end well after their last turn: nothing appended
    assert bench.run_bench(str(corpus), bench.parse_policies("silence-800", None), jobs=1)["config"]["padded_files"] == 0


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_tune_hears_the_benchs_silence_after_a_clip_cut_at_its_turn_end(corpus: Path, tmp_path: Path) -> None:
    from cadence.floor.model import FloorModel
    from cadence.floor.train import _read_manifest, load_split
    from cadence.floor.tune import file_row, score_settings

    split = tmp_path / "cut"
    split.mkdir()
    lines = _cut_at_last_turn(corpus, split)
    model = FloorModel()
    rows, pads = [], []
    for (x, _y, _w), entry in zip(load_split(split, 1), _read_manifest(split)):
        row, pad = file_row(split, entry, x, model)
        rows.append(row)
        pads.append(pad)
        assert row.excess is not None and len(row.x) == len(x) + pad and len(row.excess) == len(row.x)
    assert all(pads)
    (_setting, tuned), = score_settings(rows, {"patience": [0.5]})
    streamed = bench.run_bench(str(split), bench.parse_policies("cadence", [0.5]), jobs=1)["summary"]["cadence@0.5"]
    for key in ("recall", "precision", "latency_median_ms", "interruptions", "commits", "commits_by_rule"):
        assert tuned[key] == streamed[key], key
    # without the silence the final turns could not be answered at all
    bare = []
    for x, _y, _w in load_split(split, 1):
        model.reset()
        bare.append((x, model.process(x), json.loads(lines[len(bare)])))
    (_setting, unpadded), = score_settings(bare, {"patience": [0.5]})
    assert unpadded["recall"] < tuned["recall"]
