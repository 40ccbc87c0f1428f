import { describe, expect, test } from 'vitest';
import { FragmentError, parseDomainFragment, qemuArgProblems } from '../../src/model/tuning.js';

describe(qemuArgProblems, () => {
  test('what users tune passes: CPU model and features, machine properties, memory locking, the clock, device properties, an iothread', () => {
    expect(
      qemuArgProblems([
        ...['-cpu', 'qemu64,+ssse3,-svm,pmu=off'],
        ...['-machine', 'hpet=off,mem-merge=off'],
        ...['-overcommit', 'mem-lock=off'],
        ...['-rtc', 'base=utc,driftfix=slew'],
        ...['-global', 'virtio-net-pci.mq=on'],
        ...['-object', 'iothread,id=io0'],
      ]),
    ).toEqual([]);
  });

  // Each of these would run a program, open a socket or file, or read a host file into the guest.
  test.each([
    [['-chardev', 'socket,id=x,path=/tmp/s'], /"-chardev" is not allowed/],
    [['-netdev', 'tap,id=n,script=/tmp/evil.sh'], /"-netdev" is not allowed/],
    [['-device', 'loader,file=/etc/shadow'], /"-device" is not allowed/],
    [['-plugin', '/tmp/evil.so'], /"-plugin" is not allowed/],
    [['-drive', 'file=/etc/shadow'], /"-drive" is not allowed/],
    [['-incoming', 'exec:sh -c id'], /"-incoming" is not allowed/],
    [['-object', 'memory-backend-file,id=m,mem-path=/etc'], /"memory-backend-file" is not allowed/],
    [['-cpu', 'host,x=/etc/passwd'], /value of x must be a word/],
    [['-cpu', 'qemu64,x=exec:id'], /value of x must be a word/],
    [['-machine', 'type=pc'], /key "type" is not allowed/],
    [['-machine', 'accel=kvm'], /key "accel" is not allowed/],
    [['-global', 'virtio-net-pci.romfile=shadow'], /property "romfile"/],
    [['-global', 'loader.file=x'], /driver "loader" is not allowed/],
    [['-global', 'virtio-net-pci.mq=/dev/x'], /must be a word/],
    [['-smp', '4'], /"-smp" is not allowed/],
    [['-cpu'], /-cpu needs a value/],
    [['--cpu', 'qemu64'], /"--cpu" is not allowed/],
    [['-cpu', '-machine', 'x'], /"-machine" is not allowed here|is not allowed/],
  ])('%j is refused', (args, message) => {
    const found = qemuArgProblems(args);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.message).toMatch(message);
  });

  test('a problem names the index of what is wrong, so the config error points at it', () => {
    expect(qemuArgProblems(['-cpu', 'qemu64', '-rtc', 'base=/etc'])).toEqual([{ index: 3, message: expect.stringMatching(/^-rtc base=\/etc: /) }]);
  });
});

describe(parseDomainFragment, () => {
  test('allowed elements come back as migbench writes them: single quotes, its own indentation', () => {
    const elements = parseDomainFragment(`<cpu mode="custom" match="exact"><model fallback="forbid">qemu64</model><feature policy="disable" name="svm"/></cpu>
      <clock offset="utc"><timer name="rtc" tickpolicy="catchup"/></clock><memtune><hard_limit unit="MiB">1024</hard_limit></memtune>`);
    expect(elements.map((e) => e.name)).toEqual(['cpu', 'clock', 'memtune']);
    expect(elements[0]!.xml).toBe(
      ["  <cpu mode='custom' match='exact'>", "    <model fallback='forbid'>qemu64</model>", "    <feature policy='disable' name='svm'/>", '  </cpu>'].join('\n'),
    );
  });

  test.each([
    [`<qemu:commandline xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0"><qemu:arg value="-plugin"/></qemu:commandline>`, /qemu:commandline/],
    [`<cpu><qemu:arg value="x"/></cpu>`, /namespaced|not well-formed/],
    [`<devices><disk type="file"><source file="/etc/shadow"/></disk></devices>`, /<devices> is not allowed/],
    [`<os><kernel>/tmp/evil</kernel></os>`, /<os> is not allowed/],
    [`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/shadow">]><cpu>&e;</cpu>`, /DOCTYPE/],
    [`<cpu>&#47;etc</cpu>`, /DOCTYPE, entities/],
    [`<?xml-stylesheet href="x"?><cpu/>`, /processing instructions/],
    [`<cpu><model>/etc/passwd</model></cpu>`, /words and numbers/],
    [`<memoryBacking><source type="file" path="/etc"/></memoryBacking>`, /attribute path/],
    [`<cpu><model>a</cpu>`, /not well-formed/],
    [`just text`, /text outside an element|no element/],
    [``, /no element/],
    [`<cpu>text<feature name="x"/></cpu>`, /mixes text and elements/],
  ])('%s is refused', (xml, message) => {
    expect(() => parseDomainFragment(xml)).toThrow(FragmentError);
    expect(() => parseDomainFragment(xml)).toThrow(message);
  });
});
