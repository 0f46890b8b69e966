/**
 * Attack (issue 18, item 9): compose.yaml shipped fixed passwords (PostgreSQL memory/memory,
 * MinIO minioadmin, Grafana admin/admin, a Neo4j fallback) and an unauthenticated Redis, so a
 * `docker compose up` with nothing set ran on credentials everyone knows. Now every secret comes
 * from the environment through `${VAR:?message}`, which makes compose refuse to start without it;
 * etcd and MinIO sit on an internal network of their own. (No compose binary here: the file is
 * parsed as YAML and its interpolations checked.)
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";

const text = await Bun.file(resolve(import.meta.dir, "../../compose.yaml")).text();
const compose = Bun.YAML.parse(text) as {
  services: Record<string, { environment?: Record<string, string>; command?: string[]; networks?: string[]; ports?: string[] }>;
  networks: Record<string, { internal?: boolean } | null>;
  "x-api-env": Record<string, string>;
};

const SECRET_NAME = /PASSWORD|SECRET|_AUTH|ACCESS_KEY|ROOT_USER/;
/** `${VAR:?message}`: required, no default. */
const REQUIRED = /^\$\{[A-Z0-9_]+:\?[^}]+\}$/;

function environments(): [string, string, string][] {
  const rows: [string, string, string][] = [];
  for (const [service, def] of Object.entries(compose.services)) {
    for (const [name, value] of Object.entries(def.environment ?? {})) rows.push([service, name, String(value)]);
  }
  return rows;
}

describe("compose.yaml takes every credential from the environment", () => {
  test("it is valid YAML with the expected services", () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["api", "nginx", "postgres", "redis", "etcd", "minio", "milvus", "neo4j", "prometheus", "grafana"]),
    );
  });

  test("every secret-looking variable is a required ${VAR:?message} (no value, no default)", () => {
    const secrets = environments().filter(([, name]) => SECRET_NAME.test(name));
    expect(secrets.length).toBeGreaterThanOrEqual(9);
    for (const [service, name, value] of secrets) {
      // NEO4J_AUTH is `neo4j/<password>`: the user name is no secret
      if (!REQUIRED.test(value.replace(/^neo4j\//, ""))) throw new Error(`${service}.${name} = ${value}: not a required \${VAR:?message}`);
    }
  });

  test("the URLs carry their passwords only as required interpolations", () => {
    const env = compose.services.api!.environment!;
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/memory:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/memory$/);
    expect(env.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
  });

  test("no interpolation of a secret has a default, and no known default password is left", () => {
    // compose interpolations only: $${...} is a literal ${...} for the container's shell
    for (const match of text.matchAll(/(?<!\$)\$\{([A-Z0-9_]+)(:?[-?])?/g)) {
      if (SECRET_NAME.test(match[1]!) || match[1] === "JWT_SECRET") expect(`${match[1]}${match[2]}`).toBe(`${match[1]}:?`);
    }
    for (const literal of ["minioadmin", "memory:memory@", "memory-neo4j", "POSTGRES_PASSWORD: memory", ":-admin"]) {
      expect(text).not.toContain(literal);
    }
  });

  test("Redis requires its password (requirepass from the environment; the healthcheck authenticates)", () => {
    const redis = compose.services.redis!;
    expect(redis.command!.join(" ")).toContain('--requirepass "$$REDISCLI_AUTH"');
    expect(redis.environment!.REDISCLI_AUTH).toMatch(REQUIRED);
  });

  test("etcd and MinIO are only on an internal network that Milvus alone shares", () => {
    expect(compose.networks.milvus_internal).toEqual({ internal: true });
    for (const name of ["etcd", "minio"]) {
      expect(compose.services[name]!.networks).toEqual(["milvus_internal"]);
      expect(compose.services[name]!.ports).toBeUndefined();
    }
    const sharing = Object.entries(compose.services).filter(([, s]) => s.networks?.includes("milvus_internal")).map(([n]) => n);
    expect(sharing.sort()).toEqual(["etcd", "milvus", "minio"]);
  });
});
