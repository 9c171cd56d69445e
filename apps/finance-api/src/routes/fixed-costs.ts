import { Router } from 'express';
import {
  createFixedCost,
  deleteFixedCost,
  fixedCostFilters,
  fixedCostInput,
  fixedCostPatch,
  getFixedCost,
  listFixedCosts,
  pageQuery,
  updateFixedCost,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { parseInput } from '../http/problem';
import type { Guards } from '../http/auth';

const idParam = z.object({ id: uuid });

/** Fixed costs are finance data: everyone reads them, members and admins write them. */
export function fixedCostRoutes(db: Database, guard: Guards): Router {
  const router = Router();
  router.get('/v1/fixed-costs', guard.read, async (req, res) => {
    res.json(await listFixedCosts(db, parseInput(fixedCostFilters, req.query), parseInput(pageQuery, req.query)));
  });
  router.post('/v1/fixed-costs', guard.write, async (req, res) => {
    res.status(201).json(await createFixedCost(db, parseInput(fixedCostInput, req.body)));
  });
  router.get('/v1/fixed-costs/:id', guard.read, async (req, res) => {
    res.json(await getFixedCost(db, parseInput(idParam, req.params).id));
  });
  router.patch('/v1/fixed-costs/:id', guard.write, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    res.json(await updateFixedCost(db, id, parseInput(fixedCostPatch, req.body)));
  });
  router.delete('/v1/fixed-costs/:id', guard.write, async (req, res) => {
    await deleteFixedCost(db, parseInput(idParam, req.params).id);
    res.status(204).end();
  });
  return router;
}
