"""``cadence train floor``: train the floor model on a labeled corpus and export numpy weights.

    cadence train floor --corpus DIR [--out PATH] [--epochs N] [--hidden H] [--seed S]
    cadence train floor --combine A.npz B.npz [...] --out PATH   # an ensemble

DIR holds ``train/manifest.jsonl`` and ``dev/manifest.jsonl`` (the format of
``cadence corpus floor``). Features are computed with exactly the run-time
featurizer (``FloorFeaturizer``) and cached under ``DIR/.cache``. Training uses
torch (CPU is fine: ~6.6 M frames, ~95 s per epoch on 2 cores); the exported
``.npz`` is run by ``FloorModel`` (in Rust, without torch). Reproduce the committed weights with:

    cadence corpus floor --out /tmp/floorg --n 1000 --seed 4000 --text grammar
    cadence corpus floor --out /tmp/floor1000 --n 1000 --seed 1000
    cadence train floor --corpus /tmp/floorg --corpus /tmp/floor1000 --epochs 20 --seed 0 --out /tmp/v6.npz
    cadence corpus floor --out /tmp/floorx --n 1000 --seed 5000 --text grammar \
        --voices extended --comma-rate 0.35 --splits train,dev
    cadence train floor --corpus /tmp/floorg --corpus /tmp/floor1000 --corpus /tmp/floorx \
        --epochs 14 --seed 3 --aux-weight 0.3 --threads 1 --out /tmp/v8x3.npz  # (these two
    cadence train floor --corpus /tmp/floorg --corpus /tmp/floor1000 --corpus /tmp/floorx \
        --epochs 12 --seed 4 --aux-weight 0.3 --threads 1 --out /tmp/v8x4.npz  # side by side)
    cadence corpus floor --out /tmp/floory --n 1000 --seed 6000 --text templates \
        --voices extended --comma-rate 0.5 --splits train,dev
    cadence train floor --corpus /tmp/floorg --corpus /tmp/floor1000 --corpus /tmp/floorx \
        --corpus /tmp/floory --epochs 12 --seed 5 --aux-weight 0.3 --threads 1 --out /tmp/v9y5.npz
    cadence train floor --corpus /tmp/floorg --corpus /tmp/floor1000 --corpus /tmp/floorx \
        --corpus /tmp/floory --epochs 12 --seed 6 --aux-weight 0.3 --threads 1 --out /tmp/v9y6.npz
    cadence train floor --combine /tmp/v8x3.npz /tmp/v9y5.npz /tmp/v9y6.npz --out /tmp/v9.npz  # v9
    cadence corpus floor --out /tmp/floorw --n 1000 --seed 7000 --text written \
        --voices extended --comma-rate 0.6 --splits train,dev
    C="--corpus /tmp/floorg --corpus /tmp/floor1000 --corpus /tmp/floorx --corpus /tmp/floory --corpus /tmp/floorw"
    cadence train floor $C --init /tmp/v9y5.npz --epochs 4 --lr 1e-3 --seed 11 --aux-weight 0.3 \
        --threads 1 --out /tmp/v11y5.npz        # fine-tuning v9's members (these two side by side)
    cadence train floor $C --init /tmp/v9y6.npz --epochs 4 --lr 1e-3 --seed 12 --aux-weight 0.3 \
        --threads 1 --out /tmp/v11y6.npz
    cadence train floor --combine /tmp/v8x3.npz /tmp/v11y5.npz /tmp/v11y6.npz \
        --out /tmp/v11.npz                                   # v11: the three-member ensemble
    cadence train heads --weights /tmp/v11.npz --corpus /tmp/floorg/train \
        --corpus /tmp/floor1000/train --corpus /tmp/floorx/train --corpus /tmp/floory/train \
        --corpus /tmp/floorw/train --heads voice \
        --out python/cadence/floor/weights/floor_gru.npz
        # v12 (shipped): v11's frozen networks + the voice head (``heads.py``)

``--level-db=LO,HI`` featurizes each file at its own mic gain (uniform in [LO, HI] dB, from
the file's name): a model for the AGC-raised quiet mic. A v15 fine-tune with it was measured
and not shipped (``benches/results/floor.md``).

(v8, the previous ensemble, was v6 + v8x3 + v8x4; v7 replaced the last two members by two
trained on floorg + floor1000 alone with ``--epochs 16 --seed 0/1 --aux-weight 0.3``.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np

from cadence.cores import cores
from cadence.errors import InvalidArgumentError
from cadence.floor.features import ECHO_CANCEL_VERSION, FEATURE_NAMES, FEATURES_VERSION, N_FEATURES, N_MELS
from cadence.floor.labels import (
    TARGETS,
    frame_targets,
    lexical_targets,
    onset_multipliers,
    question_weights,
    voice_target,
)
from cadence.floor.model import conv_layers
from cadence.floor.scoring import manifest_entries
from cadence import cli_args

CACHE_TAG = "persona-ref"  # bump when _featurize changes what it computes (not only features.py)
WINDOW = 800  # frames per training sequence (8 s)
BURN_IN = 100  # frames without loss at the start of a window cut from mid-file


def _read_manifest(split_dir: Path) -> list[dict[str, Any]]:
    return manifest_entries(split_dir / "manifest.jsonl")


def _stamps(split_dir: Path, entry: dict[str, Any]) -> list[int]:
    """Size and modification time (ns) of an entry's audio and of its persona track, if it has
    one: what changes when either is written again."""
    from cadence.floor.bench import persona_track

    path = split_dir / entry["audio"]
    stamps = []
    for p in (str(path), persona_track(str(split_dir), entry, str(path))):
        if p is None:
            continue
        try:
            st = os.stat(p)
        except OSError as e:
            raise InvalidArgumentError(f"audio file not found: {p}") from e
        stamps += [st.st_size, st.st_mtime_ns]
    return stamps


def file_gain_db(audio: str, level_db: tuple[float, float] | None) -> float:
    """The mic gain one file is featurized at for ``--level-db LO,HI``: uniform in [LO, HI],
    a function of the file's name only (the same in every run, whatever the job order)."""
    if level_db is None:
        return 0.0
    u = int.from_bytes(hashlib.sha1(audio.encode()).digest()[:8], "little") / 2.0**64
    return level_db[0] + u * (level_db[1] - level_db[0])


