/**
 * The ceiling the bench compares against: the most trivial Bun.serve answer there is.
 *
 *   bun run bench/hello.ts [PORT]        (default 8091; 127.0.0.1 only)
 *
 * bench/run.ts starts two of these (8091, 8092) for the `hello-direct` and `hello-nginx`
 * baselines, so the nginx baseline has the same topology as the API cluster (two upstreams).
 */
const port = Number(process.argv[2] ?? 8091);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`hello: bad port "${process.argv[2]}"`);
  process.exit(2);
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: () => new Response("Hello, World!"),
});
console.error(`hello: listening on http://127.0.0.1:${server.port} (pid ${process.pid})`);

const stop = () => {
  void server.stop(true).then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
