import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../src/auth/address';

const request = (forwarded: string | undefined, remote = '172.16.0.9') =>
  ({
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
    socket: { remoteAddress: remote },
  }) as unknown as IncomingMessage;

describe('the client address behind a proxy', () => {
  it('takes the entry the proxy appended, not one the client wrote itself', () => {
    // A client sends its own X-Forwarded-For; the proxy appends the address it saw.
    expect(clientAddress(request('1.2.3.4, 203.0.113.7'), true)).toBe('203.0.113.7');
    expect(clientAddress(request('203.0.113.7'), true)).toBe('203.0.113.7');
    expect(clientAddress(request(' 9.9.9.9 ,  203.0.113.8 '), true)).toBe('203.0.113.8');
  });

  it('ignores the header without TRUST_PROXY, and falls back to the socket when it is empty', () => {
    expect(clientAddress(request('1.2.3.4, 203.0.113.7'), false)).toBe('172.16.0.9');
    expect(clientAddress(request(''), true)).toBe('172.16.0.9');
    expect(clientAddress(request(undefined), true)).toBe('172.16.0.9');
  });

  it('bounds what it keeps of a long header', () => {
    expect(clientAddress(request(`1.1.1.1, ${'x'.repeat(500)}`), true)).toHaveLength(64);
  });
});
