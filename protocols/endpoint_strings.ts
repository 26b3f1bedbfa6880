/**
 * Endpoint description strings: Twisted's `serverFromString` and
 * `clientFromString`, so that where a program listens or connects can come
 * from a command line or a configuration file:
 *
 * ```text
 * tcp:8000:interface=127.0.0.1          tcp:host=example.com:port=80
 * tcp6:8000                             tcp:example.com:80:timeout=5
 * unix:/run/app.sock:backlog=10         unix:path=/run/app.sock:timeout=2
 * ssl:8443:privateKey=key.pem:certKey=cert.pem
 * tls:host=example.com:port=443:trustRoots=/etc/ssl/certs
 * ```
 *
 * The grammar is Twisted's: the endpoint type, then `:`-separated arguments,
 * each either positional (`8000`) or `key=value`. Within a value only the
 * first `=` separates; a backslash makes the next character literal (`\:`,
 * `\=`, `\\`), see {@linkcode quoteStringArgument}. Every mistake (unknown
 * type or option, bad number, missing host) is an
 * {@linkcode EndpointDescriptionError} naming the offending part.
 *
 * TLS endpoints name PEM files (Twisted's option names); they are read with
 * `node:fs/promises` when `listen()`/`connect()` is called, and a file that
 * cannot be read fails that Deferred with an error naming the option and
 * path.
 *
 * @module
 */

import { readdir, readFile, stat } from "node:fs/promises";
import { Deferred } from "../defer/deferred.ts";
import type { IProtocol, IProtocolFactory } from "./interfaces.ts";
import {
  type EndpointListeningPort,
  type EndpointReactor,
  type EndpointTLSOptions,
  type IStreamClientEndpoint,
  type IStreamServerEndpoint,
  type ProtocolFactoryOf,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from "./endpoints.ts";

/**
 * A malformed endpoint description: the message quotes the description and
 * names the part that is wrong.
 *
 * @example
 * ```ts
 * import { EndpointDescriptionError, serverFromString } from "./endpoint_strings.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * try {
 *   serverFromString(new MemoryReactor(), "tcp:80x");
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof EndpointDescriptionError) || !e.message.includes('"80x"')) throw e;
 * }
 * ```
 */
export class EndpointDescriptionError extends Error {
  /** The description that could not be used. */
  readonly description: string;

  /** Creates the error for `description`, explaining `problem`. */
  constructor(description: string, problem: string) {
    super(`Invalid endpoint description ${JSON.stringify(description)}: ${problem}`);
    this.name = "EndpointDescriptionError";
    this.description = description;
  }
}

/**
 * A description split into its parts: the positional arguments in order
 * (the first is the endpoint type) and the `key=value` arguments.
 *
 * @example
 * ```ts
 * import type { ParsedEndpointDescription } from "./endpoint_strings.ts";
 * const parsed: ParsedEndpointDescription = { args: ["tcp", "80"], kwargs: { interface: "::1" } };
 * if (parsed.args[0] !== "tcp") throw new Error();
 * ```
 */
export interface ParsedEndpointDescription {
  /** The positional arguments, escapes resolved; `args[0]` is the type. */
  args: string[];
  /** The keyword arguments, escapes resolved (an object without prototype). */
  kwargs: Record<string, string>;
}

/**
 * Splits a description into positional and keyword arguments, as Twisted's
 * `endpoints._parse`: `"a:b:d=1:c"` gives `args` `["a", "b", "c"]` and
 * `kwargs` `{d: "1"}`. Colons separate arguments; the first `=` of an
 * argument separates key and value (later ones belong to the value); a
 * backslash makes the next character literal. Throws
 * {@linkcode EndpointDescriptionError} for a trailing lone backslash, an
 * empty key or a key given twice.
 *
 * @example
 * ```ts
 * import { parseEndpointDescription } from "./endpoint_strings.ts";
 * const { args, kwargs } = parseEndpointDescription("unix:C\\:/x\\=y:mode=a=b");
 * if (args.join("|") !== "unix|C:/x=y" || kwargs.mode !== "a=b") throw new Error(args.join("|"));
 * ```
 */
export function parseEndpointDescription(description: string): ParsedEndpointDescription {
  if (typeof description !== "string") {
    throw new TypeError(`An endpoint description must be a string, got ${typeof description}`);
  }
  const args: string[] = [];
  const kwargs: Record<string, string> = Object.create(null);
  let parts: string[] = [];
  let current = "";
  let equalsAllowed = true;
  const finishArgument = (): void => {
    parts.push(current);
    if (parts.length === 1) {
      args.push(parts[0]);
    } else {
      const [key, value] = parts;
      if (key === "") {
        throw new EndpointDescriptionError(description, `empty option name in "=${value}"`);
      }
      if (Object.hasOwn(kwargs, key)) {
        throw new EndpointDescriptionError(description, `option "${key}" is given twice`);
      }
      kwargs[key] = value;
    }
    parts = [];
    current = "";
    equalsAllowed = true;
  };
  const chars = Array.from(description);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === ":") {
      finishArgument();
    } else if (c === "=" && equalsAllowed) {
      parts.push(current);
      current = "";
      equalsAllowed = false;
    } else if (c === "\\") {
      if (i + 1 >= chars.length) {
        throw new EndpointDescriptionError(description, "it ends with a lone backslash");
      }
      current += chars[++i];
    } else {
      current += c;
    }
  }
  finishArgument();
  return { args, kwargs };
}

