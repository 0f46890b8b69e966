/**
 * Mints an access token signed with the server's secret (JWT_SECRET, or the one the embedded
 * mode saved under DATA_DIR), or revokes tokens.
 *
 *   bun run token -- --sub alice --tier pro               valid 1 hour
 *   bun run token -- --sub alice --hours 8                up to 24 hours without --long
 *   bun run token -- --sub poe-bot --days 30 --long       longer ones only with --long (at most JWT_MAX_AGE_SECONDS)
 *   bun run token revoke --jti <id>                       one token (its id is printed when minted)
 *   bun run token revoke --sub alice                      every token of alice issued until now
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, loadConfig, type Config } from "../src/config";
import { TIERS, isTier } from "../src/auth/claims";
import { resolveJwtSecret } from "../src/auth/secret";
import { createTokenService } from "../src/auth/tokens";
import { createLogger } from "../src/log";
import { openRevocationStore, revocationRetentionMs, tokenPolicy } from "../src/runtime/revocations";

const DEFAULT_TTL_SECONDS = 3600;
/** Longer lifetimes need --long: a leaked long-lived token is a long-lived breach. */
const SHORT_MAX_SECONDS = 24 * 3600;

const USAGE = `usage: bun run token -- --sub USER_ID [--tier ${TIERS.join("|")}] [--hours N | --days N] [--long]
       bun run token revoke --jti TOKEN_ID | --sub USER_ID
  Mints an HS256 access token for USER_ID (default tier free, valid 1 hour; over 24 hours only
  with --long, and never over JWT_MAX_AGE_SECONDS). Its id (jti) goes to stderr.
  revoke: every worker refuses the token (--jti) or all of the user's tokens issued until now
  (--sub) within JWT_REVOCATION_REFRESH_MS (250 ms by default).`;

function fail(message: string): never {
  console.error(`token: ${message}\n${USAGE}`);
  process.exit(2);
}

function loadConfigOrFail(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

function parse(argv: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    return parseArgs({ args: argv, options, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    fail((error as Error).message);
  }
}

async function revoke(argv: string[]): Promise<void> {
  const values = parse(argv, { jti: { type: "string" }, sub: { type: "string" } });
  const jti = values.jti as string | undefined;
  const sub = values.sub as string | undefined;
  if ((jti === undefined) === (sub === undefined)) fail("revoke needs exactly one of --jti or --sub");
  const config = loadConfigOrFail();
  const { store, close } = await openRevocationStore(config, createLogger("warn"));
  try {
    const forgetAt = Date.now() + revocationRetentionMs(config);
    if (jti !== undefined) await store.revokeJti(jti, forgetAt);
    else await store.revokeSub(sub!, Math.floor(Date.now() / 1000), forgetAt);
  } finally {
    await close();
  }
  console.error(
    jti !== undefined
      ? `token: revoked token ${jti} (${config.mode} store)`
      : `token: revoked every token of ${sub} issued until now (${config.mode} store); tokens minted from the next second on are valid`,
  );
}

async function mint(argv: string[]): Promise<void> {
  const values = parse(argv, {
    sub: { type: "string" },
    tier: { type: "string", default: "free" },
    days: { type: "string" },
    hours: { type: "string" },
    long: { type: "boolean", default: false },
  });
  if (!values.sub) fail("--sub is required");
  if (!isTier(values.tier)) fail(`--tier must be one of ${TIERS.join(", ")}`);
  const days = values.days === undefined ? undefined : Number(values.days);
  const hours = values.hours === undefined ? undefined : Number(values.hours);
  if (days !== undefined && hours !== undefined) fail("give --days or --hours, not both");
  for (const [name, v] of [["days", days], ["hours", hours]] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) fail(`--${name} must be a positive number`);
  }
  const ttlSeconds = Math.round(hours !== undefined ? hours * 3600 : days !== undefined ? days * 86_400 : DEFAULT_TTL_SECONDS);
  if (ttlSeconds > SHORT_MAX_SECONDS && !values.long) {
    fail(`a token valid over 24 hours needs --long (asked: ${ttlSeconds} s)`);
  }
  const config = loadConfigOrFail();
  if (ttlSeconds > config.tokens.maxAgeSeconds) {
    fail(`the server refuses tokens valid over JWT_MAX_AGE_SECONDS=${config.tokens.maxAgeSeconds} s (asked: ${ttlSeconds} s)`);
  }
  let resolved;
  try {
    resolved = resolveJwtSecret({ configured: config.jwtSecret, dataDir: config.dataDir });
  } catch (error) {
    fail((error as Error).message);
  }
  const { secret, source, path } = resolved;
  if (source === "generated") console.error(`token: generated a new secret at ${path} (the server will use it too)`);
  const token = await createTokenService(secret, { policy: tokenPolicy(config) }).sign({
    sub: values.sub as string,
    tier: values.tier,
    ttlSeconds,
  });
  const { jti } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { jti: string };
  console.error(`token: id (jti) ${jti}, valid ${ttlSeconds} s; revoke with \`bun run token revoke --jti ${jti}\``);
  console.log(token);
}

const argv = process.argv.slice(2).filter((a) => a !== "--");
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
if (argv[0] === "revoke") await revoke(argv.slice(1));
else await mint(argv[0] === "mint" ? argv.slice(1) : argv);