def _featurize(
    args: tuple[str, dict[str, Any], tuple[float, float] | None, bool],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    root, entry, level_db, echo_cancel = args
    from cadence.floor.bench import load_frames, persona_track, reference_frames, with_gain
    from cadence.floor.features import FloorFeaturizer

    path = str(Path(root) / entry["audio"])
    frames = with_gain(load_frames(path), file_gain_db(entry["audio"], level_db))
    # duplex files: the persona's playback is the reference, exactly as at run time
    reference = reference_frames(persona_track(root, entry, path), frames.shape[0])
    x = FloorFeaturizer(echo_cancel).process(frames, reference)
    y, w = frame_targets(entry, x.shape[0])
    return x, y, w


def load_split(split_dir: Path, jobs: int, level_db: tuple[float, float] | None = None,
               echo_cancel: bool = False) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Features and targets of every file of a split, cached; ``level_db`` featurizes each
    file at its own mic gain (``file_gain_db``), as a quieter or louder microphone would;
    ``echo_cancel`` runs the featurizer's echo canceller (``FloorFeaturizer(echo_cancel=True)``)."""
    entries = _read_manifest(split_dir)
    # the audio too: a file rendered again under the same manifest must not read the old features
    stamps = [_stamps(split_dir, e) for e in entries]
    key = hashlib.sha1(
        (json.dumps(entries, sort_keys=True) + json.dumps(stamps) + str(N_FEATURES) + FEATURES_VERSION
         + CACHE_TAG + ("" if level_db is None else f"level{level_db}")
         + ("aec" + ECHO_CANCEL_VERSION if echo_cancel else "")).encode()
    ).hexdigest()[:12]
    cache = split_dir.parent / ".cache" / f"{split_dir.name}-{key}.npz"
    if cache.exists():
        z = np.load(cache)
        n = int(z["n"])
        return [(z[f"x{i}"], z[f"y{i}"], z[f"w{i}"]) for i in range(n)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(entries)))) as ex:
        data = list(ex.map(_featurize, [(str(split_dir), e, level_db, echo_cancel) for e in entries],
                           chunksize=4))
    print(f"featurized {split_dir.name}: {len(data)} files, "
          f"{sum(len(d[0]) for d in data) / 360000:.2f} h in {time.perf_counter() - t0:.0f} s")
    cache.parent.mkdir(exist_ok=True)
    arrays: dict[str, Any] = {"n": np.array(len(data))}
    for i, (x, y, w) in enumerate(data):
        arrays[f"x{i}"], arrays[f"y{i}"], arrays[f"w{i}"] = x, y, w
    tmp = cache.with_name(cache.name + ".partial.npz")  # a cache is whole or absent
    np.savez(tmp, **arrays)
    os.replace(tmp, cache)
    return data


