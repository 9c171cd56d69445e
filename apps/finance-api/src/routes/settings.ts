import type { EncryptionKeys } from '@dealdome/domain';
import { deleteSetting, getSettingEntry, listSettings, putSetting, settingInput, settingKeyParam, settingListOutput, settingOutput } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import type { Api } from '../http/api';

/** Settings are the platform's configuration: admins only, and secrets always read back masked. */
export function settingsRoutes(api: Api, db: Database, encryptionKey: EncryptionKeys): void {
  api.route({
    operationId: 'listSettings',
    method: 'get',
    path: '/v1/settings',
    summary: 'List settings, by key',
    tag: 'Settings',
    guard: 'admin',
    status: 200,
    response: settingListOutput,
    csv: { filename: 'settings' },
    handle: () => listSettings(db),
  });
  api.route({
    operationId: 'getSetting',
    method: 'get',
    path: '/v1/settings/:key',
    summary: 'Get a setting',
    tag: 'Settings',
    guard: 'admin',
    params: settingKeyParam,
    status: 200,
    response: settingOutput,
    handle: ({ params }) => getSettingEntry(db, params.key),
  });
  api.route({
    operationId: 'putSetting',
    method: 'put',
    path: '/v1/settings/:key',
    summary: 'Set a setting',
    description: 'A secret value (`secret: true`) is encrypted at rest and always reads back masked.',
    tag: 'Settings',
    guard: 'admin',
    params: settingKeyParam,
    body: settingInput,
    status: 200,
    response: settingOutput,
    handle: ({ params, body }) => putSetting(db, params.key, body, encryptionKey),
  });
  api.route({
    operationId: 'deleteSetting',
    method: 'delete',
    path: '/v1/settings/:key',
    summary: 'Delete a setting',
    tag: 'Settings',
    guard: 'admin',
    params: settingKeyParam,
    status: 204,
    handle: ({ params }) => deleteSetting(db, params.key),
  });
}
