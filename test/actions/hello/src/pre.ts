import { pre } from './run.js';

void pre();
