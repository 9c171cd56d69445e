import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { hashTag } from '@dealdome/config';

/**
 * The deployment files are read as the services are: each Kubernetes Deployment must
 * run its service's image on the port the service listens on, with both probes, its
 * resources, its Secret keys and a grace period its shutdown fits in; the compose file
 * must scale the workers from the environment. Ports and variable names are read from
 * the services' own sources and the README, so neither side can drift alone.
 */

const repo = path.resolve(__dirname, '..', '..');
const k8s = path.join(repo, 'infra', 'k8s');
const read = (...parts: string[]) => readFileSync(path.join(repo, ...parts), 'utf8');

const SERVICES = ['finance-api', 'bot-gateway', 'agent-runtime', 'embedding-worker', 'scheduler'] as const;
type ServiceName = (typeof SERVICES)[number];

/** The worker concurrency variable of each queue's consumer, by the service that runs it. */
const CONCURRENCY: Record<string, ServiceName> = {
  AGENT_CONCURRENCY: 'agent-runtime',
  TELEGRAM_OUTBOUND_CONCURRENCY: 'bot-gateway',
  EMBEDDING_CONCURRENCY: 'embedding-worker',
  SCHEDULER_CONCURRENCY: 'scheduler',
  SHOPIFY_SYNC_CONCURRENCY: 'scheduler',
};

interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

function sourcesOf(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

/** A service's port variable and default, as its env schema declares them (`X_PORT: envPort(n)`). */
function declaredPort(service: ServiceName): { variable: string; port: number } {
  const match = /(\w+_PORT): envPort\((\d+)\)/.exec(read('apps', service, 'src', 'env.ts'));
  if (!match) throw new Error(`apps/${service}/src/env.ts declares no port`);
  return { variable: match[1]!, port: Number(match[2]) };
}

/** The README's "Every service" table: service → [variable, port]. */
function readmePorts(): Map<string, [string, number]> {
  const rows = new Map<string, [string, number]>();
  for (const m of read('README.md').matchAll(/^\| ([a-z-]+) \| `(\w+_PORT)`, (\d+) \|/gm)) rows.set(m[1]!, [m[2]!, Number(m[3])]);
  return rows;
}

const kustomization = parse(readFileSync(path.join(k8s, 'kustomization.yaml'), 'utf8')) as {
  namespace: string;
  resources: string[];
  images: { name: string; newName?: string; newTag?: string }[];
};

const manifests: (Manifest & { file: string })[] = kustomization.resources.flatMap((file) => {
  const docs = parseAllDocuments(readFileSync(path.join(k8s, file), 'utf8'));
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return { ...(doc.toJS() as Manifest), file };
  });
});
const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
const config = find('ConfigMap', 'dealdome-config')!;
const exampleSecretKeys = new Set(
  [...readFileSync(path.join(k8s, 'secrets.env.example'), 'utf8').matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!),
);

function secretKeysOf(container: any): { key: string; optional: boolean }[] {
  return (container.env ?? [])
    .filter((e: any) => e.valueFrom?.secretKeyRef)
    .map((e: any) => {
      expect(e.valueFrom.secretKeyRef.name).toBe('dealdome-secrets');
      expect(e.valueFrom.secretKeyRef.key).toBe(e.name);
      return { key: e.name as string, optional: e.valueFrom.secretKeyRef.optional === true };
    });
}

