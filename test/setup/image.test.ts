// The guest kernel is booted uncompressed only when QEMU can boot it: an ELF with Xen's PVH
// entry note. Checked on ELF files built here, note by note.
import { describe, expect, test } from 'vitest';
import { hasPvhEntry } from '../../src/setup/image.js';

/** A 64-bit little-endian ELF with one PT_NOTE segment holding these notes. */
function elf(notes: ReadonlyArray<{ name: string; type: number; desc?: Buffer }>): Buffer {
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const body = Buffer.concat(
    notes.map(({ name, type, desc = Buffer.alloc(8) }) => {
      const head = Buffer.alloc(12);
      const nameBytes = Buffer.from(`${name}\0`, 'latin1');
      head.writeUInt32LE(nameBytes.length, 0);
      head.writeUInt32LE(desc.length, 4);
      head.writeUInt32LE(type, 8);
      return Buffer.concat([head, pad(nameBytes), pad(desc)]);
    }),
  );
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header.writeBigUInt64LE(64n, 32); // e_phoff
  header.writeUInt16LE(56, 54); // e_phentsize
  header.writeUInt16LE(1, 56); // e_phnum
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(4, 0); // PT_NOTE
  ph.writeBigUInt64LE(120n, 8); // p_offset
  ph.writeBigUInt64LE(BigInt(body.length), 32); // p_filesz
  return Buffer.concat([header, ph, body]);
}

describe(hasPvhEntry, () => {
  test("finds Xen's PHYS32_ENTRY note (type 18) among the others", () => {
    expect(
      hasPvhEntry(
        elf([
          { name: 'Xen', type: 6 },
          { name: 'GNU', type: 18 },
          { name: 'Xen', type: 18 },
        ]),
      ),
    ).toBe(true);
  });

  test('a kernel without it, or what is not a 64-bit little-endian ELF, is not booted uncompressed', () => {
    expect(
      hasPvhEntry(
        elf([
          { name: 'Xen', type: 6 },
          { name: 'GNU', type: 18 },
        ]),
      ),
    ).toBe(false);
    const bigEndian = elf([{ name: 'Xen', type: 18 }]);
    bigEndian[5] = 2;
    expect(hasPvhEntry(bigEndian)).toBe(false);
    expect(hasPvhEntry(Buffer.from('MZ this is a bzImage'))).toBe(false);
    expect(hasPvhEntry(Buffer.alloc(0))).toBe(false);
  });

  test('a note whose size runs past its segment ends the search instead of looping or reading beyond it', () => {
    for (const size of [0xfffffff4, 0xfffffff0, 0xffffffff, 4096]) {
      const broken = elf([
        { name: 'Xen', type: 6 },
        { name: 'Xen', type: 18 },
      ]);
      broken.writeUInt32LE(size, 120); // the first note's name size
      expect(hasPvhEntry(broken)).toBe(false);
    }
  });
});
