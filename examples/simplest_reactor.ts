/**
 * "There is nothing magic about a reactor": the SimplestReactor answer
 * (Glyph Lefkowitz, on a question about Twisted feeling like voodoo), in
 * three steps.
 *
 *   deno run -A examples/simplest_reactor.ts
 *   bun examples/simplest_reactor.ts
 *   node examples/simplest_reactor.ts
 *
 * 1. A toy reactor in a few lines: a list of functions to call and a loop
 *    that sleeps a little, takes the next one and calls it, until stopped.
 * 2. The same application on Skein's reactor: `callLater(0, f)` for "do",
 *    `callWhenRunning` for the first event, `run()`/`stop()`.
 * 3. The few things a real reactor waits for -- a connection accepted
 *    (`buildProtocol`), data arriving (`dataReceived`), time passing
 *    (`callLater`), a connection closing (`connectionLost`) -- with one real
 *    loopback connection. Every asynchronous program is these events,
 *    hooked up before the reactor runs; each handler may hook up more.
 *
 * The toy sleeps in its loop; a real reactor instead asks the operating
 * system (select/epoll/kqueue, here through the runtime's own event loop) to
 * wake it when one of the things it waits for has happened.
 *
 * @module
 */

import type { Failure } from "../defer/failure.ts";
import { createReactor } from "../reactor/global.ts";
import type { IAddress } from "../protocols/address.ts";
import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";

// ---- 1. The engine: the SimplestReactor ----------------------------------

/** Blocks the whole program for `seconds`, like Python's `time.sleep`. */
function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

/** The toy reactor: a queue of things to do and a loop that does them. */
export class SimplestReactor {
  /** The functions still to call, oldest first. */
  events: (() => void)[] = [];
  /** Set by `stop()`: the loop ends after the current turn. */
  stopped: boolean = false;

  /** Schedules `something` to be called on a later turn of the loop. */
  do(something: () => void): void {
    this.events.push(something);
  }

  /** Loops until stopped: sleep a little, then call the oldest scheduled function. */
  run(): void {
    while (!this.stopped) {
      sleep(0.01); // the real thing waits for the OS to report an event here
      const thisTurn = this.events.shift();
      if (thisTurn) thisTurn();
    }
  }

  /** Ends `run()`. */
  stop(): void {
    this.stopped = true;
  }
}

function toyApplication(): void {
  const reactor = new SimplestReactor();
  // The application: three things, each hooking up the next.
  const thing1 = (): void => {
    console.log("Doing thing 1");
    reactor.do(thing2);
    reactor.do(thing3);
  };
  const thing2 = (): void => console.log("Doing thing 2");
  const thing3 = (): void => {
    console.log("Doing thing 3: and stopping");
    reactor.stop();
  };
  reactor.do(thing1);
  console.log("Running");
  reactor.run();
  console.log("Done!");
}

// ---- 2. The same application on Skein's reactor --------------------------

async function skeinApplication(): Promise<void> {
  const reactor = createReactor();
  const thing1 = (): void => {
    console.log("Doing thing 1");
    reactor.callLater(0, thing2); // "do" = call on a later turn of the loop
    reactor.callLater(0, thing3);
  };
  const thing2 = (): void => console.log("Doing thing 2");
  const thing3 = (): void => {
    console.log("Doing thing 3: and stopping");
    reactor.stop();
  };
  reactor.callWhenRunning(thing1);
  console.log("Running");
  await reactor.run(); // resolves once stop() has run the shutdown
  console.log("Done!");
}

// ---- 3. What a real reactor waits for ------------------------------------

async function fourEvents(): Promise<void> {
  const reactor = createReactor();
  const say = (line: string): void => console.log(line);

  class Greeter extends Protocol {
    override dataReceived(data: Uint8Array): void {
      say(`dataReceived: ${JSON.stringify(new TextDecoder().decode(data))}`);
      // Answer a little later: time passing is an event too.
      reactor.callLater(0.05, () => {
        say("callLater: 0.05 s passed");
        this.transport!.write("goodbye");
        this.transport!.loseConnection();
      });
    }
    override connectionLost(reason: Failure): void {
      say(`connectionLost (server side): ${reason.getErrorMessage()}`);
    }
  }
  class GreeterFactory extends Factory {
    override buildProtocol(addr: IAddress | null): Protocol | null {
      const from = addr && "host" in addr ? addr.host : "?";
      say(`buildProtocol: a connection was accepted from ${from}`);
      return super.buildProtocol(addr);
    }
  }
  class Visitor extends Protocol {
    override connectionMade(): void {
      say("connectionMade (client side): saying hello");
      this.transport!.write("hello");
    }
    override dataReceived(data: Uint8Array): void {
      say(`dataReceived (client side): ${JSON.stringify(new TextDecoder().decode(data))}`);
    }
    override connectionLost(reason: Failure): void {
      say(`connectionLost (client side): ${reason.getErrorMessage()}`);
      reactor.callLater(0, () => reactor.stop());
    }
  }

  const port = reactor.listenTCP(0, GreeterFactory.forProtocol(Greeter), {
    interface: "127.0.0.1",
  });
  reactor.callWhenRunning(() => {
    port.whenListening().addCallback((p) => {
      say("listening on a free loopback port; connecting to it");
      reactor.connectTCP("127.0.0.1", p.getHost().port, ClientFactory.forProtocol(Visitor));
    });
  });
  await reactor.run();
  say("reactor stopped");
}

console.log("--- 1. The SimplestReactor: a list of functions and a loop ---");
toyApplication();
console.log("--- 2. The same application on Skein's reactor ---");
await skeinApplication();
console.log("--- 3. The things a real reactor waits for ---");
await fourEvents();
