// Endpoints and endpoint description strings: the grammar, every option of
// every type, and the listen/connect/cancel state machine on a MemoryReactor
// (no sockets); then the same endpoints over real loopback sockets on every
// backend this runtime hosts (TCP, IPv6, Unix sockets, TLS with a
// certificate made by openssl, refused, cancelled, address in use).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CancelledError, Deferred, Failure, succeed } from "../defer/mod.ts";
import { IPv4Address } from "../protocols/address.ts";
import { ConnectError, ConnectionDone, ConnectionRefusedError } from "../protocols/errors.ts";
import type { IProtocol, IProtocolFactory, ITransport } from "../protocols/interfaces.ts";
import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
import {
  ConnectingCancelledError,
  connectProtocol,
  type EndpointListeningPort,
  type EndpointReactorTCP,
  NoProtocol,
  SSL4ClientEndpoint,
  SSL4ServerEndpoint,
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
} from "../protocols/endpoints.ts";
import {
  clientFromString,
  EndpointDescriptionError,
  parseEndpointDescription,
  quoteStringArgument,
  serverFromString,
} from "../protocols/endpoint_strings.ts";
import { type FakeConnector, MemoryReactor } from "../testing/memory_reactor.ts";
import { StringTransport } from "../testing/string_transport.ts";
import { failureResultOf, successResultOf } from "../testing/results.ts";
import { backendsForHost } from "../reactor/backends/select.ts";
import { createReactor } from "../reactor/global.ts";
import { CannotListenError } from "../reactor/errors.ts";
import type { Reactor } from "../reactor/reactor.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "skein-endpoints-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CERT_A = "-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----";
const CERT_B = "-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----";
const KEY = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----";
const RSA_KEY = "-----BEGIN RSA PRIVATE KEY-----\nUlNB\n-----END RSA PRIVATE KEY-----";

function write(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

/** Asserts that `fn` throws an EndpointDescriptionError whose message contains every `parts`. */
function rejects(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EndpointDescriptionError, `not an EndpointDescriptionError: ${e}`);
    for (const p of parts) {
      assert.ok(e.message.includes(p), `${JSON.stringify(p)} not in: ${e.message}`);
    }
    return true;
  });
}

class Recorder extends Protocol {
  events: string[] = [];
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.events.push(`data:${new TextDecoder().decode(data)}`);
  }
  override connectionLost(reason: Failure): void {
    this.events.push(`lost:${reason.type?.name}`);
  }
}

describe("parseEndpointDescription", () => {
  test("splits positional and keyword arguments in order", () => {
    const { args, kwargs } = parseEndpointDescription("a:b:d=1:c");
    assert.deepEqual(args, ["a", "b", "c"]);
    assert.deepEqual({ ...kwargs }, { d: "1" });
  });

  test("only the first = of an argument separates key and value", () => {
    const { args, kwargs } = parseEndpointDescription("x:k=a=b=c:m=");
    assert.deepEqual(args, ["x"]);
    assert.equal(kwargs.k, "a=b=c");
    assert.equal(kwargs.m, "");
  });

  test("backslash makes the next character literal, anywhere", () => {
    const { args, kwargs } = parseEndpointDescription(
      "unix:C\\:/a\\=b\\\\c:privateKey=C\\:\\\\k.pem",
    );
    assert.deepEqual(args, ["unix", "C:/a=b\\c"]);
    assert.equal(kwargs.privateKey, "C:\\k.pem");
  });

  test("empty arguments are kept (positional) and non-ASCII passes through", () => {
    const { args } = parseEndpointDescription("tcp::ünï😀");
    assert.deepEqual(args, ["tcp", "", "ünï😀"]);
  });

  test("kwargs has no prototype: __proto__ is an ordinary key", () => {
    const { kwargs } = parseEndpointDescription("x:__proto__=1");
    assert.equal(Object.getPrototypeOf(kwargs), null);
    assert.equal(kwargs["__proto__"], "1");
  });

  test("rejects a lone trailing backslash, an empty key and a repeated key", () => {
    rejects(() => parseEndpointDescription("tcp:80\\"), "lone backslash");
    rejects(() => parseEndpointDescription("tcp:=5"), "empty option name");
    rejects(
      () => parseEndpointDescription("tcp:80:backlog=1:backlog=2"),
      '"backlog" is given twice',
    );
  });

  test("rejects a non-string", () => {
    assert.throws(() => parseEndpointDescription(80 as unknown as string), TypeError);
  });
});

describe("quoteStringArgument", () => {
  test("any string survives quoting as a positional argument and as a value", () => {
    const samples = [
      "",
      "plain",
      "C:\\x",
      "a:b=c",
      "\\",
      "::==\\\\",
      "tcp:80:interface=::1",
      "é:😀",
    ];
    for (const s of samples) {
      const q = quoteStringArgument(s);
      const { args, kwargs } = parseEndpointDescription(`t:${q}:k=${q}`);
      assert.deepEqual(args, ["t", s], `positional ${JSON.stringify(s)}`);
      assert.equal(kwargs.k, s, `value ${JSON.stringify(s)}`);
    }
  });
});

