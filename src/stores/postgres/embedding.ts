/** Embeddings as stored in `memories.embedding`: Float32, little-endian, no header. */
import { LITTLE_ENDIAN, float32FromBytes } from "../../domain/vector-bytes";

/** Writes `vectors` back to back into one buffer (one binary parameter for a whole batch). */
export function encodeEmbeddings(vectors: Float32Array[]): Buffer {
  const width = vectors[0]?.length ?? 0;
  const out = Buffer.allocUnsafe(vectors.length * width * 4);
  vectors.forEach((v, i) => {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), i * width * 4);
    } else {
      for (let j = 0; j < v.length; j++) out.writeFloatLE(v[j]!, (i * width + j) * 4);
    }
  });
  return out;
}

export function encodeEmbedding(vector: Float32Array): Buffer {
  return encodeEmbeddings([vector]);
}

/** The Float32Array a stored embedding holds. */
export const decodeEmbedding = float32FromBytes;
