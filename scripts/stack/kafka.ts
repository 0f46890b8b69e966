// Apache Kafka in KRaft mode (one process is broker and controller), built from Maven Central
// (scripts/stack/kafka/pom.xml): the message queue Milvus' standalone and its second query node
// share. PLAINTEXT on 127.0.0.1 only, data in .stack/kafka/data, Maven's repository in .cache/m2.
import { randomBytes, createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { StackError, ensureDir, run, runStreaming, say, startDetached, tcpProbe, which } from "./process.ts";

const cfg = config.kafka;
const dir = join(config.stackDir, "kafka");
const lib = join(dir, "lib");
const data = join(dir, "data");
const pom = join(config.root, "scripts", "stack", "kafka", "pom.xml");
const stampFile = join(lib, ".build-stamp");
const propertiesFile = join(dir, "server.properties");
const log4jFile = join(dir, "log4j.properties");

const stamp = () => createHash("sha256").update(readFileSync(pom)).digest("hex");
const built = () => existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === stamp();

function writeConfig(): void {
  writeFileSync(
    propertiesFile,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@${HOST}:${cfg.controllerPort}`,
      `listeners=PLAINTEXT://${HOST}:${cfg.port},CONTROLLER://${HOST}:${cfg.controllerPort}`,
      `advertised.listeners=PLAINTEXT://${HOST}:${cfg.port}`,
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      `log.dirs=${data}`,
      // Milvus creates its channels' topics by producing to them
      "auto.create.topics.enable=true",
      "num.partitions=1",
      "offsets.topic.replication.factor=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      // Milvus keeps what it needs in its own storage after a flush; a day of WAL is plenty here
      "log.retention.hours=24",
      "",
    ].join("\n"),
  );
  writeFileSync(
    log4jFile,
    [
      "log4j.rootLogger=WARN, stdout",
      "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
      "",
    ].join("\n"),
  );
}

const JVM = () => [`-Xms${Math.min(256, cfg.heapMb)}m`, `-Xmx${cfg.heapMb}m`, "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", `-Dlog4j.configuration=file:${log4jFile}`];

export const kafka: Service = {
  name: "kafka",
  address: `${HOST}:${cfg.port}`,
  ports: [cfg.port, cfg.controllerPort],
  pidFile: join(dir, "kafka.pid"),
  logFile: join(dir, "kafka.log"),
  match: "kafka.Kafka",
  stopSignal: "SIGTERM", // controlled shutdown: the log is flushed and closed cleanly
  stopTimeoutMs: 30_000,
  startTimeoutMs: config.startTimeoutS * 1000,

  apt: () => [
    { pkg: "openjdk-17-jdk-headless", present: () => which("java") !== null },
    { pkg: "maven", present: () => which("mvn") !== null },
  ],

  async install() {
    ensureDir(dir);
    if (!built()) {
      say("kafka", `fetching Kafka ${cfg.version} and its dependencies from Maven Central (cached in .cache/m2)`);
      rmSync(lib, { recursive: true, force: true }); // no stale jars from another version
      await runStreaming(
        "mvn",
        ["-B", "-ntp", "-q", "-Dstyle.color=never", "-f", pom, `-Dmaven.repo.local=${join(config.cacheDir, "m2")}`, `-Dstack.kafka.dir=${dir}`, "package"],
        { prefix: "kafka", cwd: config.root },
      );
      if (!existsSync(join(lib, `kafka_2.13-${cfg.version}.jar`))) throw new StackError(`Maven finished but ${lib}/kafka_2.13-${cfg.version}.jar is missing`);
      writeFileSync(stampFile, `${stamp()}\n`);
    }
    writeConfig();
    if (!existsSync(join(data, "meta.properties"))) {
      // KRaft storage is formatted once with a cluster id (16 random bytes, base64url as Kafka's own)
      const clusterId = randomBytes(16).toString("base64url");
      say("kafka", `formatting ${data} (KRaft, cluster ${clusterId})`);
      run("java", ["-cp", `${lib}/*`, `-Dlog4j.configuration=file:${log4jFile}`, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", propertiesFile], { quiet: true });
    }
  },

  async launch() {
    return startDetached({ cmd: "java", args: [...JVM(), "-cp", `${lib}/*`, "kafka.Kafka", propertiesFile], cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  // Kafka's ApiVersions request (v0, correlation id 1, no client id): a broker answers it
  // before anything else, so this is Kafka answering, not only an open port.
  probe: () =>
    tcpProbe(HOST, cfg.port, new Uint8Array([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff]), (r) => r.length >= 8 && r.readUInt32BE(4) === 1),
};

export const kafkaBrokers = () => `${HOST}:${cfg.port}`;
