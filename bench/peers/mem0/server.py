"""
mem0 peer server for the bench: a FastAPI app (one uvicorn process, sync endpoints, as mem0's own
self-hosted server/main.py) around `mem0.Memory` with the FAISS vector store (exact IndexFlatIP,
cosine) and the repository's ONNX MiniLM as embedder (onnx_embedder.py). No LLM is ever called
(memories are added with infer=False; search uses no LLM) and nothing leaves the machine:
telemetry is off and an audit hook refuses every non-loopback connection (see README.md).

    .cache/venv-mem0/bin/python bench/peers/mem0/server.py --port 8790 --dir .cache/mem0-peer/demo
    # or, with the same settings from the environment:
    MEM0_PEER_DIR=.cache/mem0-peer/demo .cache/venv-mem0/bin/python -m uvicorn server:app \
        --app-dir bench/peers/mem0 --host 127.0.0.1 --port 8790 --no-access-log

Endpoints: GET /health, POST /memories, POST /search, POST /embed (vectors, for checks), POST /reset.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to these files in the working tree
HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

if __name__ == "__main__":
    # Parsed before mem0 is imported: mem0 reads MEM0_DIR and MEM0_TELEMETRY at import time.
    _cli = argparse.ArgumentParser(description="mem0 (FAISS + local ONNX embedder) peer server")
    _cli.add_argument("--host", default="127.0.0.1")
    _cli.add_argument("--port", type=int, default=8790)
    _cli.add_argument("--dir", help="data directory (FAISS index, history.db, mem0 home); env MEM0_PEER_DIR")
    _cli.add_argument("--model-dir", help="model folder; env MEM0_PEER_MODEL_DIR (default models/all-minilm-l6-v2)")
    _cli.add_argument("--threads", type=int, help="onnxruntime intra-op threads; env MEM0_PEER_ORT_THREADS (default 1)")
    _cli.add_argument("--log-level", default="warning")
    _cli.add_argument("--access-log", action="store_true", help="uvicorn access log (off by default)")
    CLI_ARGS = _cli.parse_args()
    if CLI_ARGS.dir:
        os.environ["MEM0_PEER_DIR"] = CLI_ARGS.dir
    if CLI_ARGS.model_dir:
        os.environ["MEM0_PEER_MODEL_DIR"] = CLI_ARGS.model_dir
    if CLI_ARGS.threads is not None:
        os.environ["MEM0_PEER_ORT_THREADS"] = str(CLI_ARGS.threads)

# ---------------------------------------------------------------------------------------------
# Settings (environment), fixed before mem0 is imported

DATA_DIR = os.path.abspath(os.environ.get("MEM0_PEER_DIR") or os.path.join(REPO_ROOT, ".cache", "mem0-peer", "default"))
MODEL_DIR = os.path.abspath(os.environ.get("MEM0_PEER_MODEL_DIR") or os.path.join(REPO_ROOT, "models", "all-minilm-l6-v2"))
ORT_THREADS = int(os.environ.get("MEM0_PEER_ORT_THREADS") or "1")
COLLECTION = os.environ.get("MEM0_PEER_COLLECTION") or "mem0"
# mem0's FAISS store rewrites the whole index and a JSON of every payload after EACH insert
# (O(n) per memory, O(n^2) per ingest). By default POST /memories saves once per request
# instead; MEM0_PEER_SAVE_EVERY_INSERT=1 keeps the stock behaviour. Searches are unaffected.
SAVE_EVERY_INSERT = os.environ.get("MEM0_PEER_SAVE_EVERY_INSERT", "0").lower() in ("1", "true", "yes")
ALLOW_NETWORK = os.environ.get("MEM0_PEER_ALLOW_NETWORK", "0").lower() in ("1", "true", "yes")

os.makedirs(DATA_DIR, exist_ok=True)
# mem0 keeps ~/.mem0/config.json (telemetry id, notice state) and, by default, history.db there.
os.environ["MEM0_DIR"] = os.path.join(DATA_DIR, "mem0-home")
# Telemetry (PostHog, us.i.posthog.com) and the "notices" it gates (a config fetched from
# raw.githubusercontent.com) are on by default in mem0; both read this at import time.
os.environ["MEM0_TELEMETRY"] = "False"

# ---------------------------------------------------------------------------------------------
# Network guard: refuse (and count) any connection or name lookup that is not loopback

import ipaddress  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

NETWORK_ATTEMPTS: list = []
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_local_host(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]")
    if host.lower() in _LOOPBACK_NAMES or host == "":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _audit(event, args):
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) == getattr(socket, "AF_UNIX", None):
            return
        host = address[0] if isinstance(address, tuple) else address
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if _is_local_host(host):
        return
    NETWORK_ATTEMPTS.append({"event": event, "host": str(host)})
    print(f"[mem0-peer] network attempt: {event} {host}", file=sys.stderr, flush=True)
    if not ALLOW_NETWORK:
        raise PermissionError(f"mem0 peer: network access to {host!r} refused (MEM0_PEER_ALLOW_NETWORK=1 allows it)")


sys.addaudithook(_audit)

# ---------------------------------------------------------------------------------------------
# mem0

import time  # noqa: E402
from typing import Any, Dict, List, Optional  # noqa: E402

import faiss  # noqa: E402
import mem0  # noqa: E402
from fastapi import FastAPI, HTTPException  # noqa: E402
from mem0 import Memory  # noqa: E402
from mem0.configs.base import MemoryConfig  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

sys.path.insert(0, HERE)
from onnx_embedder import OnnxFolderEmbedding  # noqa: E402

# Where an LLM / remote embedder would go: mem0's Memory always builds both clients from the
# config (openai here). They are constructed (no request is made) and never used: the embedder
# is replaced below, add() runs with infer=False, search() calls no LLM. If anything did call
# them, the request would go to a closed local port and fail at once, never to the internet.
NEVER_CALLED_URL = "http://127.0.0.1:9/v1"


def memory_config() -> Dict[str, Any]:
    return {
        "vector_store": {
            "provider": "faiss",
            "config": {
                "collection_name": COLLECTION,
                "path": os.path.join(DATA_DIR, "faiss"),
                "distance_strategy": "cosine",  # IndexFlatIP (exact) on L2-normalised vectors
                "embedding_model_dims": 384,
            },
        },
        "llm": {
            "provider": "openai",
            "config": {"api_key": "unused-no-llm-calls", "openai_base_url": NEVER_CALLED_URL, "model": "never-called"},
        },
        "embedder": {
            "provider": "openai",  # placeholder, replaced by OnnxFolderEmbedding in build_memory()
            "config": {"api_key": "unused", "openai_base_url": NEVER_CALLED_URL, "embedding_dims": 384},
        },
        "history_db_path": os.path.join(DATA_DIR, "history.db"),
        "version": "v1.1",
    }


def build_memory() -> Memory:
    memory = Memory(MemoryConfig(**memory_config()))
    # mem0 has no registry for out-of-tree embedders (EmbedderConfig accepts a fixed provider
    # list), so the instance is swapped in after construction. Memory reaches the embedder only
    # through this attribute.
    memory.embedding_model = OnnxFolderEmbedding(MODEL_DIR, threads=ORT_THREADS)
    memory.embedding_model.embed("warm up", "search")
    return memory


MEMORY = build_memory()
INGEST_LOCK = threading.Lock()
STARTED = time.time()

app = FastAPI(title="mem0 peer (FAISS + local ONNX embedder)", version=mem0.__version__)


class NewMemory(BaseModel):
    content: str
    metadata: Optional[Dict[str, Any]] = None
    id: Optional[str] = Field(None, description="caller's id, kept as metadata.external_id (mem0 assigns its own uuid)")


class AddRequest(BaseModel):
    memories: List[NewMemory]
    user_id: str = "bench"


class SearchRequest(BaseModel):
    query: str
    user_id: str = "bench"
    limit: int = 10
    threshold: Optional[float] = None  # mem0's default (0.1) when absent


class EmbedRequest(BaseModel):
    texts: List[str]
    memory_action: str = "search"


def _count() -> int:
    index = getattr(MEMORY.vector_store, "index", None)
    return int(index.ntotal) if index is not None else 0


@app.get("/health")
def health():
    return {
        "status": "ok",
        "mem0ai": mem0.__version__,
        "faiss": faiss.__version__,
        "memories": _count(),
        "vector_store": {"provider": "faiss", "index": type(MEMORY.vector_store.index).__name__, "distance": "cosine", "path": MEMORY.vector_store.path},
        "embedder": {"model_dir": MODEL_DIR, "onnx": os.path.relpath(MEMORY.embedding_model.onnx_path, MODEL_DIR), "dims": MEMORY.embedding_model.dims, "ort_threads": ORT_THREADS},
        "telemetry": os.environ.get("MEM0_TELEMETRY"),
        "save_every_insert": SAVE_EVERY_INSERT,
        "network_attempts": len(NETWORK_ATTEMPTS),
        "uptime_s": round(time.time() - STARTED, 1),
    }


@app.post("/memories")
def add_memories(req: AddRequest):
    started = time.perf_counter()
    ids: List[str] = []
    with INGEST_LOCK:
        store = MEMORY.vector_store
        if not SAVE_EVERY_INSERT:
            store._save = lambda: None  # instance attribute shadows FAISS._save for this request
        try:
            for m in req.memories:
                metadata = dict(m.metadata or {})
                if m.id is not None:
                    metadata["external_id"] = m.id
                result = MEMORY.add(m.content, user_id=req.user_id, metadata=metadata, infer=False)
                ids.extend(r["id"] for r in result.get("results", []))
        except Exception as e:
            raise HTTPException(status_code=500, detail=f"{type(e).__name__}: {e}")
        finally:
            if not SAVE_EVERY_INSERT:
                del store._save
                store._save()
    return {"count": len(ids), "ids": ids, "total": _count(), "seconds": round(time.perf_counter() - started, 4)}


@app.post("/search")
def search_memories(req: SearchRequest):
    kwargs: Dict[str, Any] = {"top_k": req.limit, "filters": {"user_id": req.user_id}}
    if req.threshold is not None:
        kwargs["threshold"] = req.threshold
    try:
        return MEMORY.search(req.query, **kwargs)
    except ValueError as e:
        raise HTTPException(status_code=400, detail=str(e))


@app.post("/embed")
def embed(req: EmbedRequest):
    """The vectors mem0 stores / searches with (one embedder call per text, as mem0 makes them)."""
    return {"vectors": [MEMORY.embedding_model.embed(t, req.memory_action) for t in req.texts]}


@app.post("/reset")
def reset():
    with INGEST_LOCK:
        MEMORY.reset()
    return {"memories": _count()}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=CLI_ARGS.host, port=CLI_ARGS.port, workers=1, log_level=CLI_ARGS.log_level, access_log=CLI_ARGS.access_log)
