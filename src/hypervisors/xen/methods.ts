// Every XenAPI call migbench makes, with the XenAPI types of the parameters it sends.
// A test checks this table against the vendor's data model (fixtures/xapi/, derived from
// xapi-project/xen-api's doc/data/xenapi.json by scripts/derive-xapi-subset.ts), so a
// call that does not exist, or is sent with the wrong arity or types, fails in CI.
export const XENAPI_CALLS = {
  'session.login_with_password': ['string', 'string', 'string', 'string'],
  'session.logout': ['session ref'],
  'VM.get_by_name_label': ['session ref', 'string'],
  'VM.get_record': ['session ref', 'VM ref'],
  'host.get_by_name_label': ['session ref', 'string'],
  'SR.get_by_name_label': ['session ref', 'string'],
  'network.get_by_name_label': ['session ref', 'string'],
  'VBD.get_record': ['session ref', 'VBD ref'],
  'host.get_record': ['session ref', 'host ref'],
  'host.migrate_receive': ['session ref', 'host ref', 'network ref', '(string -> string) map'],
  'Async.VM.pool_migrate': ['session ref', 'VM ref', 'host ref', '(string -> string) map'],
  'Async.VM.migrate_send': [
    'session ref',
    'VM ref',
    '(string -> string) map',
    'bool',
    '(VDI ref -> SR ref) map',
    '(VIF ref -> network ref) map',
    '(string -> string) map',
    '(VGPU ref -> GPU_group ref) map',
  ],
  'task.get_record': ['session ref', 'task ref'],
  'task.cancel': ['session ref', 'task ref'],
  'task.destroy': ['session ref', 'task ref'],
} as const satisfies Record<string, readonly string[]>;

export type XenApiMethod = keyof typeof XENAPI_CALLS;

/** "Async.VM.pool_migrate" → the data model's class and message ("VM", "pool_migrate"). */
export function dataModelName(method: string): { className: string; message: string; async: boolean } {
  const parts = method.split('.');
  const async = parts[0] === 'Async';
  const [className, message] = async ? [parts[1]!, parts[2]!] : [parts[0]!, parts[1]!];
  return { className, message, async };
}

/** Whether a JSON value can be a XenAPI value of the given type (as its JSON-RPC encoding). */
export function matchesXenApiType(value: unknown, type: string): boolean {
  if (type.endsWith(' ref')) return typeof value === 'string';
  if (type.endsWith(' map')) return typeof value === 'object' && value !== null && !Array.isArray(value);
  if (type.endsWith(' set')) return Array.isArray(value);
  switch (type) {
    case 'string':
    case 'datetime':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'int':
    case 'float':
      return typeof value === 'number';
    default:
      // enums travel as strings
      return type.startsWith('enum ') ? typeof value === 'string' : false;
  }
}
