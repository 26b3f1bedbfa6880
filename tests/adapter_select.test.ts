// Choosing a backend: which runtime we are on, which backends it can host,
// and clear errors for the others.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { BackendName } from "../reactor/adapter.ts";
import {
  backendsForHost,
  createBackend,
  detectRuntime,
  isConnectionRefused,
  isConnectionReset,
  loadBackend,
} from "../reactor/backends/select.ts";

const here: BackendName = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const foreign: BackendName[] = (["deno", "bun"] as BackendName[]).filter((n) => n !== here);

describe("backend selection", () => {
  test("detectRuntime names the host runtime", () => {
    assert.equal(detectRuntime(), here);
  });

  test("backendsForHost lists the native backend first, then node", () => {
    const expected: Record<BackendName, BackendName[]> = {
      deno: ["deno", "node"],
      bun: ["bun", "node"],
      node: ["node"],
    };
    assert.deepEqual(backendsForHost(), expected[here]);
  });

  test("createBackend defaults to the native backend", () => {
    assert.equal(createBackend().name, here);
    assert.equal(createBackend(undefined).name, here);
  });

  test("every hosted backend can be created, and is a fresh adapter", () => {
    for (const name of backendsForHost()) {
      const a = createBackend(name);
      assert.equal(a.name, name);
      assert.notEqual(createBackend(name), a);
    }
  });

  test("a backend of another runtime is refused with a clear error", async () => {
    for (const name of foreign) {
      assert.throws(
        () => createBackend(name),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.match(err.message, new RegExp(`${name} backend needs the`));
          assert.match(err.message, new RegExp(`this is ${here}`));
          return true;
        },
      );
      await assert.rejects(loadBackend(name), /backend needs the/);
    }
  });

  test("an unknown name is refused", () => {
    assert.throws(() => createBackend("java" as BackendName), /Unknown backend "java"/);
  });

  test("loadBackend resolves to the same kind of adapter", async () => {
    assert.equal((await loadBackend()).name, here);
    assert.equal((await loadBackend("node")).name, "node");
  });
});

describe("error classification", () => {
  test("isConnectionRefused knows Node/Bun codes and Deno names", () => {
    assert.ok(isConnectionRefused(Object.assign(new Error("x"), { code: "ECONNREFUSED" })));
    const deno = new Error("Connection refused (os error 111)");
    deno.name = "ConnectionRefused";
    assert.ok(isConnectionRefused(deno));
    assert.ok(
      isConnectionRefused(new Error("wrapped", { cause: { code: "ECONNREFUSED" } })),
    );
    assert.ok(!isConnectionRefused(Object.assign(new Error("x"), { code: "ECONNRESET" })));
    assert.ok(!isConnectionRefused(null));
    assert.ok(!isConnectionRefused("ECONNREFUSED"));
  });

  test("isConnectionReset knows resets and broken pipes", () => {
    assert.ok(isConnectionReset(Object.assign(new Error("x"), { code: "ECONNRESET" })));
    assert.ok(isConnectionReset(Object.assign(new Error("x"), { code: "EPIPE" })));
    const deno = new Error("reset");
    deno.name = "ConnectionReset";
    assert.ok(isConnectionReset(deno));
    const pipe = new Error("pipe");
    pipe.name = "BrokenPipe";
    assert.ok(isConnectionReset(pipe));
    assert.ok(!isConnectionReset(new Error("other")));
    assert.ok(!isConnectionReset(undefined));
  });
});
