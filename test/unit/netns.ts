// Hosts on one machine: network namespaces joined by a veth pair, or several on a bridge, made by the test and
// removed after it. Their addresses exist only inside the namespaces, so nothing a test sends there leaves this machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

const EXEC_TIMEOUT_MS = 20_000;
let made = 0;
/** Pairs and segments not destroyed yet: removed when the process exits, should a test run be cut short. */
const alive = new Set<Namespaces>();
process.on('exit', () => {
  for (const made of alive) made.destroy();
});

/** One end of the link: a namespace, its interface, its MAC and its first addresses. */
export interface Host {
  readonly namespace: string;
  readonly iface: string;
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function namespacesUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'making network namespaces needs root (run as root, as CI does)';
  const probe = `udpw-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return undefined;
  } catch (error) {
    return `"ip netns add" failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * Fails the calling test's suite when namespaces cannot be made where they should be: under CI, and as root on Linux
 * (a missing `ip` or a container without the right to make them is something to fix, not to skip). It skips, saying
 * why, only off CI when this is not Linux or not root: a skip there would not hide a break.
 */
export function requireNamespaces(context: Mocha.Context): void {
  const why = namespacesUnavailable();
  if (why === undefined) return;
  if (process.env.CI) throw new Error(`CI must run the cross-host tests, but ${why}`);
  if (process.platform === 'linux' && process.getuid?.() === 0) {
    throw new Error(`root on Linux must run the cross-host tests, but ${why} (they need iproute2's "ip" and the right to make namespaces)`);
  }
  console.log(`      skipped: ${why}`);
  context.skip();
}

/** One end of a veth link before it exists. */
type HostPlan = Omit<Host, 'mac'>;

/** Namespaces a test made: commands start inside them, and destroy() removes them all (and their links). */
abstract class Namespaces {
  private destroyed = false;

  protected constructor(private readonly namespaces: readonly string[]) {
    alive.add(this);
  }

  /**
   * Makes each namespace with loopback up, then joins the hosts of each link by a veth pair with their addresses.
   * Whatever was made is removed again should a step fail.
   */
  protected static make(namespaces: readonly string[], links: ReadonlyArray<readonly [HostPlan, HostPlan]>): Map<HostPlan, Host> {
    const created: string[] = [];
    try {
      for (const namespace of namespaces) {
        ip('netns', 'add', namespace);
        created.push(namespace);
        ip('-n', namespace, 'link', 'set', 'lo', 'up');
      }
      const hosts = new Map<HostPlan, Host>();
      for (const [a, b] of links) {
        ip('link', 'add', a.iface, 'netns', a.namespace, 'type', 'veth', 'peer', 'name', b.iface, 'netns', b.namespace);
        for (const host of [a, b]) {
          ip('-n', host.namespace, 'link', 'set', host.iface, 'up');
          ip('-n', host.namespace, 'addr', 'add', `${host.ipv4}/24`, 'dev', host.iface);
          // nodad: usable at once, without waiting for duplicate address detection.
          ip('-n', host.namespace, 'addr', 'add', `${host.ipv6}/64`, 'dev', host.iface, 'nodad');
          hosts.set(host, { ...host, mac: exec(host.namespace, 'cat', [`/sys/class/net/${host.iface}/address`]).trim() });
        }
      }
      return hosts;
    } catch (error) {
      for (const namespace of created) deleteNamespace(namespace);
      throw error;
    }
  }

  /** Starts a long-running command inside a host's namespace. */
  spawn(host: Host, command: string, args: readonly string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', host.namespace, command, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  }

  /** Another address for a host, e.g. `fd77::3/64`. */
  addAddress(host: Host, cidr: string): void {
    ip('-n', host.namespace, 'addr', 'add', cidr, 'dev', host.iface, 'nodad');
  }

  /** Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    alive.delete(this);
    for (const namespace of this.namespaces) deleteNamespace(namespace);
  }
}

/** `server` and `peer`, each in its own namespace with loopback up, on 10.77.0.0/24 and fd77::/64. */
export class NamespacePair extends Namespaces {
  private constructor(
    readonly server: Host,
    readonly peer: Host,
  ) {
    super([server.namespace, peer.namespace]);
  }

  /** Unique names (pid and a counter), so parallel runs never meet. */
  static create(): NamespacePair {
    const tag = `udpw-${process.pid}-${++made}`;
    const server = { namespace: `${tag}-s`, iface: 'veth-s', ipv4: '10.77.0.1', ipv6: 'fd77::1' };
    const peer = { namespace: `${tag}-p`, iface: 'veth-p', ipv4: '10.77.0.2', ipv6: 'fd77::2' };
    const created: string[] = [];
    try {
      for (const host of [server, peer]) {
        ip('netns', 'add', host.namespace);
        created.push(host.namespace);
      }
      ip('link', 'add', server.iface, 'netns', server.namespace, 'type', 'veth', 'peer', 'name', peer.iface, 'netns', peer.namespace);
      for (const host of [server, peer]) {
        ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
        ip('-n', host.namespace, 'link', 'set', host.iface, 'up');
        ip('-n', host.namespace, 'addr', 'add', `${host.ipv4}/24`, 'dev', host.iface);
        // nodad: usable at once, without waiting for duplicate address detection.
        ip('-n', host.namespace, 'addr', 'add', `${host.ipv6}/64`, 'dev', host.iface, 'nodad');
      }
      const mac = (host: typeof server): string => exec(host.namespace, 'cat', [`/sys/class/net/${host.iface}/address`]).trim();
      return new NamespacePair({ ...server, mac: mac(server) }, { ...peer, mac: mac(peer) });
    } catch (error) {
      for (const namespace of created) deleteNamespace(namespace);
      throw error;
    }
  }

  /** Runs a command inside a host's namespace and returns its standard output. */
  exec(host: Host, command: string, args: readonly string[]): string {
    return exec(host.namespace, command, args);
  }
}

function exec(namespace: string, command: string, args: readonly string[]): string {
  return execFileSync('ip', ['netns', 'exec', namespace, command, ...args], { encoding: 'utf8', timeout: EXEC_TIMEOUT_MS });
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: EXEC_TIMEOUT_MS });
}

function deleteNamespace(namespace: string): void {
  try {
    ip('netns', 'del', namespace);
  } catch {
    // Already gone.
  }
}

/**
 * `count` hosts on one Ethernet segment: each in its own namespace, linked by a veth pair to a bridge in a namespace
 * of its own, on 10.78.0.0/24 and fd78::/64 (host i has .i+1 and ::i+1), with a route that sends multicast out by
 * its link. The bridge floods multicast to every port (no snooping), so what a host receives is what its own kernel
 * lets through: its memberships and their sources.
 */
export class NamespaceSegment extends Namespaces {
  private constructor(
    readonly hosts: readonly Host[],
    namespaces: readonly string[],
  ) {
    super(namespaces);
  }

