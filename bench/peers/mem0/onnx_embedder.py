"""
mem0 embedder that runs the repository's ONNX model folder (models/all-minilm-l6-v2) with
onnxruntime + tokenizers: the same int8 export, tokenizer, mean pooling over the attention mask
and L2 normalisation as the Memory API's embedder (src/ml/embed-worker.ts, transformers.js), so
both servers store and search the same vectors. No model hub, no torch.

It subclasses mem0's own EmbeddingBase (mem0/embeddings/base.py), the class every built-in
provider subclasses: `embed(text, memory_action)` returns one vector as a list of floats,
`embed_batch(texts, memory_action)` a list of them (one padded onnxruntime run).
"""

from __future__ import annotations

import json
import os
from typing import List, Literal, Optional

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from mem0.configs.embeddings.base import BaseEmbedderConfig
from mem0.embeddings.base import EmbeddingBase

ONNX_CANDIDATES = ("onnx/model_quantized.onnx", "onnx/model.onnx")  # int8 preferred, as models/README.md


class OnnxFolderEmbedding(EmbeddingBase):
    """Sentence embedder over a model folder laid out as models/README.md describes."""

    def __init__(self, model_dir: str, threads: int = 1, config: Optional[BaseEmbedderConfig] = None):
        spec_path = os.path.join(model_dir, "memory-api.json")
        with open(spec_path, encoding="utf-8") as f:
            self.spec = json.load(f)
        if self.spec.get("pooling", "mean") not in ("mean", "cls"):
            raise ValueError(f"{spec_path}: unsupported pooling {self.spec.get('pooling')!r}")
        dims = int(self.spec["dimensions"])
        super().__init__(config or BaseEmbedderConfig(model=self.spec.get("name", model_dir), embedding_dims=dims))

        onnx_path = next((os.path.join(model_dir, c) for c in ONNX_CANDIDATES if os.path.exists(os.path.join(model_dir, c))), None)
        if onnx_path is None:
            raise FileNotFoundError(f"{model_dir}: no {' or '.join(ONNX_CANDIDATES)} (run `bun run fetch-models`)")
        self.onnx_path = onnx_path

        # Same session settings as the Memory API's embed worker: `threads` intra-op threads,
        # one inter-op thread, sequential execution, all graph optimisations.
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(onnx_path, sess_options=options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}

        max_tokens = int(self.spec.get("max_tokens", 256))
        tokenizer_path = os.path.join(model_dir, "tokenizer.json")
        # Two instances: padding is tokenizer state, so the single-text one (no padding, the
        # path mem0 uses for every add and search) never sees the batch one's setting.
        self.tokenizer = Tokenizer.from_file(tokenizer_path)
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()
        self.batch_tokenizer = Tokenizer.from_file(tokenizer_path)
        self.batch_tokenizer.enable_truncation(max_length=max_tokens)
        pad_id = self.batch_tokenizer.token_to_id("[PAD]")
        self.batch_tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")

        self.query_prefix = self.spec.get("query_prefix", "") or ""
        self.document_prefix = self.spec.get("document_prefix", "") or ""
        self.dims = dims

    def _prefix(self, memory_action: Optional[str]) -> str:
        return self.query_prefix if memory_action == "search" else self.document_prefix

    def _run(self, encodings) -> np.ndarray:
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.asarray([e.type_ids for e in encodings], dtype=np.int64)
        (hidden,) = self.session.run(["last_hidden_state"], feeds)  # [batch, tokens, dims]
        if self.spec.get("pooling", "mean") == "cls":
            pooled = hidden[:, 0, :]
        else:
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        if self.spec.get("normalize", True):
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        if pooled.shape[1] != self.dims:
            raise ValueError(f"model gives {pooled.shape[1]} dims, memory-api.json says {self.dims}")
        return pooled.astype(np.float32)

    def embed(self, text, memory_action: Optional[Literal["add", "search", "update"]] = None) -> List[float]:
        encoding = self.tokenizer.encode(self._prefix(memory_action) + str(text))
        return self._run([encoding])[0].tolist()

    def embed_batch(self, texts, memory_action="add") -> List[List[float]]:
        if not texts:
            return []
        prefix = self._prefix(memory_action)
        encodings = self.batch_tokenizer.encode_batch([prefix + str(t) for t in texts])
        return self._run(encodings).tolist()
