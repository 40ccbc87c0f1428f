import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { hostMatches, parseJump, sshHostConfig } from '../../src/exec/sshconfig.js';

let home: string;
let config: string;
const read = (host: string) => sshHostConfig(host, [config, join(home, 'global_config')], home);

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'migbench-sshconfig-'));
  await mkdir(join(home, '.ssh', 'conf.d'), { recursive: true });
  config = join(home, '.ssh', 'config');
  await writeFile(
    config,
    `# user config
Include conf.d/*.conf
Host hv1 hv1.example.net
    HostName 10.20.0.1
    User admin
    IdentityFile ~/.ssh/hv_key
    ProxyJump jumper@bastion:2222,inner

Host hv* !hv9
    Port=2200
    IdentityFile "%d/.ssh/second key"
    UserKnownHostsFile ~/.ssh/known_hosts_%h

Match exec "touch ${'/tmp/migbench-match-ran'}"
    User evil

Host proxied
    ProxyCommand nc %h %p

Host badport
    Port 70000

Host *
    User fallback
    IdentitiesOnly yes
`,
  );
  await writeFile(join(home, '.ssh', 'conf.d', '10-first.conf'), 'Host included\n  HostName 10.30.0.1\n');
  await writeFile(join(home, 'global_config'), 'Host *\n  Port 2022\n  GlobalKnownHostsFile /etc/ssh/other_known_hosts\n');
});

describe(sshHostConfig, () => {
  test('a Host alias: the first value obtained wins, IdentityFiles add up, ~ and %-tokens expand, ProxyJump hops in order', () => {
    expect(read('hv1')).toMatchObject({
      hostName: '10.20.0.1',
      user: 'admin',
      port: 2200,
      identityFiles: [join(home, '.ssh', 'hv_key'), join(home, '.ssh', 'second key')],
      proxyJump: ['jumper@bastion:2222', 'inner'],
      userKnownHostsFiles: [join(home, '.ssh', 'known_hosts_10.20.0.1')],
      globalKnownHostsFiles: ['/etc/ssh/other_known_hosts'],
      identitiesOnly: true,
      sources: { hostname: `${config}:4`, port: `${config}:10` },
    });
  });

  test('negated patterns, Host * and the next file fill in what is left; Include reads its files', () => {
    const hv9 = read('hv9');
    expect(hv9).toMatchObject({ user: 'fallback', port: 2022, identityFiles: [], proxyJump: [] });
    expect(hv9.hostName).toBeUndefined();
    expect(read('included').hostName).toBe('10.30.0.1');
  });

  test('Match blocks are skipped, never run; a ProxyCommand (a shell string) is refused with the alternatives', () => {
    expect(read('anything').user).toBe('fallback');
    expect(() => read('proxied')).toThrow(/config:\d+: ProxyCommand \(a shell string\) is not run by migbench; use ProxyJump/);
    expect(() => read('badport')).toThrow(/config:\d+: Port 70000 is not a port number/);
  });

  test('no config files: nothing but the defaults', () => {
    expect(sshHostConfig('x', [join(home, 'nope')], home)).toEqual({ identityFiles: [], proxyJump: [], sources: {} });
    expect(userInfo().username).toBeTruthy();
  });
});

describe(hostMatches, () => {
  test('globs, case-insensitive; a negation excludes whatever else matched', () => {
    expect(hostMatches(['hv?'], 'HV1')).toBe(true);
    expect(hostMatches(['*.example.net', '!db.example.net'], 'db.example.net')).toBe(false);
    expect(hostMatches(['!db*'], 'web')).toBe(false);
  });
});

describe(parseJump, () => {
  test('[user@]host[:port], ssh:// and bracketed IPv6', () => {
    expect(parseJump('jumper@bastion:2222')).toEqual({ user: 'jumper', host: 'bastion', port: 2222 });
    expect(parseJump('ssh://[fd00::1]:22')).toEqual({ host: 'fd00::1', port: 22 });
    expect(parseJump('inner')).toEqual({ host: 'inner' });
  });
});