/**
 * Escapes `argument` so that it can be put into a description as one
 * argument or value, whatever it contains: backslashes, colons and equals
 * signs get a backslash (Twisted's `quoteStringArgument`, which also escapes
 * `=` here so the result is safe in positional arguments too).
 *
 * @example
 * ```ts
 * import { parseEndpointDescription, quoteStringArgument } from "./endpoint_strings.ts";
 * const path = "C:\\keys\\a=b.pem";
 * const { kwargs } = parseEndpointDescription(`ssl:443:privateKey=${quoteStringArgument(path)}`);
 * if (kwargs.privateKey !== path) throw new Error(kwargs.privateKey);
 * ```
 */
export function quoteStringArgument(argument: string): string {
  return argument.replace(/[\\:=]/g, (c) => `\\${c}`);
}

// ---------------------------------------------------------------------------
// Argument checking
// ---------------------------------------------------------------------------

/** Binds positional and keyword arguments to named parameters, like a Python call. */
function bind(
  description: string,
  what: string,
  params: readonly string[],
  args: readonly string[],
  kwargs: Record<string, string>,
): Record<string, string | undefined> {
  if (args.length > params.length) {
    throw new EndpointDescriptionError(
      description,
      `too many positional arguments for a ${what} (${
        args.slice(params.length).map((a) => JSON.stringify(a)).join(", ")
      } left over; it takes ${params.join(", ")})`,
    );
  }
  const out: Record<string, string | undefined> = Object.create(null);
  args.forEach((a, i) => (out[params[i]] = a));
  for (const key of Object.keys(kwargs)) {
    if (!params.includes(key)) {
      throw new EndpointDescriptionError(
        description,
        `unknown option "${key}" for a ${what} (known: ${params.join(", ")})`,
      );
    }
    if (out[key] !== undefined) {
      throw new EndpointDescriptionError(
        description,
        `"${key}" is given both as a positional argument and as ${key}=`,
      );
    }
    out[key] = kwargs[key];
  }
  return out;
}

