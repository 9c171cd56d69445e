import { Router } from 'express';
import { deleteFxRate, fxRateFilters, fxRateInput, fxRateParams, listFxRates, pageQuery, putFxRate } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { parseInput } from '../http/problem';
import type { Guards } from '../http/auth';

/** Exchange rates drive every converted figure: everyone reads them, admins set them. */
export function fxRateRoutes(db: Database, guard: Guards): Router {
  const router = Router();
  router.get('/v1/fx-rates', guard.read, async (req, res) => {
    res.json(await listFxRates(db, parseInput(fxRateFilters, req.query), parseInput(pageQuery, req.query)));
  });
  router.put('/v1/fx-rates/:date/:currency', guard.admin, async (req, res) => {
    const { date, currency } = parseInput(fxRateParams, req.params);
    res.json(await putFxRate(db, date, currency, parseInput(fxRateInput, req.body)));
  });
  router.delete('/v1/fx-rates/:date/:currency', guard.admin, async (req, res) => {
    const { date, currency } = parseInput(fxRateParams, req.params);
    await deleteFxRate(db, date, currency);
    res.status(204).end();
  });
  return router;
}
