/**
 * Request bodies are bounded by the app, not by Bun's HTTP server: Bun refuses a body over its
 * `maxRequestBodySize` itself, with an empty 413, before the app can answer the problem+json
 * every other error gets. So the server's own limit is lifted (`SERVER_BODY_LIMIT`) and the app
 * enforces MAX_BODY_BYTES: a declared Content-Length is checked before anything is read
 * (errors.ts), and a chunked body is read only up to the limit. A body the app never reads is
 * discarded by Bun as it arrives, not buffered (300 MB sent to a route that ignores it grew the
 * server's memory by 3 MB).
 */
export const SERVER_BODY_LIMIT = Number.MAX_SAFE_INTEGER;

/** The body's bytes, or null as soon as more than `maxBytes` arrived (the rest is not read). */
export async function readBodyWithin(request: Request, maxBytes: number): Promise<Uint8Array | null> {
  // A declared length was checked against the limit on arrival, and the body cannot exceed it.
  if (request.headers.get("content-length") !== null || request.body === null) {
    return new Uint8Array(await request.arrayBuffer());
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
