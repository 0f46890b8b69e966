/**
 * The README and docs/ link to each other and into the tree by relative paths and #anchors:
 * every one must resolve, and every page of docs/ must be reachable from the README.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { anchorsOf, brokenLinks, extractLinks, githubSlug } from "./markdown-links";

const root = resolve(import.meta.dir, "../..");
const docPages = [...new Bun.Glob("docs/**/*.md").scanSync({ cwd: root })].sort();
const checked = ["README.md", ...docPages];

describe("links in README.md and docs/", () => {
  test("there are pages and relative links to check", () => {
    expect(docPages.length).toBeGreaterThan(0);
    const relativeLinks = checked.flatMap((file) =>
      extractLinks(readFileSync(join(root, file), "utf8")).filter((link) => !/^[a-z]+:/i.test(link.target)),
    );
    expect(relativeLinks.length).toBeGreaterThan(docPages.length);
  });

  test("every relative link and #anchor resolves", () => {
    expect(brokenLinks(root, checked)).toEqual([]);
  });

  test("every page of docs/ is linked from the README", () => {
    const linked = new Set(
      extractLinks(readFileSync(join(root, "README.md"), "utf8")).map((link) => link.target.split("#")[0]),
    );
    expect(docPages.filter((page) => !linked.has(page))).toEqual([]);
  });
});

describe("the link checker", () => {
  test("slugs headings as GitHub does", () => {
    expect(githubSlug("Performance (measured)")).toBe("performance-measured");
    expect(githubSlug("Drop-in: a pretrained `cross-encoder/ms-marco-MiniLM-L-6-v2`")).toBe(
      "drop-in-a-pretrained-cross-encoderms-marco-minilm-l-6-v2",
    );
    expect(githubSlug("See [the API](api.md) — v1")).toBe("see-the-api--v1");
    expect([...anchorsOf("# Notes\n## Notes\n```\n# not a heading\n```\n<a id=\"here\"></a>\n")]).toEqual([
      "notes",
      "notes-1",
      "here",
    ]);
  });

  test("reports a missing file and a missing anchor; ignores URLs, code spans and code blocks", () => {
    const dir = mkdtempSync(join(tmpdir(), "links-"));
    try {
      mkdirSync(join(dir, "docs"));
      writeFileSync(join(dir, "docs", "a.md"), "# Alpha\n\n## Beta section\n");
      writeFileSync(
        join(dir, "README.md"),
        [
          "# Home",
          "[ok](docs/a.md#beta-section) [ok too](#home) [web](https://example.com/x.md) ![pic](docs/a.md)",
          "[gone](docs/missing.md) and [bad anchor](docs/a.md#gamma)",
          "`[in a code span](nowhere.md)`",
          "```",
          "[in a code block](nowhere.md)",
          "```",
          "[ref]: docs/also-missing.md",
        ].join("\n"),
      );
      expect(brokenLinks(dir, ["README.md", "docs/a.md"])).toEqual([
        "README.md:3: docs/missing.md: docs/missing.md does not exist",
        "README.md:3: docs/a.md#gamma: docs/a.md has no heading #gamma",
        "README.md:8: docs/also-missing.md: docs/also-missing.md does not exist",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
