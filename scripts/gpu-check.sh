#!/usr/bin/env bash
# The 4-bit local-LLM path on a CUDA machine that has torch and transformers but not medspeak's other needs.
#
#   scripts/gpu-check.sh prepare   here (x86-64, with .venv): fill .gpu/ with the wheels the GPU machine lacks
#                                  (Python 3.12, manylinux) and a bitsandbytes wheel trimmed to its CUDA 13.0
#                                  and CPU libraries (the full wheel carries ~125 MB of CUDA and ROCm builds)
#   scripts/gpu-check.sh           there, from the repository root: installs .gpu/ into /tmp/site, runs
#                                  bench/llm_gpu.py (a Mistral-7B-shaped random model through LocalLLMBackend)
#                                  and the `gpu` test; logs and llm_gpu.json go to $OUT (else ./gpu-check-out)
#
# .gpu/ is ignored by git (.git/info/exclude); it travels to the device machine when named in `carry`.
set -uo pipefail
cd "$(dirname "$0")/.."

# Pinned to the versions of requirements.txt / the development environment (Python 3.11 there, 3.12 here).
WHEELS=(
  pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 python-dotenv==1.2.4 annotated-types==0.8.0
  typing-inspection==0.4.5 typing-extensions==4.16.0 llguidance==1.9.1
  jsonschema==4.26.0 referencing==0.37.0 rpds-py==2026.9.1 jsonschema-specifications==2025.9.1 attrs==26.1.0
  httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 anyio==4.16.0 idna==3.20 h11==0.16.0
  drug-named-entity-recognition==2.0.9
)
BNB_VERSION=0.50.2
BNB_KEEP="libbitsandbytes_cpu.so libbitsandbytes_cuda130.so"  # torch 2.11.0+cu130 on the device machine

prepare() {
  local py=.venv/bin/python
  rm -rf .gpu && mkdir -p .gpu
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
  "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_31_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .gpu "${WHEELS[@]}" || return 1
  # bitsandbytes' wheel is py3-none (its libraries are loaded with ctypes): the installed copy, checked
  # against its RECORD, is repacked with only the libraries kept.
  "$py" - "$BNB_VERSION" "$BNB_KEEP" <<'EOF' || return 1
import base64, hashlib, importlib.metadata as md, sys, zipfile
from pathlib import Path

version, keep = sys.argv[1], set(sys.argv[2].split())
dist = md.distribution("bitsandbytes")
if dist.version != version:
    sys.exit(f"bitsandbytes {dist.version} installed, {version} wanted")
root = Path(dist.locate_file(""))
wheel_tag = next(l.split(": ")[1] for l in dist.read_text("WHEEL").splitlines() if l.startswith("Tag: "))
info = f"bitsandbytes-{version}.dist-info"

def digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

record = []
out = Path(".gpu") / f"bitsandbytes-{version}-{wheel_tag}.whl"
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as whl:
    for line in dist.read_text("RECORD").splitlines():
        path, expected, _ = line.rsplit(",", 2)
        name = Path(path).name
        if not expected or "__pycache__" in path or path.startswith(info) and name in {"INSTALLER", "REQUESTED", "direct_url.json"}:
            continue
        if name.startswith("libbitsandbytes_") and name not in keep:
            continue
        data = (root / path).read_bytes()
        if digest(data) != expected:
            sys.exit(f"{path} differs from bitsandbytes' RECORD: reinstall it")
        whl.writestr(path, data)
        record.append(f"{path},{digest(data)},{len(data)}")
    record.append(f"{info}/RECORD,,")
    whl.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
print(f"{out}: {out.stat().st_size / 2**20:.1f} MiB")
EOF
  du -sh .gpu
  local tracked
  tracked=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
  echo "tracked tree: $((tracked / 2**20)) MiB; .gpu: $(($(du -sb .gpu | cut -f1) / 2**20)) MiB (limit of what travels: 64 MiB)"
}

check() {
  local out=${OUT:-$PWD/gpu-check-out}
  mkdir -p "$out"
  export PYTHONUNBUFFERED=1 OUT="$out" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # nothing to reach there
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/*.whl \
    2>&1 | tee "$out/install.log" || { echo "installing .gpu/ failed"; return 1; }
  export PYTHONPATH=/tmp/site:$PWD
  # bitsandbytes' CUDA library needs libcudart and libcublas 13: torch has loaded them by then (its nvidia-*
  # packages); their folders on the library path as well, in case it has not.
  local libs
  libs=$(python3 -c 'import glob, os, sys
roots = [p for p in sys.path if p.endswith("-packages") and os.path.isdir(os.path.join(p, "nvidia"))]
found = [f for r in roots for n in ("libcudart.so.13", "libcublas.so.13") for f in glob.glob(f"{r}/nvidia/**/{n}", recursive=True)]
print(":".join(sorted({os.path.dirname(f) for f in found})))')
  [ -n "$libs" ] && export LD_LIBRARY_PATH=${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  {
    date -u
    nvidia-smi
    df -h /tmp
    free -g
    python3 -c 'import torch, transformers, bitsandbytes, llguidance, pydantic, jsonschema
print("torch", torch.__version__, torch.version.cuda, torch.cuda.is_available(), "| transformers", transformers.__version__,
      "| bitsandbytes", bitsandbytes.__version__, "| llguidance", llguidance.__version__, "| pydantic", pydantic.__version__)'
  } 2>&1 | tee "$out/env.log"
  local bench_rc test_rc
  # The gpu test first (short); tests/conftest.py needs the store (SQLAlchemy, bcrypt...), the test none of it.
  python3 -m pytest tests/indexing/test_llm_transformers.py -q -p no:cacheprovider --noconftest -m gpu 2>&1 \
    | tee "$out/pytest.log"
  test_rc=${PIPESTATUS[0]}
  if [ "$test_rc" -ne 0 ]; then  # the suite turns warnings into errors: is a warning all that failed?
    python3 -m pytest tests/indexing/test_llm_transformers.py -q -p no:cacheprovider --noconftest -m gpu \
      -W ignore::DeprecationWarning -W ignore::UserWarning -W ignore::FutureWarning 2>&1 | tee "$out/pytest-nowarn.log"
  fi
  python3 bench/llm_gpu.py "$@" 2>&1 | tee "$out/bench.log"
  bench_rc=${PIPESTATUS[0]}
  echo "bench rc=$bench_rc, gpu test rc=$test_rc" | tee -a "$out/env.log"
  [ "$bench_rc" -eq 0 ] && [ "$test_rc" -eq 0 ]
}

if [ "${1:-}" = prepare ]; then
  prepare
else
  check "$@"
fi
