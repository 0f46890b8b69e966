"""Exports the trained cross-encoder to the folder layout transformers.js loads offline:

    <dest>/config.json  tokenizer.json  tokenizer_config.json  special_tokens_map.json
    <dest>/onnx/model_quantized.onnx   (int8 dynamic quantisation: the one that is committed)
    <fp32-dir>/onnx/model.onnx         (fp32, kept out of git; pass --fp32-into-dest to put it in dest too)

    python export.py --model .cache/train-reranker/model --dest models/reranker --fp32-dir .cache/train-reranker/onnx
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModelForSequenceClassification, AutoTokenizer

MAX_MB = 30


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="folder written by train.py")
    ap.add_argument("--dest", required=True)
    ap.add_argument("--fp32-dir", required=True)
    ap.add_argument("--fp32-into-dest", action="store_true")
    ap.add_argument("--opset", type=int, default=14)
    args = ap.parse_args()

    src, dest, fp32_dir = Path(args.model), Path(args.dest), Path(args.fp32_dir)
    (dest / "onnx").mkdir(parents=True, exist_ok=True)
    (fp32_dir / "onnx").mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSequenceClassification.from_pretrained(src).eval()

    enc = tok(["who is maya's manager?", "what does tom do"], ["tom is maya's boss.", "tom works as a nurse at the clinic."],
              padding=True, return_tensors="pt")
    fp32 = fp32_dir / "onnx" / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(
            model,
            (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["logits"],
            dynamic_axes={k: {0: "batch_size", 1: "sequence_length"} for k in ("input_ids", "attention_mask", "token_type_ids")}
            | {"logits": {0: "batch_size"}},
            opset_version=args.opset,
            do_constant_folding=True,
            dynamo=False,
        )
        ref = model(**enc).logits.numpy()
    onnx.checker.check_model(str(fp32))

    q8 = dest / "onnx" / "model_quantized.onnx"
    quantize_dynamic(str(fp32), str(q8), weight_type=QuantType.QInt8, per_channel=True)

    feeds = {k: v.numpy() for k, v in enc.items()}
    for name, path in (("fp32", fp32), ("int8", q8)):
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = sess.run(["logits"], feeds)[0]
        print(f"{name}: {path.stat().st_size / 1e6:.1f} MB, max |logit - torch| = {np.abs(got - ref).max():.4f}")
    size_mb = q8.stat().st_size / 1e6
    if size_mb > MAX_MB:
        raise SystemExit(f"{q8} is {size_mb:.1f} MB, over the {MAX_MB} MB budget")

    # tokenizer + config beside the weights, for transformers.js and for evaluate.py
    for d in [dest, fp32_dir]:
        tok.save_pretrained(d)
        cfg = json.loads((src / "config.json").read_text())
        cfg["architectures"] = ["BertForSequenceClassification"]
        (d / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
        for junk in ("vocab.txt",):  # tokenizer.json holds the vocabulary
            (d / junk).unlink(missing_ok=True)
    if args.fp32_into_dest:
        shutil.copy(fp32, dest / "onnx" / "model.onnx")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
