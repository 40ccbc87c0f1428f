import { describe, expect, test } from 'vitest';
import { assertOnSource, assertRunning, sourceGuest } from '../../src/hypervisors/vendor.js';
import { isUserError, type MigbenchError } from '../../src/model/errors.js';
import type { GuestLaunch } from '../../src/hypervisors/hypervisor.js';

const at = { endpoint: 'vcenter.example', vm: 'web-01', sourceHost: 'esx1' };

function thrown(f: () => void): MigbenchError {
  try {
    f();
  } catch (error) {
    return error as MigbenchError;
  }
  throw new Error('did not throw');
}

describe('a vendor VM before it is migrated', () => {
  test('a VM that is not running: the endpoint, its state and how to start it, as the user’s to fix', () => {
    const error = thrown(() => assertRunning(at, 'poweredOff', false, 'power it on'));
    expect(error.message).toBe('vcenter.example: VM web-01 is poweredOff; power it on on esx1 first');
    expect(error.code).toBe('MB_GUEST');
    expect(isUserError(error)).toBe(true);
    expect(() => assertRunning(at, 'poweredOn', true, 'power it on')).not.toThrow();
  });

  test('a VM running elsewhere than the source host is refused, since it is migrated from there and sent home there', () => {
    const error = thrown(() => assertOnSource(at, false));
    expect(error.message).toBe('vcenter.example: VM web-01 does not run on esx1; migbench migrates it from there');
    expect(isUserError(error)).toBe(true);
    expect(() => assertOnSource(at, true)).not.toThrow();
  });

  test('the checked VM is the guest, on the source, with no workaround applied', () => {
    const launch = { vmId: 'mb-1' } as GuestLaunch;
    expect(sourceGuest(launch)).toEqual({ vmId: 'mb-1', launch, location: 'source', workarounds: [] });
  });
});
