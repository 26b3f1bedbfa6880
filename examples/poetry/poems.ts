/**
 * The poems the servers serve: public-domain texts shipped in `poems/`
 * (Blake, Poe, Keats, Dickinson). A server's `--file` takes either one of
 * these names (`tyger`, `science.txt`) or a path to any file.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError } from "./cli.ts";

/** The poems shipped with the examples, by file name without `.txt`. */
export const POEMS: readonly string[] = ["tyger", "science", "bright_star", "hope", "eldorado"];

/** The path of a shipped poem, e.g. `poemPath("tyger")`. */
export function poemPath(name: string): string {
  const file = name.endsWith(".txt") ? name : `${name}.txt`;
  return fileURLToPath(new URL(`./poems/${file}`, import.meta.url));
}

/** A poem read from disk: its display name and its bytes. */
export interface PoemFile {
  /** What log lines call it: the file name. */
  name: string;
  /** The poem's bytes, served as they are. */
  bytes: Uint8Array;
}

/**
 * Reads a shipped poem by name, or any file by path. Throws
 * {@linkcode UsageError} when neither exists.
 */
export function readPoem(nameOrPath: string): PoemFile {
  const shipped = poemPath(nameOrPath);
  const path = existsSync(shipped) && !nameOrPath.includes("/") ? shipped : nameOrPath;
  if (!existsSync(path)) {
    throw new UsageError(
      `no poem ${JSON.stringify(nameOrPath)}: give a path or one of ${POEMS.join(", ")}`,
    );
  }
  const name = path.slice(path.lastIndexOf("/") + 1);
  return { name, bytes: new Uint8Array(readFileSync(path)) };
}
