import { describe, expect, test } from "bun:test";
import { checkResolvedTarget, isPrivateAddress, urlProblem } from "../../src/webhooks/target";
import { retryDelayMs } from "../../src/domain/webhook";

const deny = { privateTargets: "deny", allowedHosts: null } as const;
const allow = { privateTargets: "allow", allowedHosts: null } as const;

describe("webhook targets", () => {
  test("private, loopback, link-local, shared and reserved addresses are recognised, public ones are not", () => {
    for (const a of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fc00::1", "fd12::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"]) {
      expect(`${a} ${isPrivateAddress(a)}`).toBe(`${a} true`);
    }
    for (const a of ["8.8.8.8", "93.184.215.14", "172.32.0.1", "172.15.255.255", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]) {
      expect(`${a} ${isPrivateAddress(a)}`).toBe(`${a} false`);
    }
  });

  test("the URL's form is checked whatever the policy", () => {
    expect(urlProblem("https://example.com/hook", allow)).toBeNull();
    expect(urlProblem("http://127.0.0.1:8080/hook", allow)).toBeNull();
    expect(urlProblem("file:///etc/passwd", allow)).toBe("must use https or http, not file");
    expect(urlProblem("https://a:b@example.com/", allow)).toContain("credentials");
    expect(urlProblem("https://example.com/#x", allow)).toContain("fragment");
    expect(urlProblem("/relative", allow)).toBe("is not an absolute URL");
  });

  test("deny refuses literal private addresses and localhost; an allow-list admits only its hosts", () => {
    expect(urlProblem("http://LOCALHOST:3000/", deny)).toContain("localhost");
    expect(urlProblem("http://api.localhost/", deny)).toContain("localhost");
    expect(urlProblem("http://[fd00::5]/", deny)).toContain("private or reserved address (fd00::5)");
    expect(urlProblem("http://0x7f000001/", deny)).toContain("127.0.0.1"); // the URL parser normalises it first
    expect(urlProblem("https://hooks.example.com/", { privateTargets: "allow", allowedHosts: ["hooks.example.com"] })).toBeNull();
    expect(urlProblem("https://other.example.com/", { privateTargets: "allow", allowedHosts: ["hooks.example.com"] })).toContain("WEBHOOK_ALLOWED_HOSTS");
  });

  test("at delivery, a name that resolves to a private address is refused (no request is made)", async () => {
    const resolvesTo = (...addresses: string[]) => async () => addresses;
    expect(await checkResolvedTarget("https://hooks.example.com/x", deny, resolvesTo("93.184.215.14", "10.0.0.7"))).toBe(
      "host hooks.example.com resolves to a private or reserved address (10.0.0.7)",
    );
    expect(await checkResolvedTarget("https://hooks.example.com/x", deny, resolvesTo("93.184.215.14"))).toBeNull();
    expect(await checkResolvedTarget("https://hooks.example.com/x", allow, resolvesTo("10.0.0.7"))).toBeNull();
    expect(urlProblem("http://localhost.:9/x", deny)).toContain("localhost");
  });
});

describe("retry delays", () => {
  test("double from the base, capped, with ±20% jitter", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((f) => retryDelayMs(f, 1000, 10_000, mid))).toEqual([1000, 2000, 4000, 8000, 10_000]);
    expect(retryDelayMs(1, 1000, 10_000, () => 0)).toBe(800);
    expect(retryDelayMs(1, 1000, 10_000, () => 0.999999)).toBe(1200);
    expect(retryDelayMs(500, 1000, 3_600_000, mid)).toBe(3_600_000);
  });
});
