import { describe, expect, test } from 'vitest';
import { blackoutScript, jobStatusScript, moveVmScript } from '../../../src/hypervisors/hyperv/powershell.js';
import { decodeEncodedCommand, powershellArgv, psQuote } from '../../../src/exec/quote.js';

describe(psQuote, () => {
  test('hostile VM names stay one single-quoted literal: quotes doubled, typographic ones too, nothing else special', () => {
    expect(psQuote("web'; Remove-Item -Recurse C:\\ ; '")).toBe("'web''; Remove-Item -Recurse C:\\ ; '''");
    expect(psQuote('$(Stop-Computer) `whoami` $env:PATH')).toBe("'$(Stop-Computer) `whoami` $env:PATH'");
    expect(psQuote('\u2018curly\u2019 \u201Alow\u201B')).toBe("'\u2018\u2018curly\u2019\u2019 \u201A\u201Alow\u201B\u201B'");
    expect(psQuote('two\nlines')).toBe("'two\nlines'");
    expect(() => psQuote('nul\0')).toThrow('NUL');
  });
});

describe(powershellArgv, () => {
  test('the script travels base64 UTF-16LE in one argv element, never through a shell', () => {
    const script = moveVmScript({ vm: "it's", destinationHost: 'hv2' });
    const argv = powershellArgv(script);
    expect(argv.slice(0, 4)).toEqual(['powershell', '-NoProfile', '-NonInteractive', '-EncodedCommand']);
    expect(argv).toHaveLength(5);
    expect(argv[4]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodeEncodedCommand(argv[4]!)).toBe(script);
  });
});

describe('scripts', () => {
  test('Move-VM, memory and storage, exactly as sent', () => {
    expect(moveVmScript({ vm: 'web-01', destinationHost: 'hv2.example.net' })).toBe(
      [
        "$ErrorActionPreference = 'Stop'",
        'try {',
        "  $started = (Get-Date).ToUniversalTime().ToString('o')",
        "  $job = Move-VM -Name 'web-01' -DestinationHost 'hv2.example.net' -AsJob",
        '  @{ jobId = $job.Id; state = [string]$job.State; started = $started } | ConvertTo-Json -Compress -Depth 4',
        '} catch {',
        '  @{ error = $_.Exception.Message; id = $_.FullyQualifiedErrorId } | ConvertTo-Json -Compress -Depth 4',
        '}',
      ].join('\n'),
    );
    expect(moveVmScript({ vm: 'web-01', destinationHost: 'hv2', destinationStoragePath: "D:\\VMs\\o'brien" })).toContain(
      "Move-VM -Name 'web-01' -DestinationHost 'hv2' -IncludeStorage -DestinationStoragePath 'D:\\VMs\\o''brien' -AsJob",
    );
  });

  test('the blackout events of the VMMS admin log since the move began', () => {
    expect(blackoutScript('2026-12-04T14:00:00.0000000Z')).toContain(
      "Get-WinEvent -FilterHashtable @{ LogName = 'Microsoft-Windows-Hyper-V-VMMS-Admin'; Id = 20415, 20417; StartTime = [datetime]::Parse('2026-12-04T14:00:00.0000000Z').ToUniversalTime() }",
    );
  });

  test("each poll samples the live-migration counter set by its WMI class, under Microsoft's property names", () => {
    expect(jobStatusScript(7, 'web-01')).toContain(
      '  $lm = @(Get-CimInstance -ClassName Win32_PerfRawData_LmPerfProvider_HyperVVMLiveMigration -ErrorAction SilentlyContinue | Select-Object Name, MemoryWalkerUncompressedBytesSent, CompressorCompressedBytesSent, TransferPassNumber)',
    );
    expect(jobStatusScript(7, 'web-01')).toContain('liveMigration = $lm }');
  });
});
