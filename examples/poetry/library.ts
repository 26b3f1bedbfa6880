/**
 * The poetry library: a line-based server built on `LineReceiver`, for
 * clients that want to choose their poem (the tutorial's part 12 muses about
 * exactly that). One command per line; answers are lines too.
 *
 *   LIST         the poem names, one per line, then a line "."
 *   GET <name>   the poem's lines, then a line "." (a poem line that starts
 *                with "." is sent with one more ".", as in SMTP)
 *   QUIT         "BYE", then the server closes the connection
 *
 * Anything else gets `ERR ...`. Lines end with "\n"; a "\r" before it is
 * ignored, so `nc` and `nc -C`, `socat` and `telnet` all work. A line longer
 * than 1024 bytes gets `ERR line too long` and the connection is closed.
 *
 * @module
 */

import { LineReceiver } from "../../protocols/line_receiver.ts";
import { ServerFactory } from "../../protocols/protocol.ts";
import { POEMS, readPoem } from "./poems.ts";

/** The greeting sent when a client connects. */
export const GREETING = "Poetry library. Commands: LIST, GET <poem>, QUIT";

/** The library's factory: holds the poems by name. */
export class PoetryLibraryFactory extends ServerFactory<PoetryLibraryProtocol> {
  override protocol: typeof PoetryLibraryProtocol = PoetryLibraryProtocol;
  /** Poem texts by name. */
  readonly poems: Map<string, string>;
  /** One line per command served. */
  readonly log: (line: string) => void;

  /** A library of `poems` (default: every shipped poem). */
  constructor(poems?: Map<string, string>, log?: (line: string) => void) {
    super();
    this.poems = poems ??
      new Map(POEMS.map((name) => [name, new TextDecoder().decode(readPoem(name).bytes)]));
    this.log = log ?? (() => {});
  }
}

/** One client's session: a command per line. */
export class PoetryLibraryProtocol extends LineReceiver {
  override delimiter: string = "\n";
  override MAX_LENGTH: number = 1024;

  override connectionMade(): void {
    this.sendLine(GREETING);
  }

  override lineReceived(raw: string): void {
    const factory = this.factory as PoetryLibraryFactory;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const [command = "", ...rest] = line.trim().split(/\s+/);
    const argument = rest.join(" ");
    factory.log(`${command.toUpperCase() || "(empty line)"}${argument ? ` ${argument}` : ""}`);
    switch (command.toUpperCase()) {
      case "":
        return; // blank lines are ignored
      case "LIST":
        for (const name of factory.poems.keys()) this.sendLine(name);
        this.sendLine(".");
        return;
      case "GET": {
        const poem = factory.poems.get(argument);
        if (poem === undefined) {
          this.sendLine(`ERR no poem named ${JSON.stringify(argument)}: try LIST`);
          return;
        }
        for (const l of poem.replace(/\n$/, "").split("\n")) {
          this.sendLine(l.startsWith(".") ? `.${l}` : l);
        }
        this.sendLine(".");
        return;
      }
      case "QUIT":
        this.sendLine("BYE");
        this.transport!.loseConnection();
        return;
      default:
        this.sendLine(`ERR unknown command ${JSON.stringify(command)}: use LIST, GET or QUIT`);
    }
  }

  override lineLengthExceeded(_line: Uint8Array): void {
    this.sendLine("ERR line too long");
    this.transport!.loseConnection();
  }
}
