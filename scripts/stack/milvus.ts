// Milvus 2.3 standalone: the real server binary from the `milvus` PyPI package ("embedded
// Milvus": embedded etcd, local storage), in a venv at .stack/milvus-venv, data in
// .stack/milvus/data. Its message queue is the stack's Kafka (kafka.ts) rather than the
// in-process RocksMQ, so a second query node (milvus-querynode.ts) can consume the same
// channels and collections load with two replicas. The Node SDK @zilliz/milvus2-sdk-node 2.3.5
// is the one its compatibility table maps to Milvus 2.3; compose.yaml runs milvusdb/milvus of
// the same version.
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serviceUrls } from "../../src/config.ts";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { isLoopback, listenAddresses } from "./listeners.ts";
import { StackError, ensureDir, httpProbe, run, runStreaming, say, startDetached, tcpProbe, which } from "./process.ts";
import { kafka, kafkaBrokers } from "./kafka.ts";

const cfg = config.milvus;
const dir = join(config.stackDir, "milvus");
const base = join(dir, "data");
const venv = join(config.stackDir, "milvus-venv");
const py = join(venv, "bin", "python");
const launcher = join(config.root, "scripts", "stack", "milvus", "launch.py");
/** which message queue the data under base/data was written with */
const mqMarker = join(base, "data", "mq-type");
const MQ = "kafka";

/**
 * Milvus' metadata (embedded etcd) holds positions in its message queue: data written with
 * another queue (the stack's RocksMQ before Kafka) cannot be read with this one. It is moved
 * aside, not deleted; the API's vectors are derived data (PostgreSQL is the source of truth).
 */
function setAsideDataOfAnotherQueue(): void {
  const dataDir = join(base, "data");
  if (!existsSync(join(dataDir, "etcd.data"))) return;
  const written = existsSync(mqMarker) ? readFileSync(mqMarker, "utf8").trim() : "rocksmq";
  if (written === MQ) return;
  const aside = `${dataDir}.${written}-${Date.now()}`;
  renameSync(dataDir, aside);
  say(
    "milvus",
    `data under ${dataDir} was written with ${written}; the stack's Milvus now uses ${MQ}: moved it to ${aside} and starting empty ` +
      "(refill it from PostgreSQL with `bun run outbox:replay --reindex --target milvus` once workers run)",
  );
}

let simd: string = cfg.simd;
/** size of milvus.log when the current start began: what this start wrote comes after it */
let launchOffset = 0;

function logSince(file: string, offset: number, max = 4 << 20): string {
  try {
    const size = statSync(file).size;
    const len = Math.min(Math.max(0, size - offset), max);
    const buf = Buffer.alloc(len);
    const fd = openSync(file, "r");
    readSync(fd, buf, 0, len, offset);
    closeSync(fd);
    return buf.toString("utf8");
  } catch {
    return "";
  }
}

function installedVersion(): string | null {
  if (!existsSync(py)) return null;
  try {
    return run(py, ["-c", "import milvus; print(milvus.__version__)"]).trim();
  } catch {
    return null;
  }
}

function pythonHasVenv(): boolean {
  if (!which("python3")) return false;
  try {
    return run("python3", ["-c", "import venv, ensurepip; print(1)"]).trim() === "1";
  } catch {
    return false;
  }
}

