// Generates src/generated/*.ts from schemas/*.schema.json, so the TypeScript types
// of config and results can never drift from the schemas that validate them.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

export const GENERATED = [
  { schema: 'schemas/config.schema.json', output: 'src/generated/config.ts' },
  { schema: 'schemas/results.schema.json', output: 'src/generated/results.ts' },
] as const;

export async function generateTypes(schemaPath: string): Promise<string> {
  const schema = JSON.parse(await readFile(root + schemaPath, 'utf8')) as JSONSchema;
  return compile(schema, String(schema.title), {
    bannerComment: `/* Generated from ${schemaPath} by scripts/generate-types.ts (npm run generate). Do not edit. */`,
    additionalProperties: false,
    unreachableDefinitions: true,
    style: { singleQuote: true, printWidth: 120 },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { schema, output } of GENERATED) {
    await writeFile(root + output, await generateTypes(schema));
    console.log(`wrote ${output}`);
  }
}
