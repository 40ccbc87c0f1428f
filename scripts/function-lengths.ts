// The longest functions and largest files under src/ (for reviews and the layout's
// closing notes): `node --import tsx scripts/function-lengths.ts [N] [path-prefix]`.
// A function's length is its lines from signature to closing brace, comments included.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const [count = '10', prefix = 'src'] = process.argv.slice(2);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : files(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function nameOf(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

const functions: Array<{ lines: number; where: string }> = [];
const sizes: Array<{ lines: number; file: string }> = [];
const root = prefix.split('/')[0]!;
for (const file of files(root).filter((f) => f.startsWith(prefix))) {
  const text = readFileSync(file, 'utf8');
  sizes.push({ lines: text.split('\n').length - 1, file });
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node)) {
      if (node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = source.getLineAndCharacterOfPosition(node.end).line;
        functions.push({ lines: end - start + 1, where: `${nameOf(node)} (${relative('.', file)}:${start + 1})` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
const n = Number(count);
console.log(`longest functions under ${prefix}:`);
for (const f of functions.sort((a, b) => b.lines - a.lines).slice(0, n)) console.log(`  ${String(f.lines).padStart(4)}  ${f.where}`);
console.log(`largest files under ${prefix}:`);
for (const f of sizes.sort((a, b) => b.lines - a.lines).slice(0, n)) console.log(`  ${String(f.lines).padStart(4)}  ${f.file}`);
console.log(`${sizes.length} files`);
