import { describe, expect, it } from 'vitest';
import { assertPublicUrl, guardedLookup, isPrivateAddress } from '../src';

describe('the SSRF guard', () => {
  it('classifies addresses', () => {
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'fc12:3456::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not-an-address',
    ])
      expect(isPrivateAddress(address), address).toBe(true);
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '93.184.215.14',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
    ])
      expect(isPrivateAddress(address), address).toBe(false);
  });

  it('refuses URLs with private literals and loopback names, and names that resolve to private addresses', async () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://[::1]:8080/',
      'https://169.254.169.254/latest',
      'http://10.0.0.7/',
      'http://localhost/',
      'http://api.localhost/',
    ])
      await expect(assertPublicUrl(url, false), url).rejects.toMatchObject({ code: 'EUNSAFEADDRESS' });
    await expect(assertPublicUrl('http://127.0.0.1/', true)).resolves.toBeUndefined();
    await expect(assertPublicUrl('https://8.8.8.8/', false)).resolves.toBeUndefined();
  });

  it('the socket lookup refuses a name once resolved (localhost through the resolver)', async () => {
    const result = await new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup(false)('localhost', { all: false }, (error, address) => resolve({ error, address })),
    );
    expect(result.error).toMatchObject({ code: 'EUNSAFEADDRESS' });
    const allowed = await new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup(true)('localhost', { all: false }, (error, address) => resolve({ error, address })),
    );
    expect(allowed.error).toBeNull();
    expect(String(allowed.address)).toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});
