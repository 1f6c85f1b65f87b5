// The attention methods, in the order tables and charts list them. A new method is one name here
// (and its native selector); the knob table (knobs.ts) says which knobs apply to it.
export const methodNames = ['full', 'streaming', 'quest', 'adamas', 'oracle'] as const;
export type MethodName = (typeof methodNames)[number];
