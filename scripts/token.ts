/**
 * Mints an access token signed with the server's secret (JWT_SECRET, or the one the embedded
 * mode saved under DATA_DIR).
 *
 *   bun run token -- --sub alice --tier pro --days 30
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config";
import { TIERS, isTier } from "../src/auth/claims";
import { resolveJwtSecret } from "../src/auth/secret";
import { createTokenService } from "../src/auth/tokens";

const USAGE = `usage: bun run token -- --sub USER_ID [--tier ${TIERS.join("|")}] [--days N] [--hours N]
  Prints an HS256 access token for USER_ID (default tier free, valid 30 days).`;

function fail(message: string): never {
  console.error(`token: ${message}\n${USAGE}`);
  process.exit(2);
}

const argv = process.argv.slice(2).filter((a) => a !== "--");
let values;
try {
  ({ values } = parseArgs({
    args: argv,
    options: {
      sub: { type: "string" },
      tier: { type: "string", default: "free" },
      days: { type: "string" },
      hours: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.sub) fail("--sub is required");
if (!isTier(values.tier)) fail(`--tier must be one of ${TIERS.join(", ")}`);
const days = values.days === undefined ? undefined : Number(values.days);
const hours = values.hours === undefined ? undefined : Number(values.hours);
for (const [name, v] of [["days", days], ["hours", hours]] as const) {
  if (v !== undefined && (!Number.isFinite(v) || v <= 0 || v > 3650 * 24)) fail(`--${name} must be a positive number`);
}
const ttlSeconds = Math.round(hours !== undefined ? hours * 3600 : (days ?? 30) * 86_400);

const config = loadConfig();
const { secret, source, path } = resolveJwtSecret({ configured: config.jwtSecret, dataDir: config.dataDir });
if (source === "generated") console.error(`token: generated a new secret at ${path} (the server will use it too)`);
const token = await createTokenService(secret).sign({ sub: values.sub, tier: values.tier, ttlSeconds });
console.log(token);
