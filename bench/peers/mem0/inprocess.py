"""
Light, single-threaded, in-process timing of the mem0 peer's Memory (exactly server.py's
configuration: it imports server.py): ingest the given memories, then time Memory.search one
query at a time. Not a load test: no concurrency, no HTTP.

    MEM0_PEER_DIR=.cache/mem0-peer/inprocess .cache/venv-mem0/bin/python bench/peers/mem0/inprocess.py \
        --data data.json [--stock-saves 300] [--warmup 5]

data.json: {"memories": [{"id", "content", "metadata"}...], "queries": ["..."]}. The data
directory must be empty (the script refuses to add to an existing index). Prints one JSON object.
"""

import argparse
import json
import os
import statistics
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--stock-saves", type=int, default=0, help="ingest the first N memories with mem0's save-after-every-insert")
parser.add_argument("--warmup", type=int, default=5)
parser.add_argument("--limit", type=int, default=10)
args = parser.parse_args()

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server  # noqa: E402  (builds server.MEMORY from the MEM0_PEER_* environment)

if server._count() != 0:
    sys.exit(f"{server.DATA_DIR} already holds {server._count()} memories; use an empty directory")

with open(args.data, encoding="utf-8") as f:
    data = json.load(f)
memories, queries = data["memories"], data["queries"]
memory = server.MEMORY
out = {"memories": len(memories), "queries": len(queries), "data_dir": server.DATA_DIR, "ort_threads": server.ORT_THREADS}


def add(batch, stock: bool):
    req = server.AddRequest(memories=[server.NewMemory(**m) for m in batch], user_id="bench")
    server.SAVE_EVERY_INSERT = stock
    t = time.perf_counter()
    server.add_memories(req)
    return time.perf_counter() - t


n_stock = min(args.stock_saves, len(memories))
if n_stock:
    secs = add(memories[:n_stock], stock=True)
    out["ingest_stock_saves"] = {"memories": n_stock, "seconds": round(secs, 2), "per_second": round(n_stock / secs, 1)}
rest = memories[n_stock:]
if rest:
    secs = add(rest, stock=False)
    out["ingest_one_save_per_request"] = {"memories": len(rest), "seconds": round(secs, 2), "per_second": round(len(rest) / secs, 1), "after": n_stock}
server.SAVE_EVERY_INSERT = False
out["index_total"] = server._count()


def timed(fn, items):
    samples = []
    for q in items:
        t = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - t) * 1000)
    return {"mean_ms": round(statistics.mean(samples), 3), "p50_ms": round(statistics.median(samples), 3), "min_ms": round(min(samples), 3), "max_ms": round(max(samples), 3)}


def search(q):
    return memory.search(q, top_k=args.limit, filters={"user_id": "bench"})


for q in queries[: args.warmup]:
    search(q)
out["search"] = timed(search, queries)
out["embed_only"] = timed(lambda q: memory.embedding_model.embed(q, "search"), queries)
vec = memory.embedding_model.embed(queries[0], "search")
out["faiss_only"] = timed(lambda q: memory.vector_store.search(query=q, vectors=vec, top_k=max(args.limit * 4, 60), filters={"user_id": "bench"}), queries)
hits = search(queries[0])["results"]
out["example"] = {"query": queries[0], "top": [{"score": round(h["score"], 4), "memory": h["memory"][:90]} for h in hits[:3]]}
out["network_attempts"] = len(server.NETWORK_ATTEMPTS)
print(json.dumps(out, indent=2))
