// Derives the part of the vendor's XenAPI data model migbench uses, and the vendor's SDK
// component-test fixtures its tests replay, into fixtures/xapi/ — so the project's tests
// run without ../shared. Usage: node --import tsx scripts/derive-xapi-subset.ts [VENDOR_DIR]
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dataModelName, XENAPI_CALLS } from '../src/hypervisors/xen/methods.js';
import { projectPath } from '../src/model/paths.js';

interface DataModelClass {
  name: string;
  fields: Array<{ name: string; type: string }>;
  messages: Array<{ name: string; params: Array<{ name: string; type: string }>; result: string[]; errors?: Array<{ name: string }> }>;
}

const vendorDir = resolve(process.argv[2] ?? projectPath('../shared/vendor-data/xapi'));
const model = JSON.parse(await readFile(join(vendorDir, 'xenapi.json'), 'utf8')) as DataModelClass[];
const subset: Record<string, unknown> = {};
for (const method of Object.keys(XENAPI_CALLS)) {
  const { className, message } = dataModelName(method);
  const cls = model.find((c) => c.name === className);
  const msg = cls?.messages.find((m) => m.name === message);
  // Recorded as absent, so the test says which call the data model lacks.
  subset[`${className}.${message}`] = msg
    ? { params: msg.params.map((p) => ({ name: p.name, type: p.type })), result: msg.result[0], errors: (msg.errors ?? []).map((e) => e.name) }
    : null;
}
const taskFields = model.find((c) => c.name === 'task')!.fields.map((f) => ({ name: f.name, type: f.type }));
const out = projectPath('fixtures/xapi');
await mkdir(join(out, 'component-test'), { recursive: true });
await writeFile(
  join(out, 'datamodel-subset.json'),
  `${JSON.stringify({ source: 'xapi-project/xen-api doc/data/xenapi.json (commit e2ee48d6883e, LGPL-2.1)', messages: subset, taskFields }, null, 2)}\n`,
);
for (const name of ['session_login.json', 'vm_migrate_send.json', 'xapi_error.json', 'rpc_error.json']) {
  await copyFile(join(vendorDir, 'component-test-spec', name), join(out, 'component-test', name));
}
process.stdout.write(`wrote ${join(out, 'datamodel-subset.json')} (${Object.keys(subset).length} messages) and 4 component-test fixtures\n`);
