import { cpSync, existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Options } from 'tsup';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * Libraries OpenTelemetry instruments by patching them as they are required
 * (packages/config/src/telemetry.ts). Inside a bundle nothing would require them, and
 * their queries and requests would go untraced; so they stay out of it and ship in
 * dist/node_modules beside it, with everything they depend on. (http is Node's own,
 * fetch is traced through diagnostics channels: neither needs this.)
 */
const INSTRUMENTED = ['pg', 'ioredis', 'express'];

/** Where Node finds package `name` from a module in `fromDir`: its folder, symlinks resolved. */
function packageDir(name: string, fromDir: string): string | undefined {
  for (const base of createRequire(path.join(fromDir, 'index.js')).resolve.paths(name) ?? []) {
    const dir = path.join(base, name);
    if (existsSync(path.join(dir, 'package.json'))) return realpathSync(dir);
  }
  return undefined;
}

/** The node_modules folders Node searches, nearest first, from a package placed at `target` under `root`. */
function lookupPath(target: string, name: string, root: string): string[] {
  const candidates: string[] = [];
  for (let dir = target; dir.startsWith(root) && dir !== root; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') candidates.push(path.join(dir, 'node_modules', name));
  }
  candidates.push(path.join(root, name));
  return candidates;
}

/**
 * Copies the dependencies of the package at `source` (placed at `target`) the way npm
 * lays a tree out: each where its dependent already finds that very copy, else at the
 * top when free, else nested under its dependent. A package's dependencies are all
 * placed before any of theirs, so no later copy comes between a package and one it found.
 */
function shipDependencies(source: string, target: string, root: string, placed: Map<string, string>): void {
  const manifest = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const wanted = [
    ...Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
  ];
  const next: [string, string][] = [];
  for (const { name, optional } of wanted) {
    const real = packageDir(name, source);
    if (!real) {
      if (optional) continue;
      throw new Error(`${name}, a dependency of ${source}, is not installed`);
    }
    const found = lookupPath(target, name, root).find((candidate) => placed.has(candidate));
    if (found && placed.get(found) === real) continue;
    const at = found ? path.join(target, 'node_modules', name) : path.join(root, name);
    placed.set(at, real);
    cpSync(real, at, { recursive: true, dereference: true });
    next.push([real, at]);
  }
  for (const [real, at] of next) shipDependencies(real, at, root, placed);
}

/** Keeps the instrumented libraries out of the bundle and copies them, resolved as the bundle's sources resolve them, beside it. */
function instrumentedExternals(): EsbuildPlugin {
  return {
    name: 'instrumented-externals',
    setup(build) {
      const found = new Map<string, string>();
      build.onStart(() => found.clear());
      build.onResolve({ filter: new RegExp(`^(${INSTRUMENTED.join('|')})$`) }, (args) => {
        const dir = packageDir(args.path, args.resolveDir);
        if (!dir) return { errors: [{ text: `${args.path} is not installed where ${args.importer} looks for it` }] };
        const other = found.get(args.path);
        // One copy ships; two versions in one service would also be two pools or clients.
        if (other && other !== dir) return { errors: [{ text: `two copies of ${args.path} in one bundle: ${other} and ${dir}` }] };
        found.set(args.path, dir);
        return { path: args.path, external: true };
      });
      build.onEnd((result) => {
        if (result.errors.length) return;
        const root = path.resolve(build.initialOptions.outdir ?? 'dist', 'node_modules');
        const placed = new Map<string, string>();
        for (const [name, dir] of found) {
          placed.set(path.join(root, name), dir);
          cpSync(dir, path.join(root, name), { recursive: true, dereference: true });
        }
        for (const [name, dir] of found) shipDependencies(dir, path.join(root, name), root, placed);
      });
    },
  };
}

/**
 * Each service ships as one CommonJS file run by plain `node` (PID 1 in the image):
 * workspace packages and npm dependencies are bundled, so the image needs no
 * node_modules of its own, only dist/ — which holds, in dist/node_modules, the few
 * libraries that must stay out of the bundle to be traced (INSTRUMENTED above). Optional
 * native add-ons stay out too (pg-native is never used). Run from the app's folder
 * (turbo does). The SQL migrations are copied beside the bundle because every service
 * can migrate at start.
 */
export const serviceBundle: Options = {
  entry: { main: 'src/main.ts', migrate: '../../packages/db/src/migrate-main.ts' },
  format: ['cjs'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  noExternal: [/.*/],
  external: ['pg-native'],
  esbuildPlugins: [instrumentedExternals()],
  onSuccess: async () => {
    cpSync(path.resolve('../../packages/db/migrations'), path.resolve('dist/migrations'), { recursive: true });
  },
};
