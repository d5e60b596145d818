import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every workspace declares what its shipped code imports: a runtime import in its
 * `dependencies`, a type-only one in `dependencies` or `devDependencies`. Hoisting would hide a
 * missing one here; `turbo prune`, the images' `npm ci --omit=dev` and pnpm would not.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

interface Workspace {
  readonly dir: string;
  readonly name: string;
  readonly dependencies: ReadonlySet<string>;
  readonly devDependencies: ReadonlySet<string>;
}

function workspaces(): Workspace[] {
  return ['packages', 'apps', 'addons'].flatMap((group) =>
    readdirSync(join(ROOT, group))
      .map((name) => join(ROOT, group, name))
      .filter((dir) => statSync(join(dir, 'package.json'), { throwIfNoEntry: false })?.isFile())
      .map((dir) => {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name: string;
          dependencies?: Record<string, string>;
          peerDependencies?: Record<string, string>;
          devDependencies?: Record<string, string>;
        };
        return {
          dir,
          name: pkg.name,
          dependencies: new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })),
          devDependencies: new Set(Object.keys(pkg.devDependencies ?? {})),
        };
      }),
  );
}

/** The shipped sources of a workspace: `src/**` without tests. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|mjs|js)$/.test(entry.name) && !/\.test\.ts$|\.d\.ts$/.test(entry.name)) out.push(path);
    }
  };
  walk(join(dir, 'src'));
  return out;
}

/** The package a specifier names (`@scope/name/sub` → `@scope/name`), or undefined for a relative or built-in one. */
export function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || BUILTINS.has(spec) || spec.startsWith('node:')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Each import of a file: its package and whether only types come from it. */
function importsOf(file: string): { pkg: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { pkg: string; typeOnly: boolean }[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const pkg = packageOf(spec);
    if (pkg) found.push({ pkg, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (!ts.isStringLiteral(node.moduleSpecifier)) return;
      let typeOnly = false;
      if (ts.isImportDeclaration(node)) {
        const clause = node.importClause;
        const named = clause?.namedBindings;
        typeOnly =
          !!clause &&
          (clause.isTypeOnly ||
            (!clause.name && !!named && ts.isNamedImports(named) && named.elements.every((e) => e.isTypeOnly)));
      } else typeOnly = node.isTypeOnly;
      add(node.moduleSpecifier.text, typeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('declared dependencies', () => {
  it('names the package of a specifier, and nothing for relative or built-in ones', () => {
    expect(packageOf('@cap/db')).toBe('@cap/db');
    expect(packageOf('@cap/testing/addon')).toBe('@cap/testing');
    expect(packageOf('kysely')).toBe('kysely');
    expect(packageOf('pino/file')).toBe('pino');
    expect(packageOf('./x.js')).toBeUndefined();
    expect(packageOf('node:fs')).toBeUndefined();
    expect(packageOf('crypto')).toBeUndefined();
  });

  it('every workspace declares each package its shipped code imports', () => {
    const missing: string[] = [];
    for (const ws of workspaces()) {
      for (const file of sources(ws.dir)) {
        for (const { pkg, typeOnly } of importsOf(file)) {
          if (pkg === ws.name || ws.dependencies.has(pkg)) continue;
          if (typeOnly && ws.devDependencies.has(pkg)) continue;
          missing.push(`${ws.name}: ${pkg}${typeOnly ? ' (types)' : ''} in ${relative(ROOT, file)}`);
        }
      }
    }
    expect([...new Set(missing)].sort(), 'imports not declared in the package.json of their workspace').toEqual([]);
  });
});
