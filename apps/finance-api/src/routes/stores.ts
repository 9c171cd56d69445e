import { Router } from 'express';
import { createStore, deleteStore, getStore, listStores, pageQuery, storeInput, storePatch, updateStore, uuid } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { parseInput } from '../http/problem';
import type { Guards } from '../http/auth';

const idParam = z.object({ id: uuid });

/** Stores are configuration: everyone reads them, admins change them. */
export function storeRoutes(db: Database, guard: Guards): Router {
  const router = Router();
  router.get('/v1/stores', guard.read, async (req, res) => {
    res.json(await listStores(db, parseInput(pageQuery, req.query)));
  });
  router.post('/v1/stores', guard.admin, async (req, res) => {
    res.status(201).json(await createStore(db, parseInput(storeInput, req.body)));
  });
  router.get('/v1/stores/:id', guard.read, async (req, res) => {
    res.json(await getStore(db, parseInput(idParam, req.params).id));
  });
  router.patch('/v1/stores/:id', guard.admin, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    res.json(await updateStore(db, id, parseInput(storePatch, req.body)));
  });
  router.delete('/v1/stores/:id', guard.admin, async (req, res) => {
    await deleteStore(db, parseInput(idParam, req.params).id);
    res.status(204).end();
  });
  return router;
}
