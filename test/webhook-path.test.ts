/**
 * Architecture: "A webhook's path from route to commit reads in at most 8 files with logic, and no
 * module calls back into the module that called it."
 *
 * Checked on the repository's own import graph, built here from the sources with the TypeScript
 * compiler API (parsing only, no type checker):
 *
 * - Edges are runtime imports of the names a file actually uses: `import type` declarations and
 *   `type` specifiers carry no runtime call and are skipped, and so is a specifier whose local name
 *   appears nowhere else in the file. Relative specifiers resolve to the `.ts` file (`./x.js` →
 *   `x.ts`, a folder → its `index.ts`); `@cap/<pkg>` resolves to the workspace package of that
 *   `name` (package.json), entry `exports['.'].source`. An imported name is followed through
 *   `export * from` / `export { x } from` re-exports to the module that defines it, so an edge
 *   points at that module and an index barrel is never a step of its own. A namespace import
 *   follows the `ns.<name>` members used; a dynamic `import()` is an edge to the module itself.
 * - A name a file only calls in its top-level code (outside every function body) runs once, when
 *   the module loads, never on a request: the path does not follow it (`defineAddon({...})` in the
 *   add-on). Cycles are looked for with every edge.
 * - A file has logic when it defines at least one function, arrow function, method, accessor,
 *   constructor or class body; types, interfaces, constants and re-exports alone are not logic.
 *
 * The path. The route `apps/ingress/src/routes/webhooks.ts` (`POST /webhooks/<event>`) counts as
 * one file: its helpers (body parsing, gates, fairness) are ingress plumbing, not the path. It
 * hands the delivery over through the queue (`JOBS.webhookProcess`), which
 * `apps/worker/src/webhooks/queue.ts` binds to `processWebhook`; that binding is checked below but
 * not counted. The worker's side starts at `apps/worker/src/webhooks/process.ts` and contains
 * every module of the SCOPE reached from it by
 *   (a) a runtime import of a used name (through barrels, as above);
 *   (b) injection: a parameter whose declared type is a class of the scope, or a member used on a
 *       parameter typed by an interface (`deps.installations` of `deps: WorkerDeps`) whose declared
 *       type names a class of the scope: the object is handed in instead of imported, and that
 *       class's methods are what runs (InstallationCache, DeliveryGroups);
 *   (c) the add-on: process.ts calls the handler of `deps.addon`, typed by an interface; the value
 *       is the add-on the worker's entry point `apps/worker/src/main.ts` imports, so main.ts's
 *       runtime imports that land in the add-on are on the path (the add-on definition, whose
 *       `handlers` map names the handler, and from it the handler module).
 * SCOPE = `apps/worker/src/webhooks/**`, `packages/db/src/repositories/**`, `packages/addon/src/**`
 * and `addons/workspace-mirror/src/**` (test files excluded). The walk stops at the scope's edge:
 * modules outside it (the Clockify client, queue, observability, db partitions, prepared
 * statements) are infrastructure the path calls, listed as such, not counted and not walked.
 *
 * Asserted:
 * (1) the route file plus the worker-side path modules that have logic number at most 8;
 * (2) no runtime import cycle (in the whole repository's graph) passes through a path module, in
 *     particular no path module imports a module that imports it back.
 * Not visible to an import graph, so not checked: callbacks handed in at runtime. process.ts hands
 * DeliveryGroups a description of the handler call (`HandlerInvocation`), not a closure of its
 * own, so the group calls the SDK's `invokeHandler` and never back into process.ts; the one
 * call back left is by design: the add-on's handler calls its context (`ctx.mirror`, `ctx.api`,
 * `ctx.logger`), which the SDK's runtime built for it.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_LOGIC_FILES = 8;

// ─── The import graph ──────────────────────────────────────────────────────────────────────────

type DeclKind = 'class' | 'function' | 'value' | 'interface' | 'type' | 'namespace';

interface Binding {
  readonly spec: string;
  /** The exported name it refers to; '*' for a namespace import. */
  readonly imported: string;
  readonly typeOnly: boolean;
}

type ExportRef =
  | { readonly kind: 'local'; readonly local: string }
  | { readonly kind: 'reexport'; readonly spec: string; readonly imported: string }
  | { readonly kind: 'namespace'; readonly spec: string };

