"""Measures the reranker against the retrieval it sits behind, on data it was not trained on.

For each generated collection, every query is run through:
  bm25      keyword ranking (a stand-in for Postgres FTS)
  vector    cosine over all-MiniLM-L6-v2 embeddings (mean pooling + normalise: the project's embedder)
  hybrid    reciprocal-rank fusion (k=60) of the two
  +rerank   the top-K of vector or hybrid re-scored by the exported ONNX cross-encoder, the rest left in order

Splits:
  eval         held-out relations, templates and names (never seen in training): the figure that counts
  train-like   the training relations/templates, fresh collections and seed (in-distribution)

    python evaluate.py --model models/reranker [--fp32 .cache/train-reranker/onnx] --json models/reranker/eval.json
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer
from transformers import AutoModel, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402
from train import base_model_dir  # noqa: E402


class Embedder:
    def __init__(self) -> None:
        d = base_model_dir()
        self.tok = AutoTokenizer.from_pretrained(d)
        self.model = AutoModel.from_pretrained(d).eval()

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), 64):
            enc = self.tok(texts[i:i + 64], padding=True, truncation=True, max_length=256, return_tensors="pt")
            h = self.model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(e, dim=-1).numpy())
        return np.concatenate(out)


class CrossEncoder:
    def __init__(self, folder: Path, file: str, max_length: int, threads: int) -> None:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        self.sess = ort.InferenceSession(str(folder / "onnx" / file), so, providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.enable_truncation(max_length=max_length, strategy="longest_first")
        self.tok.enable_padding(pad_id=0)
        self.inputs = {i.name for i in self.sess.get_inputs()}

    def __call__(self, query: str, docs: list[str]) -> np.ndarray:
        enc = self.tok.encode_batch([(query, d) for d in docs])
        feeds = {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
        }
        return self.sess.run(["logits"], {k: v for k, v in feeds.items() if k in self.inputs})[0][:, 0]


def rrf(*rankings: list[int], k: int = 60) -> list[int]:
    score: dict[int, float] = {}
    for r in rankings:
        for pos, i in enumerate(r):
            score[i] = score.get(i, 0.0) + 1.0 / (k + pos + 1)
    return sorted(score, key=lambda i: -score[i])


def metrics(ranks: list[int]) -> dict[str, float]:
    """ranks: 1-based rank of the single relevant memory per query."""
    n = len(ranks)
    return {
        "mrr@10": sum(1 / r for r in ranks if r <= 10) / n,
        "recall@1": sum(r == 1 for r in ranks) / n,
        "recall@5": sum(r <= 5 for r in ranks) / n,
        "ndcg@10": sum(1 / math.log2(r + 1) for r in ranks if r <= 10) / n,
    }


def run_split(split: str, seed: int, n: int, emb: Embedder, rerankers: dict[str, CrossEncoder], top_k: int) -> dict:
    cols = data.build_split(split, seed, n)
    ranks: dict[str, list[int]] = {"bm25": [], "vector": [], "hybrid": []}
    for base in ("vector", "hybrid"):
        ranks |= {f"{base}+rerank[{k}]": [] for k in rerankers}
    ms: dict[str, list[float]] = {k: [] for k in rerankers}
    for col in cols:
        texts = [d.text for d in col.docs]
        ids = [d.id for d in col.docs]
        dv = emb(texts)
        qv = emb([q.text for q in col.queries])
        bm = data.BM25(texts)
        for qi, q in enumerate(col.queries):
            target = ids.index(q.positive)
            b = np.array(bm.scores(q.text))
            bm_rank = [int(i) for i in np.argsort(-b, kind="stable")]
            vec_rank = [int(i) for i in np.argsort(-(dv @ qv[qi]), kind="stable")]
            hyb = rrf(bm_rank[:50], vec_rank[:50])
            for name, r in (("bm25", bm_rank), ("vector", vec_rank), ("hybrid", hyb)):
                ranks[name].append(r.index(target) + 1 if target in r else 10_000)
            for base, ranking in (("vector", vec_rank), ("hybrid", hyb)):
                head, tail = ranking[:top_k], ranking[top_k:]
                for name, ce in rerankers.items():
                    t = time.perf_counter()
                    s = ce(q.text, [texts[i] for i in head])
                    ms[name].append((time.perf_counter() - t) * 1000)
                    order = [head[i] for i in np.argsort(-s, kind="stable")] + tail
                    ranks[f"{base}+rerank[{name}]"].append(order.index(target) + 1 if target in order else 10_000)
    hybrid_ranks = ranks["hybrid"]
    return {
        "split": split,
        "seed": seed,
        "collections": n,
        "queries": len(hybrid_ranks),
        "docs_per_collection": round(sum(len(c.docs) for c in cols) / n, 1),
        "rerank_top_k": top_k,
        "positive_in_top_k": {b: round(sum(r <= top_k for r in ranks[b]) / len(ranks[b]), 4) for b in ("vector", "hybrid")},
        "metrics": {k: {m: round(v, 4) for m, v in metrics(r).items()} for k, r in ranks.items()},
        "rerank_ms_per_query_median": {k: round(float(np.median(v)), 2) for k, v in ms.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="exported folder (onnx/model_quantized.onnx)")
    ap.add_argument("--fp32", help="folder with onnx/model.onnx, to compare the int8 model with")
    ap.add_argument("--eval-collections", type=int, default=30)
    ap.add_argument("--train-like-collections", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1001)
    ap.add_argument("--top-k", type=int, default=20)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(2)

    rerankers = {"int8": CrossEncoder(Path(args.model), "model_quantized.onnx", args.max_length, args.threads)}
    if args.fp32:
        rerankers["fp32"] = CrossEncoder(Path(args.fp32), "model.onnx", args.max_length, args.threads)
    emb = Embedder()
    report = {"splits": [
        run_split("eval", args.seed, args.eval_collections, emb, rerankers, args.top_k),
        run_split("train", args.seed, args.train_like_collections, emb, rerankers, args.top_k),
    ]}
    for s in report["splits"]:
        name = "held-out (eval relations, names, templates)" if s["split"] == "eval" else "train-like (fresh seed)"
        print(f"\n{name}: {s['queries']} queries, {s['collections']} collections of ~{s['docs_per_collection']} memories;"
              f" positive in top-{s['rerank_top_k']} (the reranker's ceiling): {s['positive_in_top_k']}")
        print("| ranking | MRR@10 | R@1 | R@5 | nDCG@10 |\n| --- | --- | --- | --- | --- |")
        for k, m in s["metrics"].items():
            print(f"| {k} | {m['mrr@10']:.3f} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['ndcg@10']:.3f} |")
        print("rerank ms/query (median):", s["rerank_ms_per_query_median"])
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