function portNumber(description: string, name: string, value: string | undefined): number {
  if (value === undefined) {
    throw new EndpointDescriptionError(description, `a ${name} is required`);
  }
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) {
    throw new EndpointDescriptionError(
      description,
      `${name} must be an integer from 0 to 65535, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function positiveInteger(description: string, name: string, value: string): number {
  const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n > 0)) {
    throw new EndpointDescriptionError(
      description,
      `${name} must be a positive integer, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function seconds(description: string, name: string, value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n > 0 && Number.isFinite(n))) {
    throw new EndpointDescriptionError(
      description,
      `${name} must be a positive number of seconds, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function flag(description: string, name: string, value: string): boolean {
  if (value === "0" || value === "1") return value === "1";
  throw new EndpointDescriptionError(
    description,
    `${name} must be 0 or 1, got ${JSON.stringify(value)}`,
  );
}

function nonEmpty(description: string, name: string, value: string | undefined): string {
  if (value === undefined || value === "") {
    throw new EndpointDescriptionError(description, `a ${name} is required`);
  }
  return value;
}

function unsupported(
  description: string,
  name: string,
  value: string | undefined,
  why: string,
): void {
  if (value !== undefined) {
    throw new EndpointDescriptionError(description, `option "${name}" is not supported: ${why}`);
  }
}

/** Splits the type off: `[type in lower case, remaining positional args]`. */
function typeOf(description: string, parsed: ParsedEndpointDescription): [string, string[]] {
  const [type = "", ...rest] = parsed.args;
  if (type === "") {
    throw new EndpointDescriptionError(
      description,
      "it must start with an endpoint type such as tcp, unix or ssl",
    );
  }
  return [type.toLowerCase(), rest];
}

// ---------------------------------------------------------------------------
// PEM files
// ---------------------------------------------------------------------------

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The PEM blocks of `text` whose label satisfies `wanted`. */
function pemBlocks(text: string, wanted: (label: string) => boolean): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (wanted(m[1])) out.push(m[0]);
  }
  return out;
}

const isCertificate = (label: string): boolean => label === "CERTIFICATE";
const isPrivateKey = (label: string): boolean => label.endsWith("PRIVATE KEY");

async function readText(option: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(
      `Cannot read the ${option} file ${JSON.stringify(path)}: ${(err as Error)?.message ?? err}`,
      { cause: err },
    );
  }
}

/** The certificate blocks of a file, or a clear error when it has none. */
async function certificatesIn(option: string, path: string): Promise<string[]> {
  const certs = pemBlocks(await readText(option, path), isCertificate);
  if (certs.length === 0) {
    throw new Error(`The ${option} file ${JSON.stringify(path)} contains no PEM certificate`);
  }
  return certs;
}

async function privateKeyIn(option: string, path: string): Promise<string> {
  const keys = pemBlocks(await readText(option, path), isPrivateKey);
  if (keys.length === 0) {
    throw new Error(`The ${option} file ${JSON.stringify(path)} contains no PEM private key`);
  }
  return keys[0];
}

/**
 * Trust roots: a directory (every `*.pem` file in it, as Twisted's
 * `caCertsDir`/`trustRoots`) or a single PEM file.
 */
async function trustRootsAt(option: string, path: string): Promise<string[]> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new Error(
      `Cannot read the ${option} ${JSON.stringify(path)}: ${(err as Error)?.message ?? err}`,
      { cause: err },
    );
  }
  if (!isDir) return certificatesIn(option, path);
  const names = (await readdir(path)).filter((n) => n.toLowerCase().endsWith(".pem")).sort();
  const certs: string[] = [];
  for (const name of names) {
    // As in Twisted, unreadable or certificate-less files in the directory are skipped.
    const text = await readFile(`${path}/${name}`, "utf8").catch(() => "");
    certs.push(...pemBlocks(text, isCertificate));
  }
  if (certs.length === 0) {
    throw new Error(`The ${option} directory ${JSON.stringify(path)} holds no PEM certificate`);
  }
  return certs;
}

/** Whether `host` is an IP literal (TLS SNI must not carry one). */
function isIPLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

// ---------------------------------------------------------------------------
// Endpoints whose TLS settings come from files
// ---------------------------------------------------------------------------

/** A TLS server endpoint that reads its PEM files when asked to listen. */
class FileTLSServerEndpoint implements IStreamServerEndpoint<EndpointListeningPort> {
  #reactor: EndpointReactor;
  #port: number;
  #options: { backlog: number; interface: string };
  #load: () => Promise<EndpointTLSOptions>;

  constructor(
    reactor: EndpointReactor,
    port: number,
    options: { backlog: number; interface: string },
    load: () => Promise<EndpointTLSOptions>,
  ) {
    this.#reactor = reactor;
    this.#port = port;
    this.#options = options;
    this.#load = load;
  }

  listen(factory: IProtocolFactory): Deferred<EndpointListeningPort> {
    return Deferred.fromPromise(this.#load()).addCallback((tls) =>
      new SSL4ServerEndpoint(this.#reactor, this.#port, tls, this.#options).listen(factory)
    );
  }
}

/** A TLS client endpoint that reads its PEM files when asked to connect. */
class FileTLSClientEndpoint implements IStreamClientEndpoint {
  #reactor: EndpointReactor;
  #host: string;
  #port: number;
  #options: { timeout?: number; bindAddress?: [string, number] };
  #load: () => Promise<EndpointTLSOptions>;

  constructor(
    reactor: EndpointReactor,
    host: string,
    port: number,
    options: { timeout?: number; bindAddress?: [string, number] },
    load: () => Promise<EndpointTLSOptions>,
  ) {
    this.#reactor = reactor;
    this.#host = host;
    this.#port = port;
    this.#options = options;
    this.#load = load;
  }

  connect<P extends IProtocol>(factory: ProtocolFactoryOf<P>): Deferred<P> {
    let attempt: Deferred<P> | null = null;
    const d = new Deferred<P>(() => attempt?.cancel());
    Deferred.fromPromise(this.#load()).addCallbacks((tls) => {
      if (d.called) return;
      attempt = new SSL4ClientEndpoint(this.#reactor, this.#host, this.#port, tls, this.#options)
        .connect(factory);
      attempt.addCallbacks((p) => {
        if (!d.called) d.callback(p);
      }, (f) => {
        if (!d.called) d.errback(f);
      });
    }, (f) => {
      if (!d.called) d.errback(f);
    });
    return d;
  }
}

// ---------------------------------------------------------------------------
// serverFromString
// ---------------------------------------------------------------------------

const TCP_SERVER = ["port", "interface", "backlog"] as const;
const TCP6_SERVER = ["port", "backlog", "interface"] as const;
const UNIX_SERVER = ["address", "mode", "backlog", "lockfile"] as const;
const SSL_SERVER = [
  "port",
  "privateKey",
  "certKey",
  "sslmethod",
  "interface",
  "backlog",
  "extraCertChain",
  "dhParameters",
] as const;

/**
 * Builds a server endpoint from a description string: Twisted's
 * `serverFromString`. Types and their arguments (positional ones in this
 * order; all can also be given as `key=value`):
 *
 * - `tcp:PORT[:interface=ADDR][:backlog=N]`: {@linkcode TCP4ServerEndpoint}
 *   (interface default `""`, every IPv4 interface);
 * - `tcp6:PORT[:backlog=N][:interface=ADDR]`: {@linkcode TCP6ServerEndpoint}
 *   (interface default `"::"`);
 * - `unix:PATH[:mode=OCTAL][:backlog=N]`: {@linkcode UNIXServerEndpoint};
 *   `mode` (e.g. `660`) is applied to the socket file after binding; no
 *   lock file is written (`lockfile=1` is refused, `lockfile=0` accepted);
 * - `ssl:PORT[:privateKey=FILE][:certKey=FILE][:interface=ADDR][:backlog=N][:extraCertChain=FILE]`:
 *   {@linkcode SSL4ServerEndpoint}. `privateKey` defaults to `server.pem`,
 *   `certKey` to the `privateKey` file (one file holding both);
 *   `extraCertChain` adds intermediate certificates. The files are read on
 *   `listen()`. `sslmethod` and `dhParameters` are refused (the runtime
 *   picks protocol versions and key exchange). `tls:` is accepted as the
 *   same (Twisted's `tls:` server takes a directory for SNI, which Skein's
 *   reactor does not offer).
 *
 * Throws {@linkcode EndpointDescriptionError} for a malformed description.
 *
 * @example
 * ```ts
 * import { serverFromString } from "./endpoint_strings.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const endpoint = serverFromString(reactor, "tcp:8000:interface=127.0.0.1");
 * const port = await endpoint.listen(Factory.forProtocol(Protocol));
 * const [portNumber, , , iface] = reactor.tcpServers[0];
 * if (portNumber !== 8000 || iface !== "127.0.0.1") throw new Error();
 * await port.stopListening();
 * ```
 */
export function serverFromString(
  reactor: EndpointReactor,
  description: string,
): IStreamServerEndpoint<EndpointListeningPort> {
  const parsed = parseEndpointDescription(description);
  const [type, args] = typeOf(description, parsed);
  const kw = parsed.kwargs;
  switch (type) {
    case "tcp":
    case "tcp6": {
      const six = type === "tcp6";
      const a = bind(
        description,
        `${type} server endpoint`,
        six ? TCP6_SERVER : TCP_SERVER,
        args,
        kw,
      );
      const port = portNumber(description, "port", a.port);
      const backlog = a.backlog === undefined
        ? 50
        : positiveInteger(description, "backlog", a.backlog);
      return six
        ? new TCP6ServerEndpoint(reactor, port, { backlog, interface: a.interface ?? "::" })
        : new TCP4ServerEndpoint(reactor, port, { backlog, interface: a.interface ?? "" });
    }
    case "unix": {
      const a = bind(description, "unix server endpoint", UNIX_SERVER, args, kw);
      const path = nonEmpty(description, "socket path", a.address);
      const backlog = a.backlog === undefined
        ? 50
        : positiveInteger(description, "backlog", a.backlog);
      let mode: number | undefined;
      if (a.mode !== undefined) {
        if (!/^[0-7]{1,4}$/.test(a.mode)) {
          throw new EndpointDescriptionError(
            description,
            `mode must be octal permission bits such as 660, got ${JSON.stringify(a.mode)}`,
          );
        }
        mode = parseInt(a.mode, 8);
      }
      if (a.lockfile !== undefined && flag(description, "lockfile", a.lockfile)) {
        throw new EndpointDescriptionError(
          description,
          "lockfile=1 is not supported: Skein writes no PID lock files (use lockfile=0 or leave it out)",
        );
      }
      return new UNIXServerEndpoint(reactor, path, { backlog, mode });
    }
    case "ssl":
    case "tls": {
      const a = bind(description, `${type} server endpoint`, SSL_SERVER, args, kw);
      const port = portNumber(description, "port", a.port);
      const backlog = a.backlog === undefined
        ? 50
        : positiveInteger(description, "backlog", a.backlog);
      unsupported(description, "sslmethod", a.sslmethod, "the runtime chooses the TLS versions");
      unsupported(
        description,
        "dhParameters",
        a.dhParameters,
        "the runtime chooses the key exchange",
      );
      const keyPath = a.privateKey ?? "server.pem";
      const certPath = a.certKey ?? keyPath;
      const chainPath = a.extraCertChain;
      return new FileTLSServerEndpoint(
        reactor,
        port,
        { backlog, interface: a.interface ?? "" },
        async () => {
          const certs = await certificatesIn("certKey", certPath);
          if (chainPath !== undefined) {
            certs.push(...await certificatesIn("extraCertChain", chainPath));
          }
          return { cert: certs.join("\n"), key: await privateKeyIn("privateKey", keyPath) };
        },
      );
    }
    default:
      throw new EndpointDescriptionError(
        description,
        `unknown server endpoint type "${parsed.args[0]}" (known: tcp, tcp6, unix, ssl, tls)`,
      );
  }
}

// ---------------------------------------------------------------------------
// clientFromString
// ---------------------------------------------------------------------------

/** Twisted's `_parseClientTCP` positional rules: `host:port`, or the one missing. */
function hostAndPort(
  description: string,
  what: string,
  args: string[],
  kw: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = Object.assign(Object.create(null), kw);
  if (args.length > 2) {
    throw new EndpointDescriptionError(
      description,
      `too many positional arguments for a ${what} (it takes host and port, got ${args.length})`,
    );
  }
  const fill = (key: string, value: string): void => {
    if (out[key] !== undefined) {
      throw new EndpointDescriptionError(
        description,
        `"${key}" is given both as a positional argument and as ${key}=`,
      );
    }
    out[key] = value;
  };
  if (args.length === 2) {
    fill("host", args[0]);
    fill("port", args[1]);
  } else if (args.length === 1) {
    fill(out.host === undefined ? "host" : "port", args[0]);
  }
  return out;
}

function only(
  description: string,
  what: string,
  kw: Record<string, string>,
  known: string[],
): void {
  for (const key of Object.keys(kw)) {
    if (!known.includes(key)) {
      throw new EndpointDescriptionError(
        description,
        `unknown option "${key}" for a ${what} (known: ${known.join(", ")})`,
      );
    }
  }
}

interface TCPClientArgs {
  host: string;
  port: number;
  options: { timeout?: number; bindAddress?: [string, number] };
}

function tcpClientArgs(description: string, kw: Record<string, string>): TCPClientArgs {
  const host = nonEmpty(description, "host", kw.host);
  const port = portNumber(description, "port", kw.port);
  const options: TCPClientArgs["options"] = {};
  if (kw.timeout !== undefined) options.timeout = seconds(description, "timeout", kw.timeout);
  if (kw.bindAddress !== undefined) {
    options.bindAddress = [nonEmpty(description, "bindAddress", kw.bindAddress), 0];
  }
  return { host, port, options };
}

/**
 * Builds a client endpoint from a description string: Twisted's
 * `clientFromString`. Types and their arguments:
 *
 * - `tcp:host=HOST:port=PORT[:timeout=S][:bindAddress=ADDR]` (or
 *   `tcp:HOST:PORT`, or either one positional): {@linkcode TCP4ClientEndpoint};
 * - `unix:path=PATH[:timeout=S]` (or `unix:PATH`): {@linkcode UNIXClientEndpoint}
 *   (`lockfile=0` accepted, `lockfile=1` refused: no PID lock files);
 * - `tls:host=HOST:port=PORT[:timeout=S][:bindAddress=ADDR][:trustRoots=PATH][:certificate=FILE][:privateKey=FILE]`:
 *   {@linkcode SSL4ClientEndpoint} verifying the server's certificate for
 *   HOST against `trustRoots` (a directory of `*.pem` files as in Twisted,
 *   or one PEM file; default: the runtime's system roots), with an
 *   optional client certificate. Twisted's `endpoint=` (TLS over another
 *   endpoint) is refused;
 * - `ssl:HOST:PORT[:caCertsDir=PATH][:hostname=NAME][:certKey=FILE][:privateKey=FILE]`
 *   plus the tcp options: the same with Twisted's older option names
 *   (`hostname` is the name to verify, default HOST). Unlike Twisted's
 *   `ssl:` client, the server's certificate is always verified: build an
 *   {@linkcode SSL4ClientEndpoint} with `verify: false` to skip that.
 *
 * Timeouts are in seconds (fractions allowed). Throws
 * {@linkcode EndpointDescriptionError} for a malformed description; PEM
 * files are read on `connect()`.
 *
 * @example
 * ```ts
 * import { clientFromString } from "./endpoint_strings.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const d = clientFromString(reactor, "tcp:host=127.0.0.1:port=8000:timeout=2.5")
 *   .connect(Factory.forProtocol(Protocol));
 * const [host, port, , timeout] = reactor.tcpClients[0];
 * if (host !== "127.0.0.1" || port !== 8000 || timeout !== 2.5) throw new Error();
 * d.addErrback(() => null);
 * d.cancel();
 * ```
 */
export function clientFromString(
  reactor: EndpointReactor,
  description: string,
): IStreamClientEndpoint {
  const parsed = parseEndpointDescription(description);
  const [type, args] = typeOf(description, parsed);
  const what = `${type} client endpoint`;
  switch (type) {
    case "tcp": {
      const kw = hostAndPort(description, what, args, parsed.kwargs);
      only(description, what, kw, ["host", "port", "timeout", "bindAddress"]);
      const { host, port, options } = tcpClientArgs(description, kw);
      return new TCP4ClientEndpoint(reactor, host, port, options);
    }
    case "unix": {
      const a = bind(description, what, ["path", "timeout", "lockfile"], args, parsed.kwargs);
      const path = nonEmpty(description, "socket path", a.path);
      if (a.lockfile !== undefined && flag(description, "lockfile", a.lockfile)) {
        throw new EndpointDescriptionError(
          description,
          "lockfile=1 is not supported: Skein checks no PID lock files (use lockfile=0 or leave it out)",
        );
      }
      const timeout = a.timeout === undefined
        ? undefined
        : seconds(description, "timeout", a.timeout);
      return new UNIXClientEndpoint(reactor, path, timeout === undefined ? {} : { timeout });
    }
    case "tls":
    case "ssl": {
      const tlsNames = type === "tls";
      const kw = hostAndPort(description, what, args, parsed.kwargs);
      const certOption = tlsNames ? "certificate" : "certKey";
      const rootsOption = tlsNames ? "trustRoots" : "caCertsDir";
      const known = [
        "host",
        "port",
        "timeout",
        "bindAddress",
        certOption,
        "privateKey",
        rootsOption,
      ];
      if (!tlsNames) known.push("hostname");
      if (tlsNames) {
        unsupported(description, "endpoint", kw.endpoint, "TLS is only offered over TCP");
      }
      only(description, what, kw, known);
      const { host, port, options } = tcpClientArgs(description, kw);
      const name = tlsNames ? host : (kw.hostname ?? host);
      const base: EndpointTLSOptions = { verify: true };
      if (!isIPLiteral(name) || kw.hostname !== undefined) base.serverName = name;
      const certPath = kw[certOption];
      const keyPath = kw.privateKey;
      const rootsPath = kw[rootsOption];
      if (keyPath !== undefined && certPath === undefined) {
        throw new EndpointDescriptionError(
          description,
          `privateKey needs ${certOption}: a client key is only used with its certificate`,
        );
      }
      if (certPath === undefined && rootsPath === undefined) {
        return new SSL4ClientEndpoint(reactor, host, port, base, options);
      }
      return new FileTLSClientEndpoint(reactor, host, port, options, async () => {
        const tls: EndpointTLSOptions = { ...base };
        if (rootsPath !== undefined) tls.ca = await trustRootsAt(rootsOption, rootsPath);
        if (certPath !== undefined) {
          tls.cert = (await certificatesIn(certOption, certPath)).join("\n");
          tls.key = await privateKeyIn(
            keyPath === undefined ? certOption : "privateKey",
            keyPath ?? certPath,
          );
        }
        return tls;
      });
    }
    default:
      throw new EndpointDescriptionError(
        description,
        `unknown client endpoint type "${parsed.args[0]}" (known: tcp, unix, tls, ssl)`,
      );
  }
}