interface ModuleInfo {
  readonly file: string;
  /** Import bindings by local name, runtime and type-only. */
  readonly bindings: Map<string, Binding>;
  /** Side-effect imports and dynamic `import()` specifiers: runtime edges to the module itself. */
  readonly bareImports: string[];
  readonly exports: Map<string, ExportRef>;
  readonly starExports: string[];
  readonly locals: Map<string, DeclKind>;
  /** Identifiers used outside import declarations (property names after a dot excluded). */
  readonly used: Set<string>;
  /**
   * Identifiers used only as the callee of a call in top-level code (outside every function
   * body): called once when the module loads, never on a request, e.g. `defineAddon({...})`.
   */
  readonly loadTimeOnly: Set<string>;
  /** `ns.<name>` accesses, by the object's identifier. */
  readonly memberUses: Map<string, Set<string>>;
  /** Interfaces declared here: member name → type names referenced by its declared type. */
  readonly interfaces: Map<string, Map<string, string[]>>;
  /** Parameters declared with a plain type reference: parameter name → type name. */
  readonly typedParams: Array<{ readonly param: string; readonly typeName: string; readonly members: string[] }>;
  readonly hasLogic: boolean;
}

interface Definition {
  readonly file?: string;
  readonly external?: string;
  readonly kind: DeclKind | 'unknown';
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly names: string[];
  readonly how: 'import' | 'injected' | 'entry point';
}

function isExported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function isDeclare(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)
  );
}

function bindingNames(name: ts.BindingName, out: string[] = []): string[] {
  if (ts.isIdentifier(name)) out.push(name.text);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, out);
  return out;
}

function typeNames(node: ts.Node | undefined, out: string[] = []): string[] {
  if (!node) return out;
  if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) out.push(node.typeName.text);
  ts.forEachChild(node, (child) => void typeNames(child, out));
  return out;
}

function parseModule(file: string): ModuleInfo {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const info: ModuleInfo = {
    file,
    bindings: new Map(),
    bareImports: [],
    exports: new Map(),
    starExports: [],
    locals: new Map(),
    used: new Set(),
    loadTimeOnly: new Set(),
    memberUses: new Map(),
    interfaces: new Map(),
    typedParams: [],
    hasLogic: false,
  };
  let hasLogic = false;
  // Per identifier: used inside a function body, or at top level other than as a callee.
  const runsOnCall = new Set<string>();
  const calledAtLoad = new Set<string>();
  let functionDepth = 0;

  for (const stmt of source.statements) {
    if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) {
      const spec = stmt.moduleSpecifier.text;
      const clause = stmt.importClause;
      if (!clause) {
        info.bareImports.push(spec);
        continue;
      }
      const allTypes = clause.isTypeOnly;
      if (clause.name) info.bindings.set(clause.name.text, { spec, imported: 'default', typeOnly: allTypes });
      const nb = clause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) info.bindings.set(nb.name.text, { spec, imported: '*', typeOnly: allTypes });
      else if (nb)
        for (const el of nb.elements)
          info.bindings.set(el.name.text, {
            spec,
            imported: (el.propertyName ?? el.name).text,
            typeOnly: allTypes || el.isTypeOnly,
          });
      continue;
    }
    if (ts.isExportDeclaration(stmt)) {
      if (stmt.isTypeOnly) continue;
      const spec = stmt.moduleSpecifier && ts.isStringLiteral(stmt.moduleSpecifier) ? stmt.moduleSpecifier.text : null;
      const clause = stmt.exportClause;
      if (spec !== null && !clause) info.starExports.push(spec);
      else if (spec !== null && clause && ts.isNamespaceExport(clause))
        info.exports.set(clause.name.text, { kind: 'namespace', spec });
      else if (clause && ts.isNamedExports(clause))
        for (const el of clause.elements) {
          if (el.isTypeOnly) continue;
          const inner = (el.propertyName ?? el.name).text;
          info.exports.set(
            el.name.text,
            spec !== null ? { kind: 'reexport', spec, imported: inner } : { kind: 'local', local: inner },
          );
        }
      continue;
    }
    if (ts.isExportAssignment(stmt)) {
      info.locals.set('default', 'value');
      info.exports.set('default', { kind: 'local', local: 'default' });
      continue;
    }
    const declared = (name: string, kind: DeclKind) => {
      info.locals.set(name, kind);
      if (isExported(stmt)) info.exports.set(name, { kind: 'local', local: name });
    };
    if (ts.isFunctionDeclaration(stmt) && stmt.name) declared(stmt.name.text, 'function');
    else if (ts.isClassDeclaration(stmt) && stmt.name) declared(stmt.name.text, 'class');
    else if (ts.isEnumDeclaration(stmt)) declared(stmt.name.text, 'value');
    else if (ts.isTypeAliasDeclaration(stmt)) declared(stmt.name.text, 'type');
    else if (ts.isVariableStatement(stmt))
      for (const d of stmt.declarationList.declarations) for (const n of bindingNames(d.name)) declared(n, 'value');
    else if (ts.isInterfaceDeclaration(stmt)) {
      declared(stmt.name.text, 'interface');
      const members = new Map<string, string[]>();
      for (const m of stmt.members)
        if (ts.isPropertySignature(m) && m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)))
          members.set(m.name.text, typeNames(m.type));
      info.interfaces.set(stmt.name.text, members);
    }
  }

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) return;
    const isFunction =
      (ts.isFunctionDeclaration(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isConstructorDeclaration(node) ||
        ts.isGetAccessorDeclaration(node) ||
        ts.isSetAccessorDeclaration(node) ||
        ts.isFunctionExpression(node) ||
        ts.isArrowFunction(node)) &&
      node.body !== undefined;
    if (isFunction) hasLogic = true;
    if ((ts.isClassDeclaration(node) || ts.isClassExpression(node)) && !isDeclare(node)) hasLogic = true;
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      info.bareImports.push(node.arguments[0].text);
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const set = info.memberUses.get(node.expression.text) ?? new Set<string>();
      set.add(node.name.text);
      info.memberUses.set(node.expression.text, set);
    }
    if (ts.isParameter(node) && node.type && ts.isTypeReferenceNode(node.type) && ts.isIdentifier(node.type.typeName)) {
      const typeName = node.type.typeName.text;
      if (ts.isIdentifier(node.name)) info.typedParams.push({ param: node.name.text, typeName, members: [] });
      else if (ts.isObjectBindingPattern(node.name))
        info.typedParams.push({
          param: '',
          typeName,
          members: node.name.elements.map((el) => (el.propertyName ?? el.name).getText(source)),
        });
    }
    if (ts.isIdentifier(node) && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node)) {
      info.used.add(node.text);
      const callee = ts.isCallExpression(node.parent) && node.parent.expression === node;
      if (functionDepth === 0 && callee) calledAtLoad.add(node.text);
      else runsOnCall.add(node.text);
    }
    if (isFunction) functionDepth++;
    ts.forEachChild(node, visit);
    if (isFunction) functionDepth--;
  };
  visit(source);
  for (const name of calledAtLoad) if (!runsOnCall.has(name)) info.loadTimeOnly.add(name);
  return { ...info, hasLogic };
}

