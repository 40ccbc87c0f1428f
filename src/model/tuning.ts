// What a config may add to a guest's machine: extra QEMU options (qemu targets) and
// elements of libvirt's domain XML (libvirt targets). These are what users' pull requests
// change, and a pull request's config is not trusted to run anything: so both come from
// an allow-list of settings that tune the machine and cannot name a file, a program, a
// socket or a URL. Values are plain words and numbers (no '/', ':', '=' or ','), which
// rules out paths and URIs; option keys and XML elements are listed one by one.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** What a target adds to its guests' machine, as the record keeps it. */
export interface MachineTuning {
  readonly qemuArgs?: readonly string[];
  readonly domainXml?: string;
  /** CPU pinning (qemu.cpus): taskset lists by host, and for the probes. */
  readonly cpus?: { readonly source?: string; readonly destination?: string; readonly probes?: string };
}

/** A QEMU machine type's name (q35, pc-q35-7.2): `-machine NAME,accel=…` must not take more from it. */
const MACHINE_TYPE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The machine type, if it is a name and nothing more; else an error saying why (a comma would add machine properties). */
export function machineType(name: string): string {
  if (!MACHINE_TYPE.test(name))
    throw new FragmentError(`qemu.machine "${name}" is not a machine type's name (letters, digits, . _ -); machine properties go in qemu.extraArgs as -machine KEY=VALUE`);
  return name;
}

/** A word, a number, a range: what a tuning value may be. */
const VALUE = /^[A-Za-z0-9._+-]*$/;
/** XML text and attribute values may also hold spaces and commas (cpus='0-1,4'). */
const XML_VALUE = /^[A-Za-z0-9._+, -]*$/;
const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

interface OptionRule {
  /** The option's first, key-less part (the CPU model, the object's type), if it takes one. */
  readonly positional?: RegExp;
  /** The keys it may set; 'any' where every key is a feature switch (a CPU's). */
  readonly keys: 'any' | readonly string[];
  /** `+flag` / `-flag` parts (a CPU's features). */
  readonly flags?: boolean;
  readonly why: string;
}

/**
 * The QEMU options a config may add, and what of each. Not -device, -drive, -netdev,
 * -chardev, -object (but an iothread), -plugin, -add-fd or -L: those reach files, sockets
 * or programs on the host. Not -smp, -m or -accel: the guest's size and accelerator are
 * migbench's own settings (guest.vcpus, guest.memoryMiB, qemu.accel).
 */
const QEMU_OPTIONS: Readonly<Record<string, OptionRule>> = {
  '-cpu': { positional: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, keys: 'any', flags: true, why: 'CPU model and features' },
  '-machine': {
    keys: ['hpet', 'kernel-irqchip', 'mem-merge', 'dump-guest-core', 'smm', 'vmport', 'pic', 'pit', 'sata', 'usb', 'suppress-vmdesc', 'nvdimm', 'hmat', 'acpi', 'i8042'],
    why: 'machine properties (the machine type is qemu.machine)',
  },
  '-overcommit': { keys: ['mem-lock', 'cpu-pm'], why: 'memory locking, CPU power management' },
  '-rtc': { keys: ['base', 'clock', 'driftfix'], why: 'the guest clock' },
  '-global': { keys: 'any', why: 'device properties (DRIVER.PROPERTY=VALUE)' },
  '-object': { positional: /^iothread$/, keys: ['id', 'poll-max-ns', 'poll-grow', 'poll-shrink', 'aio-max-batch'], why: 'an iothread' },
};

/** Devices migbench's guest has whose properties -global may set. */
const GLOBAL_DRIVERS = ['virtio-net-pci', 'virtio-blk-pci', 'virtio-serial-pci', 'ICH9-LPC', 'kvm-pit', 'mc146818rtc', 'cfi.pflash01'];
/** Properties that wire a device to host resources or to other devices: never from a config. */
const GLOBAL_DENIED = ['romfile', 'netdev', 'drive', 'chardev', 'bus', 'id', 'mac', 'addr', 'file', 'filename', 'path', 'fd'];

/** Why each QEMU option in `args` is not allowed, with its index: empty when all are. */
export function qemuArgProblems(args: readonly string[]): Array<{ index: number; message: string }> {
  const problems: Array<{ index: number; message: string }> = [];
  for (let i = 0; i < args.length; i += 2) {
    const option = args[i]!;
    const rule = Object.hasOwn(QEMU_OPTIONS, option) ? QEMU_OPTIONS[option] : undefined;
    if (!rule) {
      problems.push({ index: i, message: `QEMU option ${JSON.stringify(option)} is not allowed (allowed: ${allowedOptions()})` });
      continue;
    }
    const value = args[i + 1];
    if (value === undefined) {
      problems.push({ index: i, message: `${option} needs a value after it` });
      continue;
    }
    const problem = option === '-global' ? globalProblem(value) : optionValueProblem(option, rule, value);
    if (problem) problems.push({ index: i + 1, message: `${option} ${value}: ${problem}` });
  }
  return problems;
}

function allowedOptions(): string {
  return Object.entries(QEMU_OPTIONS)
    .map(([option, rule]) => `${option} (${rule.why})`)
    .join(', ');
}

