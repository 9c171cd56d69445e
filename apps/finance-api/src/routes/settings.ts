import { Router } from 'express';
import { deleteSetting, getSettingEntry, listSettings, putSetting, settingInput, settingKeyParam } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { parseInput } from '../http/problem';
import type { Guards } from '../http/auth';

/** Settings are the platform's configuration: admins only, and secrets always read back masked. */
export function settingsRoutes(db: Database, guard: Guards, encryptionKey: Buffer): Router {
  const router = Router();
  router.get('/v1/settings', guard.admin, async (_req, res) => {
    res.json(await listSettings(db));
  });
  router.get('/v1/settings/:key', guard.admin, async (req, res) => {
    res.json(await getSettingEntry(db, parseInput(settingKeyParam, req.params).key));
  });
  router.put('/v1/settings/:key', guard.admin, async (req, res) => {
    const { key } = parseInput(settingKeyParam, req.params);
    res.json(await putSetting(db, key, parseInput(settingInput, req.body), encryptionKey));
  });
  router.delete('/v1/settings/:key', guard.admin, async (req, res) => {
    await deleteSetting(db, parseInput(settingKeyParam, req.params).key);
    res.status(204).end();
  });
  return router;
}
