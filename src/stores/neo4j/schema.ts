import type { Driver } from "neo4j-driver";
import type { Logger } from "../../log.ts";
import { SCHEMA } from "./cypher.ts";
import { translated } from "./errors.ts";

/** Codes Neo4j answers when another worker created the same rule a moment earlier. */
const ALREADY_THERE = /EquivalentSchemaRuleAlreadyExists|ConstraintAlreadyExists|IndexAlreadyExists/;

/** Creates the constraints and indexes (idempotent; safe when workers start at once). */
export async function ensureSchema(driver: Driver, log: Logger): Promise<void> {
  await translated(async () => {
    const session = driver.session({ defaultAccessMode: "WRITE" });
    try {
      for (const statement of SCHEMA) {
        try {
          const result = await session.run(statement);
          const added = result.summary.counters.updates();
          if (added.constraintsAdded > 0 || added.indexesAdded > 0) log.info("neo4j schema rule created", { statement });
        } catch (error) {
          if (!ALREADY_THERE.test(String((error as { code?: string }).code ?? ""))) throw error;
        }
      }
    } finally {
      await session.close();
    }
  });
}