function optionValueProblem(option: string, rule: OptionRule, value: string): string | null {
  const parts = value.split(',');
  let first = true;
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (first && rule.positional) {
        if (!rule.positional.test(part)) return `"${part}" is not allowed here`;
      } else if (rule.flags && /^[+-][A-Za-z0-9._-]+$/.test(part)) {
        // A CPU feature switched on or off.
      } else return `"${part}" needs a key (KEY=VALUE)`;
    } else {
      const [key, v] = [part.slice(0, eq), part.slice(eq + 1)];
      if (!NAME.test(key) || (rule.keys !== 'any' && !rule.keys.includes(key)))
        return `key "${key}" is not allowed (allowed: ${rule.keys === 'any' ? 'feature names' : rule.keys.join(', ')})`;
      if (!VALUE.test(v)) return `the value of ${key} must be a word or a number (no paths, URIs or option syntax)`;
    }
    first = false;
  }
  if (rule.positional && (value.split(',')[0]!.includes('=') || !value)) return `starts with what it is (e.g. ${option === '-object' ? 'iothread,id=io0' : 'qemu64'})`;
  return null;
}

function globalProblem(value: string): string | null {
  const match = /^([A-Za-z0-9.-]+?)\.([A-Za-z0-9_-]+)=(.*)$/.exec(value);
  if (!match) return 'write it as DRIVER.PROPERTY=VALUE';
  const [, driver, property, v] = match as unknown as [string, string, string, string];
  if (!GLOBAL_DRIVERS.includes(driver)) return `driver "${driver}" is not allowed (allowed: ${GLOBAL_DRIVERS.join(', ')})`;
  if (GLOBAL_DENIED.includes(property.toLowerCase())) return `property "${property}" wires the device to the host or to other devices`;
  if (!VALUE.test(v)) return 'the value must be a word or a number (no paths, URIs or option syntax)';
  return null;
}

/** One top-level element of a domain XML fragment, re-serialized by migbench. */
export interface DomainElement {
  readonly name: string;
  /** The element as migbench wrote it back (never the config's own text). */
  readonly xml: string;
}

/**
 * The domain-level elements a fragment may hold: how the CPU, clock, memory backing and
 * tuning look. Not devices, os, name, memory or vcpu (migbench's guest), nor metadata,
 * sysinfo or anything namespaced (qemu:commandline runs arbitrary arguments).
 */
const DOMAIN_ELEMENTS = ['cpu', 'clock', 'features', 'memoryBacking', 'memtune', 'cputune', 'numatune', 'blkiotune', 'iothreads', 'pm'];

export class FragmentError extends Error {}

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

/**
 * Parses a libvirt domain XML fragment (one or more of DOMAIN_ELEMENTS) and writes it back
 * from what was parsed, so nothing but checked names and values reaches libvirt. Throws a
 * FragmentError saying what is wrong.
 */
export function parseDomainFragment(xml: string): DomainElement[] {
  if (/<!|<\?|&(?!(amp|lt|gt|apos|quot);)/.test(xml.replace(/<!--[\s\S]*?-->/g, ''))) {
    throw new FragmentError('no DOCTYPE, entities, CDATA or processing instructions in a domain XML fragment');
  }
  const valid = XMLValidator.validate(`<fragment>${xml}</fragment>`);
  if (valid !== true) throw new FragmentError(`not well-formed XML: ${valid.err.msg}`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
  });
  const nodes = (parser.parse(xml) as Node[]).filter((n) => !('#text' in n && String(n['#text']).trim() === ''));
  if (!nodes.length) throw new FragmentError('the fragment holds no element');
  return nodes.map((node) => {
    const name = elementName(node, 'the fragment');
    if (!DOMAIN_ELEMENTS.includes(name))
      throw new FragmentError(`<${name}> is not allowed at the domain's top level (allowed: ${DOMAIN_ELEMENTS.map((e) => `<${e}>`).join(', ')})`);
    return { name, xml: serialize(node, name, '  ') };
  });
}

function elementName(node: Node, where: string): string {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name || name === '#text') throw new FragmentError(`text outside an element in ${where}`);
  if (!NAME.test(name)) throw new FragmentError(`element <${name}> in ${where}: no namespaced or unusual names`);
  return name;
}

function serialize(node: Node, name: string, indent: string): string {
  const attributes = Object.entries(node[':@'] ?? {}).map(([key, value]) => {
    if (!NAME.test(key)) throw new FragmentError(`attribute ${key} of <${name}>: no namespaced or unusual names`);
    if (!XML_VALUE.test(value)) throw new FragmentError(`attribute ${key}='${value}' of <${name}>: a value must be words and numbers (no paths or URIs)`);
    return ` ${key}='${value}'`;
  });
  const children = node[name] as Node[];
  const open = `${indent}<${name}${attributes.join('')}`;
  if (!children.length) return `${open}/>`;
  if (children.length === 1 && '#text' in children[0]!) {
    const text = String(children[0]['#text']);
    if (!XML_VALUE.test(text)) throw new FragmentError(`the text of <${name}>: words and numbers only (no paths or URIs)`);
    return `${open}>${text}</${name}>`;
  }
  const inner = children.map((child) => {
    if ('#text' in child) throw new FragmentError(`<${name}> mixes text and elements`);
    return serialize(child, elementName(child, `<${name}>`), `${indent}  `);
  });
  return [`${open}>`, ...inner, `${indent}</${name}>`].join('\n');
}
