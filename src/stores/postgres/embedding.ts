/** Embeddings as stored in `memories.embedding`: Float32, little-endian, no header. */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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

/** The Float32Array a stored embedding holds (a copy: the driver's buffer may be unaligned). */
export function decodeEmbedding(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`a stored embedding has ${bytes.byteLength} bytes, not a multiple of 4`);
  const out = new Float32Array(bytes.byteLength / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
