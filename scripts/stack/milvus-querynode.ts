// A second Milvus query node beside the standalone's own: the same binary and config as the
// standalone (milvus.ts), run as `milvus run querynode`. It joins through the standalone's
// embedded etcd (as an external etcd client), consumes the same Kafka channels and reads sealed
// segments from the same local storage, so a collection loads with two replicas on one box:
// `stack env` sets MILVUS_REPLICAS=2. A real cluster runs query nodes on their own hosts over
// shared object storage (docs/production.md).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { StackError, ensureDir, httpProbe, startDetached, tcpProbe } from "./process.ts";
import { kafkaBrokers } from "./kafka.ts";
import { milvus, milvusBase } from "./milvus.ts";

const cfg = config.milvus;
const dir = join(config.stackDir, "milvus-querynode");
const exe = join(milvusBase, "bin", "milvus");

export const milvusQueryNode: Service = {
  name: "milvus-querynode",
  address: `${HOST}:${cfg.queryNodePort}`,
  ports: [cfg.queryNodePort, cfg.queryNodeMetricsPort],
  pidFile: join(dir, "querynode.pid"),
  logFile: join(dir, "querynode.log"),
  match: "milvus run querynode",
  stopSignal: "SIGTERM",
  stopTimeoutMs: 15_000,
  startTimeoutMs: config.startTimeoutS * 1000,
  // joins through the standalone's etcd and reads what its coordinators assign
  after: [milvus],
  partOf: milvus,
  apt: () => [],

  async install() {
    ensureDir(dir);
  },

  async launch() {
    if (!existsSync(exe)) throw new StackError(`${exe} is missing: milvus unpacks it on its first start`);
    // Milvus reads any setting from the environment by its key without dots or underscores
    const env = {
      DEPLOY_MODE: "CLUSTER",
      METRICS_PORT: String(cfg.queryNodeMetricsPort),
      MILVUSCONF: join(milvusBase, "configs"),
      MILVUS_RUN_DIR: join(dir, "run"),
      LD_LIBRARY_PATH: [join(milvusBase, "bin"), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
      ETCD_USE_EMBED: "false",
      ETCD_ENDPOINTS: `${HOST}:${cfg.etcdPort}`,
      QUERYNODE_IP: HOST,
      QUERYNODE_PORT: String(cfg.queryNodePort),
      MQ_TYPE: "kafka",
      KAFKA_BROKERLIST: kafkaBrokers(),
    };
    ensureDir(join(dir, "run"));
    return startDetached({ cmd: exe, args: ["run", "querynode"], cwd: dir, env, logFile: this.logFile, pidFile: this.pidFile });
  },

  probe: async () =>
    (await httpProbe(`http://${HOST}:${cfg.queryNodeMetricsPort}/healthz`, (s, body) => s === 200 && body.includes("OK"))) &&
    (await tcpProbe(HOST, cfg.queryNodePort)),
};
