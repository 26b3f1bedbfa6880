/**
 * The WordPress tale, example 5 of the Twisted tutorial: the same fifteen
 * installations, but a `Cooperator` lets at most five run at once (five tasks
 * share one iterator of jobs). Three rounds of three seconds: about 9 seconds.
 *
 *   deno run -A examples/wordpress_cooperator.ts [--scale=0.01 | --fast]
 *   bun examples/wordpress_cooperator.ts
 *   node examples/wordpress_cooperator.ts
 *
 * @module
 */

import process from "node:process";
import { react } from "../task/react.ts";
import { cooperatorDeveloperDay, elapsedLine, parseArgs } from "./wordpress.ts";

const { scale } = parseArgs(process.argv.slice(2));
console.log("------ Running example 5 ------");
await react((reactor) =>
  cooperatorDeveloperDay({ clock: reactor, log: console.log, installSeconds: 3 * scale })
    .addCallback((elapsed) => console.log(elapsedLine(elapsed, scale)))
);
