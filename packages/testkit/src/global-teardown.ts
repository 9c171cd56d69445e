export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__dealdomeContainers ?? []).map((c) => c.stop()));
}