  static create(count: number): NamespaceSegment {
    const tag = `udpw-${process.pid}-${++made}`;
    const bridge = `${tag}-b`;
    const created: string[] = [];
    try {
      ip('netns', 'add', bridge);
      created.push(bridge);
      ip('-n', bridge, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
      ip('-n', bridge, 'link', 'set', 'br0', 'up');
      const hosts: Host[] = [];
      for (let i = 0; i < count; i++) {
        const namespace = `${tag}-${i}`;
        ip('netns', 'add', namespace);
        created.push(namespace);
        // Addresses usable at once, link-local ones included: IPv6 multicast leaves from those.
        exec(namespace, 'sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
        const iface = `veth${i}`;
        ip('link', 'add', iface, 'netns', namespace, 'type', 'veth', 'peer', 'name', `port${i}`, 'netns', bridge);
        ip('-n', bridge, 'link', 'set', `port${i}`, 'master', 'br0', 'up');
        const host = { namespace, iface, ipv4: `10.78.0.${i + 1}`, ipv6: `fd78::${i + 1}` };
        ip('-n', namespace, 'link', 'set', 'lo', 'up');
        ip('-n', namespace, 'link', 'set', iface, 'up');
        ip('-n', namespace, 'addr', 'add', `${host.ipv4}/24`, 'dev', iface);
        ip('-n', namespace, 'addr', 'add', `${host.ipv6}/64`, 'dev', iface, 'nodad');
        ip('-n', namespace, 'route', 'add', '224.0.0.0/4', 'dev', iface);
        hosts.push({ ...host, mac: exec(namespace, 'cat', [`/sys/class/net/${iface}/address`]).trim() });
      }
      return new NamespaceSegment(hosts, created);
    } catch (error) {
      for (const namespace of created) deleteNamespace(namespace);
      throw error;
    }
  }

  /** Takes a host's multicast route away: sends to a group without an interface then have no way out. */
  removeMulticastRoute(host: Host): void {
    ip('-n', host.namespace, 'route', 'del', '224.0.0.0/4', 'dev', host.iface);
  }
}

/**
 * Three hosts in a row, each in its own namespace: `client` ⇄ `proxy` ⇄ `server`, two veth pairs. The proxy's
 * host has an address on each link (`proxyFront` on 10.78.1.0/24 and fd78:1::/64 towards the client, `proxyBack` on
 * 10.78.2.0/24 and fd78:2::/64 towards the server); client and server share no link, so only the proxy joins them.
 */
export class NamespaceChain extends Namespaces {
  private constructor(
    readonly client: Host,
    readonly proxyFront: Host,
    readonly proxyBack: Host,
    readonly server: Host,
  ) {
    super([client.namespace, proxyFront.namespace, server.namespace]);
  }

  static create(): NamespaceChain {
    const tag = `udpw-${process.pid}-${++made}`;
    const client = { namespace: `${tag}-c`, iface: 'veth-c', ipv4: '10.78.1.2', ipv6: 'fd78:1::2' };
    const proxyFront = { namespace: `${tag}-x`, iface: 'veth-xc', ipv4: '10.78.1.1', ipv6: 'fd78:1::1' };
    const proxyBack = { namespace: proxyFront.namespace, iface: 'veth-xs', ipv4: '10.78.2.1', ipv6: 'fd78:2::1' };
    const server = { namespace: `${tag}-s`, iface: 'veth-s', ipv4: '10.78.2.2', ipv6: 'fd78:2::2' };
    const hosts = Namespaces.make(
      [client.namespace, proxyFront.namespace, server.namespace],
      [
        [client, proxyFront],
        [proxyBack, server],
      ],
    );
    return new NamespaceChain(hosts.get(client)!, hosts.get(proxyFront)!, hosts.get(proxyBack)!, hosts.get(server)!);
  }
}
