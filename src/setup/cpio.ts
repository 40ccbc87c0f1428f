// Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs.
// Deterministic: every entry gets uid/gid 0 and mtime 0.

export type CpioEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly type: 'file'; readonly path: string; readonly data: Buffer; readonly mode?: number }
  | { readonly type: 'chardev'; readonly path: string; readonly major: number; readonly minor: number; readonly mode?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;
const S_IFLNK = 0o120000;

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`cpio field out of range: ${value}`);
  return value.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(fields: { ino: number; mode: number; nlink: number; size: number; rdevMajor: number; rdevMinor: number; nameSize: number }): string {
  return '070701' + [fields.ino, fields.mode, 0, 0, fields.nlink, 0, fields.size, 0, 0, fields.rdevMajor, fields.rdevMinor, fields.nameSize, 0].map(hex8).join('');
}

export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Buffer, nlink: number, rdev: [number, number] = [0, 0]) => {
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const head = Buffer.from(header({ ino: ino++, mode, nlink, size: data.length, rdevMajor: rdev[0], rdevMinor: rdev[1], nameSize: nameBytes.length }), 'ascii');
    chunks.push(head, nameBytes, pad4(head.length + nameBytes.length), data, pad4(data.length));
  };
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, '');
    if (!path || path.split('/').includes('..')) throw new Error(`cpio: bad path ${JSON.stringify(entry.path)}`);
    switch (entry.type) {
      case 'dir':
        push(path, S_IFDIR | (entry.mode ?? 0o755), Buffer.alloc(0), 2);
        break;
      case 'file':
        push(path, S_IFREG | (entry.mode ?? 0o644), entry.data, 1);
        break;
      case 'chardev':
        push(path, S_IFCHR | (entry.mode ?? 0o600), Buffer.alloc(0), 1, [entry.major, entry.minor]);
        break;
      case 'symlink':
        push(path, S_IFLNK | 0o777, Buffer.from(entry.target, 'utf8'), 1);
        break;
    }
  }
  ino = 0;
  push('TRAILER!!!', 0, Buffer.alloc(0), 1);
  return Buffer.concat(chunks);
}