describe("serverFromString", () => {
  test("tcp: port, interface and backlog, positional or keyword", () => {
    const cases: [string, number, number, string][] = [
      ["tcp:8000", 8000, 50, ""],
      ["tcp:8000:interface=127.0.0.1", 8000, 50, "127.0.0.1"],
      ["tcp:8000:127.0.0.1:7", 8000, 7, "127.0.0.1"],
      ["tcp:port=0:backlog=100:interface=\\:\\:1", 0, 100, "::1"],
      ["TCP:65535", 65535, 50, ""],
    ];
    for (const [desc, port, backlog, iface] of cases) {
      const reactor = new MemoryReactor();
      const endpoint = serverFromString(reactor, desc);
      assert.ok(endpoint instanceof TCP4ServerEndpoint, desc);
      successResultOf(endpoint.listen(Factory.forProtocol(Protocol)));
      const [p, , b, i] = reactor.tcpServers[0];
      assert.deepEqual([p, b, i], [port, backlog, iface], desc);
    }
  });

  test("tcp6: interface defaults to ::", () => {
    const reactor = new MemoryReactor();
    const endpoint = serverFromString(reactor, "tcp6:8080:backlog=5");
    assert.ok(endpoint instanceof TCP6ServerEndpoint);
    successResultOf(endpoint.listen(Factory.forProtocol(Protocol)));
    assert.deepEqual(reactor.tcpServers[0].slice(2), [5, "::"]);
    // tcp6's positional order is Twisted's: port, backlog, interface.
    const e2 = serverFromString(reactor, "tcp6:1:9:::1".replace(":::1", ":\\:\\:1"));
    assert.ok(e2 instanceof TCP6ServerEndpoint);
    assert.equal(e2.backlog, 9);
    assert.equal(e2.interface, "::1");
  });

  test("unix: path, backlog, mode (octal), lockfile=0", () => {
    const reactor = new MemoryReactor();
    const e = serverFromString(reactor, "unix:/tmp/a\\:b.sock:mode=660:backlog=3:lockfile=0");
    assert.ok(e instanceof UNIXServerEndpoint);
    assert.equal(e.address, "/tmp/a:b.sock");
    assert.equal(e.mode, 0o660);
    assert.equal(e.backlog, 3);
    const e2 = serverFromString(reactor, "unix:address=/tmp/x.sock");
    assert.ok(e2 instanceof UNIXServerEndpoint);
    assert.equal(e2.mode, null);
    assert.equal(e2.backlog, 50);
  });

  test("malformed descriptions name the bad part", () => {
    const r = new MemoryReactor();
    rejects(() => serverFromString(r, ""), "endpoint type");
    rejects(() => serverFromString(r, "udp:53"), 'unknown server endpoint type "udp"');
    rejects(() => serverFromString(r, "tcp"), "port is required");
    rejects(() => serverFromString(r, "tcp:80x"), "port", '"80x"');
    rejects(() => serverFromString(r, "tcp:65536"), "65536");
    rejects(() => serverFromString(r, "tcp:-1"), '"-1"');
    rejects(() => serverFromString(r, "tcp:80:backlog=0"), "backlog", '"0"');
    rejects(() => serverFromString(r, "tcp:80:backlog=ten"), "backlog", '"ten"');
    rejects(() => serverFromString(r, "tcp:80:a:1:extra"), "too many positional", '"extra"');
    rejects(() => serverFromString(r, "tcp:80:iface=x"), 'unknown option "iface"', "interface");
    rejects(() => serverFromString(r, "tcp:80:port=81"), '"port" is given both');
    rejects(() => serverFromString(r, "unix"), "socket path is required");
    rejects(() => serverFromString(r, "unix:/x:mode=999"), "mode", '"999"');
    rejects(() => serverFromString(r, "unix:/x:lockfile=1"), "lockfile=1 is not supported");
    rejects(() => serverFromString(r, "unix:/x:lockfile=yes"), "lockfile must be 0 or 1");
    rejects(
      () => serverFromString(r, "ssl:443:sslmethod=TLSv1_METHOD"),
      '"sslmethod" is not supported',
    );
    rejects(() => serverFromString(r, "ssl:443:dhParameters=dh.pem"), '"dhParameters"');
    rejects(() => serverFromString(r, "ssl:x"), "port", '"x"');
  });

  test("ssl/tls: PEM files read on listen, certificate and key extracted", async () => {
    const both = write("server/both.pem", `junk\n${KEY}\n${CERT_A}\n`);
    const key = write("server/key.pem", RSA_KEY);
    const cert = write("server/cert.pem", CERT_A);
    const chain = write("server/chain.pem", `${CERT_B}\n`);
    // privateKey only: the same file holds the certificate.
    let reactor = new MemoryReactor();
    let e = serverFromString(reactor, `ssl:443:privateKey=${quoteStringArgument(both)}`);
    assert.equal(reactor.sslServers.length, 0, "nothing happens before listen()");
    await e.listen(Factory.forProtocol(Protocol));
    assert.deepEqual(reactor.sslServers[0][2], { cert: CERT_A, key: KEY });
    assert.deepEqual(reactor.sslServers[0].slice(3), [50, ""]);
    // Separate files, a chain, interface and backlog; tls: is the same grammar.
    for (const type of ["ssl", "tls"]) {
      reactor = new MemoryReactor();
      e = serverFromString(
        reactor,
        `${type}:8443:privateKey=${key}:certKey=${cert}:extraCertChain=${chain}:interface=127.0.0.1:backlog=9`,
      );
      await e.listen(Factory.forProtocol(Protocol));
      const [port, , tls, backlog, iface] = reactor.sslServers[0];
      assert.equal(port, 8443);
      assert.deepEqual(tls, { cert: `${CERT_A}\n${CERT_B}`, key: RSA_KEY });
      assert.deepEqual([backlog, iface], [9, "127.0.0.1"]);
    }
  });

  test("ssl: unreadable or wrong files fail listen() with the option and path", async () => {
    const reactor = new MemoryReactor();
    const missing = path.join(tmp, "missing.pem");
    const certOnly = write("server/cert-only.pem", CERT_A);
    const keyOnly = write("server/key-only.pem", KEY);
    const cases: [string, string[]][] = [
      [`ssl:1:privateKey=${missing}`, ["certKey file", missing]],
      [`ssl:1:privateKey=${certOnly}`, ["privateKey file", "no PEM private key"]],
      [`ssl:1:privateKey=${keyOnly}`, ["certKey file", "no PEM certificate"]],
      [`ssl:1:privateKey=${keyOnly}:certKey=${certOnly}:extraCertChain=${keyOnly}`, [
        "extraCertChain file",
      ]],
    ];
    for (const [desc, parts] of cases) {
      await assert.rejects(
        serverFromString(reactor, desc).listen(Factory.forProtocol(Protocol)).asPromise(),
        (e: Error) => {
          for (const p of parts) assert.ok(e.message.includes(p), `${p} not in ${e.message}`);
          return true;
        },
      );
    }
    assert.equal(reactor.sslServers.length, 0, "nothing listens when the files are bad");
  });
});

