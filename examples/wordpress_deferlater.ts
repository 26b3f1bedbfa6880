/**
 * The WordPress tale, examples 3 and 4 of the Twisted tutorial: fifteen
 * installations of three seconds each, all waiting at the same time with
 * `deferLater`, joined by a `DeferredList`. About 3 seconds in all, not 45.
 *
 *   deno run -A examples/wordpress_deferlater.ts [--inline] [--scale=0.01 | --fast]
 *   bun examples/wordpress_deferlater.ts
 *   node examples/wordpress_deferlater.ts
 *
 * `--inline` runs the `inlineCallbacks` version (example 4) instead of the
 * callback chain (example 3); `--scale=F` multiplies the durations by F.
 *
 * @module
 */

import process from "node:process";
import { react } from "../task/react.ts";
import { elapsedLine, parseArgs, twistedDeveloperDay } from "./wordpress.ts";

const { scale, inline } = parseArgs(process.argv.slice(2));
console.log(`------ Running example ${inline ? 4 : 3} ------`);
// The day is planned when react() calls main; the reactor, our secretary,
// then follows up on the events and stops when the DeferredList fires.
await react((reactor) =>
  twistedDeveloperDay({ clock: reactor, log: console.log, installSeconds: 3 * scale, inline })
    .addCallback((elapsed) => console.log(elapsedLine(elapsed, scale)))
);
