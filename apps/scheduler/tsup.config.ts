import { defineConfig } from 'tsup';
import { serviceBundle } from '../../tsup.shared';

export default defineConfig(serviceBundle);
