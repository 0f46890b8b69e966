import pkg from "../../package.json";
import { checkResolvedTarget, type TargetPolicy } from "./target";
import { SIGNATURE_HEADER, signPayload } from "./signature";

export interface SendRequest {
  url: string;
  secret: string;
  webhookId: string;
  deliveryId: string;
  /** The JSON body, exactly as signed and sent. */
  body: string;
}

export interface SendOutcome {
  succeeded: boolean;
  /** The receiver's status; null when it gave none. */
  status_code: number | null;
  duration_ms: number;
  /** Why it failed, one line; null on success. */
  error: string | null;
}

export interface SenderOptions {
  policy: TargetPolicy;
  /** Bound on one delivery, connection to last byte (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Seconds clock of the signature; default now. */
  nowSeconds?: () => number;
}

const USER_AGENT = `MemoryAPI-Webhooks/${pkg.version}`;
const MAX_ERROR_CHARS = 300;

/**
 * One signed POST of a delivery. Only a 2xx answer is a success; a redirect is a failure (it is
 * not followed: the target was checked, where it points to was not), and so is a timeout or a
 * refused connection. Never throws.
 */
export async function sendDelivery(request: SendRequest, options: SenderOptions): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failed = (error: string, status_code: number | null = null): SendOutcome => ({
    succeeded: false,
    status_code,
    duration_ms: elapsed(),
    error: error.slice(0, MAX_ERROR_CHARS),
  });
  try {
    const refused = await checkResolvedTarget(request.url, options.policy);
    if (refused !== null) return failed(`not delivered: the URL ${refused}`);
  } catch (error) {
    return failed(`not delivered: could not resolve the host (${(error as Error).message})`);
  }
  const seconds = options.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        [SIGNATURE_HEADER]: signPayload(request.secret, request.body, seconds),
        "memory-webhook-id": request.webhookId,
        "memory-delivery-id": request.deliveryId,
      },
    });
    // the answer's body means nothing to us; read it (bounded by the timeout) so the connection is reusable
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) {
      return { succeeded: true, status_code: response.status, duration_ms: elapsed(), error: null };
    }
    const redirect = response.status >= 300 && response.status < 400 ? " (redirects are not followed)" : "";
    return failed(`the receiver answered HTTP ${response.status}${redirect}`, response.status);
  } catch (error) {
    const e = error as Error;
    if (e.name === "TimeoutError" || e.name === "AbortError") return failed(`no answer within ${options.timeoutMs} ms`);
    return failed(`could not deliver: ${e.message}`);
  }
}