describe("clientFromString", () => {
  test("tcp: host and port in every Twisted spelling, timeout, bindAddress", () => {
    const spellings = [
      "tcp:host=example.com:port=80",
      "tcp:example.com:80",
      "tcp:host=example.com:80",
      "tcp:example.com:port=80",
      "TCP:port=80:host=example.com",
    ];
    for (const desc of spellings) {
      const e = clientFromString(new MemoryReactor(), desc);
      assert.ok(e instanceof TCP4ClientEndpoint, desc);
      assert.deepEqual(
        [e.host, e.port, e.timeout, e.bindAddress],
        ["example.com", 80, 30, null],
        desc,
      );
    }
    const e = clientFromString(
      new MemoryReactor(),
      "tcp:\\:\\:1:8000:timeout=2.5:bindAddress=\\:\\:1",
    );
    assert.ok(e instanceof TCP4ClientEndpoint);
    assert.deepEqual([e.host, e.port, e.timeout, e.bindAddress], ["::1", 8000, 2.5, ["::1", 0]]);
  });

  test("tcp: connect passes the options to connectTCP", () => {
    const reactor = new MemoryReactor();
    const d = clientFromString(reactor, "tcp:127.0.0.1:8000:timeout=3").connect(
      Factory.forProtocol(Protocol),
    );
    assert.deepEqual(
      [reactor.tcpClients[0][0], reactor.tcpClients[0][1], reactor.tcpClients[0][3]],
      ["127.0.0.1", 8000, 3],
    );
    d.addErrback(() => null);
    d.cancel();
  });

  test("unix: path positional or keyword, timeout, lockfile=0", () => {
    for (const desc of ["unix:/var/foo", "unix:path=/var/foo", "unix:/var/foo:lockfile=0"]) {
      const e = clientFromString(new MemoryReactor(), desc);
      assert.ok(e instanceof UNIXClientEndpoint, desc);
      assert.deepEqual([e.path, e.timeout], ["/var/foo", 30]);
    }
    const e = clientFromString(new MemoryReactor(), "unix:/x:timeout=9");
    assert.ok(e instanceof UNIXClientEndpoint);
    assert.equal(e.timeout, 9);
  });

  test("tls/ssl without files: verifying endpoint, serverName from the host", () => {
    const e = clientFromString(new MemoryReactor(), "tls:host=example.com:port=443:timeout=4");
    assert.ok(e instanceof SSL4ClientEndpoint);
    assert.deepEqual(e.tls, { verify: true, serverName: "example.com" });
    assert.equal(e.timeout, 4);
    const ip = clientFromString(new MemoryReactor(), "tls:127.0.0.1:443");
    assert.ok(ip instanceof SSL4ClientEndpoint);
    assert.deepEqual(ip.tls, { verify: true }, "no SNI for an IP literal");
    const ssl = clientFromString(new MemoryReactor(), "ssl:127.0.0.1:443:hostname=localhost");
    assert.ok(ssl instanceof SSL4ClientEndpoint);
    assert.deepEqual(ssl.tls, { verify: true, serverName: "localhost" });
  });

  test("tls: trustRoots (directory of *.pem or one file) and a client certificate, read on connect", async () => {
    const dir = path.join(tmp, "roots");
    write("roots/a.pem", CERT_A);
    write("roots/b.PEM", `${CERT_B}\n${CERT_A}`);
    write("roots/ignored.txt", CERT_B);
    write("roots/junk.pem", "not a certificate");
    const clientCert = write("client/cert.pem", CERT_B);
    const clientKey = write("client/key.pem", KEY);
    const reactor = new MemoryReactor();
    const d = clientFromString(
      reactor,
      `tls:host=localhost:port=443:trustRoots=${dir}:certificate=${clientCert}:privateKey=${clientKey}`,
    ).connect(Factory.forProtocol(Protocol));
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 50 && reactor.sslClients.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const [host, port, , tls] = reactor.sslClients[0];
    assert.deepEqual([host, port], ["localhost", 443]);
    assert.deepEqual(tls, {
      verify: true,
      serverName: "localhost",
      ca: [CERT_A, CERT_B, CERT_A],
      cert: CERT_B,
      key: KEY,
    });
    d.addErrback(() => null);
    d.cancel();
    assert.ok(reactor.connectors[0].stoppedConnecting, "cancel reaches the connector");

    // ssl: with caCertsDir as one file and certKey holding both cert and key.
    const both = write("client/both.pem", `${CERT_B}\n${KEY}`);
    const r2 = new MemoryReactor();
    const d2 = clientFromString(
      r2,
      `ssl:127.0.0.1:443:caCertsDir=${path.join(dir, "a.pem")}:certKey=${both}:hostname=localhost`,
    ).connect(Factory.forProtocol(Protocol));
    for (let i = 0; i < 100 && r2.sslClients.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(r2.sslClients[0][3], {
      verify: true,
      serverName: "localhost",
      ca: [CERT_A],
      cert: CERT_B,
      key: KEY,
    });
    d2.addErrback(() => null);
    d2.cancel();
  });

  test("tls: a missing trust root fails connect() naming it; cancelling while reading connects nothing", async () => {
    const reactor = new MemoryReactor();
    const missing = path.join(tmp, "nope");
    await assert.rejects(
      clientFromString(reactor, `tls:localhost:443:trustRoots=${missing}`)
        .connect(Factory.forProtocol(Protocol)).asPromise(),
      (e: Error) => e.message.includes("trustRoots") && e.message.includes(missing),
    );
    const empty = fs.mkdtempSync(path.join(tmp, "empty-"));
    await assert.rejects(
      clientFromString(reactor, `tls:localhost:443:trustRoots=${empty}`)
        .connect(Factory.forProtocol(Protocol)).asPromise(),
      /holds no PEM certificate/,
    );
    const d = clientFromString(reactor, `tls:localhost:443:trustRoots=${path.join(tmp, "roots")}`)
      .connect(Factory.forProtocol(Protocol));
    d.cancel();
    assert.ok(failureResultOf(d, CancelledError));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(reactor.sslClients.length, 0);
  });

  test("malformed descriptions name the bad part", () => {
    const r = new MemoryReactor();
    rejects(() => clientFromString(r, "tcp:host=a"), "port is required");
    rejects(() => clientFromString(r, "tcp:port=80"), "host is required");
    rejects(() => clientFromString(r, "tcp:a:80:x"), "too many positional");
    rejects(() => clientFromString(r, "tcp:a:80:timeout=0"), "timeout", '"0"');
    rejects(() => clientFromString(r, "tcp:a:80:timeout=soon"), '"soon"');
    rejects(() => clientFromString(r, "tcp:a:80:backlog=1"), 'unknown option "backlog"');
    rejects(() => clientFromString(r, "tcp:a:80:host=b"), '"host" is given both');
    rejects(() => clientFromString(r, "unix:"), "socket path is required");
    rejects(() => clientFromString(r, "unix:/x:lockfile=1"), "lockfile=1");
    rejects(
      () => clientFromString(r, "tls:a:443:endpoint=tcp\\:a\\:443"),
      '"endpoint" is not supported',
    );
    rejects(() => clientFromString(r, "tls:a:443:caCertsDir=/x"), 'unknown option "caCertsDir"');
    rejects(() => clientFromString(r, "ssl:a:443:trustRoots=/x"), 'unknown option "trustRoots"');
    rejects(
      () => clientFromString(r, "tls:a:443:privateKey=k.pem"),
      "privateKey needs certificate",
    );
    rejects(() => clientFromString(r, "ssl:a:443:privateKey=k.pem"), "privateKey needs certKey");
    rejects(() => clientFromString(r, "quic:a:443"), 'unknown client endpoint type "quic"');
  });
});

describe("server endpoints", () => {
  /** A port whose binding the test completes by hand. */
  class PendingPort implements EndpointListeningPort {
    bound = new Deferred<unknown>();
    stopped = 0;
    getHost() {
      return new IPv4Address("TCP", "127.0.0.1", 4321);
    }
    stopListening() {
      this.stopped++;
      return succeed<void>(undefined);
    }
    whenListening() {
      return this.bound;
    }
  }
  class PendingReactor implements EndpointReactorTCP<PendingPort> {
    ports: PendingPort[] = [];
    listenTCP(): PendingPort {
      const p = new PendingPort();
      this.ports.push(p);
      return p;
    }
    connectTCP(): FakeConnector {
      throw new Error("unused");
    }
  }

  test("listen fires with the port only once it is bound", () => {
    const reactor = new PendingReactor();
    const d = new TCP4ServerEndpoint(reactor, 0).listen(Factory.forProtocol(Protocol));
    assert.equal(d.called, false);
    reactor.ports[0].bound.callback(reactor.ports[0]);
    assert.equal(successResultOf(d), reactor.ports[0]);
  });

  test("a bind failure fails listen with that reason", () => {
    const reactor = new PendingReactor();
    const d = new TCP4ServerEndpoint(reactor, 0).listen(Factory.forProtocol(Protocol));
    reactor.ports[0].bound.errback(new Error("EADDRINUSE"));
    assert.match(failureResultOf(d).getErrorMessage(), /EADDRINUSE/);
  });

  test("a promise-like whenListening works too", async () => {
    const port = new PendingPort();
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    port.whenListening = () => promise as unknown as Deferred<unknown>;
    const reactor = new PendingReactor();
    reactor.listenTCP = () => port;
    const d = new TCP4ServerEndpoint(reactor, 0).listen(Factory.forProtocol(Protocol));
    assert.equal(d.called, false);
    resolve();
    assert.equal(await d, port);
  });

  test("cancelling a listen that is still binding closes the port", () => {
    const reactor = new PendingReactor();
    const d = new TCP4ServerEndpoint(reactor, 0).listen(Factory.forProtocol(Protocol));
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(reactor.ports[0].stopped, 1);
    reactor.ports[0].bound.errback(new Error("closed while binding")); // ignored, not unhandled
  });

  test("listenTCP throwing fails the Deferred instead of throwing", () => {
    const reactor = new PendingReactor();
    reactor.listenTCP = () => {
      throw new RangeError("bad port");
    };
    const d = new TCP4ServerEndpoint(reactor, 99999).listen(Factory.forProtocol(Protocol));
    failureResultOf(d, RangeError);
  });

  test("constructors default like Twisted", () => {
    const r = new MemoryReactor();
    const t4 = new TCP4ServerEndpoint(r, 1);
    assert.deepEqual([t4.backlog, t4.interface], [50, ""]);
    const t6 = new TCP6ServerEndpoint(r, 1, { backlog: 2 });
    assert.deepEqual([t6.backlog, t6.interface], [2, "::"]);
    const s = new SSL4ServerEndpoint(r, 1, {});
    assert.deepEqual([s.backlog, s.interface], [50, ""]);
    const u = new UNIXServerEndpoint(r, "/x");
    assert.deepEqual([u.backlog, u.mode], [50, null]);
  });

  test("unix with mode chmods the socket file after binding; a failing chmod closes the port", async () => {
    const file = write("socket-standin", "");
    fs.chmodSync(file, 0o600);
    const reactor = new MemoryReactor();
    const port = await new UNIXServerEndpoint(reactor, file, { mode: 0o640 })
      .listen(Factory.forProtocol(Protocol));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    assert.equal((port as { listening?: boolean }).listening, true);
    const r2 = new MemoryReactor();
    const d = new UNIXServerEndpoint(r2, path.join(tmp, "absent.sock"), { mode: 0o600 })
      .listen(Factory.forProtocol(Protocol));
    await assert.rejects(d.asPromise(), /ENOENT/);
  });
});

describe("client endpoints", () => {
  function connectOn(reactor: MemoryReactor) {
    const proto = new Recorder();
    const factory = new (class extends Factory<Recorder> {
      starts = 0;
      stops = 0;
      override buildProtocol() {
        return proto;
      }
      override doStart() {
        this.starts++;
      }
      override doStop() {
        this.stops++;
      }
    })();
    const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 8000).connect(factory);
    const [, , wrapping] = reactor.tcpClients[0];
    return { proto, factory, d, wrapping, connector: reactor.connectors[0] };
  }

  test("fires with the built protocol once connectionMade ran; data and loss are relayed", () => {
    const reactor = new MemoryReactor();
    const { proto, d, wrapping } = connectOn(reactor);
    const wrapper = wrapping.buildProtocol(new IPv4Address("TCP", "127.0.0.1", 8000))!;
    assert.equal(d.called, false, "not before the connection is made");
    const transport = new StringTransport();
    wrapper.makeConnection(transport);
    assert.equal(successResultOf(d), proto);
    assert.equal(proto.transport, transport, "the protocol gets the real transport");
    wrapper.dataReceived(new TextEncoder().encode("hi"));
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.deepEqual(proto.events, ["made", "data:hi", "lost:ConnectionDone"]);
  });

  test("doStart/doStop reach the user's factory", () => {
    const { factory, wrapping } = connectOn(new MemoryReactor());
    wrapping.doStart();
    wrapping.doStop();
    assert.deepEqual([factory.starts, factory.stops], [1, 1]);
  });

  test("a failed attempt fails the Deferred with its reason (once)", () => {
    const { d, wrapping, connector } = connectOn(new MemoryReactor());
    wrapping.clientConnectionFailed(connector, new Failure(new ConnectionRefusedError()));
    wrapping.clientConnectionFailed(connector, new Failure(new Error("second")));
    failureResultOf(d, ConnectionRefusedError);
  });

  test("a loss before connectionMade (e.g. TLS handshake) fails the Deferred; after it, nothing changes", () => {
    const { d, wrapping, connector } = connectOn(new MemoryReactor());
    wrapping.clientConnectionLost(connector, new Failure(new Error("handshake failed")));
    assert.match(failureResultOf(d).getErrorMessage(), /handshake/);
    const r2 = connectOn(new MemoryReactor());
    r2.wrapping.buildProtocol(null)!.makeConnection(new StringTransport());
    r2.wrapping.clientConnectionLost(r2.connector, new Failure(new ConnectionDone()));
    assert.equal(successResultOf(r2.d), r2.proto);
  });

  test("cancel stops the attempt and fails with ConnectingCancelledError naming the address", () => {
    const { d, connector } = connectOn(new MemoryReactor());
    d.cancel();
    const f = failureResultOf(d, ConnectingCancelledError);
    assert.ok(f.value instanceof CancelledError);
    const err = f.value as ConnectingCancelledError;
    assert.ok(err.address?.equals(new IPv4Address("TCP", "127.0.0.1", 8000)));
    assert.ok(connector.stoppedConnecting);
  });

  test("cancel after the connection is made changes nothing", () => {
    const { d, proto, wrapping, connector } = connectOn(new MemoryReactor());
    wrapping.buildProtocol(null)!.makeConnection(new StringTransport());
    d.cancel();
    assert.equal(successResultOf(d), proto);
    assert.equal(connector.stoppedConnecting, false);
  });

  test("a factory refusing (null) fails with NoProtocol; one throwing fails with its error", () => {
    const reactor = new MemoryReactor();
    const refusing: IProtocolFactory = { buildProtocol: () => null, doStart() {}, doStop() {} };
    const d = new TCP4ClientEndpoint(reactor, "h", 1).connect(refusing);
    assert.equal(reactor.tcpClients[0][2].buildProtocol(null), null);
    failureResultOf(d, NoProtocol);
    const throwing: IProtocolFactory = {
      buildProtocol: () => {
        throw new SyntaxError("nope");
      },
      doStart() {},
      doStop() {},
    };
    const d2 = new TCP4ClientEndpoint(reactor, "h", 1).connect(throwing);
    assert.equal(reactor.tcpClients[1][2].buildProtocol(null), null);
    failureResultOf(d2, SyntaxError);
  });

  test("connectionMade throwing fails the Deferred and still reaches the transport", () => {
    class Bad extends Protocol {
      override connectionMade(): void {
        throw new EvalError("bad start");
      }
    }
    const reactor = new MemoryReactor();
    const d = new TCP4ClientEndpoint(reactor, "h", 1).connect(Factory.forProtocol(Bad));
    const wrapper = reactor.tcpClients[0][2].buildProtocol(null)!;
    assert.throws(() => wrapper.makeConnection(new StringTransport()), EvalError);
    failureResultOf(d, EvalError);
  });

  test("connectTCP throwing fails the Deferred instead of throwing", () => {
    const reactor = new MemoryReactor();
    reactor.connectTCP = () => {
      throw new Error("bindAddress is not supported");
    };
    const d = new TCP4ClientEndpoint(reactor, "h", 1, { bindAddress: ["127.0.0.1", 0] })
      .connect(Factory.forProtocol(Protocol));
    assert.match(failureResultOf(d).getErrorMessage(), /bindAddress/);
  });

  test("the wrapper is half-closeable exactly when the protocol is", () => {
    class Half extends Protocol {
      seen: string[] = [];
      readConnectionLost(): void {
        this.seen.push("read");
      }
      writeConnectionLost(): void {
        this.seen.push("write");
      }
    }
    const reactor = new MemoryReactor();
    const half = new Half();
    connectProtocol(new TCP4ClientEndpoint(reactor, "h", 1), half);
    const w = reactor.tcpClients[0][2].buildProtocol(null) as unknown as Record<string, () => void>;
    w.readConnectionLost();
    w.writeConnectionLost();
    assert.deepEqual(half.seen, ["read", "write"]);
    connectProtocol(new TCP4ClientEndpoint(reactor, "h", 1), new Protocol());
    const plain = reactor.tcpClients[1][2].buildProtocol(null) as unknown as Record<
      string,
      unknown
    >;
    assert.equal(typeof plain.readConnectionLost, "undefined");
  });

  test("unix and ssl client endpoints pass their options on", () => {
    const reactor = new MemoryReactor();
    const d1 = new UNIXClientEndpoint(reactor, "/s", { timeout: 3 }).connect(new ClientFactory());
    assert.deepEqual([reactor.unixClients[0][0], reactor.unixClients[0][2]], ["/s", 3]);
    const tls = { ca: CERT_A, serverName: "x" };
    const d2 = new SSL4ClientEndpoint(reactor, "h", 9, tls, { timeout: 1 }).connect(
      new ClientFactory(),
    );
    const [h, p, , t, timeout] = reactor.sslClients[0];
    assert.deepEqual([h, p, t, timeout], ["h", 9, tls, 1]);
    for (const d of [d1, d2]) {
      d.addErrback(() => null);
      d.cancel();
    }
  });

  test("connectProtocol connects the given instance", () => {
    const reactor = new MemoryReactor();
    const mine: IProtocol & { t?: ITransport } = {
      makeConnection(t) {
        this.t = t;
      },
      dataReceived() {},
      connectionLost() {},
    };
    const d = connectProtocol(new TCP4ClientEndpoint(reactor, "h", 1), mine);
    const transport = new StringTransport();
    reactor.tcpClients[0][2].buildProtocol(null)!.makeConnection(transport);
    assert.equal(successResultOf(d), mine);
    assert.equal(mine.t, transport);
  });
});

