import type { Logger } from "../log";
import type { ApiKeyStore } from "../ports/api-key-store";
import { looksLikeApiKey } from "./api-key-format";
import { ApiKeyVerifier } from "./api-key-verifier";
import type { TokenService } from "./tokens";

/** A TokenService that also accepts API keys: `mapi_...` goes to the key store, anything else is a JWT. */
export function withApiKeys(tokens: TokenService, store: ApiKeyStore, log: Logger): { tokens: TokenService; keys: ApiKeyVerifier } {
  const keys = new ApiKeyVerifier({ store, log });
  return {
    keys,
    tokens: {
      sign: (input) => tokens.sign(input),
      verify: (token) => (looksLikeApiKey(token) ? keys.verify(token) : tokens.verify(token)),
      explain: (token) => (looksLikeApiKey(token) ? undefined : tokens.explain?.(token)),
    },
  };
}
