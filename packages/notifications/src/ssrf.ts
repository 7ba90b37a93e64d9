import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

// The server calls URLs that users give it (webhooks, push endpoints): it must not be made to reach
// its own network. Addresses are checked after DNS resolution, at connection time (the lookup the
// socket uses), so a name that resolves to a private address — or starts to, between a check and the
// request — is refused too.

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata services)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b:1::', 48], // local-use NAT64
] as const)
  blocked.addSubnet(network, prefix, 'ipv6');

export class UnsafeAddressError extends Error {
  override name = 'UnsafeAddressError';
  code = 'EUNSAFEADDRESS';
}

/** True for loopback, private, link-local and other non-public addresses (IPv4-mapped IPv6 included). */
export function isPrivateAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return blocked.check(address, 'ipv4');
  if (version === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** A `lookup` for sockets that refuses names resolving to any non-public address. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = allowPrivate ? undefined : addresses.find((entry) => isPrivateAddress(entry.address));
      if (refused) {
        return callback(
          new UnsafeAddressError(`${hostname} resolves to a private address (${refused.address})`),
          '',
          0,
        );
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Checks a URL before it is stored or called: an IP literal must be public (sockets skip the lookup
 * for literals), and a name must resolve, to public addresses only. Throws UnsafeAddressError.
 */
export async function assertPublicUrl(raw: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const url = new URL(raw);
  const host = hostOf(url);
  if (isIP(host)) {
    if (isPrivateAddress(host)) throw new UnsafeAddressError(`${host} is a private address`);
    return;
  }
  if (host === 'localhost' || host.endsWith('.localhost'))
    throw new UnsafeAddressError(`${host} is a loopback name`);
  await new Promise<void>((resolve, reject) => {
    guardedLookup(false)(host, { all: true }, (error) => (error ? reject(error) : resolve()));
  });
}