// ---------------------------------------------------------------------------
// Real sockets
// ---------------------------------------------------------------------------

const WAIT_MS = 10_000;

/** Polls `pred` every 5 ms until it holds, failing after `ms`. */
async function waitFor(pred: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

/** Collects what the server echoes back. */
class Collector extends Protocol {
  received = "";
  made = 0;
  lost: Failure | null = null;
  override connectionMade(): void {
    this.made++;
  }
  override dataReceived(data: Uint8Array): void {
    this.received += new TextDecoder().decode(data);
  }
  override connectionLost(reason: Failure): void {
    this.lost = reason;
  }
}

/** Sends `text` over `client` and waits for the echo, then closes. */
async function roundTrip(client: Collector, text: string): Promise<void> {
  client.transport!.write(text);
  await waitFor(() => client.received === text, `echo of ${JSON.stringify(text)}`);
  client.transport!.loseConnection();
  await waitFor(() => client.lost !== null, "client connectionLost");
}

/**
 * A self-signed certificate for localhost and 127.0.0.1 (rustls, in Deno,
 * wants the names in subjectAltName and refuses a CA certificate as the
 * server's own, hence CA:FALSE). The TLS tests need the openssl command.
 */
function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  try {
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ], { stdio: ["ignore", "ignore", "pipe"], timeout: 20_000 });
  } catch (err) {
    throw new Error(
      `The TLS endpoint tests need openssl to make a certificate: ${(err as Error).message}`,
    );
  }
  return { cert, key };
}

