// JSON Schemas (draft-07, checked by ajv) of the files under suites/ and configs/. A suite is
// validated in two steps: the common part below, then each task entry's own keys against that
// task module's optionsSchema (runner/expand.ts), so every message quotes a path like /tasks/2/lengths/0.
import { taskNames } from '../core/job.js';
import { knobs } from '../methods/knobs.js';
import { methodNames } from '../methods/names.js';

const positiveInt = { type: 'integer', minimum: 1 } as const;

export const budgetsSchema = {
  type: 'array',
  items: positiveInt,
  minItems: 1,
  uniqueItems: true,
} as const;

/** Partial method knobs: each knob's schema from the knob table (src/methods/knobs.ts). */
export const knobsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(knobs.map((k) => [k.key, k.value.schema])),
};

/** A method: its name, or {method, knobs?, budgets?} for a variant (ablations side by side). */
export const methodEntrySchema = {
  type: ['string', 'object'],
  if: { type: 'string' },
  then: { enum: [...methodNames] },
  else: {
    required: ['method'],
    additionalProperties: false,
    properties: {
      method: { enum: [...methodNames] },
      knobs: knobsSchema,
      budgets: budgetsSchema,
    },
  },
} as const;

export const methodsSchema = { type: 'array', items: methodEntrySchema, minItems: 1 } as const;

/** Keys every task entry may carry beside the task's own options. */
export const commonTaskKeys = ['task', 'model', 'methods', 'budgets', 'knobs', 'seed'] as const;

const modelSchema = { type: 'string', minLength: 1 } as const;
const seedSchema = { type: 'integer', minimum: 0 } as const;

export const suiteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'tasks'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    description: { type: 'string' },
    model: modelSchema,
    device: { enum: ['auto', 'cpu', 'cuda'] },
    seed: seedSchema,
    methods: methodsSchema,
    budgets: budgetsSchema,
    knobs: knobsSchema,
    tasks: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['task'],
        // the task's own keys are checked against its module's optionsSchema afterwards
        properties: {
          task: { enum: [...taskNames] },
          model: modelSchema,
          methods: methodsSchema,
          budgets: budgetsSchema,
          knobs: knobsSchema,
          seed: seedSchema,
        },
      },
    },
  },
} as const;

/** configs/defaults.json: what runs when neither flags nor a suite say otherwise. */
export const defaultsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['methods', 'budgets', 'seed'],
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    methods: { type: 'array', items: { enum: [...methodNames] }, minItems: 1, uniqueItems: true },
    budgets: budgetsSchema,
    seed: seedSchema,
  },
} as const;