describe('infra/k8s', () => {
  it('when the directory is read, then every manifest parses and the kustomization lists every one', () => {
    const files = readdirSync(k8s).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(manifests.every((m) => typeof m.kind === 'string' && typeof m.metadata?.name === 'string')).toBe(true);
    expect(find('Namespace', kustomization.namespace)).toBeDefined();
  });

  it('when the README and the services are compared, then they agree on every port', () => {
    const table = readmePorts();
    for (const service of SERVICES) {
      const { variable, port } = declaredPort(service);
      expect({ service, row: table.get(service) }).toEqual({ service, row: [variable, port] });
    }
  });

  describe.each(SERVICES)('%s', (service) => {
    const deployment = find('Deployment', service);
    const pod = deployment?.spec.template.spec;
    const container = pod?.containers.find((c: any) => c.name === service);
    const { variable, port } = declaredPort(service);

    it('when deployed, then it runs the service image on the port the service listens on', () => {
      expect(deployment).toBeDefined();
      expect(pod.containers).toHaveLength(1);
      expect(container.image).toBe(`dealdome/${service}`);
      expect(kustomization.images.map((i) => i.name)).toContain(`dealdome/${service}`);
      expect(container.ports).toHaveLength(1);
      expect(container.ports[0].containerPort).toBe(port);
      expect(container.env.find((e: any) => e.name === variable)).toEqual({ name: variable, value: String(port) });
      expect(read('infra', 'docker', 'Dockerfile')).toMatch(/ARG APP=/);
      expect(deployment!.spec.replicas).toBeGreaterThanOrEqual(1);
      expect(deployment!.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': service });
      expect(deployment!.spec.template.metadata.labels).toMatchObject(deployment!.spec.selector.matchLabels);
      expect(deployment!.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port));
    });

    it('when probed, then readiness asks /readyz and liveness /healthz on its own port', () => {
      const portName = container.ports[0].name;
      for (const [probe, pathName] of [
        ['readinessProbe', '/readyz'],
        ['livenessProbe', '/healthz'],
      ] as const) {
        expect({ probe, httpGet: container[probe]?.httpGet }).toEqual({ probe, httpGet: { path: pathName, port: portName } });
      }
      expect(container.startupProbe?.httpGet?.path).toBe('/healthz');
    });

    it('when scheduled, then it asks for CPU and memory and is limited in memory', () => {
      expect(container.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.stringMatching(/^\d+(Mi|Gi)$/) });
      expect(container.resources.limits.memory).toMatch(/^\d+(Mi|Gi)$/);
    });

    it('when configured, then it reads the ConfigMap and takes its connection strings from the Secret; every key it may take is in the example', () => {
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'dealdome-config' } }]);
      const keys = secretKeysOf(container);
      expect(keys.filter((k) => !k.optional).map((k) => k.key)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL']));
      for (const { key } of keys) expect({ key, inExample: exampleSecretKeys.has(key) }).toEqual({ key, inExample: true });
      // A secret in the ConfigMap would be readable by anyone who may read configuration.
      for (const { key } of keys) expect(config.data?.[key]).toBeUndefined();
      for (const [name, owner] of Object.entries(CONCURRENCY)) if (owner === service) expect(config.data?.[name]).toMatch(/^\d+$/);
    });

    it('when stopped, then the grace period covers the preStop pause and the whole drain', () => {
      const shutdownSeconds = Number(config.data!.SHUTDOWN_TIMEOUT_MS) / 1000;
      const preStop = container.lifecycle?.preStop?.exec?.command;
      const pause = preStop ? Number(preStop[1]) : 0;
      // The process exits by itself at most SHUTDOWN_TIMEOUT_MS + 7 s after SIGTERM (packages/config's runMain).
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(pause + shutdownSeconds + 7);
    });

    it('when addressed, then its Service selects its pods and forwards to its port', () => {
      const svc = find('Service', service);
      expect(svc?.spec.selector).toEqual({ 'app.kubernetes.io/name': service });
      expect(svc?.spec.ports.map((p: any) => p.targetPort)).toEqual([container.ports[0].name]);
    });
  });

  it('when migrating, then the Job runs the image of the Dockerfile target that runs migrate.js, with the database from the Secret', () => {
    const job = manifests.find((m) => m.kind === 'Job');
    const container = job?.spec.template.spec.containers[0];
    expect(container.image).toBe('dealdome/migrate');
    expect(kustomization.images.map((i) => i.name)).toContain('dealdome/migrate');
    expect(read('infra', 'docker', 'Dockerfile')).toMatch(/FROM service AS migrate\nCMD \["node", "--enable-source-maps", "migrate\.js"\]/);
    expect(read('tsup.shared.ts')).toMatch(/migrate: '\.\.\/\.\.\/packages\/db\/src\/migrate-main\.ts'/);
    expect(secretKeysOf(container)).toEqual([{ key: 'DATABASE_URL', optional: false }]);
    expect(job?.spec.template.spec.restartPolicy).toMatch(/^(OnFailure|Never)$/);
  });

  it('when the configuration is read, then the queue prefix holds a hash tag and every worker concurrency variable is one a service declares', () => {
    expect(hashTag(config.data!.QUEUE_PREFIX!)).toBeDefined();
    expect(config.data!.MIGRATE_ON_START).toBe('false');
    for (const [name, service] of Object.entries(CONCURRENCY)) {
      expect({ name, declared: sourcesOf(path.join(repo, 'apps', service, 'src')).includes(`${name}: envInt(`) }).toEqual({ name, declared: true });
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };

  it.each(SERVICES)('when %s is composed, then its replica count comes from the environment', (service) => {
    const variable = `${service.toUpperCase().replace(/-/g, '_')}_REPLICAS`;
    expect(compose.services[service]?.deploy?.replicas).toMatch(new RegExp(`^\\$\\{${variable}:-\\d+\\}$`));
  });

  it('when the workers are composed, then each passes its concurrency variable on', () => {
    for (const [name, service] of Object.entries(CONCURRENCY)) {
      expect({ name, value: compose.services[service]?.environment?.[name] }).toEqual({ name, value: expect.stringMatching(new RegExp(`^\\$\\{${name}:-\\d+\\}$`)) });
    }
  });
});