function isTestFile(file: string): boolean {
  return file.endsWith('.test.ts');
}

/** The import graph of a repository laid out as npm workspaces (root package.json `workspaces`). */
class ImportGraph {
  /** Workspace package name → its source entry (absolute). */
  readonly packages = new Map<string, string>();
  readonly #modules = new Map<string, ModuleInfo>();

  constructor(readonly root: string) {
    const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
    for (const pattern of rootPkg.workspaces ?? []) {
      const dirs = pattern.endsWith('/*')
        ? readdirSync(path.join(root, pattern.slice(0, -2))).map((d) => path.join(root, pattern.slice(0, -2), d))
        : [path.join(root, pattern)];
      for (const dir of dirs) {
        const pkgFile = path.join(dir, 'package.json');
        if (!existsSync(pkgFile)) continue;
        const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
          name?: string;
          exports?: Record<string, { source?: string } | string>;
        };
        const dot = pkg.exports?.['.'];
        const source = typeof dot === 'object' ? dot.source : undefined;
        if (pkg.name) this.packages.set(pkg.name, path.join(dir, source ?? 'src/index.ts'));
      }
    }
  }

  rel(file: string): string {
    return path.relative(this.root, file).split(path.sep).join('/');
  }

  module(file: string): ModuleInfo {
    let info = this.#modules.get(file);
    if (!info) {
      info = parseModule(file);
      this.#modules.set(file, info);
    }
    return info;
  }

  /** The source file a specifier names, or undefined for a module outside the repository. */
  resolve(from: string, spec: string): string | undefined {
    if (spec.startsWith('.')) {
      const base = path.resolve(path.dirname(from), spec);
      const stem = base.replace(/\.(js|ts|mjs|mts)$/, '');
      for (const candidate of [`${stem}.ts`, `${stem}.mts`, base, path.join(base, 'index.ts')])
        if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
      return undefined;
    }
    return this.packages.get(spec);
  }

  /** The module that defines `name` as exported by `file`, following re-exports and imports. */
  define(file: string, name: string, seen = new Set<string>()): Definition | undefined {
    const key = `${file}#${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const info = this.module(file);
    const ref = info.exports.get(name);
    const follow = (spec: string, imported: string): Definition | undefined => {
      const target = this.resolve(file, spec);
      if (!target) return { external: spec, kind: 'unknown' };
      if (imported === '*') return { file: target, kind: 'namespace' };
      return this.define(target, imported, seen);
    };
    if (ref?.kind === 'local') {
      const kind = info.locals.get(ref.local);
      if (kind) return { file, kind };
      const binding = info.bindings.get(ref.local);
      return binding ? follow(binding.spec, binding.imported) : undefined;
    }
    if (ref?.kind === 'reexport') return follow(ref.spec, ref.imported);
    if (ref?.kind === 'namespace') return follow(ref.spec, '*');
    if (name === 'default') return undefined;
    for (const spec of info.starExports) {
      const target = this.resolve(file, spec);
      const found = target ? this.define(target, name, seen) : undefined;
      if (found) return found;
    }
    return undefined;
  }

  /** What a local name of `file` refers to: a declaration of the file, or an import followed home. */
  lookup(file: string, local: string): Definition | undefined {
    const info = this.module(file);
    const kind = info.locals.get(local);
    if (kind) return { file, kind };
    const binding = info.bindings.get(local);
    if (!binding) return undefined;
    const target = this.resolve(file, binding.spec);
    if (!target) return { external: binding.spec, kind: 'unknown' };
    return binding.imported === '*' ? { file: target, kind: 'namespace' } : this.define(target, binding.imported);
  }

  /**
   * Runtime imports of the names `file` uses, each to the module that defines the name. With
   * `onRequest`, names only called while the module loads (`loadTimeOnly`) are left out: they do
   * not run on a request. Cycles are looked for with every edge.
   */
  runtimeEdges(file: string, onRequest = false): Edge[] {
    const info = this.module(file);
    const byTarget = new Map<string, Set<string>>();
    const add = (to: string, name: string) => {
      const set = byTarget.get(to) ?? new Set<string>();
      set.add(name);
      byTarget.set(to, set);
    };
    for (const [local, binding] of info.bindings) {
      if (binding.typeOnly || !info.used.has(local) || (onRequest && info.loadTimeOnly.has(local))) continue;
      const target = this.resolve(file, binding.spec);
      if (!target) continue;
      if (binding.imported === '*') {
        const members = [...(info.memberUses.get(local) ?? [])];
        const defs = members.map((m) => [m, this.define(target, m)] as const).filter(([, d]) => d?.file);
        if (defs.length === 0) add(target, '*');
        for (const [m, d] of defs) if (d?.kind !== 'interface' && d?.kind !== 'type') add(d!.file!, m);
        continue;
      }
      const def = this.define(target, binding.imported);
      if (def?.file && def.kind !== 'interface' && def.kind !== 'type') add(def.file, binding.imported);
    }
    for (const spec of info.bareImports) {
      const target = this.resolve(file, spec);
      if (target) add(target, '(module)');
    }
    return [...byTarget].map(([to, names]) => ({ from: file, to, names: [...names].sort(), how: 'import' }));
  }

  /**
   * Objects handed to `file` instead of imported: a parameter typed by a class, or the members
   * used on a parameter typed by an interface, resolved to the classes their types name.
   */
  injectedEdges(file: string): Edge[] {
    const info = this.module(file);
    const out: Edge[] = [];
    for (const { param, typeName, members } of info.typedParams) {
      const def = this.lookup(file, typeName);
      if (!def?.file) continue;
      if (def.kind === 'class') {
        out.push({ from: file, to: def.file, names: [`${param || '{…}'}: ${typeName}`], how: 'injected' });
        continue;
      }
      if (def.kind !== 'interface') continue;
      const shape = this.module(def.file).interfaces.get(this.#localNameOf(def.file, typeName));
      if (!shape) continue;
      const used = param ? [...(info.memberUses.get(param) ?? [])] : members;
      for (const member of used)
        for (const memberType of shape.get(member) ?? []) {
          const cls = this.lookup(def.file, memberType);
          if (cls?.file && cls.kind === 'class')
            out.push({ from: file, to: cls.file, names: [`${param}.${member}: ${memberType}`], how: 'injected' });
        }
    }
    return out;
  }

  #localNameOf(file: string, exported: string): string {
    const ref = this.module(file).exports.get(exported);
    return ref?.kind === 'local' ? ref.local : exported;
  }
}

/** Runtime-import cycles (strongly connected components, Tarjan) among the modules reachable from `starts`. */
function importCycles(graph: ImportGraph, starts: readonly string[]): string[][] {
  const edges = new Map<string, string[]>();
  const stack = [...starts];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (edges.has(file)) continue;
    const targets = graph.runtimeEdges(file).map((e) => e.to);
    edges.set(file, targets);
    stack.push(...targets);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const path: string[] = [];
  const sccs: string[][] = [];
  const strongConnect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    path.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = path.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (edges.get(v) ?? []).includes(v)) sccs.push(scc);
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) strongConnect(v);
  // Each component as one concrete cycle from its first module back to it (shortest, by BFS).
  return sccs.map((scc) => {
    const inScc = new Set(scc);
    const first = scc.sort()[0]!;
    const prev = new Map<string, string>();
    const queue = [first];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of edges.get(v) ?? []) {
        if (!inScc.has(w)) continue;
        if (w === first) {
          const cycle = [v];
          while (cycle[0] !== first) cycle.unshift(prev.get(cycle[0]!)!);
          return [...cycle, first];
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    return [...scc, first];
  });
}

// ─── The webhook path ──────────────────────────────────────────────────────────────────────────

const ROUTE = 'apps/ingress/src/routes/webhooks.ts';
const PROCESS = 'apps/worker/src/webhooks/process.ts';
const JOB_BINDING = 'apps/worker/src/webhooks/queue.ts';
const ADDON_CHOICE = 'apps/worker/src/main.ts';
const ADDON_DIR = 'addons/workspace-mirror/src/';
const SCOPE = ['apps/worker/src/webhooks/', 'packages/db/src/repositories/', 'packages/addon/src/', ADDON_DIR];

interface PathModule {
  readonly file: string;
  readonly hasLogic: boolean;
  /** How the walk reached it (the first edge found). */
  readonly via?: Edge;
}

function webhookPath(graph: ImportGraph): { modules: PathModule[]; outside: Map<string, Set<string>> } {
  const inScope = (file: string) => {
    const rel = graph.rel(file);
    return !isTestFile(rel) && SCOPE.some((dir) => rel.startsWith(dir));
  };
  const found = new Map<string, PathModule>();
  const outside = new Map<string, Set<string>>();
  const queue: string[] = [];
  const reach = (file: string, via?: Edge) => {
    if (found.has(file)) return;
    found.set(file, { file, hasLogic: graph.module(file).hasLogic, ...(via ? { via } : {}) });
    queue.push(file);
  };
  reach(path.join(graph.root, PROCESS));
  const entry = path.join(graph.root, ADDON_CHOICE);
  for (const e of graph.runtimeEdges(entry, true))
    if (graph.rel(e.to).startsWith(ADDON_DIR)) reach(e.to, { ...e, how: 'entry point' });
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const e of [...graph.runtimeEdges(file, true), ...graph.injectedEdges(file)]) {
      if (inScope(e.to)) reach(e.to, e);
      else {
        const users = outside.get(e.to) ?? new Set<string>();
        users.add(graph.rel(file));
        outside.set(e.to, users);
      }
    }
  }
  return { modules: [...found.values()], outside };
}

function describeEdge(graph: ImportGraph, e: Edge | undefined): string {
  if (!e) return 'start';
  return `${e.how} from ${graph.rel(e.from)} (${e.names.join(', ')})`;
}

// ─── The repository ────────────────────────────────────────────────────────────────────────────

describe('architecture: the webhook path from route to commit', () => {
  const graph = new ImportGraph(REPO);
  let route: PathModule;
  let modules: PathModule[];
  let counted: PathModule[];

  beforeAll(() => {
    const routeFile = path.join(REPO, ROUTE);
    route = { file: routeFile, hasLogic: graph.module(routeFile).hasLogic };
    const walked = webhookPath(graph);
    modules = walked.modules;
    counted = [route, ...modules].filter((m) => m.hasLogic);
    const lines = [
      `webhook path (${counted.length} files with logic, at most ${MAX_LOGIC_FILES} allowed):`,
      `  ${route.hasLogic ? 'logic' : '     '}  ${ROUTE}  (the route)`,
      ...modules.map(
        (m) => `  ${m.hasLogic ? 'logic' : '     '}  ${graph.rel(m.file)}  (${describeEdge(graph, m.via)})`,
      ),
      'used outside the scope (infrastructure, not counted):',
      ...[...walked.outside].map(([file, users]) => `         ${graph.rel(file)}  (from ${[...users].join(', ')})`),
    ];
    console.log(lines.join('\n'));
  });

  it('the route enqueues the job that the worker binds to process.ts', () => {
    const routeEdges = graph.runtimeEdges(route.file);
    expect(graph.module(route.file).memberUses.get('JOBS')).toContain('webhookProcess');
    expect(routeEdges.some((e) => e.names.includes('enqueue'))).toBe(true);
    const binding = path.join(REPO, JOB_BINDING);
    expect(graph.module(binding).memberUses.get('JOBS')).toContain('webhookProcess');
    expect(graph.runtimeEdges(binding).find((e) => graph.rel(e.to) === PROCESS)?.names).toContain('processWebhook');
  });

  it('the walk reaches the commit: the add-on handler, the mirror writes and the repositories', () => {
    const rels = modules.map((m) => graph.rel(m.file));
    expect(rels[0]).toBe(PROCESS);
    expect(rels.some((r) => r.startsWith('packages/db/src/repositories/'))).toBe(true);
    expect(rels.some((r) => r.startsWith(ADDON_DIR))).toBe(true);
    expect(rels.filter((r) => r.startsWith('apps/worker/src/webhooks/')).length).toBeGreaterThan(1);
  });

  it(`(1) at most ${MAX_LOGIC_FILES} files with logic on the path (route + worker-side modules)`, () => {
    const list = counted.map((m, i) => `  ${i + 1}. ${graph.rel(m.file)}`).join('\n');
    expect(
      counted.length,
      `${counted.length} files with logic on the webhook path, at most ${MAX_LOGIC_FILES} allowed:\n${list}`,
    ).toBeLessThanOrEqual(MAX_LOGIC_FILES);
  });

  it('(2) no path module imports (at runtime) a module that imports it back, directly or through others', () => {
    const files = [route.file, ...modules.map((m) => m.file)];
    const onPath = new Set(files);
    const mutual: string[] = [];
    for (const a of files)
      for (const e of graph.runtimeEdges(a))
        if (graph.runtimeEdges(e.to).some((back) => back.to === a) && (a < e.to || !onPath.has(e.to)))
          mutual.push(`${graph.rel(a)} ⇄ ${graph.rel(e.to)}`);
    expect(mutual, `modules that import each other:\n  ${mutual.join('\n  ')}`).toEqual([]);

    const cycles = importCycles(graph, files).filter((cycle) => cycle.some((f) => onPath.has(f)));
    const shown = cycles.map((c) => c.map((f) => graph.rel(f)).join(' → '));
    expect(cycles, `runtime import cycles through the webhook path:\n  ${shown.join('\n  ')}`).toEqual([]);
  });
});

// ─── The graph itself, on a fixture ────────────────────────────────────────────────────────────

describe('architecture: the import graph on a fixture repository', () => {
  let root: string;
  const write = (rel: string, text: string) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  const pkg = (dir: string, name: string) =>
    write(
      `${dir}/package.json`,
      JSON.stringify({
        name,
        type: 'module',
        exports: { '.': { source: './src/index.ts', default: './dist/index.js' } },
      }),
    );

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'webhook-path-graph-'));
    write('package.json', JSON.stringify({ name: 'fixture', private: true, workspaces: ['packages/*'] }));
    pkg('packages/a', '@fx/a');
    pkg('packages/b', '@fx/b');
    // a: a barrel over a module with logic and a module of types only.
    write('packages/a/src/index.ts', "export * from './one.js';\nexport * from './types.js';\n");
    write(
      'packages/a/src/one.ts',
      "import { helper } from '@fx/b';\nimport type { Shape } from './types.js';\n" +
        'export function one(s: Shape): number {\n  return helper() + s.x;\n}\n',
    );
    write('packages/a/src/types.ts', 'export interface Shape {\n  readonly x: number;\n}\nexport const LIMIT = 8;\n');
    // b: helper.ts calls back into a's one.ts; typed.ts only refers to a's types (no runtime edge).
    write('packages/b/src/index.ts', "export * from './helper.js';\nexport { typed } from './typed.js';\n");
    write(
      'packages/b/src/helper.ts',
      "import { one } from '@fx/a';\nexport function helper(): number {\n  return 1;\n}\n" +
        'export const again = () => one({ x: 1 });\n',
    );
    write(
      'packages/b/src/typed.ts',
      "import type { one } from '@fx/a';\nimport { type Shape, LIMIT } from '@fx/a';\nimport { unusedName } from '@fx/a';\n" +
        'export const typed: Shape = { x: LIMIT };\nexport type One = typeof one;\n',
    );
    // c: an injected class behind an interface member, the way WorkerDeps hands out its services.
    write('packages/b/src/cache.ts', 'export class Cache {\n  get(): number {\n    return 1;\n  }\n}\n');
    write(
      'packages/b/src/deps.ts',
      "import type { Cache } from './cache.js';\nexport interface Deps {\n  readonly cache: Cache;\n  readonly other: Cache;\n}\n",
    );
    write(
      'packages/b/src/use.ts',
      "import type { Deps } from './deps.js';\nexport function use(deps: Deps): number {\n  return deps.cache.get();\n}\n",
    );
    // d: a name called only while the module loads, and one called on a request too.
    write(
      'packages/b/src/loaded.ts',
      "import { one } from '@fx/a';\nimport { Cache } from './cache.js';\nexport const config = one({ x: 2 });\n" +
        'export const fresh = () => new Cache();\n',
    );
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const file = (rel: string) => path.join(root, rel);

  it('resolves a workspace import through the barrel to the module that defines the name', () => {
    const graph = new ImportGraph(root);
    expect(graph.runtimeEdges(file('packages/a/src/one.ts')).map((e) => graph.rel(e.to))).toEqual([
      'packages/b/src/helper.ts',
    ]);
    expect(graph.define(file('packages/a/src/index.ts'), 'LIMIT')?.file).toBe(file('packages/a/src/types.ts'));
  });

  it('finds the cycle one.ts → helper.ts → one.ts, and reports it as such', () => {
    const graph = new ImportGraph(root);
    const cycles = importCycles(graph, [file('packages/a/src/one.ts')]);
    expect(cycles.map((c) => c.map((f) => graph.rel(f)))).toEqual([
      ['packages/a/src/one.ts', 'packages/b/src/helper.ts', 'packages/a/src/one.ts'],
    ]);
  });

  it('takes no edge from type-only imports or unused names, and sees no cycle there', () => {
    const graph = new ImportGraph(root);
    const edges = graph.runtimeEdges(file('packages/b/src/typed.ts'));
    expect(edges.map((e) => [graph.rel(e.to), e.names])).toEqual([['packages/a/src/types.ts', ['LIMIT']]]);
    expect(importCycles(graph, [file('packages/b/src/typed.ts')])).toEqual([]);
  });

  it('leaves a name called only at load time out of the request path, not out of cycles', () => {
    const graph = new ImportGraph(root);
    const targets = (onRequest: boolean) =>
      graph.runtimeEdges(file('packages/b/src/loaded.ts'), onRequest).map((e) => graph.rel(e.to));
    expect(targets(true)).toEqual(['packages/b/src/cache.ts']);
    expect(targets(false).sort()).toEqual(['packages/a/src/one.ts', 'packages/b/src/cache.ts']);
  });

  it('counts functions and classes as logic, not barrels, types or constants', () => {
    const graph = new ImportGraph(root);
    const logic = (rel: string) => graph.module(file(rel)).hasLogic;
    expect(logic('packages/a/src/one.ts')).toBe(true);
    expect(logic('packages/b/src/helper.ts')).toBe(true);
    expect(logic('packages/b/src/cache.ts')).toBe(true);
    expect(logic('packages/a/src/index.ts')).toBe(false);
    expect(logic('packages/a/src/types.ts')).toBe(false);
    expect(logic('packages/b/src/deps.ts')).toBe(false);
  });

  it('follows a class handed in through an interface member the file uses, not the ones it does not', () => {
    const graph = new ImportGraph(root);
    const edges = graph.injectedEdges(file('packages/b/src/use.ts'));
    expect(edges.map((e) => [graph.rel(e.to), e.names])).toEqual([['packages/b/src/cache.ts', ['deps.cache: Cache']]]);
  });
});
