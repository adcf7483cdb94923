/**
 * The production image holds only runtime code: core, config, workflows, activities, worker and
 * client. infra/ (the servers the tests and the demo start), test/, bench/ and scripts/ stay out.
 * Checked without Docker: the Dockerfile's COPY lines, the imports of the runtime sources, and the
 * output of the image's own build script run into a scratch folder (what `COPY --from=build
 * /app/dist` would ship), down to what each emitted file imports and what the workflow bundle holds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyLines, dockerStages } from '../support/dockerfile.js';

const root = process.cwd();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** What Slipway runs in production, and so all the image may hold. */
const RUNTIME_FOLDERS = ['activities', 'client', 'config', 'core', 'worker', 'workflows'];
/** Test and demo harness: never in the image, never imported by runtime code. */
const HARNESS_FOLDERS = ['infra', 'test', 'bench', 'scripts'];
const BUNDLE = 'workflow-bundle.js';
const RUNTIME_TSCONFIG = 'tsconfig.runtime.json';
const BUILD_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', RUNTIME_TSCONFIG];

const packageJson = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Every file under a folder, as paths relative to it with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

const topFolder = (path: string) => path.split('/')[0]!;
/** A COPY source as a path in the build context: `./core/` → `core`. */
const contextPath = (source: string) => source.replace(/^\.\//, '').replace(/\/$/, '');

interface Reference {
  specifier: string;
  /** `import`/`export … from`/`import()`/`require()`, or a `new URL(…, import.meta.url)` file reference. */
  kind: 'import' | 'url';
}

/** Everything a module pulls in or points at; type-only imports count, since they pull files into tsc's program. */
function referencesOf(text: string): Reference[] {
  const imports = ts.preProcessFile(text, true, true).importedFiles.map((f) => ({ specifier: f.fileName, kind: 'import' as const }));
  const urls = [...text.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)].map((m) => ({ specifier: m[1]!, kind: 'url' as const }));
  return [...imports, ...urls];
}

/** A relative reference of `file` (relative to `base`), resolved relative to `base`; undefined when it leaves `base`. */
function resolveWithin(base: string, file: string, specifier: string): string | undefined {
  const target = relative(base, resolve(base, dirname(file), specifier));
  return target.startsWith('..') ? undefined : target.split(sep).join('/');
}

const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(packageName(specifier));

describe('the Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const fromContext = stages.flatMap((stage) => copyLines(stage).filter((copy) => !copy.fromStage).map((copy) => ({ stage: stage.name, ...copy })));

  it('builds with tsconfig.runtime.json, which compiles exactly the runtime folders', () => {
    const include = (JSON.parse(read(RUNTIME_TSCONFIG)) as { include: string[] }).include;
    expect([...include].sort()).toEqual(RUNTIME_FOLDERS);
    expect(packageJson.scripts['build:runtime']).toBe(`tsc -p ${RUNTIME_TSCONFIG} && node dist/worker/bundle.js`);
    const build = stages.find((s) => s.name === 'build')!;
    expect(build.lines).toContain('RUN npm run build:runtime');
    expect(build.lines.filter((l) => /^RUN npm run /.test(l)), 'no other build script (npm run build compiles infra too)').toEqual(['RUN npm run build:runtime']);
  });

  it('copies from the build context only the package files, the tsconfigs and the runtime folders', () => {
    expect(fromContext.length).toBeGreaterThan(0);
    for (const copy of fromContext) {
      for (const source of copy.sources) {
        const path = contextPath(source);
        expect(HARNESS_FOLDERS, `${copy.line} (stage ${copy.stage}) copies test or demo harness`).not.toContain(topFolder(path));
        expect([...BUILD_FILES, ...RUNTIME_FOLDERS], `${copy.line} (stage ${copy.stage}) copies ${source}, which is not runtime code`).toContain(path);
      }
    }
    const copiedFolders = fromContext.flatMap((copy) => copy.sources.map(contextPath)).filter((s) => !BUILD_FILES.includes(s));
    expect([...copiedFolders].sort(), 'every runtime folder reaches the build').toEqual(RUNTIME_FOLDERS);
  });

  it('ships the build stage’s output and the production packages, nothing else from the context', () => {
    const runtime = stages.at(-1)!;
    const copies = copyLines(runtime);
    expect(copies.filter((c) => !c.fromStage).flatMap((c) => c.sources)).toEqual(['package.json']);
    expect(copies.filter((c) => c.fromStage).map((c) => `${c.fromStage}:${c.sources.join(',')}`).sort()).toEqual([
      'build:/app/dist',
      'deps:/app/node_modules',
      'kustomize:/go/bin/kustomize',
    ]);
  });
});

