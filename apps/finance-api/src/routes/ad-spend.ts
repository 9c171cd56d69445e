import express, { Router } from 'express';
import type { Response } from 'express';
import {
  AdSpendImportRejected,
  adSpendFilters,
  adSpendInput,
  adSpendPatch,
  createAdSpend,
  deleteAdSpend,
  getAdSpend,
  importAdSpendCsv,
  listAdSpend,
  pageQuery,
  updateAdSpend,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { parseInput } from '../http/problem';
import { principalOf } from '../http/auth';
import type { Guards } from '../http/auth';

const idParam = z.object({ id: uuid });
const importQuery = z.object({ storeId: uuid.optional() });

const actor = (res: Response) => {
  const principal = principalOf(res);
  return principal.kind === 'user' ? principal.user.id : null;
};

/** The refusal of a CSV import: problem+json that lists every bad row (see AdSpendImportRejected). */
function sendImportRejected(res: Response, err: AdSpendImportRejected): void {
  res.status(422).type('application/problem+json').json({
    type: 'about:blank',
    title: 'Unprocessable Content',
    status: 422,
    detail: err.message,
    code: err.code,
    badRows: err.badRows,
    rows: err.rows,
  });
}

/** Ad spend is finance data: everyone reads it, members and admins write it. */
export function adSpendRoutes(db: Database, guard: Guards): Router {
  const router = Router();

  router.get('/v1/ad-spend', guard.read, async (req, res) => {
    res.json(await listAdSpend(db, parseInput(adSpendFilters, req.query), parseInput(pageQuery, req.query)));
  });
  router.post('/v1/ad-spend', guard.write, async (req, res) => {
    res.status(201).json(await createAdSpend(db, parseInput(adSpendInput, req.body), actor(res)));
  });

  // The CSV arrives as the raw body; it is read only once the caller may write.
  router.post('/v1/ad-spend/import', guard.write, express.text({ type: 'text/csv', limit: '5mb' }), async (req, res) => {
    const { storeId } = parseInput(importQuery, req.query);
    const csv = typeof req.body === 'string' ? req.body : '';
    try {
      res.status(201).json(await importAdSpendCsv(db, csv, { ...(storeId !== undefined && { storeId }), createdBy: actor(res) }));
    } catch (err) {
      if (!(err instanceof AdSpendImportRejected)) throw err;
      sendImportRejected(res, err);
    }
  });

  router.get('/v1/ad-spend/:id', guard.read, async (req, res) => {
    res.json(await getAdSpend(db, parseInput(idParam, req.params).id));
  });
  router.patch('/v1/ad-spend/:id', guard.write, async (req, res) => {
    const { id } = parseInput(idParam, req.params);
    res.json(await updateAdSpend(db, id, parseInput(adSpendPatch, req.body)));
  });
  router.delete('/v1/ad-spend/:id', guard.write, async (req, res) => {
    await deleteAdSpend(db, parseInput(idParam, req.params).id);
    res.status(204).end();
  });

  return router;
}
