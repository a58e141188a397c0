import { describe, expect, it } from 'vitest';
import { addressKey, WebhookAdmission } from './admission.js';

describe('addressKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:0:1:aaaa:bbbb:cccc:dddd', '2001:db8:0:1::/64'],
    ['2001:0db8:0000:0001::1', '2001:db8:0:1::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('keys %s as %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});

describe('WebhookAdmission', () => {
  it('forgets the least recently seen address past maxTrackedAddresses, never one with a delivery in flight', () => {
    const now = 0;
    const admission = new WebhookAdmission({
      maxInFlight: 10,
      rateLimit: { perSecond: 1, burst: 1 },
      clock: () => now,
      maxTrackedAddresses: 2,
    });
    const held = admission.admit('192.0.2.1');
    expect(held.admitted).toBe(true);
    const answered = admission.admit('192.0.2.2');
    if (answered.admitted) answered.release();
    expect(answered.admitted).toBe(true);
    // A third address: 192.0.2.2 goes (192.0.2.1 holds a delivery), so it gets a full bucket again.
    expect(admission.admit('192.0.2.3').admitted).toBe(true);
    expect(admission.admit('192.0.2.1')).toMatchObject({ admitted: false, status: 429 });
    expect(admission.admit('192.0.2.2').admitted).toBe(true);
    expect(admission.inFlight).toBe(3);
    if (held.admitted) held.release();
    expect(admission.inFlight).toBe(2);
  });
});
