import { post } from './run.js';

void post();