describe('runtime sources', () => {
  const sources = RUNTIME_FOLDERS.flatMap((folder) => filesUnder(join(root, folder)).map((f) => `${folder}/${f}`)).filter((f) => f.endsWith('.ts'));

  it('import and point at runtime code only, never infra/, test/, bench/ or scripts/', () => {
    expect(sources.length).toBeGreaterThan(50);
    const outside: string[] = [];
    for (const file of sources) {
      for (const ref of referencesOf(read(file))) {
        if (!ref.specifier.startsWith('.')) continue;
        const target = resolveWithin(root, file, ref.specifier);
        const allowed = target !== undefined && (RUNTIME_FOLDERS.includes(topFolder(target)) || (ref.kind === 'url' && target === BUNDLE));
        if (!allowed) outside.push(`${file} → ${ref.specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });
});

describe('the runtime build output (what the image holds under dist/)', () => {
  // Inside the clone, so node finds node_modules and package.json ("type": "module") from it.
  const outRel = `test-output/runtime-image-${process.pid}`;
  const outDir = join(root, outRel);
  let emitted: string[] = [];

  beforeAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    // The build:runtime script (checked above to be tsc -p tsconfig.runtime.json && node
    // dist/worker/bundle.js), with the output redirected from dist/ to the scratch folder.
    execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', RUNTIME_TSCONFIG, '--outDir', outDir], { cwd: root, stdio: 'pipe' });
    execFileSync(process.execPath, [join(outDir, 'worker/bundle.js')], { cwd: root, stdio: 'pipe' });
    emitted = filesUnder(outDir);
  }, 300_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('holds the runtime folders and the workflow bundle, no test or demo harness', () => {
    const harness = emitted.filter((f) => HARNESS_FOLDERS.includes(topFolder(f)));
    expect(harness).toEqual([]);
    const tops = [...new Set(emitted.map(topFolder))].sort();
    expect(tops).toEqual([...RUNTIME_FOLDERS, BUNDLE].sort());
  });

  it('holds the worker, webhook and CLI entry points the image and package.json name', () => {
    const strip = (path: string) => path.replace(/^dist\//, '');
    for (const entry of ['dist/worker/main.js', 'dist/client/webhook/main.js', ...Object.values(packageJson.bin)]) {
      expect(emitted, entry).toContain(strip(entry));
    }
    expect(emitted).toContain(BUNDLE);
  });

  it('compiles every runtime source, and nothing besides (tsc would emit any imported infra file too)', () => {
    const sources = RUNTIME_FOLDERS.flatMap((folder) => filesUnder(join(root, folder)).map((f) => `${folder}/${f}`))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'));
    const js = emitted.filter((f) => f.endsWith('.js') && f !== BUNDLE);
    expect([...js].sort()).toEqual(sources.map((f) => f.replace(/\.ts$/, '.js')).sort());
  });

  it('has emitted files that import only each other, Node built-ins and production packages', () => {
    const present = new Set(emitted);
    const problems: string[] = [];
    for (const file of emitted.filter((f) => f.endsWith('.js') && f !== BUNDLE)) {
      for (const ref of referencesOf(readFileSync(join(outDir, file), 'utf8'))) {
        if (ref.specifier.startsWith('.')) {
          const target = resolveWithin(outDir, file, ref.specifier);
          if (target === undefined) problems.push(`${file} → ${ref.specifier}: outside the image's dist/`);
          else if (ref.kind === 'import' && !present.has(target)) problems.push(`${file} → ${ref.specifier}: not in the runtime build`);
          else if (!RUNTIME_FOLDERS.includes(topFolder(target)) && target !== BUNDLE) problems.push(`${file} → ${ref.specifier}: not runtime code`);
        } else if (!isBuiltin(ref.specifier) && packageJson.devDependencies[packageName(ref.specifier)]) {
          problems.push(`${file} → ${ref.specifier}: a devDependency, which npm ci --omit=dev leaves out of the image`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('has a workflow bundle made from the runtime build’s workflows and packages only', () => {
    const bundle = readFileSync(join(outDir, BUNDLE), 'utf8');
    // Webpack names each bundled module by its path from the working directory.
    const modules = [...new Set([...bundle.matchAll(/"\.\/([^"]+\.[cm]?js)"/g)].map((m) => m[1]!))];
    const own = modules.filter((m) => m.startsWith(`${outRel}/`)).map((m) => m.slice(outRel.length + 1));
    expect(own).toContain('workflows/index.js');
    expect(modules.filter((m) => !m.startsWith(`${outRel}/`) && !m.startsWith('node_modules/'))).toEqual([]);
    expect([...new Set(own.map(topFolder))].filter((f) => !RUNTIME_FOLDERS.includes(f))).toEqual([]);
    expect(existsSync(join(outDir, 'workflows/index.js'))).toBe(true);
  });
});