export const milvus: Service = {
  name: "milvus",
  address: `${HOST}:${cfg.port}`,
  ports: [cfg.port, cfg.metricsPort, cfg.etcdPort],
  pidFile: join(dir, "milvus.pid"),
  logFile: join(dir, "milvus.log"),
  extraLogs: () => [join(base, "logs", "etcd.log")],
  // the launcher (python ... milvus/launch.py) exec()s into .../bin/milvus run standalone
  match: "milvus",
  // Graceful stop: usually under a second. Now and then (most often soon after a start)
  // Milvus 2.3.5 deadlocks in its shutdown (datanode dataSyncService.close waiting on the
  // msgdispatcher mutex) and never exits; it is then killed. Inserts are durable before a
  // stop (in Kafka), so a kill loses nothing that was acknowledged.
  stopSignal: "SIGTERM",
  stopTimeoutMs: 15_000,
  startTimeoutMs: config.startTimeoutS * 1000,
  after: [kafka],

  apt: () => [
    // Debian's own python3 needs python3-venv for `-m venv`; pyenv/upstream builds have it
    { pkg: "python3-venv", present: () => existsSync(py) || pythonHasVenv() },
  ],

  async install() {
    ensureDir(dir);
    const have = installedVersion();
    if (have === cfg.version) return;
    say("milvus", have ? `venv has milvus ${have}; installing ${cfg.version}` : `creating ${venv} and installing milvus==${cfg.version} from PyPI`);
    if (!existsSync(py)) run("python3", ["-m", "venv", venv]);
    // pip's download cache next to Maven's, so CI can cache one folder (.cache/)
    await runStreaming(join(venv, "bin", "pip"), ["install", "--disable-pip-version-check", "--progress-bar", "off", `milvus==${cfg.version}`], {
      prefix: "milvus",
      env: { PIP_CACHE_DIR: join(config.cacheDir, "pip") },
    });
    if (installedVersion() !== cfg.version) throw new StackError(`pip installed milvus, but ${py} cannot import milvus ${cfg.version}`);
  },

  async launch() {
    ensureDir(base);
    setAsideDataOfAnotherQueue();
    ensureDir(join(base, "data"));
    writeFileSync(mqMarker, `${MQ}\n`);
    launchOffset = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const args = [
      launcher,
      "--base", base,
      "--port", String(cfg.port),
      "--metrics-port", String(cfg.metricsPort),
      "--etcd-port", String(cfg.etcdPort),
      "--simd", simd,
      "--log-level", cfg.logLevel,
      "--set", `mq.type=${MQ}`,
      "--set", `kafka.brokerList=${kafkaBrokers()}`,
    ];
    return startDetached({ cmd: py, args, cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  // ready = the health endpoint says OK and the gRPC port accepts connections
  probe: async () =>
    (await httpProbe(`http://${HOST}:${cfg.metricsPort}/healthz`, (s, body) => s === 200 && body.includes("OK"))) &&
    (await tcpProbe(HOST, cfg.port)),

  // /healthz turns OK before Milvus can serve DDL after a restart: the previous run's node
  // sessions stay in etcd until their lease expires (common.session.ttl, 10 s here) and
  // until then collection DDL stalls. Ready means a create+drop round trip works.
  async afterReady() {
    // Milvus' embedded etcd holds its metadata unauthenticated: it must listen on loopback only
    // (etcd's embedded defaults, localhost:2379/2380). The 2.3 gRPC and metrics ports bind the
    // wildcard address whatever the config says; a host firewall must cover those.
    for (const port of [cfg.etcdPort, 2380]) {
      const exposed = listenAddresses(port).filter((a) => !isLoopback(a));
      if (exposed.length) throw new StackError(`milvus' etcd listens on ${exposed.join(", ")}:${port}, beyond loopback; stop it (stack stop milvus)`);
    }
    const t0 = Date.now();
    const { MilvusClient, DataType } = await import("@zilliz/milvus2-sdk-node");
    const c = new MilvusClient({ address: `${HOST}:${cfg.port}`, timeout: this.startTimeoutMs });
    const collection_name = "_stack_ready_probe";
    try {
      await c.dropCollection({ collection_name });
      const r = await c.createCollection({
        collection_name,
        fields: [
          { name: "id", data_type: DataType.Int64, is_primary_key: true },
          { name: "v", data_type: DataType.FloatVector, dim: 2 },
        ],
      });
      if (r.error_code !== "Success") throw new StackError(`milvus answers but cannot create a collection: ${r.reason}`);
      await c.dropCollection({ collection_name });
    } finally {
      await c.closeConnection();
    }
    const waited = Date.now() - t0;
    if (waited > 2000) say("milvus", `accepts DDL ${(waited / 1000).toFixed(1)} s after /healthz turned OK`);
  },

  // Retried once: after an internal port was taken under it, or (some AMD EPYC + AVX-512
  // combinations crash knowhere with SIGILL) with AVX2.
  retryAfterFailure(err) {
    // a Go crash prints the signal first, then every goroutine: search all this start wrote
    const output = `${err.message}\n${logSince(this.logFile, launchOffset)}`;
    // The launcher picks Milvus' internal gRPC ports (rootCoord 53100, …) free, but they lie in
    // the kernel's ephemeral range: another service's outgoing connection can take one before
    // Milvus binds it (seen once in CI while Kafka and Neo4j started). A new launch picks again.
    const taken = /listen tcp :(\d+): bind: address already in use/.exec(output);
    if (taken) {
      say("milvus", `internal port ${taken[1]} was taken before Milvus bound it; starting it once more`);
      return true;
    }
    if (simd !== "auto") return false;
    if (!/SIGILL|illegal instruction/i.test(output)) return false;
    say("milvus", "crashed with SIGILL under simdType=auto; retrying with STACK_MILVUS_SIMD=avx2");
    simd = "avx2";
    return true;
  },
};

export const milvusAddress = () => serviceUrls.milvus(HOST, cfg.port);
/** the standalone's folder: its extracted binaries (bin/) and config (configs/), which the second query node shares */
export const milvusBase = base;
