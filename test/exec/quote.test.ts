import { describe, expect, test } from 'vitest';
import { LocalRunner } from '../../src/exec/local.js';
import { clixmlText, decodeEncodedCommand, nativeCommandScript, powershellArgv, shellQuote, windowsCommandLine } from '../../src/exec/quote.js';

describe(shellQuote, () => {
  test('leaves plain words alone and single-quotes everything else', () => {
    expect(shellQuote(['ip', '-n', 'mb-src', 'link', 'set', 'tap0', 'up'])).toBe('ip -n mb-src link set tap0 up');
    expect(shellQuote(['echo', 'a b', "it's", '', '$HOME', '`x`', 'a;b'])).toBe(`echo 'a b' 'it'\\''s' '' '$HOME' '\`x\`' 'a;b'`);
  });

  test('a real sh splits the quoted line back into the same argv', async () => {
    const argv = ['printf', '%s\\n', "it's", 'two words', '', '$(id)', '*', 'tab\there', 'new\nline', '\\back', '"dq"', 'é ü'];
    const result = await new LocalRunner().run(['sh', '-c', shellQuote(argv)]);
    expect(result.stdout).toBe(`${argv.slice(2).join('\n')}\n`);
  });

  test('refuses what cannot be quoted', () => {
    expect(() => shellQuote([])).toThrow(/empty argv/);
    expect(() => shellQuote(['a\0b'])).toThrow(/NUL/);
  });
});

describe(windowsCommandLine, () => {
  const encoded = (line: string) => line.split(' ').at(-1)!;

  test('a script already sent as -EncodedCommand goes as it is', () => {
    const argv = powershellArgv("Get-VM -Name 'a''b'", ['pwsh']);
    expect(windowsCommandLine(argv)).toBe(argv.join(' '));
    expect(decodeEncodedCommand(encoded(windowsCommandLine(argv)))).toBe("Get-VM -Name 'a''b'");
  });

  test('any other argv becomes a script of literals that passes the exit code on; the line holds only words both Windows shells leave alone', () => {
    const argv = ['cmd.exe', '/c', "it's \u2019x\u2019 $(Stop-Computer) & | ; `n %PATH%"];
    const line = windowsCommandLine(argv);
    expect(line).toMatch(/^powershell -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/]+=*$/);
    expect(decodeEncodedCommand(encoded(line))).toBe(nativeCommandScript(argv));
    expect(nativeCommandScript(argv).split('\n')[0]).toBe("& 'cmd.exe' '/c' 'it''s \u2019\u2019x\u2019\u2019 $(Stop-Computer) & | ; `n %PATH%'");
    expect(nativeCommandScript(argv)).toContain('exit $LASTEXITCODE');
  });

  test('a PowerShell command whose shell is not a plain word, or whose flags differ, is wrapped rather than trusted', () => {
    for (const argv of [
      ['C:\\Program Files\\pwsh.exe', '-NoProfile', '-NonInteractive', '-EncodedCommand', 'QQA='],
      ['powershell', '-NoProfile', '-EncodedCommand', 'QQA='],
      ['powershell', '-NoProfile', '-NonInteractive', '-EncodedCommand', 'not base64!'],
    ]) {
      expect(decodeEncodedCommand(encoded(windowsCommandLine(argv)))).toBe(nativeCommandScript(argv));
    }
  });

  test('refuses what cannot be quoted, and what Windows PowerShell 5.1 would pass on mangled', () => {
    expect(() => windowsCommandLine([])).toThrow(/empty argv/);
    expect(() => windowsCommandLine(['a\0b'])).toThrow(/NUL/);
    for (const arg of ['', 'a" "b', 'C:\\dir with space\\'])
      expect(() => windowsCommandLine(['prog.exe', arg])).toThrow(/cannot be empty, hold a double quote or end in a backslash/);
  });
});

describe(clixmlText, () => {
  test("PowerShell's CLIXML error stream becomes its text; anything else is left alone", () => {
    const clixml =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">Get-VM : Hyper-V was unable to find a virtual machine with name &quot;web&apos;01&quot;._x000D__x000A_</S><S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>';
    expect(clixmlText(clixml)).toBe('Get-VM : Hyper-V was unable to find a virtual machine with name "web\'01".\r\nAt line:1 char:1\r\n');
    expect(clixmlText('plain error\n')).toBe('plain error\n');
  });
});