def _input_stats(data: list) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std (+1e-3) over all frames, accumulated per file in float64."""
    n = sum(len(x) for x, _y, _w in data)
    if n == 0:
        raise InvalidArgumentError("the training split has no frames")
    s1 = sum(x.sum(0, dtype=np.float64) for x, _y, _w in data)
    s2 = sum(np.square(x, dtype=np.float64).sum(0) for x, _y, _w in data)
    mean = s1 / n
    std = np.sqrt(np.maximum(s2 / n - mean * mean, 0.0)) + 1e-3
    return mean.astype(np.float32), std.astype(np.float32)


def _windows(data: list, rng: np.random.Generator) -> list[tuple[int, int]]:
    out = []
    for fi, d in enumerate(data):
        n = len(d[0])
        start = 0 if n <= WINDOW else int(rng.integers(0, WINDOW))
        out.append((fi, 0))
        for s in range(start + WINDOW // 2, max(n - BURN_IN, 1), WINDOW):
            out.append((fi, s))
    return out


def _batch(data: list, wins: list[tuple[int, int]], rng: np.random.Generator | None = None,
           freq_mask: int = 0, mel_dropout: float = 0.0, warp: bool = True) -> tuple[Any, Any, Any]:
    import torch

    # y: (n, heads) targets; w: (n,) loss weights, or (n, columns): training's are the frame
    # weight, each train-only output's weight, then the bargein output's onset multiplier
    _x0, y0, w0 = data[wins[0][0]]
    xb = np.zeros((len(wins), WINDOW, N_FEATURES), np.float32)
    yb = np.zeros((len(wins), WINDOW, y0.shape[1]), np.float32)
    wb = np.zeros((len(wins), WINDOW, 1 if w0.ndim == 1 else w0.shape[1]), np.float32)
    for b, (fi, s) in enumerate(wins):
        x, y, w = data[fi]
        seg = slice(s, min(s + WINDOW, len(x)))
        n = seg.stop - seg.start
        xb[b, :n], yb[b, :n], wb[b, :n] = x[seg], y[seg], w[seg].reshape(n, -1)
        if s > 0:
            wb[b, :BURN_IN] = 0.0
    if rng is not None:
        if warp:
            warp_mels(xb, rng)
        if freq_mask or mel_dropout:
            mask_mels(xb, rng, freq_mask, mel_dropout)
    return torch.from_numpy(xb), torch.from_numpy(yb), torch.from_numpy(wb)


CONV = ((5, 1), (5, 2), (5, 4))  # (kernel, dilation) per causal conv layer: 29 frames seen


def build(hidden: int, proj: int, dropout: float = 0.0, input_noise: float = 0.0,
          channels: int = 64, conv: tuple[tuple[int, int], ...] = CONV, aux: int = 0) -> Any:
    """The torch twin of ``FloorModel``: Linear → tanh → causal convs → GRU → Linear.

    ``aux`` extra outputs (train-only heads) follow the run-time ones; ``export`` drops them.
    """
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(N_FEATURES, proj)
            self.drop = nn.Dropout(dropout)  # identity at inference (numpy model has none)
            self.convs = nn.ModuleList(
                nn.Conv1d(proj if i == 0 else channels, channels, k, dilation=d)
                for i, (k, d) in enumerate(conv)
            )
            self.gru = nn.GRU(channels if conv else proj, hidden, batch_first=True)
            self.out = nn.Linear(hidden, len(TARGETS) + aux)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.training and input_noise > 0:
                x = x + input_noise * torch.randn_like(x)
            u = self.drop(torch.tanh(self.inp(x))).transpose(1, 2)  # (B, C, T)
            for i, c in enumerate(cast(list[Any], self.convs)):
                pad = (c.kernel_size[0] - 1) * c.dilation[0]
                y = torch.tanh(c(nn.functional.pad(u, (pad, 0))))
                u = u + y if (i > 0 and c.in_channels == c.out_channels) else y
            h, _ = self.gru(self.drop(u.transpose(1, 2)))
            return self.out(h)

    return Net()


def export(net: Any, mean: np.ndarray, std: np.ndarray, out: Path) -> None:
    """Write a trained ``build()`` network as the ``.npz`` that ``FloorModel`` runs."""
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    conv: dict[str, np.ndarray] = {}
    for i, c in enumerate(net.convs):
        conv[f"conv{i}_w"], conv[f"conv{i}_b"] = sd[f"convs.{i}.weight"], sd[f"convs.{i}.bias"]
        conv[f"conv{i}_d"] = np.array(c.dilation[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = dict(
        in_w=sd["inp.weight"], in_b=sd["inp.bias"],
        w_ih=sd["gru.weight_ih_l0"], b_ih=sd["gru.bias_ih_l0"],
        w_hh=sd["gru.weight_hh_l0"], b_hh=sd["gru.bias_hh_l0"],
        out_w=sd["out.weight"][: len(TARGETS)], out_b=sd["out.bias"][: len(TARGETS)],
        mean=mean, std=std, **conv,
    )
    # whole or not at all: a run stopped mid-write leaves the last best weights, not half a file
    tmp = out.with_name(out.name + ".partial.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, out)


def _init_params(path: Path, member: int) -> dict[str, np.ndarray]:
    from cadence.floor.model import FloorModel, load_members

    FloorModel(path)  # refuses a file that is not a floor model, with the reason
    members = load_members(path)
    if not 0 <= member < len(members):
        raise InvalidArgumentError(f"--init-member {member}: {path} holds {len(members)} network(s)")
    return members[member]


def _load_into(net: Any, p: dict[str, np.ndarray]) -> None:
    """Copy an exported network's weights into its ``build()`` twin (the inverse of ``export``;
    train-only heads keep their fresh initialisation)."""
    import torch

    sd = net.state_dict()
    pairs = {"inp.weight": "in_w", "inp.bias": "in_b", "gru.weight_ih_l0": "w_ih", "gru.bias_ih_l0": "b_ih",
             "gru.weight_hh_l0": "w_hh", "gru.bias_hh_l0": "b_hh"}
    pairs.update({f"convs.{i}.{w}": f"conv{i}_{w[0]}" for i in range(len(net.convs)) for w in ("weight", "bias")})
    for k, src in pairs.items():
        sd[k] = torch.from_numpy(np.ascontiguousarray(p[src]))
    nt = len(TARGETS)
    sd["out.weight"][:nt] = torch.from_numpy(p["out_w"])
    sd["out.bias"][:nt] = torch.from_numpy(p["out_b"])
    net.load_state_dict(sd)


def warp_mels(xb: np.ndarray, rng: np.random.Generator, max_shift: float = 1.5) -> None:
    """Voice augmentation in feature space, in place: shift each window's mel bands by a
    random fraction of a band (a vocal-tract-length change) and scale their contrast."""
    from cadence.floor.features import FEATURE_NAMES, N_MELS

    m0 = FEATURE_NAMES.index("mel_0")
    idx = np.arange(N_MELS, dtype=np.float64)
    for b in range(xb.shape[0]):
        src = np.clip(idx + rng.uniform(-max_shift, max_shift), 0, N_MELS - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, N_MELS - 1)
        f = (src - lo).astype(np.float32)
        mel = xb[b, :, m0 : m0 + N_MELS]
        xb[b, :, m0 : m0 + N_MELS] = (mel[:, lo] * (1 - f) + mel[:, hi] * f) * rng.uniform(0.8, 1.2)


def mask_mels(xb: np.ndarray, rng: np.random.Generator, width: int, dropout: float) -> None:
    """SpecAugment-style masks on standardised windows, in place: two runs of up to ``width``
    adjacent mel bands held at their mean (0), or with probability ``dropout`` every mel band of
    the window, so the network cannot lean on one engine's spectral detail."""
    m0 = FEATURE_NAMES.index("mel_0")
    for b in range(xb.shape[0]):
        if dropout > 0 and rng.random() < dropout:
            xb[b, :, m0 : m0 + N_MELS] = 0.0
            continue
        for _ in range(2 if width > 0 else 0):
            w = int(rng.integers(0, width + 1))
            lo = int(rng.integers(0, N_MELS - w + 1))
            xb[b, :, m0 + lo : m0 + lo + w] = 0.0