function hasIPv6Loopback(): boolean {
  return Object.values(os.networkInterfaces()).some((list) =>
    (list ?? []).some((i) => i.family === "IPv6" && i.address === "::1")
  );
}

for (const backend of backendsForHost()) {
  describe(`endpoints over real sockets: ${backend} backend`, () => {
    let reactor: Reactor;
    const logged: string[] = [];
    before(() => {
      reactor = createReactor({
        backend,
        log: (message, failure) => logged.push(`${message} ${failure?.getErrorMessage() ?? ""}`),
      });
    });
    after(() => {
      // Only the untrusted TLS client may leave a trace: the server logs the
      // failed handshake. Anything else is an error nobody handled.
      const unexpected = logged.filter((m) =>
        !/handshake|alert|hang up|certificate|TLS|SSL/i.test(m)
      );
      assert.deepEqual(unexpected, []);
    });

    test("tcp: serverFromString + clientFromString echo, real port from port 0", async () => {
      const port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1")
        .listen(Factory.forProtocol(Echo));
      const host = port.getHost() as IPv4Address;
      assert.equal(host.host, "127.0.0.1");
      assert.ok(host.port > 0);
      const client = await clientFromString(reactor, `tcp:host=127.0.0.1:port=${host.port}`)
        .connect(Factory.forProtocol(Collector));
      assert.ok(client instanceof Collector);
      assert.equal(client.made, 1, "connectionMade ran before the Deferred fired");
      await roundTrip(client, "hello endpoints");
      await port.stopListening();
    });

    test("tcp6 on ::1", async () => {
      assert.ok(hasIPv6Loopback(), "this test needs the IPv6 loopback address ::1");
      const port = await serverFromString(reactor, "tcp6:0:interface=\\:\\:1")
        .listen(Factory.forProtocol(Echo));
      const p = (port.getHost() as IPv4Address).port;
      const client = await connectProtocol(
        new TCP4ClientEndpoint(reactor, "::1", p),
        new Collector(),
      );
      await roundTrip(client, "six");
      await port.stopListening();
    });

    test("refused: connect fails with ConnectionRefusedError", async () => {
      const port = await new TCP4ServerEndpoint(reactor, 0, { interface: "127.0.0.1" })
        .listen(Factory.forProtocol(Echo));
      const p = (port.getHost() as IPv4Address).port;
      await port.stopListening();
      const d = clientFromString(reactor, `tcp:127.0.0.1:${p}:timeout=5`)
        .connect(Factory.forProtocol(Collector));
      await assert.rejects(d.asPromise(), ConnectionRefusedError);
    });

    test("address in use: listen fails with CannotListenError", async () => {
      const port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1")
        .listen(Factory.forProtocol(Echo));
      const p = (port.getHost() as IPv4Address).port;
      const second = serverFromString(reactor, `tcp:${p}:interface=127.0.0.1`)
        .listen(Factory.forProtocol(Echo));
      await assert.rejects(second.asPromise(), CannotListenError);
      await port.stopListening();
    });

    test("cancelling a pending connect stops the attempt: no protocol is connected", async () => {
      let open = 0;
      class Counting extends Protocol {
        override connectionMade(): void {
          open++;
        }
        override connectionLost(): void {
          open--;
        }
      }
      const port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1")
        .listen(Factory.forProtocol(Counting));
      const p = (port.getHost() as IPv4Address).port;
      const client = new Collector();
      const d = connectProtocol(clientFromString(reactor, `tcp:127.0.0.1:${p}`), client);
      d.cancel();
      const f = failureResultOf(d, ConnectingCancelledError);
      assert.equal(
        String((f.value as ConnectingCancelledError).address),
        `IPv4Address(TCP, '127.0.0.1', ${p})`,
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(client.made, 0, "the cancelled client never connected");
      // The server may have accepted the socket before the abort reached it;
      // either way it must not stay connected.
      await waitFor(() => open === 0, "no server connection left open");
      await port.stopListening();
    });

    test("unix: echo over a socket file, mode applied", async () => {
      const sock = path.join(tmp, `e-${backend}-${process.pid}.sock`);
      const port = await serverFromString(reactor, `unix:${quoteStringArgument(sock)}:mode=600`)
        .listen(Factory.forProtocol(Echo));
      assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
      const client = await connectProtocol(
        clientFromString(reactor, `unix:path=${sock}:timeout=5`),
        new Collector(),
      );
      await roundTrip(client, "over unix");
      await port.stopListening();
      assert.equal(fs.existsSync(sock), false, "socket file removed by stopListening");
      await assert.rejects(
        clientFromString(reactor, `unix:${sock}`).connect(Factory.forProtocol(Collector))
          .asPromise(),
        ConnectError,
      );
    });

    describe("tls", () => {
      const dir = path.join(tmp, `tls-${backend}`);
      fs.mkdirSync(dir, { recursive: true });
      let files: { cert: string; key: string };
      before(() => {
        files = makeCertificate(dir);
      });

      test("ssl server from PEM files; tls and ssl clients trusting it", async () => {
        const { cert, key } = files;
        const port = await serverFromString(
          reactor,
          `ssl:0:privateKey=${key}:certKey=${cert}:interface=127.0.0.1`,
        ).listen(Factory.forProtocol(Echo));
        const p = (port.getHost() as IPv4Address).port;
        const viaTls = await connectProtocol(
          clientFromString(
            reactor,
            `tls:host=127.0.0.1:port=${p}:trustRoots=${cert}`,
          ),
          new Collector(),
        );
        await roundTrip(viaTls, "secret one");
        const viaSsl = await connectProtocol(
          clientFromString(
            reactor,
            `ssl:127.0.0.1:${p}:caCertsDir=${dir}:hostname=localhost`,
          ),
          new Collector(),
        );
        await roundTrip(viaSsl, "secret two");
        await port.stopListening();
      });

      test("a client that does not trust the certificate fails to connect", async () => {
        const { cert, key } = files;
        const port = await serverFromString(
          reactor,
          `tls:0:privateKey=${key}:certKey=${cert}:interface=127.0.0.1`,
        ).listen(Factory.forProtocol(Echo));
        const p = (port.getHost() as IPv4Address).port;
        const client = new Collector();
        const d = connectProtocol(
          clientFromString(reactor, `tls:127.0.0.1:${p}:timeout=5`),
          client,
        );
        await assert.rejects(d.asPromise());
        assert.equal(client.made, 0);
        await port.stopListening();
      });
    });
  });
}
