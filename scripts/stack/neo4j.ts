// Neo4j 5.26 Community, embedded in a small Java launcher (scripts/stack/neo4j/) built with
// Maven from Maven Central: Bolt on 127.0.0.1:7687, no TLS, auth disabled, data in
// .stack/neo4j/data. Maven's local repository is cached in .cache/m2.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serviceUrls } from "../../src/config.ts";
import { HOST, config } from "./config.ts";
import type { Service } from "./service.ts";
import { StackError, ensureDir, runStreaming, say, startDetached, tcpProbe, which } from "./process.ts";

const cfg = config.neo4j;
const dir = join(config.stackDir, "neo4j");
const lib = join(dir, "lib");
const home = join(dir, "data");
const src = join(config.root, "scripts", "stack", "neo4j");
const sources = [join(src, "pom.xml"), join(src, "src", "main", "java", "memoryapi", "stack", "neo4j", "Launcher.java")];
const stampFile = join(lib, ".build-stamp");
const MAIN = "memoryapi.stack.neo4j.Launcher";

const stamp = () => createHash("sha256").update(sources.map((f) => readFileSync(f)).join("\0")).digest("hex");

const built = () => existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === stamp();

/** the JVM options Neo4j's own launcher uses that matter for an embedded server */
const JVM = [
  `-Xms${Math.min(512, cfg.heapMb)}m`,
  `-Xmx${cfg.heapMb}m`,
  "-XX:+UseG1GC",
  "-XX:-OmitStackTraceInFastThrow",
  "-XX:+ExitOnOutOfMemoryError",
  "-Djdk.nio.maxCachedBufferSize=1024",
  "-Dio.netty.tryReflectionSetAccessible=true",
  "--add-opens=java.base/java.nio=ALL-UNNAMED",
  "--add-opens=java.base/java.io=ALL-UNNAMED",
  "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
  "--add-opens=java.base/java.lang=ALL-UNNAMED",
  "-Dfile.encoding=UTF-8",
];

export const neo4j: Service = {
  name: "neo4j",
  address: `${HOST}:${cfg.port}`,
  ports: [cfg.port],
  pidFile: join(dir, "neo4j.pid"),
  logFile: join(dir, "neo4j.log"),
  extraLogs: () => [join(home, "logs", "debug.log")],
  match: MAIN,
  stopSignal: "SIGTERM", // JVM shutdown hook → DatabaseManagementService.shutdown()
  stopTimeoutMs: 60_000,
  startTimeoutMs: config.startTimeoutS * 1000,

  apt: () => [
    { pkg: "openjdk-17-jdk-headless", present: () => which("javac") !== null },
    { pkg: "maven", present: () => which("mvn") !== null },
  ],

  async install() {
    ensureDir(dir);
    if (built()) return;
    say("neo4j", "building the launcher with Maven (Neo4j 5.26 from Maven Central; cached in .cache/m2)");
    rmSync(lib, { recursive: true, force: true }); // no stale jars from another Neo4j version
    await runStreaming(
      "mvn",
      ["-B", "-ntp", "-q", "-Dstyle.color=never", "-f", join(src, "pom.xml"), `-Dmaven.repo.local=${join(config.cacheDir, "m2")}`, `-Dstack.neo4j.dir=${dir}`, "package"],
      { prefix: "neo4j", cwd: config.root },
    );
    if (!existsSync(join(lib, "neo4j-launcher.jar"))) throw new StackError(`Maven finished but ${lib}/neo4j-launcher.jar is missing`);
    writeFileSync(stampFile, `${stamp()}\n`);
  },

  async launch() {
    ensureDir(home);
    const args = [...JVM, "-cp", `${lib}/*`, MAIN, "--home", home, "--listen", `${HOST}:${cfg.port}`, "--pagecache-mb", String(cfg.pageCacheMb)];
    return startDetached({ cmd: "java", args, cwd: dir, logFile: this.logFile, pidFile: this.pidFile });
  },

  // Bolt handshake: magic 0x6060B017, then four proposals (5.0-5.8, 4.4); the server
  // answers with the version it picked, so this is Bolt answering, not just an open port.
  probe: () =>
    tcpProbe(
      HOST,
      cfg.port,
      new Uint8Array([0x60, 0x60, 0xb0, 0x17, 0, 8, 8, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0]),
      (r) => r.length >= 4 && r.readUInt32BE(0) !== 0,
    ),
};

/**
 * neo4j:// (the routing driver), as a Neo4j cluster is reached: the driver asks the server for
 * its routing table and sends read transactions to readers (followers in a cluster; this one
 * server is all roles), so the suite runs the same code path a clustered deployment does.
 */
export const neo4jUri = () => serviceUrls.neo4j(HOST, cfg.port).replace(/^bolt:/, "neo4j:");