def _dropped_columns(text: str) -> list[int]:
    """Input columns named by ``--drop-features`` ('mel' stands for every mel band)."""
    cols: list[int] = []
    for name in (t.strip() for t in text.split(",") if t.strip()):
        if name == "mel":
            cols += [i for i, f in enumerate(FEATURE_NAMES) if f.startswith("mel_")]
        elif name in FEATURE_NAMES:
            cols.append(FEATURE_NAMES.index(name))
        else:
            raise InvalidArgumentError(f"--drop-features: no input column {name!r} "
                                       f"(one of 'mel', {', '.join(FEATURE_NAMES)})")
    return sorted(set(cols))


def _level_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI in dB (e.g. -25,0), got {text!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and -60.0 <= lo <= hi <= 60.0):
        raise argparse.ArgumentTypeError(f"need -60 <= LO <= HI <= 60 dB, got {text!r}")
    return lo, hi


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence train floor", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, action="append",
                    help="corpus folder with train/ and dev/ (repeat to combine corpora)")
    ap.add_argument("--combine", type=Path, nargs="+", metavar="NPZ",
                    help="instead of training: write the ensemble of these trained weight "
                         "files (their probabilities are averaged at run time) to --out")
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--input-noise", type=float, default=0.05)
    ap.add_argument("--out", type=cli_args.npz_file, default=None,
                    help="where to write the weights, an .npz (required: the packaged floor_gru.npz is "
                         "never overwritten by omission; name it to replace it)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--proj", type=int, default=48)
    ap.add_argument("--channels", type=int, default=64, help="conv front-end channels")
    ap.add_argument("--no-augment", dest="augment", action="store_false",
                    help="no mel-band warping of the training windows (--freq-mask and "
                         "--mel-dropout still apply)")
    ap.add_argument("--aux-weight", type=float, default=0.0,
                    help="loss weight of the train-only closed-class head (labels.lexical_targets); "
                         "0 (the default, as v6 was trained): none")
    ap.add_argument("--onset-weight", type=float, default=1.0,
                    help="count the bargein output's loss K times in the first 250 ms of each "
                         "barge-in and backchannel (labels.onset_multipliers; 1: off)")
    ap.add_argument("--voice-weight", type=float, default=0.0,
                    help="weight of a train-only output learning the user's own voice "
                         "(labels.voice_target, weighted by the onset multipliers; 0: off)")
    ap.add_argument("--question-weight", type=float, default=1.0,
                    help="loss weight multiplier around turn ends after a question (0.6 s before "
                         "to 0.8 s after); 1 (the default): none")
    ap.add_argument("--threads", type=int, default=min(4, cores()),
                    help="torch threads (1 to run two trainings side by side on 2 cores)")
    ap.add_argument("--batch", type=cli_args.positive_int, default=64, help="windows per batch (>= 1)")
    ap.add_argument("--lr", type=cli_args.positive, default=3e-3)
    ap.add_argument("--seed", type=cli_args.seed, default=0)
    ap.add_argument("--init", type=Path, default=None, metavar="NPZ",
                    help="fine-tune: start from this trained network (its shape and input "
                         "normalisation; an ensemble file: the --init-member'th network)")
    ap.add_argument("--init-member", type=int, default=0)
    ap.add_argument("--level-db", type=_level_range, default=None, metavar="LO,HI",
                    help="featurize each file at a mic gain drawn uniformly from [LO, HI] dB "
                         "(per file, from its name), e.g. --level-db=-25,0 for quieter microphones")
    ap.add_argument("--freq-mask", type=int, default=0, metavar="W",
                    help="mask two runs of up to W mel bands per training window (0: off)")
    ap.add_argument("--mel-dropout", type=float, default=0.0, metavar="P",
                    help="hold every mel band of a training window at its mean with probability P")
    ap.add_argument("--drop-features", default="", metavar="NAMES",
                    help="comma-separated input columns the network never reads ('mel' for all "
                         "mel bands; names as in features.FEATURE_NAMES): they are held at their "
                         "mean in training and their input weights are zero in the written file")
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores())
    args = ap.parse_args(argv)
    dropped = _dropped_columns(args.drop_features)
    if not 0 <= args.freq_mask <= N_MELS:
        raise InvalidArgumentError(f"--freq-mask must be 0 to {N_MELS} mel bands, got {args.freq_mask}")
    if not 0.0 <= args.mel_dropout < 1.0:
        raise InvalidArgumentError(f"--mel-dropout must be in [0, 1), got {args.mel_dropout}")
    if not (args.aux_weight >= 0.0 and np.isfinite(args.aux_weight)):
        raise InvalidArgumentError(f"--aux-weight must be a finite number >= 0, got {args.aux_weight}")
    if not (args.onset_weight >= 1.0 and np.isfinite(args.onset_weight)):
        raise InvalidArgumentError(f"--onset-weight must be a finite number >= 1, got {args.onset_weight}")
    if not (args.voice_weight >= 0.0 and np.isfinite(args.voice_weight)):
        raise InvalidArgumentError(f"--voice-weight must be a finite number >= 0, got {args.voice_weight}")
    if not (args.question_weight > 0.0 and np.isfinite(args.question_weight)):
        raise InvalidArgumentError(f"--question-weight must be a finite number > 0, got {args.question_weight}")
    if args.threads < 1:
        raise InvalidArgumentError(f"--threads must be >= 1, got {args.threads}")
    if args.epochs < 1:
        raise InvalidArgumentError(f"--epochs must be >= 1, got {args.epochs}")
    if args.combine:
        from cadence.floor.model import save_ensemble

        if args.out is None:  # never overwrite the packaged weights by omission
            ap.error("--combine needs --out")

        save_ensemble(args.combine, args.out)
        print(f"wrote an ensemble of {len(args.combine)} files to {args.out} "
              f"({args.out.stat().st_size / 1024:.0f} KiB)")
        return 0
    if not args.corpus:
        ap.error("--corpus is required (or --combine to build an ensemble)")
    if args.out is None:
        ap.error("--out is required (the packaged floor_gru.npz is never overwritten by omission; name it "
                 "to replace it)")
    for c in args.corpus:
        for split in ("train", "dev"):
            if not (c / split / "manifest.jsonl").is_file():
                raise InvalidArgumentError(f"--corpus {c}: no {split}/manifest.jsonl "
                                           "(a corpus made by `cadence corpus floor` with a train and a dev split)")

    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    # train-only outputs after the run-time ones, and each one's loss scale
    aux_scale = [args.aux_weight] * (args.aux_weight > 0) + [args.voice_weight] * (args.voice_weight > 0)
    n_aux = len(aux_scale)

    def load(split: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(x, y, w) per file: y's columns are the run-time targets then the train-only
        ones; w's are the frame weight, each train-only output's weight, and the bargein
        output's multiplier."""
        out = []
        for c in args.corpus:
            for (x, y, w), e in zip(load_split(c / split, args.jobs, args.level_db), _read_manifest(c / split)):
                n = len(x)
                if args.question_weight != 1.0:
                    w = w * question_weights(e, n, args.question_weight)
                mult = onset_multipliers(e, n, args.onset_weight)
                ys, ws = [y], [w[:, None]]
                if args.aux_weight > 0:
                    ya, wa = lexical_targets(e, n)
                    ys.append(ya[:, None])
                    ws.append(wa[:, None])
                if args.voice_weight > 0:
                    ys.append(voice_target(e, n)[:, None])
                    ws.append(mult[:, None])
                out.append((x, np.concatenate(ys, 1), np.concatenate(ws + [mult[:, None]], 1)))
        return out

    init = _init_params(args.init, args.init_member) if args.init else None
    train_n, dev_n = load("train"), load("dev")
    # fine-tuning keeps the network's own input normalisation
    mean, std = (init["mean"], init["std"]) if init else _input_stats(train_n)
    for x, _y, _w in train_n + dev_n:  # in place: no second copy of the corpus
        x -= mean
        x /= std
        x[:, dropped] = 0.0  # held at the mean

    if init:
        net = build(int(init["w_hh"].shape[1]), int(init["in_w"].shape[0]), args.dropout, args.input_noise,
                    int(init["conv0_w"].shape[0]), tuple(conv_layers(init)), aux=n_aux)
        _load_into(net, init)
    else:
        net = build(args.hidden, args.proj, args.dropout, args.input_noise, args.channels, aux=n_aux)

    def mute_dropped() -> None:
        # also under --input-noise, a dropped column never reaches the network
        if dropped:
            with torch.no_grad():
                net.inp.weight[:, dropped] = 0.0

    mute_dropped()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    # upper bound of windows per epoch (_windows draws a random start per file)
    max_windows = sum(len(x) // WINDOW + 2 for x, _y, _w in train_n)
    total_steps = args.epochs * (max_windows // args.batch + 1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total_steps)
    head_w = torch.tensor([1.0, 1.0, 0.7, 0.3, 1.0])  # keep, end200, end600, bc, bargein
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")

    k = len(TARGETS)
    bi = TARGETS.index("bargein")

    masks = args.freq_mask > 0 or args.mel_dropout > 0  # on under --no-augment too

    def loss_of(data: list, wins: list, aug: np.random.Generator | None = None) -> tuple[Any, Any]:
        """(run-time heads' loss, train-only heads' loss, each scaled by its weight); ``aug``:
        the training windows' augmentation (the mel warp unless --no-augment, and the masks)."""
        xb, yb, wb = _batch(data, wins, aug, args.freq_mask, args.mel_dropout, warp=args.augment)
        logits = net(xb)
        per = bce(logits[..., :k], yb[..., :k]) * head_w
        per = per.sum(-1) + per[..., bi] * (wb[..., -1] - 1.0)  # the onset multiplier
        main = (per * wb[..., 0]).sum() / wb[..., 0].sum().clamp(min=1.0)
        aux = torch.zeros(())
        for j, scale in enumerate(aux_scale):
            wj = wb[..., 1 + j]
            aux = aux + scale * ((bce(logits[..., k + j], yb[..., k + j]) * wj).sum() / wj.sum().clamp(min=1.0))
        return main, aux

    dev_wins = _windows(dev_n, np.random.default_rng(123))

    def dev_loss() -> float:
        net.eval()
        with torch.no_grad():
            return sum(float(loss_of(dev_n, dev_wins[i : i + 64])[0]) * len(dev_wins[i : i + 64])
                       for i in range(0, len(dev_wins), 64)) / len(dev_wins)

    best, best_state, best_epoch = float("inf"), None, -1
    if init:  # a fine-tune keeps the network it started from unless an epoch beats it on dev
        best = dev_loss()
        best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        best_epoch = 0
        print(f"epoch  0  (the --init network)  dev {best:.4f}", flush=True)
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        net.train()
        wins = _windows(train_n, rng)
        order = rng.permutation(len(wins))
        tot = tot_aux = 0.0
        for b in range(0, len(order), args.batch):
            opt.zero_grad()
            main, aux = loss_of(train_n, [wins[i] for i in order[b : b + args.batch]],
                                rng if (args.augment or masks) else None)
            loss = main + aux
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            mute_dropped()
            if sched.last_epoch + 1 < total_steps:
                sched.step()
            tot += float(main.detach()) * len(order[b : b + args.batch])
            tot_aux += float(aux.detach()) * len(order[b : b + args.batch])
        dl = dev_loss()
        aux_note = f"  aux {tot_aux / len(order):.4f}" if n_aux else ""
        print(f"epoch {epoch + 1:2d}  train {tot / len(order):.4f}{aux_note}  dev {dl:.4f}  "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if dl < best:
            best, best_epoch = dl, epoch + 1
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            export(net, mean, std, args.out)  # keep the best so far on disk

    assert best_state is not None
    net.load_state_dict(best_state)
    export(net, mean, std, args.out)
    if best_epoch == 0:
        print("no epoch beat the --init network on dev: it is written back unchanged"
              + (" but for the dropped inputs' weights, zero" if dropped else "")
              + " (its fitted heads, if any, are not carried over)")
    print(f"best dev loss {best:.4f} (epoch {best_epoch}); wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0
