/** The TypeScript client's bulk delete, collection PATCH and webhooks against the app itself (embedded stores). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MemoryApiError, MemoryClient } from "../../clients/typescript/memory-client";
import { createTestApp, newCollection, type TestApp } from "../support/app";
import { startReceiver } from "../support/webhook-receiver";
import { verifySignature } from "../../src/webhooks/signature";

let t: TestApp;
let client: MemoryClient;
let token: string;

beforeAll(async () => {
  t = await createTestApp();
  token = await t.token(`ts-client-${crypto.randomUUID()}`);
  const handle = (input: string | URL | Request, init?: RequestInit) =>
    t.app.handle(input instanceof Request ? input : new Request(String(input), init));
  client = new MemoryClient({ baseUrl: "http://localhost", token, fetch: handle as typeof fetch });
});
afterAll(() => t.close());

test("deleteMemories answers one call; deleteAllMemories loops while has_more", async () => {
  const cid = await newCollection(t, token);
  await client.addMemories(cid, Array.from({ length: 5 }, (_, i) => ({ id: `m${i}`, content: `note ${i}`, metadata: { tag: i < 4 ? "old" : "new" } })));
  const dry = await client.deleteMemories(cid, { filter: { metadata: { tag: "old" } }, limit: 3, dry_run: true });
  expect(dry).toEqual({ dry_run: true, matched: 3, deleted: 0, ids: ["m0", "m1", "m2"], has_more: true });
  expect(await client.deleteAllMemories(cid, { filter: { metadata: { tag: "old" } }, limit: 3 })).toBe(4);
  expect((await client.deleteMemories(cid, { ids: ["m4", "m0"] })).ids).toEqual(["m4"]);
  const refused = await client.deleteMemories(cid, { filter: {} }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(MemoryApiError);
  expect((refused as MemoryApiError).status).toBe(422);
});

test("updateCollection renames and clears the description", async () => {
  const cid = await newCollection(t, token, "ts-before");
  const updated = await client.updateCollection(cid, { name: "ts-after", description: null });
  expect(updated).toMatchObject({ id: cid, name: "ts-after", description: null });
  expect((await client.getCollection(cid)).name).toBe("ts-after");
});

test("addMemories passes dedupe and its threshold through; updateCollection sets the collection's threshold", async () => {
  const cid = await newCollection(t, token);
  const first = await client.addMemories(cid, [{ content: "The quarterly sales meeting is moved to Thursday at 3 pm." }]);
  expect(first).toEqual({ ids: [expect.any(String)] });
  const again = await client.addMemories(cid, [{ content: "The quarterly sales meeting is moved to Thursday at 3 pm.", metadata: { room: "B" } }], { dedupe: "merge", dedupe_threshold: 1 });
  expect(again).toEqual({ ids: first.ids, dedupe: [{ index: 0, action: "merged", matched_id: first.ids[0]!, similarity: 1 }] });
  const refused = await client.addMemories(cid, [{ content: "x" }], { dedupe: "skip", dedupe_threshold: 0.1 }).catch((e: unknown) => e);
  expect((refused as MemoryApiError).status).toBe(422);
  expect((await client.updateCollection(cid, { dedupe_threshold: 0.9 })).dedupe_threshold).toBe(0.9);
});

test("webhooks: create (secret once), list, get, test delivery signed, rotate the secret, delivery log, delete", async () => {
  const cid = await newCollection(t, token);
  const receiver = startReceiver();
  try {
    const created = await client.createWebhook(cid, { url: receiver.url, events: ["memory.created"], description: "ts receiver" });
    expect(created).toMatchObject({ collection_id: cid, url: receiver.url, events: ["memory.created"], description: "ts receiver", enabled: true, failures: 0 });
    expect(created.secret).toMatch(/^whsec_/);
    const { secret, ...shown } = created;
    expect(await client.getWebhook(cid, created.id)).toEqual(shown);
    expect(await client.listWebhooks(cid)).toEqual({ webhooks: [shown] });

    const tested = await client.testWebhook(cid, created.id);
    expect(tested).toMatchObject({ delivered: true, status_code: 200, error: null });
    const [ping] = await receiver.waitFor(1);
    expect(ping!.headers.get("memory-delivery-id")).toBe(tested.delivery_id);
    expect(ping!.body).toMatchObject({ type: "webhook.test", webhook_id: created.id, collection_id: cid, events: [] });
    expect(verifySignature(secret, ping!.text, ping!.headers.get("memory-signature"))).toBe(true);

    const rotated = await client.updateWebhook(cid, created.id, { rotate_secret: true, enabled: false, description: null });
    expect(rotated).toMatchObject({ enabled: false, description: null });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    expect((await client.updateWebhook(cid, created.id, { events: [] })).secret).toBeUndefined();
    const again = await client.testWebhook(cid, created.id);
    const [, pong] = await receiver.waitFor(2);
    expect(verifySignature(rotated.secret!, pong!.text, pong!.headers.get("memory-signature"))).toBe(true);
    expect(verifySignature(secret, pong!.text, pong!.headers.get("memory-signature"))).toBe(false);

    const page = await client.listWebhookDeliveries(cid, created.id, { limit: 1 });
    expect(page.deliveries.map((d) => d.id)).toEqual([again.delivery_id]);
    expect(page.next_cursor).not.toBeNull();
    const log = [];
    for await (const delivery of client.allWebhookDeliveries(cid, created.id, 1)) log.push(delivery);
    expect(log.map((d) => [d.id, d.kind, d.succeeded])).toEqual([
      [again.delivery_id, "test", true],
      [tested.delivery_id, "test", true],
    ]);

    const refused = await client.updateWebhook(cid, created.id, {}).catch((e: unknown) => e);
    expect((refused as MemoryApiError).status).toBe(422);
    expect(await client.deleteWebhook(cid, created.id)).toBe(true);
    expect(await client.deleteWebhook(cid, created.id)).toBe(false);
    const gone = await client.getWebhook(cid, created.id).catch((e: unknown) => e);
    expect((gone as MemoryApiError).status).toBe(404);
    expect(await client.listWebhooks(cid)).toEqual({ webhooks: [] });
  } finally {
    receiver.stop();
  }
});
